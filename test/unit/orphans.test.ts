import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { claimNameSplits, detectOrphans, parseClaimName, type OrphanInput, type OrphanFilter } from '../../src/core/orphans.js';
import { claimLeavesBehind, confirmationText, planDeletion, recheckClaim } from '../../src/core/orphans-delete.js';
import type { KubeObject, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/core/types.js';
import { parseSelector } from '../../src/core/labels.js';
import { DAY, NOW, ago, boundPv, ownerPod, ownerSts, pod, pv, pvc, sts } from '../fixtures/orphans/build.js';

function input(objs: { sets?: StatefulSet[]; claims?: PersistentVolumeClaim[]; pods?: Pod[]; pvs?: PersistentVolume[]; namespace?: string | undefined }): OrphanInput {
  return {
    statefulSets: objs.sets ?? [],
    claims: objs.claims ?? [],
    pods: objs.pods ?? [],
    volumes: objs.pvs ?? (objs.claims ?? []).filter((c) => c.spec.volumeName).map((c) => boundPv(c)),
    namespace: 'namespace' in objs ? objs.namespace : 'ns',
    now: NOW,
  };
}

/** A compact view of a finding for table-driven expectations. */
const brief = (r: ReturnType<typeof detectOrphans>) => r.findings.map((f) => `${f.kind === 'PersistentVolume' ? 'pv/' : ''}${f.name} ${f.reason} ${f.statefulSet ?? '-'}${f.statefulSetGuessed ? '?' : ''}#${f.ordinal ?? '-'}`);

const web = (o: Parameters<typeof sts>[1] = {}) => sts('web', { templates: { www: undefined }, selector: { app: 'nginx' }, ...o });
const webClaim = (n: number, o: Parameters<typeof pvc>[1] = {}) => pvc(`www-web-${n}`, { labels: { app: 'nginx' }, ...o });
const webPods = (...ns: number[]) => ns.map((n) => pod(`web-${n}`, [`www-web-${n}`]));

interface Case {
  name: string;
  in: OrphanInput;
  filter?: OrphanFilter;
  want: string[];
  kept?: Record<string, string>;
}

const cases: Case[] = [
  {
    name: 'scale 5 -> 2 leaves ordinals 2..4',
    in: input({ sets: [web({ replicas: 2 })], claims: [0, 1, 2, 3, 4].map((n) => webClaim(n)), pods: webPods(0, 1) }),
    want: ['www-web-2 ScaledDown web#2', 'www-web-3 ScaledDown web#3', 'www-web-4 ScaledDown web#4'],
  },
  {
    name: 'a claim inside the range whose pod is momentarily gone is not an orphan',
    in: input({ sets: [web({ replicas: 3 })], claims: [0, 1, 2].map((n) => webClaim(n)), pods: webPods(0, 2) }),
    want: [],
    kept: { 'www-web-1': 'inRange' },
  },
  {
    name: 'replicas 0: every claim is left behind',
    in: input({ sets: [web({ replicas: 0 })], claims: [webClaim(0)] }),
    want: ['www-web-0 ScaledDown web#0'],
  },
  {
    name: 'start ordinal: below start, inside [start, start+replicas), above',
    in: input({
      sets: [web({ replicas: 2, start: 3 })],
      claims: [0, 3, 4, 5].map((n) => webClaim(n)),
      pods: webPods(3),
    }),
    want: ['www-web-0 BelowStartOrdinal web#0', 'www-web-5 ScaledDown web#5'],
    kept: { 'www-web-3': 'inUse', 'www-web-4': 'inRange' },
  },
  {
    name: 'template labels plus selector matchLabels must all be on the claim',
    in: input({
      sets: [web({ replicas: 1, templates: { www: { tier: 'storage' } } })],
      claims: [
        webClaim(1, { labels: { app: 'nginx', tier: 'storage', extra: 'x' } }),
        webClaim(2, { labels: { app: 'nginx' } }),
        webClaim(3, { labels: { tier: 'storage' } }),
      ],
    }),
    want: ['www-web-1 ScaledDown web#1'],
    kept: { 'www-web-2': 'lookAlike', 'www-web-3': 'lookAlike' },
  },
  {
    name: 'a non-StatefulSet claim with a look-alike name is not the set\'s, nor a deleted set\'s',
    in: input({
      sets: [web({ replicas: 3 })],
      claims: [pvc('www-web-7'), pvc('www-web-8', { labels: { app: 'other' } }), pvc('data-web-9', { labels: { app: 'nginx' } }), pvc('scratch-1'), pvc('cache-0', { labels: { app: 'x' } })],
    }),
    want: [],
    kept: { 'www-web-7': 'lookAlike', 'www-web-8': 'lookAlike', 'data-web-9': 'lookAlike', 'scratch-1': 'notStatefulSet', 'cache-0': 'notStatefulSet' },
  },
  {
    name: 'a claim mounted by an unrelated pod is never an orphan; a finished pod does not protect it',
    in: input({
      sets: [web({ replicas: 2 })],
      claims: [0, 1, 2, 3, 4].map((n) => webClaim(n)),
      pods: [...webPods(0, 1), pod('debug-shell', ['www-web-3']), pod('backup-job', ['www-web-4'], { phase: 'Succeeded' }), pod('pending', ['www-web-2'], { phase: 'Pending' })],
    }),
    want: ['www-web-4 ScaledDown web#4'],
    kept: { 'www-web-2': 'inUse', 'www-web-3': 'inUse' },
  },
  {
    name: 'a pod in another namespace does not protect a claim of the same name',
    in: input({ sets: [web({ replicas: 0 })], claims: [webClaim(0)], pods: [pod('x', ['www-web-0'], { ns: 'other' })] }),
    want: ['www-web-0 ScaledDown web#0'],
  },
  {
    name: 'multiple templates per set',
    in: input({
      sets: [sts('db', { replicas: 1, templates: { data: undefined, logs: { kind: 'logs' } } })],
      claims: [
        pvc('logs-db-1', { labels: { app: 'db', kind: 'logs' } }),
        pvc('data-db-1', { labels: { app: 'db' } }),
        pvc('data-db-0', { labels: { app: 'db' } }),
        pvc('logs-db-0', { labels: { app: 'db', kind: 'logs' } }),
        pvc('logs-db-2', { labels: { app: 'db' } }),
      ],
    }),
    want: ['data-db-1 ScaledDown db#1', 'logs-db-1 ScaledDown db#1'],
    kept: { 'data-db-0': 'inRange', 'logs-db-0': 'inRange', 'logs-db-2': 'lookAlike' },
  },
  {
    name: 'a set being deleted: unmounted claims go with it, mounted ones stay protected',
    in: input({ sets: [web({ replicas: 3, deleting: true })], claims: [0, 1, 2].map((n) => webClaim(n)), pods: webPods(0) }),
    want: ['www-web-1 SetDeleting web#1', 'www-web-2 SetDeleting web#2'],
    kept: { 'www-web-0': 'inUse' },
  },
  {
    name: 'a deleted set, found by name pattern and labels (set name guessed)',
    in: input({ sets: [], claims: [0, 1, 2].map((n) => webClaim(n)) }),
    want: ['www-web-0 SetDeleted web?#0', 'www-web-1 SetDeleted web?#1', 'www-web-2 SetDeleted web?#2'],
  },
  {
    name: 'a deleted set with two templates: the shared suffix settles the set name',
    in: input({
      claims: [pvc('mongo-persistent-storage-mongo-0', { labels: { role: 'db' } }), pvc('mongo-logs-mongo-0', { labels: { role: 'db' } })],
    }),
    want: ['mongo-logs-mongo-0 SetDeleted mongo?#0', 'mongo-persistent-storage-mongo-0 SetDeleted mongo?#0'],
  },
  {
    name: 'ownerReferences set by whenDeleted=Delete: owner gone -> SetDeleted; owner alive and in range -> kept',
    in: input({
      sets: [sts('db', { replicas: 2, retention: { whenDeleted: 'Delete' } })],
      claims: [
        pvc('data-db-0', { owners: [ownerSts('db')] }),
        pvc('data-db-5', { owners: [ownerSts('db')] }),
        pvc('data-old-0', { owners: [ownerSts('old', 'uid-gone')] }),
      ],
    }),
    want: ['data-db-5 ScaledDown db#5', 'data-old-0 SetDeleted old#0'],
    kept: { 'data-db-0': 'inRange' },
  },
  {
    name: 'an ownerReference to a set re-created under the same name (new uid) attributes to the new set',
    in: input({ sets: [sts('db', { replicas: 1, uid: 'uid-new' })], claims: [pvc('data-db-0', { owners: [ownerSts('db', 'uid-old')] }), pvc('data-db-1', { owners: [ownerSts('db', 'uid-old')] })] }),
    want: ['data-db-1 ScaledDown db#1'],
  },
  {
    name: 'owners of other kinds manage their own claims; a live owner pod keeps its claim',
    in: input({
      sets: [sts('db', { replicas: 0 })],
      claims: [
        pvc('data-db-0', { labels: { app: 'db' }, owners: [{ apiVersion: 'x/v1', kind: 'PostgresCluster', name: 'pg', uid: 'u1', controller: true }] }),
        pvc('data-db-1', { labels: { app: 'db' }, owners: [ownerPod('db-1')] }),
        pvc('data-db-2', { labels: { app: 'db' }, owners: [ownerPod('db-2', 'uid-gone')] }),
      ],
      pods: [pod('db-1', [], {})],
    }),
    want: ['data-db-2 ScaledDown db#2'],
    kept: { 'data-db-0': 'managedElsewhere', 'data-db-1': 'ownedByPod' },
  },
  {
    name: 'a gone owner pod names the deleted set exactly (whenScaled=Delete left it for the garbage collector)',
    in: input({ claims: [pvc('data-my-db-3', { owners: [ownerPod('my-db-3', 'gone')] })] }),
    want: ['data-my-db-3 SetDeleted my-db#3'],
  },
  {
    name: 'Released volumes: claim gone, claim re-created (other uid), claim itself orphaned; Bound/Available/other namespace ignored',
    in: input({
      sets: [web({ replicas: 1 })],
      claims: [webClaim(0), webClaim(2, { uid: 'new-uid', volume: '' , phase: 'Pending' }), webClaim(3)],
      pods: webPods(0),
      pvs: [
        pv('pv-gone', { phase: 'Released', claim: { name: 'www-web-1', uid: 'old-1' } }),
        pv('pv-recreated', { phase: 'Released', claim: { name: 'www-web-2', uid: 'old-2' } }),
        pv('pv-of-orphan', { phase: 'Released', claim: { name: 'www-web-3', uid: 'uid-pvc-www-web-3' } }),
        pv('pv-bound', { phase: 'Bound', claim: { name: 'www-web-0', uid: 'uid-pvc-www-web-0' } }),
        pv('pv-available', { phase: 'Available' }),
        pv('pv-elsewhere', { phase: 'Released', claim: { ns: 'other', name: 'x-y-0' } }),
      ],
    }),
    want: [
      'www-web-2 ScaledDown web#2',
      'www-web-3 ScaledDown web#3',
      'pv/pv-gone ReleasedVolume web#1',
      'pv/pv-recreated ReleasedVolume web#2',
      'pv/pv-of-orphan ReleasedVolume web#3',
    ],
  },
  {
    name: '-A: the same set name in two namespaces is two sets',
    in: input({
      namespace: undefined,
      sets: [web({ ns: 'a', replicas: 1 }), web({ ns: 'b', replicas: 2 })],
      claims: [webClaim(1, { ns: 'b' }), webClaim(1, { ns: 'a' }), webClaim(2, { ns: 'b' })],
    }),
    want: ['www-web-1 ScaledDown web#1', 'www-web-2 ScaledDown web#2'],
    kept: { 'www-web-1': 'inRange' },
  },
  {
    name: 'namespace scope: claims and sets of other namespaces are ignored',
    in: input({ sets: [web({ ns: 'other', replicas: 0 })], claims: [webClaim(0, { ns: 'other' })] }),
    want: [],
  },
];

describe('detectOrphans', () => {
  it.each(cases)('$name', (c) => {
    const r = detectOrphans(c.in, c.filter);
    expect(brief(r)).toEqual(c.want);
    for (const [name, why] of Object.entries(c.kept ?? {})) {
      expect(r.kept.find((k) => k.name === name && (c.in.namespace !== undefined || k.namespace === 'b' || k.namespace === 'a'))?.why, name).toBe(why);
    }
  });

  it('reproduces seed 002: scale 5 -> 2 leaves wwwdata-satefulset-2..4 with their NFS volumes', () => {
    const list = loadYaml(fs.readFileSync(path.join(import.meta.dirname, '../fixtures/orphans/seed002-scaled-5-to-2.yaml'), 'utf8')) as { items: KubeObject[] };
    const of = <T>(kind: string) => list.items.filter((i) => i.kind === kind) as T[];
    const r = detectOrphans({
      statefulSets: of<StatefulSet>('StatefulSet'),
      claims: of<PersistentVolumeClaim>('PersistentVolumeClaim'),
      pods: of<Pod>('Pod'),
      volumes: of<PersistentVolume>('PersistentVolume'),
      namespace: 'default',
      now: Date.parse('2018-09-29T16:00:00Z'),
    });
    expect(r.findings.map((f) => [f.name, f.ordinal, f.volume, f.capacity, f.reclaimPolicy, f.reattach.atReplicas])).toEqual([
      ['wwwdata-satefulset-2', 2, 'linuxea-2', '5Gi', 'Retain', 3],
      ['wwwdata-satefulset-3', 3, 'linuxea-1', '5Gi', 'Retain', 4],
      ['wwwdata-satefulset-4', 4, 'linuxea-5', '5Gi', 'Retain', 5],
    ]);
    const f = r.findings[0]!;
    expect(f).toMatchObject({
      reason: 'ScaledDown',
      statefulSet: 'satefulset',
      statefulSetExists: true,
      template: 'wwwdata',
      evidence: 'nameAndLabels',
      phase: 'Bound',
      storageClass: '',
      volumeSource: 'nfs 10.0.1.61:/data/linuxea-volumes/linuxea-2',
      age: '65m',
      retention: { rule: 'whenScaled', policy: 'Retain', outcome: 'retained' },
      reattach: { onScaleUp: true, atReplicas: 3 },
    });
    expect(f.message).toContain('[0, 2)');
    expect(r.summary).toEqual({ claimsChecked: 5, inUse: 2, inRange: 0, lookAlike: 0, orphanedClaims: 3, releasedVolumes: 0, undecided: 0, unconfirmed: 0 });
  });

  it('reports what the retention policy would have done', () => {
    const r = detectOrphans(
      input({
        sets: [sts('a', { replicas: 0, retention: { whenScaled: 'Delete' } }), sts('b', { replicas: 1, deleting: true, retention: { whenDeleted: 'Delete' } })],
        claims: [pvc('data-a-0', { labels: { app: 'a' } }), pvc('data-b-0', { labels: { app: 'b' } }), pvc('data-c-0', { labels: { app: 'c' } }), pvc('data-d-0', { owners: [ownerSts('d')] })],
      }),
    );
    expect(r.findings.map((f) => [f.name, f.retention?.rule, f.retention?.policy, f.retention?.outcome])).toEqual([
      ['data-a-0', 'whenScaled', 'Delete', 'deleted'],
      ['data-b-0', 'whenDeleted', 'Delete', 'deleted'],
      ['data-c-0', 'whenDeleted', 'Retain', 'retained'],
      ['data-d-0', 'whenDeleted', 'Delete', 'deleted'],
    ]);
    expect(r.findings.map((f) => f.reattach.onScaleUp)).toEqual([true, false, false, false]);
    expect(r.findings[2]!.reattach.note).toContain('re-creating a StatefulSet named c');
  });

  it('filters: --sts (also guessed names), -l, --older-than', () => {
    const base = input({
      sets: [web({ replicas: 0 })],
      claims: [
        webClaim(0, { created: ago(2 * DAY) }),
        pvc('data-my-db-0', { labels: { app: 'db', team: 'x' }, created: ago(9 * DAY) }),
      ],
      pvs: [pv('pv-rel', { phase: 'Released', claim: { name: 'data-my-db-1' }, released: ago(DAY), labels: { team: 'x' } })],
    });
    expect(brief(detectOrphans(base))).toEqual(['data-my-db-0 SetDeleted my-db?#0', 'www-web-0 ScaledDown web#0', 'pv/pv-rel ReleasedVolume my-db?#1']);
    expect(brief(detectOrphans(base, { statefulSet: 'web' }))).toEqual(['www-web-0 ScaledDown web#0']);
    // "db" is another reading of data-my-db-0 (template data-my): --sts db finds it too.
    expect(brief(detectOrphans(base, { statefulSet: 'db' })).map((s) => s.split(' ')[0])).toEqual(['data-my-db-0', 'pv/pv-rel']);
    expect(brief(detectOrphans(base, { selector: parseSelector('team=x') })).map((s) => s.split(' ')[0])).toEqual(['data-my-db-0', 'pv/pv-rel']);
    expect(brief(detectOrphans(base, { selector: parseSelector('app=nginx') })).map((s) => s.split(' ')[0])).toEqual(['www-web-0']);
    expect(brief(detectOrphans(base, { olderThanMs: 3 * DAY })).map((s) => s.split(' ')[0])).toEqual(['data-my-db-0']);
    expect(brief(detectOrphans(base, { olderThanMs: 12 * 3_600_000 })).map((s) => s.split(' ')[0])).toEqual(['data-my-db-0', 'www-web-0', 'pv/pv-rel']);
  });

  it('is deterministic whatever the input order', () => {
    const sets = [web({ replicas: 1 }), sts('db', { replicas: 0, templates: { data: undefined, logs: undefined } })];
    const claims = [webClaim(3), webClaim(1), webClaim(2), pvc('logs-db-0', { labels: { app: 'db' } }), pvc('data-db-0', { labels: { app: 'db' } })];
    const pvs = [pv('z', { phase: 'Released', claim: { name: 'www-web-9' } }), pv('a', { phase: 'Released', claim: { name: 'www-web-8' } })];
    const one = detectOrphans(input({ sets, claims, pvs }));
    const two = detectOrphans(input({ sets: [...sets].reverse(), claims: [...claims].reverse(), pvs: [...pvs].reverse() }));
    expect(two).toEqual(one);
    expect(brief(one)).toEqual([
      'data-db-0 ScaledDown db#0',
      'logs-db-0 ScaledDown db#0',
      'www-web-1 ScaledDown web#1',
      'www-web-2 ScaledDown web#2',
      'www-web-3 ScaledDown web#3',
      'pv/a ReleasedVolume web#8',
      'pv/z ReleasedVolume web#9',
    ]);
  });

  it('fills capacity, class, volume, phase and age; a Pending claim has no volume', () => {
    const r = detectOrphans(input({ sets: [web({ replicas: 0 })], claims: [webClaim(0, { volume: '', phase: 'Pending', created: ago(3 * 3_600_000) })] }));
    expect(r.findings[0]).toMatchObject({ capacity: '1Gi', storageClass: 'standard', volume: null, phase: 'Pending', age: '3h', reclaimPolicy: null });
  });
});

describe('claim name parsing', () => {
  it.each([
    ['www-web-0', 'web', { template: 'www', ordinal: 0 }],
    ['data-my-db-12', 'my-db', { template: 'data', ordinal: 12 }],
    ['www-web-01', 'web', undefined],
    ['web-0', 'web', undefined],
    ['www-webx-0', 'web', undefined],
  ])('parseClaimName(%s, %s)', (name, set, want) => expect(parseClaimName(name, set)).toEqual(want));

  it('lists every split, first dash first', () => {
    expect(claimNameSplits('a-b-c-3').map((s) => `${s.template}|${s.statefulSet}`)).toEqual(['a|b-c', 'a-b|c']);
    expect(claimNameSplits('plain-3')).toEqual([]);
  });
});

describe('deletion plan', () => {
  const claims = [webClaim(1), webClaim(2), webClaim(3, { volume: '', phase: 'Pending' })];
  const vols = [boundPv(claims[0]!, 'Retain'), boundPv(claims[1]!, 'Delete'), pv('pv-rel', { phase: 'Released', claim: { name: 'www-web-7' } })];
  const found = detectOrphans(input({ sets: [web({ replicas: 1 })], claims, pvs: vols })).findings;

  it('without --include-pvs: claims only; Released volumes are reported as not included', () => {
    const plan = planDeletion(found, vols, false);
    expect(plan.targets.map((t) => `${t.kind}/${t.name} ${t.resourceVersion ?? '-'}`)).toEqual([
      'PersistentVolumeClaim/www-web-1 100',
      'PersistentVolumeClaim/www-web-2 100',
      'PersistentVolumeClaim/www-web-3 100',
    ]);
    expect(plan.notIncluded.map((f) => f.name)).toEqual(['pv-rel']);
    expect(plan.targets.map((t) => t.leavesBehind)).toEqual([
      expect.stringContaining('stays, Released, with the data (reclaim policy Retain)'),
      expect.stringContaining('deleted with it (reclaim policy Delete): the data is lost'),
      'nothing: the claim is not bound to a volume',
    ]);
    const text = confirmationText(plan);
    expect(text).toContain('This deletes 3 PersistentVolumeClaims:');
    expect(text).toContain('-n ns pvc/www-web-2  (web ordinal 2, ScaledDown, 1Gi)');
    expect(text).toContain('Not deleted: 1 Released PersistentVolume(s)');
    expect(text.split('\n').at(-1)).toBe('Delete these 3 objects?');
  });

  it('with --include-pvs: the Retain volume of a deleted claim follows its claim; Released volumes are included', () => {
    const plan = planDeletion(found, vols, true);
    expect(plan.targets.map((t) => `${t.kind}/${t.name} ${t.role} ${t.afterClaim ?? ''} ${t.resourceVersion ?? '-'}`.trim())).toEqual([
      'PersistentVolumeClaim/www-web-1 orphan  100',
      'PersistentVolume/pv-www-web-1 volumeOfClaim ns/www-web-1 -',
      'PersistentVolumeClaim/www-web-2 orphan  100',
      'PersistentVolumeClaim/www-web-3 orphan  100',
      'PersistentVolume/pv-rel orphan  200',
    ]);
    expect(plan.targets[0]!.leavesBehind).toContain('is removed as well; the storage itself (hostPath /srv/pv-www-web-1) is kept');
    expect(plan.notIncluded).toEqual([]);
  });

  it('claimLeavesBehind names an unknown volume', () => {
    expect(claimLeavesBehind(found[0]!, undefined, false)).toContain('was not found');
  });

  it('recheck: still orphaned / now mounted / set scaled back up', () => {
    const claim = webClaim(2);
    expect(recheckClaim(claim, { pods: webPods(0), statefulSets: [web({ replicas: 1 })], now: NOW })).toEqual({ ok: true });
    expect(recheckClaim(claim, { pods: [pod('intruder', ['www-web-2'])], statefulSets: [web({ replicas: 1 })], now: NOW })).toEqual({
      ok: false,
      detail: 'no longer orphaned: mounted by pod intruder',
    });
    expect(recheckClaim(claim, { pods: [], statefulSets: [web({ replicas: 5 })], now: NOW })).toEqual({ ok: false, detail: 'no longer orphaned: claim of web ordinal 2' });
  });
});
