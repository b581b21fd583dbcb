import { describe, expect, it } from 'vitest';
import { diagnoseSets, liveDnsFindings, mongoFindings, needsEvents, runsMongo, summarize, type DoctorInput } from '../../src/core/doctor.js';
import { budgetAllows, eventLines, podTrouble, waitsBelowPartition } from '../../src/core/doctor-rollout.js';
import { explainPendingClaim, quantityValue, volumeAdmitsNode } from '../../src/core/doctor-storage.js';
import type { MongoReport } from '../../src/core/mongo.js';
import type { KubeEvent, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodDisruptionBudget, StatefulSet, StorageClass } from '../../src/core/types.js';
import { NS, pod as dnsPod, service, slice, sts as dnsSts } from '../fixtures/dns/objects.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const AGO = (s: number) => new Date(NOW - s * 1000).toISOString();

function sts(mut?: (s: StatefulSet) => void): StatefulSet {
  const s = dnsSts();
  s.metadata.generation = 1;
  s.spec.volumeClaimTemplates = [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local', resources: { requests: { storage: '1Gi' } } } }];
  s.status = { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentRevision: 'web-1', updateRevision: 'web-1', updatedReplicas: 3, currentReplicas: 3 };
  mut?.(s);
  return s;
}

function pod(i: number, mut?: (p: Pod) => void): Pod {
  const p = dnsPod(i);
  p.metadata.labels = { ...p.metadata.labels, 'controller-revision-hash': 'web-1' };
  p.metadata.creationTimestamp = AGO(3600);
  p.spec.nodeName = `node-${i}`;
  p.spec.volumes = [{ name: 'www', persistentVolumeClaim: { claimName: `www-web-${i}` } }];
  mut?.(p);
  return p;
}

function claim(name: string, mut?: (c: PersistentVolumeClaim) => void): PersistentVolumeClaim {
  const c: PersistentVolumeClaim = {
    metadata: { name, namespace: NS, uid: `uid-${name}`, labels: { app: 'nginx' }, creationTimestamp: AGO(3600) },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local', volumeName: `pv-${name}`, resources: { requests: { storage: '1Gi' } } },
    status: { phase: 'Bound', capacity: { storage: '1Gi' } },
  };
  mut?.(c);
  return c;
}

function volume(name: string, mut?: (v: PersistentVolume) => void): PersistentVolume {
  const v: PersistentVolume = {
    metadata: { name, uid: `uid-${name}`, finalizers: ['kubernetes.io/pv-protection'] },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local', persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/tmp/${name}` } },
    status: { phase: 'Available' },
  };
  mut?.(v);
  return v;
}

function node(i: number, zone = `zone-${i}`): Node {
  return { metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': zone } } };
}

function pdb(spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status'], name = 'web'): PodDisruptionBudget {
  return { metadata: { name, namespace: NS }, spec, ...(status ? { status } : {}) };
}

const localClass: StorageClass = { metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };

/** web: 3 Ready pods on 3 nodes in 3 zones, claims bound, a budget, a headless Service with named ports. */
function healthy(): DoctorInput {
  const ps = [pod(0), pod(1), pod(2)];
  const claims = [0, 1, 2].map((i) => claim(`www-web-${i}`));
  const vols = claims.map((c) => volume(c.spec.volumeName!, (v) => ((v.status = { phase: 'Bound' }), (v.spec.claimRef = { namespace: NS, name: c.metadata.name, uid: c.metadata.uid! }))));
  return {
    now: NOW,
    stuckAfterMs: 300_000,
    namespace: NS,
    statefulSets: [sts()],
    pods: ps,
    claims,
    volumes: vols,
    nodes: [node(0), node(1), node(2)],
    pdbs: [pdb({ selector: { matchLabels: { app: 'nginx' } }, maxUnavailable: 1 }, { disruptionsAllowed: 1, currentHealthy: 3, expectedPods: 3, desiredHealthy: 2 })],
    storageClasses: [localClass],
    services: [service()],
    endpointSlices: [slice(ps)],
    events: [],
  };
}

const problems = (input: DoctorInput) => diagnoseSets(input)[0]!.findings.filter((f) => f.severity !== 'info');

describe('diagnoseSets', () => {
  it('finds nothing wrong with a healthy set, and says what the retention policy is', () => {
    const [r] = diagnoseSets(healthy());
    expect(r).toMatchObject({ namespace: NS, name: 'web', replicas: 3, ready: 3, healthy: true, unchecked: [] });
    expect(r!.findings).toEqual([expect.objectContaining({ check: 'retention-policy', severity: 'info' })]);
    expect(r!.findings[0]!.message).toMatch(/kept when the set is deleted \(whenDeleted Retain\) and kept on scale-down \(whenScaled Retain\) \(the default\)/);
  });

  const unschedulable = (p: Pod) => {
    p.spec.nodeName = undefined;
    p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector." }] };
  };
  const waiting = (reason: string, message = '', restarts = 0) => (p: Pod) => {
    p.status = {
      phase: 'Pending',
      conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: AGO(60) }],
      containerStatuses: [{ name: 'nginx', ready: false, restartCount: restarts, image: 'nginx:nope', state: { waiting: { reason, message } } }],
    };
  };

  // Each case breaks one thing in the healthy set; the finding it must produce, with its fix.
  const cases: { name: string; mutate: (i: DoctorInput) => void; check: string; severity: string; message: RegExp; fix: RegExp; evidence?: RegExp }[] = [
    {
      name: 'an unschedulable pod (nodeSelector no node matches)',
      mutate: (i) => unschedulable(i.pods![2]!),
      check: 'pod-unschedulable',
      severity: 'error',
      message: /web-2 not Ready .*not scheduled: 0\/3 nodes are available/,
      fix: /nodeSelector.*kubectl -n shop describe pod web-2/,
      evidence: /PodScheduled=False Unschedulable/,
    },
    {
      name: 'a pod waiting on an unbound claim',
      mutate: (i) => {
        unschedulable(i.pods![2]!);
        i.pods![2]!.status!.conditions![0]!.message = '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.';
      },
      check: 'pod-pending-claim',
      severity: 'error',
      message: /unbound immediate PersistentVolumeClaims/,
      fix: /bind the pod's claim first/,
    },
    {
      name: 'an image that cannot be pulled',
      mutate: (i) => waiting('ImagePullBackOff', 'Back-off pulling image "nginx:nope"')(i.pods![2]!),
      check: 'pod-image-pull',
      severity: 'error',
      message: /cannot pull image nginx:nope: ImagePullBackOff/,
      fix: /fix the image name or the pull secret/,
    },
    {
      name: 'a crash loop, with the last event as evidence',
      mutate: (i) => {
        waiting('CrashLoopBackOff', '', 7)(i.pods![1]!);
        i.events = [
          { metadata: { name: 'e1', namespace: NS }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: NS, uid: 'uid-web-1' }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', lastTimestamp: AGO(5), count: 12 } as KubeEvent,
        ];
      },
      check: 'pod-crash-loop',
      severity: 'error',
      message: /crash-looping \(7 restarts\)/,
      fix: /kubectl -n shop logs web-1 --previous/,
      evidence: /event Warning BackOff \(x12\): Back-off restarting failed container/,
    },
    {
      name: 'a pod not Ready for no known reason, past --stuck-after',
      mutate: (i) => {
        i.pods![0]!.status!.conditions = [{ type: 'Ready', status: 'False', reason: 'ReadinessProbeFailed', lastTransitionTime: AGO(600) }];
      },
      check: 'pod-not-ready',
      severity: 'error',
      message: /web-0 not Ready for 10m/,
      fix: /readiness probe/,
    },
    {
      name: 'OrderedReady blocked by a broken pod on the update revision (forced rollback)',
      mutate: (i) => {
        i.statefulSets[0]!.status!.updateRevision = 'web-2';
        i.pods![2]!.metadata.labels!['controller-revision-hash'] = 'web-2';
        waiting('ErrImagePull')(i.pods![2]!);
      },
      check: 'rollout-blocked',
      severity: 'error',
      message: /rolling update to web-2 is stuck: web-2 \(update revision\) never became Ready/,
      fix: /kubectl sts rollout undo web -n shop --force/,
    },
    {
      name: 'OrderedReady scale-up blocked: the next pods are not created',
      mutate: (i) => {
        i.statefulSets[0]!.spec.replicas = 3;
        i.pods = [pod(0), pod(1, waiting('CrashLoopBackOff', '', 3))];
      },
      check: 'rollout-blocked',
      severity: 'error',
      message: /web-2 is not created: OrderedReady creates the next pod only after web-1/,
      fix: /fix web-1/,
    },
    {
      name: 'a held partition with a change waiting',
      mutate: (i) => {
        const s = i.statefulSets[0]!;
        s.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 3 } };
        s.status!.updateRevision = 'web-2';
      },
      check: 'partition-held',
      severity: 'warning',
      message: /paused at partition 3: 0 of 3 pods updated/,
      fix: /kubectl sts rollout web -n shop --step/,
    },
    {
      name: 'a template change the controller has not observed',
      mutate: (i) => {
        i.statefulSets[0]!.metadata.generation = 2;
      },
      check: 'generation-not-observed',
      severity: 'warning',
      message: /generation 2, observed 1/,
      fix: /kube-controller-manager/,
    },
    {
      name: 'an OnDelete change not applied',
      mutate: (i) => {
        const s = i.statefulSets[0]!;
        s.spec.updateStrategy = { type: 'OnDelete' };
        s.status!.updateRevision = 'web-2';
      },
      check: 'ondelete-pending',
      severity: 'warning',
      message: /3 of 3 pods run an older revision/,
      fix: /--delete-pods/,
    },
    {
      name: 'every replica on one node',
      mutate: (i) => i.pods!.forEach((p) => (p.spec.nodeName = 'node-1')),
      check: 'single-node',
      severity: 'warning',
      message: /all 3 scheduled pods run on node node-1/,
      fix: /topologySpreadConstraints.*kubernetes\.io\/hostname/,
    },
    {
      name: 'every replica in one zone of several',
      mutate: (i) => (i.nodes = [node(0, 'a'), node(1, 'a'), node(2, 'a'), node(3, 'b')]),
      check: 'single-zone',
      severity: 'warning',
      message: /all 3 scheduled pods run in zone a although the cluster has 2 zones/,
      fix: /topology\.kubernetes\.io\/zone/,
    },
    {
      name: 'no PodDisruptionBudget',
      mutate: (i) => (i.pdbs = [pdb({ selector: { matchLabels: { app: 'other' } }, maxUnavailable: 1 })]),
      check: 'pdb-missing',
      severity: 'warning',
      message: /no PodDisruptionBudget covers the 3 pods/,
      fix: /kubectl -n shop create poddisruptionbudget web --selector=app=nginx --max-unavailable=1/,
    },
    {
      name: 'a budget that blocks every eviction (minAvailable = replicas)',
      mutate: (i) => (i.pdbs = [pdb({ selector: { matchLabels: { app: 'nginx' } }, minAvailable: '100%' })]),
      check: 'pdb-blocks-eviction',
      severity: 'warning',
      message: /minAvailable 100%\) allows no eviction/,
      fix: /patch pdb web .*"maxUnavailable":1/,
    },
    {
      name: 'a budget healthy but with no disruption allowed',
      mutate: (i) => (i.pdbs = [pdb({ selector: { matchLabels: { app: 'nginx' } }, minAvailable: 2 }, { disruptionsAllowed: 0, currentHealthy: 3, expectedPods: 3 })]),
      check: 'pdb-blocks-eviction',
      severity: 'warning',
      message: /allows no eviction even with every pod healthy/,
      fix: /patch pdb web/,
    },
    {
      name: 'two budgets for the same pods',
      mutate: (i) => i.pdbs!.push(pdb({ selector: {}, maxUnavailable: 1 }, undefined, 'all')),
      check: 'pdb-multiple',
      severity: 'warning',
      message: /2 PodDisruptionBudgets select the pods \(web, all\)/,
      fix: /kubectl -n shop delete pdb all/,
    },
    {
      name: 'maxUnavailable beyond the budget (gate on: the server kept the field)',
      mutate: (i) => (i.statefulSets[0]!.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } }),
      check: 'maxunavailable-exceeds-pdb',
      severity: 'warning',
      message: /may take 2 pods down at once \(maxUnavailable 2\), more than PodDisruptionBudget web allows \(1\)/,
      fix: /"maxUnavailable":1/,
    },
    {
      name: 'a Pending claim whose class has no volume (static provisioning)',
      mutate: (i) => {
        i.claims![2] = claim('www-web-2', (c) => ((c.status = { phase: 'Pending' }), delete c.spec.volumeName, (c.spec.storageClassName = 'nothing-here')));
        unschedulable(i.pods![2]!);
      },
      check: 'claim-pending',
      severity: 'error',
      message: /claim www-web-2 is Pending: StorageClass "nothing-here" does not exist and no PersistentVolume has that class/,
      fix: /create StorageClass nothing-here, or a PersistentVolume with storageClassName "nothing-here", 1Gi or more, ReadWriteOnce/,
    },
    {
      name: 'claims left behind by a scale-down',
      mutate: (i) => {
        i.statefulSets[0]!.spec.replicas = 2;
        i.statefulSets[0]!.status!.replicas = 2;
        i.pods = i.pods!.slice(0, 2);
      },
      check: 'orphaned-claims',
      severity: 'warning',
      message: /1 claim left behind \(ScaledDown\)/,
      fix: /kubectl sts pvc-orphans -n shop --sts web --delete/,
    },
    {
      name: 'a volume of its claims stuck Terminating',
      mutate: (i) => (i.volumes![0]!.metadata.deletionTimestamp = AGO(120)),
      check: 'volume-terminating',
      severity: 'error',
      message: /volume pv-www-web-0 \(claim www-web-0\) is stuck Terminating for 2m: blocked by pod shop\/web-0/,
      fix: /kubectl sts finalize-localpv pv-www-web-0/,
      evidence: /finalizers: kubernetes\.io\/pv-protection/,
    },
    {
      name: 'a governing Service that is not headless (static DNS check)',
      mutate: (i) => (i.services = [service({ clusterIP: '10.96.0.7' })]),
      check: 'dns-service-headless',
      severity: 'error',
      message: /clusterIP 10\.96\.0\.7/,
      fix: /clusterIP: None/,
    },
  ];

  it.each(cases)('reports $name as $check ($severity), with evidence and a fix', (c) => {
    const input = healthy();
    c.mutate(input);
    const found = problems(input).filter((f) => f.check === c.check);
    expect(found.length, JSON.stringify(problems(input), null, 1)).toBeGreaterThan(0);
    const f = found.find((x) => c.message.test(x.message)) ?? found[0]!;
    expect(f.severity).toBe(c.severity);
    expect(f.message).toMatch(c.message);
    expect(f.fix).toMatch(c.fix);
    expect(f.evidence.length).toBeGreaterThan(0);
    if (c.evidence) expect(f.evidence.join('\n')).toMatch(c.evidence);
    expect(diagnoseSets(input)[0]!.healthy).toBe(false);
  });

  it('a held partition says how long nothing has moved: since the update revision was made, or its newest pod', () => {
    const input = healthy();
    const s = input.statefulSets[0]!;
    s.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2 } };
    s.status!.updateRevision = 'web-2';
    input.pods![2]!.metadata.labels!['controller-revision-hash'] = 'web-2';
    input.pods![2]!.metadata.creationTimestamp = AGO(2 * 3600);
    input.revisions = [{ metadata: { name: 'web-2', namespace: NS, creationTimestamp: AGO(3 * 3600) }, revision: 2 }];
    const f = problems(input).find((x) => x.check === 'partition-held')!;
    expect(f.message).toMatch(/paused at partition 2, with no progress for 120m: 1 of 3 pods updated/);
    expect(f.evidence).toContain('last progress 120m ago (the update revision made, or its newest pod created)');
    expect(waitsBelowPartition(s)).toBe(true);
    expect(waitsBelowPartition(sts())).toBe(false);
    input.revisions = undefined;
    expect(problems(input).find((x) => x.check === 'partition-held')!.message).toMatch(/paused at partition 2: 1 of 3/);
  });

  it('does not report a pod that is merely starting (not Ready for less than --stuck-after, no known cause)', () => {
    const input = healthy();
    input.pods![0]!.status!.conditions = [{ type: 'Ready', status: 'False', lastTransitionTime: AGO(20) }];
    expect(problems(input).filter((f) => f.check.startsWith('pod-'))).toEqual([]);
  });

  it('a single replica needs neither a budget nor a spread', () => {
    const input = healthy();
    input.statefulSets[0]!.spec.replicas = 1;
    input.pods = [pod(0)];
    input.pdbs = [];
    input.claims = [claim('www-web-0')];
    input.endpointSlices = [slice(input.pods)];
    expect(problems(input)).toEqual([]);
  });

  it.each([
    ['pods', /rollout: the pods could not be read/],
    ['claims', /storage: the claims could not be read/],
    ['volumes', /storage: the PersistentVolumes could not be read/],
    ['pdbs', /availability: the PodDisruptionBudgets could not be read/],
    ['nodes', /availability: the nodes could not be read/],
    ['services', /network identity: the Services could not be read/],
    ['endpointSlices', /network identity: endpointslice not run/],
  ] as const)('a forbidden read of %s is not checked, never healthy', (key, line) => {
    const input = healthy();
    (input as unknown as Record<string, unknown>)[key] = undefined;
    const [r] = diagnoseSets(input);
    expect(r!.healthy).toBe(false);
    expect(r!.unchecked.join('\n')).toMatch(line);
  });

  it('sorts sets by namespace and name, findings by severity then category', () => {
    const input = healthy();
    const other = sts((s) => ((s.metadata.name = 'api'), (s.metadata.uid = 'uid-api'), (s.spec.replicas = 0), (s.spec.serviceName = 'api')));
    input.statefulSets.push(other);
    input.pods!.forEach((p) => (p.spec.nodeName = 'node-1'));
    unschedulable(input.pods![2]!);
    const sets = diagnoseSets(input);
    expect(sets.map((s) => s.name)).toEqual(['api', 'web']);
    const web = sets[1]!.findings.map((f) => `${f.severity}/${f.category}`);
    expect(web).toEqual([...web].sort((a, b) => ['error', 'warning', 'info'].indexOf(a.split('/')[0]!) - ['error', 'warning', 'info'].indexOf(b.split('/')[0]!) || 0));
    expect(summarize(sets)).toMatchObject({ statefulSets: 2 });
  });
});

describe('podTrouble', () => {
  it.each([
    ['ErrImagePull', 'image-pull'],
    ['InvalidImageName', 'image-pull'],
    ['CrashLoopBackOff', 'crash-loop'],
    ['CreateContainerConfigError', 'container-config'],
  ])('%s is %s at once', (reason, kind) => {
    const p = pod(0, (x) => (x.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: AGO(1) }], containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason } } }] }));
    expect(podTrouble(p, undefined, NOW, 300_000)?.kind).toBe(kind);
  });
  it('a Ready or terminating pod has no trouble', () => {
    expect(podTrouble(pod(0), undefined, NOW, 0)).toBeUndefined();
    expect(podTrouble(pod(0, (p) => ((p.metadata.deletionTimestamp = AGO(1)), (p.status!.conditions![0]!.status = 'False'))), undefined, NOW, 0)).toBeUndefined();
  });
});

describe('eventLines', () => {
  const ev = (name: string, reason: string, message: string, at: number, count?: number): KubeEvent =>
    ({ metadata: { name, namespace: NS }, involvedObject: { kind: 'Pod', name: 'web-0', namespace: NS, uid: 'uid-web-0' }, type: 'Warning', reason, message, lastTimestamp: AGO(at), ...(count ? { count } : {}) }) as KubeEvent;
  it('newest first; the same reason and message from several Event objects is one line with the total count', () => {
    const lines = eventLines([ev('a', 'FailedScheduling', 'no node', 30), ev('b', 'FailedScheduling', 'no node', 10, 2), ev('c', 'BackOff', 'again', 5), ev('other', 'X', 'y', 1)].map((e, i) => (i === 3 ? { ...e, involvedObject: { kind: 'Pod', name: 'web-1', uid: 'uid-web-1' } } : e)), 'Pod', pod(0));
    expect(lines).toEqual(['event Warning BackOff: again', 'event Warning FailedScheduling (x3): no node']);
  });
});

describe('storage helpers', () => {
  it.each([
    ['1Gi', 2 ** 30],
    ['500Mi', 500 * 2 ** 20],
    ['1G', 1e9],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['100', 100],
    ['1e3', 1000],
    ['abc', undefined],
  ])('quantityValue(%s) = %s', (q, v) => expect(quantityValue(q)).toBe(v));

  const pinned = (op: string, values?: string[], key = 'kubernetes.io/hostname') => volume('pv', (v) => (v.spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator: op, ...(values ? { values } : {}) }] }] } }));
  it.each([
    ['In', ['node-1'], true],
    ['In', ['gone'], false],
    ['NotIn', ['node-1'], false],
    ['Exists', undefined, true],
    ['DoesNotExist', undefined, false],
  ] as const)('volumeAdmitsNode %s %j on node-1: %s', (op, values, yes) => {
    expect(volumeAdmitsNode(pinned(op, values as string[] | undefined), node(1))).toBe(yes);
  });

  const pending = claim('www-web-0', (c) => ((c.status = { phase: 'Pending' }), delete c.spec.volumeName));
  const scheduledUser = pod(0);
  const unscheduledUser = pod(0, (p) => (p.spec.nodeName = undefined));
  it.each([
    { name: 'no class object, no volume', classes: [] as StorageClass[], volumes: [] as PersistentVolume[], users: [scheduledUser], cause: 'class-missing' },
    { name: 'no-provisioner class, no fitting volume', classes: [{ ...localClass, volumeBindingMode: 'Immediate' as const }], volumes: [volume('small', (v) => (v.spec.capacity = { storage: '100Mi' }))], users: [scheduledUser], cause: 'no-matching-pv' },
    { name: 'WaitForFirstConsumer, pod not scheduled', classes: [localClass], volumes: [volume('ok')], users: [unscheduledUser], cause: 'wait-for-consumer' },
    { name: 'a fitting local volume pinned to a gone node', classes: [localClass], volumes: [pinned('In', ['gone'])], users: [unscheduledUser], cause: 'pv-node-affinity' },
    { name: 'a dynamic class', classes: [{ metadata: { name: 'local' }, provisioner: 'ebs.csi.aws.com' }], volumes: [], users: [scheduledUser], cause: 'provisioning' },
    { name: 'no class and no default', classes: [], volumes: [], users: [scheduledUser], cause: 'no-class', unset: true },
  ])('explainPendingClaim: $name is $cause', (c) => {
    const pvc = structuredClone(pending);
    if (c.unset) delete pvc.spec.storageClassName;
    const e = explainPendingClaim(pvc, { classes: c.classes, volumes: c.volumes, nodes: [node(0), node(1)], users: c.users });
    expect(e.cause).toBe(c.cause);
    expect(e.fix.length).toBeGreaterThan(10);
  });

  it('a budget allows: percentages round up as the disruption controller does', () => {
    expect(budgetAllows(pdb({ maxUnavailable: '50%' }), 3)).toBe(2);
    expect(budgetAllows(pdb({ minAvailable: '50%' }), 3)).toBe(1);
    expect(budgetAllows(pdb({ minAvailable: 3 }), 3)).toBe(0);
    expect(budgetAllows(pdb({ maxUnavailable: 0 }), 3)).toBe(0);
  });
});

describe('data store and cost', () => {
  it.each([
    [{ name: 'db', image: 'docker.io/library/mongo:7.0' }, true],
    [{ name: 'mongod', image: 'example/custom' }, true],
    [{ name: 'db', image: 'x', command: ['/usr/bin/mongod', '--replSet', 'rs0'] }, true],
    [{ name: 'nginx', image: 'nginx:1.27' }, false],
    [{ name: 'sidecar', image: 'mongodb-sidecar:1' }, false],
  ])('runsMongo(%j) = %s', (c, yes) => {
    expect(runsMongo(sts((s) => (s.spec.template.spec.containers = [c])))).toBe(yes);
  });

  it('turns mongo-status findings into data-store findings, and unasked pods into not checked', () => {
    const report = { complete: false, notAsked: [{ pod: 'web-1', cause: 'forbidden', label: 'x', reason: 'exec forbidden', fix: 'grant pods/exec' }], statefulSet: 'web', namespace: NS, replicaSet: 'rs0', votingMembers: 3, members: [], views: [], findings: [{ kind: 'no-primary', message: 'no member is PRIMARY' }] } as unknown as MongoReport;
    const r = mongoFindings(sts(), report);
    expect(r.findings[0]).toMatchObject({ category: 'datastore', check: 'mongo-no-primary', severity: 'error', fix: 'kubectl sts mongo-status web -n shop' });
    expect(r.unchecked[0]).toMatch(/pod web-1 not asked: exec forbidden/);
  });

  it('lists the events only when a set has an unwell pod or a Pending claim', () => {
    const h = healthy();
    expect(needsEvents(h)).toBe(false);
    h.pods![1]!.status!.conditions![0]!.status = 'False';
    expect(needsEvents(h)).toBe(true);
    const c = healthy();
    c.claims![0]!.status = { phase: 'Pending' };
    expect(needsEvents(c)).toBe(true);
  });
});

describe('liveDnsFindings', () => {
  it('one finding per check and verdict, every lookup as evidence; lookups not run are not checked', () => {
    const row = (subject: string, status: 'ok' | 'fail' | 'not-run', reason: string, causeLabel?: string) => ({ check: 'lookup-pod', status, subject, reason, fix: 'see the service-selector check above', ...(causeLabel ? { causeLabel } : {}) });
    const r = liveDnsFindings(sts(), [
      row('web-0 -> web-1.nginx', 'fail', 'does not resolve (NXDOMAIN)'),
      row('web-0 -> web-2.nginx', 'fail', 'does not resolve (NXDOMAIN)'),
      row('web-0 -> web-0.nginx', 'ok', 'resolves'),
      row('web-1 -> web-0.nginx', 'not-run', 'not run: exec forbidden', 'exec forbidden (pods/exec create) in namespace shop'),
    ]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ category: 'network', check: 'dns-live-lookup-pod', severity: 'error', subject: 'StatefulSet/web', fix: 'see the service-selector check above' });
    expect(r.findings[0]!.evidence).toEqual(['web-0 -> web-1.nginx: does not resolve (NXDOMAIN)', 'web-0 -> web-2.nginx: does not resolve (NXDOMAIN)']);
    expect(r.unchecked).toEqual(['network identity: 1 live DNS check not run: exec forbidden (pods/exec create) in namespace shop']);
  });
});
