/**
 * The safety net of core/projections.ts: pvc-orphans must answer exactly the same on the
 * projected objects as on the full ones. Detection, the deletion plan and its confirmation text
 * run on realistic full objects and on their projections (core), and the command runs against a
 * fake API that applies the projections it is given, or ignores them, in every output format.
 * A field that pvc-orphans reads but a projection drops makes these fail.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { detectOrphans, type OrphanFilter, type OrphanInput } from '../../src/core/orphans.js';
import { confirmationText, planDeletion } from '../../src/core/orphans-delete.js';
import { orphanProjections, projectClaim, projectPod, projectStatefulSet, projectVolume } from '../../src/core/projections.js';
import { parseSelector } from '../../src/core/labels.js';
import type { KubeObject, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/core/types.js';
import { pvcOrphansCommand, type PvcOrphansArgs } from '../../src/commands/pvc-orphans.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import type { Kube } from '../../src/kube/index.js';
import { recordingDeps } from '../helpers/fake-deps.js';
import { DAY, NOW, ago, boundPv, ownerPod, ownerSts, pod, pv, pvc, sts } from '../fixtures/orphans/build.js';

interface World {
  sets: StatefulSet[];
  claims: PersistentVolumeClaim[];
  pods: Pod[];
  pvs: PersistentVolume[];
  now: number;
}

const managedFields = (manager: string) => [
  { manager, operation: 'Update', apiVersion: 'v1', time: ago(DAY), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } }, 'f:spec': { 'f:x': {} } } },
];

/** What a real API server adds to a claim beyond the builders' fields. */
function fullClaim(c: PersistentVolumeClaim): PersistentVolumeClaim {
  const bound = Boolean(c.spec.volumeName);
  return {
    ...c,
    metadata: {
      ...c.metadata,
      annotations: {
        ...(bound ? { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' } : {}),
        'volume.beta.kubernetes.io/storage-provisioner': 'rancher.io/local-path',
        'volume.kubernetes.io/selected-node': 'node-1',
      },
      finalizers: ['kubernetes.io/pvc-protection'],
      managedFields: managedFields('kube-controller-manager'),
    } as PersistentVolumeClaim['metadata'],
    spec: { ...c.spec, volumeMode: 'Filesystem', resources: { ...c.spec.resources, limits: { storage: '2Gi' } } } as PersistentVolumeClaim['spec'],
    status: c.status ? ({ ...c.status, accessModes: ['ReadWriteOnce'], conditions: [{ type: 'Resizing', status: 'False' }] } as PersistentVolumeClaim['status']) : c.status,
  };
}

/** A pod as the API server returns it: containers, tolerations, a token volume, conditions, container statuses. */
function fullPod(p: Pod, o: { ephemeral?: string; emptyDir?: boolean } = {}): Pod {
  const volumes = [
    ...(p.spec.volumes ?? []),
    ...(o.ephemeral ? [{ name: o.ephemeral, ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } }] : []),
    ...(o.emptyDir ? [{ name: 'scratch', emptyDir: {} }] : []),
    { name: 'kube-api-access-x1', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
    { name: 'config', configMap: { name: 'app-config' } },
  ];
  return {
    ...p,
    metadata: {
      ...p.metadata,
      generateName: `${p.metadata.name.replace(/-\d+$/, '')}-`,
      labels: { app: 'nginx', 'controller-revision-hash': 'web-7d4b9c', 'statefulset.kubernetes.io/pod-name': p.metadata.name },
      annotations: { 'kubectl.kubernetes.io/restartedAt': ago(DAY) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-sts-web', controller: true, blockOwnerDeletion: true }],
      resourceVersion: '4242',
      creationTimestamp: ago(2 * DAY),
      managedFields: managedFields('kubelet'),
    } as Pod['metadata'],
    spec: {
      ...p.spec,
      containers: [
        {
          name: 'nginx',
          image: 'registry.k8s.io/nginx-slim:0.8',
          ports: [{ name: 'web', containerPort: 80, protocol: 'TCP' }],
          volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/mnt/${v.name}` })),
        },
      ],
      volumes,
      nodeName: 'node-1',
      hostname: p.metadata.name,
      subdomain: 'web',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      serviceAccountName: 'default',
    },
    status: {
      ...p.status,
      podIP: '10.244.1.7',
      hostIP: '172.18.0.2',
      startTime: ago(2 * DAY),
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: ago(DAY) },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: ago(2 * DAY) },
      ],
      containerStatuses: [{ name: 'nginx', ready: true, restartCount: 2, image: 'registry.k8s.io/nginx-slim:0.8', state: { running: { startedAt: ago(DAY) } } }],
    },
  };
}

/** A set with a full pod template, claim template specs, status and update strategy. */
function fullSet(s: StatefulSet): StatefulSet {
  return {
    ...s,
    metadata: { ...s.metadata, generation: 7, resourceVersion: '777', labels: { team: 'x' }, annotations: { note: 'y' }, managedFields: managedFields('kubectl') } as StatefulSet['metadata'],
    spec: {
      ...s.spec,
      serviceName: s.metadata.name,
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: {
        metadata: s.spec.template.metadata ?? {},
        spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', ports: [{ name: 'web', containerPort: 80 }] }], terminationGracePeriodSeconds: 30 },
      },
      volumeClaimTemplates: (s.spec.volumeClaimTemplates ?? []).map((t) => ({
        ...t,
        metadata: { ...t.metadata, annotations: { 'volume.beta.kubernetes.io/storage-class': 'standard' } },
        spec: { ...t.spec, storageClassName: 'standard', volumeMode: 'Filesystem' } as never,
      })),
    },
    status: { observedGeneration: 7, replicas: s.spec.replicas ?? 1, readyReplicas: s.spec.replicas ?? 1, currentRevision: 'web-7d4b9c', updateRevision: 'web-7d4b9c', collisionCount: 0 },
  };
}

/** A volume with node affinity, mount options, annotations, finalizers and, if asked, another source. */
function fullVolume(v: PersistentVolume, source?: Record<string, unknown>): PersistentVolume {
  const spec: Record<string, unknown> = { ...v.spec };
  if (source) {
    delete spec.hostPath;
    Object.assign(spec, source);
  }
  if (spec.claimRef) spec.claimRef = { apiVersion: 'v1', resourceVersion: '99', ...(spec.claimRef as object) };
  return {
    ...v,
    metadata: { ...v.metadata, annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' }, finalizers: ['kubernetes.io/pv-protection'], managedFields: managedFields('kube-controller-manager') } as PersistentVolume['metadata'],
    spec: {
      ...spec,
      volumeMode: 'Filesystem',
      mountOptions: ['noatime'],
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] } },
    } as PersistentVolume['spec'],
    status: { ...v.status, message: '', reason: '' } as PersistentVolume['status'],
  };
}

/** Every case of detection at once, in namespaces of their own (-A sees them all). */
function mixedWorld(): World {
  const sets: StatefulSet[] = [];
  const claims: PersistentVolumeClaim[] = [];
  const pods: Pod[] = [];
  const pvs: PersistentVolume[] = [];
  const lbl = { app: 'nginx' };
  // shop: web scaled 5 -> 2 (whenScaled Delete), one claim of it mounted by a debug pod, one by a finished job.
  sets.push(sts('web', { ns: 'shop', replicas: 2, templates: { www: { tier: 'web' } }, selector: lbl, retention: { whenScaled: 'Delete' } }));
  // (www-web-5 was expanded: its status capacity is not its request)
  for (const n of [0, 1, 2, 3, 4, 5]) claims.push(pvc(`www-web-${n}`, { ns: 'shop', labels: { ...lbl, tier: 'web' }, rv: `${10 + n}`, created: ago((n + 1) * DAY), capacity: n === 5 ? '2Gi' : '1Gi' }));
  claims.push(pvc('www-web-9', { ns: 'shop', labels: { app: 'nginx' } })); // look-alike: lacks tier
  pods.push(fullPod(pod('web-0', ['www-web-0'], { ns: 'shop' }), { emptyDir: true }), fullPod(pod('web-1', ['www-web-1'], { ns: 'shop' })));
  pods.push(fullPod(pod('debug', ['www-web-3'], { ns: 'shop' })), fullPod(pod('backup', ['www-web-4'], { ns: 'shop', phase: 'Succeeded' })));
  // shop: a pod with a generic ephemeral volume, and its claim `<pod>-<volume>` owned by the pod.
  pods.push(fullPod(pod('runner-0', [], { ns: 'shop' }), { ephemeral: 'work' }));
  claims.push(pvc('runner-0-work', { ns: 'shop', owners: [ownerPod('runner-0')], labels: { app: 'runner' } }));
  claims.push(pvc('cache-runner-0', { ns: 'shop', labels: { app: 'runner' } }), pvc('scratch-1', { ns: 'shop' }));
  // db: start ordinal 3, two templates, owner references (whenDeleted Delete), an owner pod gone.
  sets.push(sts('db', { ns: 'db', replicas: 2, start: 3, templates: { data: undefined, logs: { kind: 'logs' } }, retention: { whenDeleted: 'Delete' } }));
  for (const n of [0, 3, 4, 6]) claims.push(pvc(`data-db-${n}`, { ns: 'db', labels: { app: 'db' }, owners: [ownerSts('db')] }));
  claims.push(pvc('logs-db-1', { ns: 'db', labels: { app: 'db', kind: 'logs' } }), pvc('logs-db-5', { ns: 'db', labels: { app: 'db' } }));
  claims.push(pvc('data-old-0', { ns: 'db', owners: [ownerSts('old', 'uid-gone')] }));
  claims.push(pvc('data-my-db-3', { ns: 'db', owners: [ownerPod('my-db-3', 'gone')] }));
  claims.push(pvc('data-pg-0', { ns: 'db', labels: { app: 'pg' }, owners: [{ apiVersion: 'x/v1', kind: 'PostgresCluster', name: 'pg', uid: 'u1', controller: true }] }));
  pods.push(fullPod(pod('db-3', ['data-db-3'], { ns: 'db' })));
  claims.push(pvc('scratch-db-3', { ns: 'db', owners: [ownerPod('db-3')] })); // owned by a live pod that does not mount it
  // An ownerReference found by the set's uid, though it names the set otherwise.
  sets.push(sts('cache', { ns: 'db', replicas: 2, uid: 'uid-sts-cache' }));
  claims.push(pvc('data-cache-5', { ns: 'db', owners: [ownerSts('cache-renamed', 'uid-sts-cache')] }));
  // gone: a deleted set with two templates (guessed name), a set being deleted, a Pending claim.
  for (const t of ['mongo-persistent-storage', 'mongo-logs']) claims.push(pvc(`${t}-mongo-0`, { ns: 'gone', labels: { role: 'db' } }));
  sets.push(sts('queue', { ns: 'gone', replicas: 3, deleting: true }));
  claims.push(pvc('data-queue-0', { ns: 'gone', labels: { app: 'queue' } }), pvc('data-queue-1', { ns: 'gone', labels: { app: 'queue' }, phase: 'Pending', volume: '' }));
  pods.push(fullPod(pod('queue-0', ['data-queue-0'], { ns: 'gone', phase: 'Pending' })));
  // Volumes: bound ones with every kind of source and policy; Released ones whose claim is gone,
  // re-created, or itself orphaned; Available; Released in a namespace out of scope.
  const sources: (Record<string, unknown> | undefined)[] = [
    undefined,
    { csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0abc', fsType: 'ext4', volumeAttributes: { a: 'b' } } },
    { local: { path: '/mnt/disks/ssd1' } },
    { nfs: { server: '10.0.0.5', path: '/exports/a', readOnly: false } },
    { awsElasticBlockStore: { volumeID: 'vol-1', fsType: 'ext4' } },
    { volumeAttributesClassName: 'gold', rbd: { image: 'img', monitors: ['m'] } },
  ];
  claims
    .filter((c) => c.spec.volumeName)
    .forEach((c, i) => pvs.push(fullVolume(boundPv(c, i % 3 === 1 ? 'Delete' : 'Retain'), sources[i % sources.length])));
  pvs.push(fullVolume(pv('pv-gone', { phase: 'Released', claim: { ns: 'shop', name: 'www-web-7', uid: 'old' }, released: ago(3 * DAY), labels: { team: 'x' } }), sources[1]));
  pvs.push(fullVolume(pv('pv-recreated', { phase: 'Released', claim: { ns: 'shop', name: 'www-web-5', uid: 'old-5' } }), sources[3]));
  pvs.push(fullVolume(pv('pv-nouid', { phase: 'Released', claim: { ns: 'db', name: 'data-zz-1' }, policy: 'Delete' })));
  pvs.push(fullVolume(pv('pv-available', { phase: 'Available' })), fullVolume(pv('pv-elsewhere', { phase: 'Released', claim: { ns: 'other', name: 'x-y-0' } })));
  return { sets: sets.map(fullSet), claims: claims.map(fullClaim), pods, pvs, now: NOW };
}

function listWorld(items: KubeObject[], now: number): World {
  const of = <T>(kind: string) => items.filter((i) => i.kind === kind) as T[];
  return { sets: of('StatefulSet'), claims: of('PersistentVolumeClaim'), pods: of('Pod'), pvs: of('PersistentVolume'), now };
}

const fixture = (name: string) => path.join(import.meta.dirname, '../fixtures/orphans', name);
/** Seed 002: scaled 5 -> 2, static NFS volumes. */
const seed002 = () => listWorld((loadYaml(fs.readFileSync(fixture('seed002-scaled-5-to-2.yaml'), 'utf8')) as { items: KubeObject[] }).items, Date.parse('2018-09-29T16:00:00Z'));
/** As a real API server (1.36, KWOK nodes) sent them, managedFields included: the bench's set s0 (replicas 4), its 4 pods and 10 claims. */
const kwok = () => listWorld((JSON.parse(fs.readFileSync(fixture('kwok-s0-replicas-4.json'), 'utf8')) as { items: KubeObject[] }).items, Date.parse('2026-12-01T16:00:00Z'));

const WORLDS: [string, () => World, string][] = [
  ['every case, full objects', mixedWorld, 'shop'],
  ['seed 002', seed002, 'default'],
  ['real API objects (KWOK)', kwok, kwok().claims[0]!.metadata.namespace!],
];

function projected(w: World): World {
  return { sets: w.sets.map(projectStatefulSet), claims: w.claims.map(projectClaim), pods: w.pods.map(projectPod), pvs: w.pvs.map(projectVolume), now: w.now };
}

const input = (w: World, namespace: string | undefined): OrphanInput => ({ statefulSets: w.sets, claims: w.claims, pods: w.pods, volumes: w.pvs, namespace, now: w.now });

const FILTERS: OrphanFilter[] = [{}, { statefulSet: 'web' }, { statefulSet: 'mongo' }, { selector: parseSelector('app=nginx') }, { selector: parseSelector('team=x') }, { olderThanMs: 2 * DAY }];

describe('projections: core answers the same on projected objects', () => {
  it.each(WORLDS)('%s: detection, deletion plan and confirmation text', (_name, make, ns) => {
    const full = make();
    const small = projected(make());
    let found = 0;
    for (const namespace of [undefined, ns]) {
      for (const f of FILTERS) {
        const a = detectOrphans(input(full, namespace), f);
        const b = detectOrphans(input(small, namespace), f);
        expect(b, `${namespace ?? '-A'} ${JSON.stringify(f)}`).toEqual(a);
        found += a.findings.length;
        for (const includePvs of [false, true]) {
          const pa = planDeletion(a.findings, full.pvs, includePvs);
          const pb = planDeletion(b.findings, small.pvs, includePvs);
          expect(pb).toEqual(pa);
          if (pa.targets.length) expect(confirmationText(pb)).toBe(confirmationText(pa));
        }
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it('the mixed world exercises every reason, every kept verdict and every volume source', () => {
    const r = detectOrphans(input(mixedWorld(), undefined));
    expect(new Set(r.findings.map((f) => f.reason))).toEqual(new Set(['ScaledDown', 'BelowStartOrdinal', 'SetDeleted', 'SetDeleting', 'ReleasedVolume']));
    expect(new Set(r.kept.map((k) => k.why))).toEqual(new Set(['inUse', 'inRange', 'ownedByPod', 'managedElsewhere', 'lookAlike', 'notStatefulSet']));
    expect(new Set(r.findings.map((f) => f.volumeSource?.split(' ')[0] ?? null))).toEqual(new Set(['hostPath', 'csi', 'local', 'nfs', 'awsElasticBlockStore', 'volumeAttributesClassName', null]));
    expect(new Set(r.findings.map((f) => f.reclaimPolicy))).toEqual(new Set(['Retain', 'Delete', null]));
  });

  it('projected objects are much smaller and stay plain objects of the same shape', () => {
    // (seed 002's file holds only the fields that matter already)
    for (const make of [mixedWorld, kwok]) {
      const w = make();
      const size = (x: World) => JSON.stringify([x.sets, x.claims, x.pods, x.pvs]).length;
      expect(size(projected(w))).toBeLessThan(size(w) * 0.5);
    }
    const p = projectPod(kwok().pods[0]!);
    expect(Object.keys(p)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(p.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-s0-0' } }]);
  });
});

/** A fake API that serves the world's LISTs; with `apply`, it applies the projection the command passes (as KubeClient.list does). */
function fakeKube(w: World, apply: boolean) {
  const projections: string[] = [];
  const client = {
    requestCount: 0,
    async list(p: string, _q?: unknown, _size?: number, project?: (o: KubeObject) => KubeObject) {
      client.requestCount++;
      if (project) projections.push(p.split('/').pop()!);
      const all: KubeObject[] = p.endsWith('/statefulsets') ? w.sets : p.endsWith('/persistentvolumeclaims') ? w.claims : p.endsWith('/pods') ? w.pods : p.endsWith('/persistentvolumes') ? w.pvs : [];
      const m = /\/namespaces\/([^/]+)\//.exec(p);
      let items = structuredClone(m ? all.filter((i) => i.metadata.namespace === m[1]) : all);
      const sel = (_q as { fieldSelector?: string } | undefined)?.fieldSelector;
      if (sel) items = items.filter((i) => i.metadata.name === sel.replace('metadata.name=', ''));
      return { items: apply && project ? items.map(project) : items, resourceVersion: '1' };
    },
    async get(p: string) {
      throw new Error(`no GET expected (${p})`);
    },
    async namespaceMissing() {
      return false;
    },
  };
  return { kube: { client, namespace: 'default', contextName: 't', server: 'https://fake' } as unknown as Kube, projections };
}

function args(extra: Partial<PvcOrphansArgs & GlobalArgs>): PvcOrphansArgs & GlobalArgs {
  return { allNamespaces: false, output: 'table', requestTimeout: '0', color: false, verbose: 1, delete: false, includePvs: false, yes: false, wait: false, timeout: '1m', ...extra } as PvcOrphansArgs & GlobalArgs;
}

async function runBoth(w: () => World, a: PvcOrphansArgs & GlobalArgs) {
  const out = [];
  for (const apply of [false, true]) {
    const { kube, projections } = fakeKube(w(), apply);
    const r = recordingDeps(kube, { now: w().now });
    const res = await pvcOrphansCommand.run!(a, r.deps);
    out.push({ res, logs: r.logged, projections });
  }
  return out as [(typeof out)[0], (typeof out)[0]];
}

describe('projections: pvc-orphans prints the same', () => {
  const variants: [string, Partial<PvcOrphansArgs & GlobalArgs>][] = [
    ['table -A', { allNamespaces: true }],
    ['wide -n', { output: 'wide' }],
    ['json -A', { allNamespaces: true, output: 'json' }],
    ['yaml --sts web -l', { allNamespaces: true, output: 'yaml', sts: 'web', selector: 'app=nginx' }],
    ['name --older-than', { allNamespaces: true, output: 'name', olderThan: '2d' }],
    ['--delete --dry-run=client --include-pvs', { delete: true, yes: true, dryRun: 'client', includePvs: true }],
    ['--delete --dry-run=client -o json', { delete: true, yes: true, dryRun: 'client', output: 'json' }],
  ];
  for (const [wname, make, ns] of WORLDS) {
    it.each(variants)(`${wname}: %s`, async (_v, extra) => {
      const [full, small] = await runBoth(make, args({ namespace: ns, ...extra }));
      expect(small.projections.sort()).toEqual(['persistentvolumeclaims', 'persistentvolumes', 'pods', 'statefulsets']);
      expect(small.res.output).toBe(full.res.output);
      expect(small.res.exitCode).toBe(full.res.exitCode);
      expect(small.logs).toEqual(full.logs);
    });
  }

  it('the projections given are the four of core/projections.ts', () => {
    expect(Object.keys(orphanProjections).sort()).toEqual(['claims', 'pods', 'statefulSets', 'volumes']);
  });
});
