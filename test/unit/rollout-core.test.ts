import { describe, expect, it } from 'vitest';
import {
  classifyRevision,
  diffPair,
  history,
  intervalProblem,
  isUpToDate,
  maxUnavailableInfo,
  ownedRevisions,
  parseImages,
  partitionPatch,
  planPodDeletions,
  planStep,
  planUndo,
  podRows,
  rolloutStatus,
  scaledMaxUnavailable,
  setFacts,
  targetOrdinals,
  templateOf,
  waitProgress,
  lastEventLine,
  describePodState,
  type StepRequest,
} from '../../src/core/rollout.js';
import { T0, event, pod, pods, revision, sts, type StsOpts } from '../fixtures/rollout/objects.js';

const NOW = T0 + 3_600_000;

describe('planStep', () => {
  const cases: { name: string; set: StsOpts; req: StepRequest; want: { kind: string; from?: number; to?: number; newTargets?: number[]; settled?: boolean; note?: RegExp; reason?: RegExp } }[] = [
    { name: 'step 1 from held', set: { partition: 5, current: 'a', update: 'b', updatedReplicas: 0 }, req: { step: 1 }, want: { kind: 'patch', from: 5, to: 4, newTargets: [4] } },
    { name: 'step 2 from held: ordinals 4 and 3', set: { partition: 5, current: 'a', update: 'b', updatedReplicas: 0 }, req: { step: 2 }, want: { kind: 'patch', to: 3, newTargets: [4, 3] } },
    { name: 'step never goes below 0', set: { partition: 1, current: 'a', update: 'b', updatedReplicas: 4 }, req: { step: 3 }, want: { kind: 'patch', to: 0, newTargets: [0] } },
    { name: '--to exact', set: { partition: 5, current: 'a', update: 'b', updatedReplicas: 0 }, req: { to: 0 }, want: { kind: 'patch', to: 0, newTargets: [4, 3, 2, 1, 0] } },
    { name: '--to above replicas holds', set: { partition: 2, current: 'a', update: 'b', updatedReplicas: 3 }, req: { to: 9 }, want: { kind: 'patch', to: 9, newTargets: [], note: /holds every pod/ } },
    { name: 'hold sets replicas', set: { partition: 0 }, req: { hold: true }, want: { kind: 'patch', to: 5 } },
    { name: 'partition above replicas counts from replicas', set: { partition: 10, current: 'a', update: 'b', updatedReplicas: 0 }, req: { step: 1 }, want: { kind: 'patch', from: 10, to: 4, newTargets: [4], note: /above replicas/ } },
    { name: 'complete rollout: noop, settled', set: { partition: 3 }, req: { step: 1 }, want: { kind: 'noop', settled: true, reason: /nothing to roll out/ } },
    { name: 'unobserved template: not considered complete', set: { partition: 3, generation: 3, observedGeneration: 2 }, req: { step: 1 }, want: { kind: 'patch', to: 2 } },
    { name: 'partition already 0: noop, wait', set: { partition: 0, current: 'a', update: 'b', updatedReplicas: 2 }, req: { step: 1 }, want: { kind: 'noop', settled: false, reason: /already 0/ } },
    { name: '--to same partition: noop, wait', set: { partition: 3, current: 'a', update: 'b', updatedReplicas: 2 }, req: { to: 3 }, want: { kind: 'noop', settled: false } },
    { name: 'replicas 0', set: { replicas: 0, partition: 0, current: 'a', update: 'b', updatedReplicas: 0 }, req: { step: 1 }, want: { kind: 'noop', settled: true, reason: /0 replicas/ } },
    { name: 'OnDelete refused', set: { strategy: 'OnDelete', current: 'a', update: 'b' }, req: { step: 1 }, want: { kind: 'refuse', reason: /OnDelete/ } },
    { name: 'deleting refused', set: { deleting: true, partition: 5, current: 'a', update: 'b' }, req: { step: 1 }, want: { kind: 'refuse', reason: /being deleted/ } },
    { name: 'start ordinal: targets shift', set: { start: 10, partition: 5, current: 'a', update: 'b', updatedReplicas: 0 }, req: { step: 2 }, want: { kind: 'patch', to: 3, newTargets: [14, 13], note: /ordinals >= 13/ } },
    { name: 'maxUnavailable 2 noted', set: { partition: 5, current: 'a', update: 'b', updatedReplicas: 0, maxUnavailable: 2 }, req: { step: 2 }, want: { kind: 'patch', to: 3, note: /up to 2 pods/ } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = planStep(sts(c.set), c.req);
      expect(p.kind).toBe(c.want.kind);
      if (p.kind === 'patch') {
        if (c.want.from !== undefined) expect(p.from).toBe(c.want.from);
        if (c.want.to !== undefined) expect(p.to).toBe(c.want.to);
        if (c.want.newTargets) expect(p.newTargets).toEqual(c.want.newTargets);
      }
      if (p.kind === 'noop' && c.want.settled !== undefined) expect(p.settled).toBe(c.want.settled);
      if (c.want.note) expect((p as { notes: string[] }).notes.join('\n')).toMatch(c.want.note);
      if (c.want.reason) expect((p as { reason: string }).reason).toMatch(c.want.reason);
    });
  }
  it('partitionPatch sets partition and images by container name', () => {
    expect(partitionPatch(3)).toEqual({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3 } } } });
    expect(partitionPatch(5, [{ container: 'nginx', image: 'n:2' }])).toEqual({
      spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 5 } }, template: { spec: { containers: [{ name: 'nginx', image: 'n:2' }] } } },
    });
  });
});

describe('targetOrdinals and isUpToDate', () => {
  it.each([
    [0, 5, 3, [4, 3]],
    [0, 5, 0, [4, 3, 2, 1, 0]],
    [0, 5, 5, []],
    [0, 5, 9, []],
    [3, 2, 1, [4]],
  ])('start %i replicas %i partition %i', (start, replicas, partition, want) => {
    expect(targetOrdinals(start, replicas, partition)).toEqual(want);
  });
  it('up to date needs observed, current == update and all updated', () => {
    expect(isUpToDate(sts({}))).toBe(true);
    expect(isUpToDate(sts({ current: 'a', update: 'b' }))).toBe(false);
    expect(isUpToDate(sts({ updatedReplicas: 4 }))).toBe(false);
    expect(isUpToDate(sts({ generation: 4, observedGeneration: 3 }))).toBe(false);
  });
});

describe('revision classification and per-pod rows', () => {
  it.each([
    ['a', 'a', 'b', 'current'],
    ['b', 'a', 'b', 'update'],
    ['z', 'a', 'b', 'other'],
    ['a', 'a', 'a', 'current'],
    [undefined, 'a', 'b', 'unknown'],
  ] as const)('label %s (current %s, update %s) -> %s', (label, cur, upd, want) => {
    expect(classifyRevision(label, cur, upd)).toBe(want);
  });

  it('rows: per-ordinal revision, partition membership, missing and condemned pods', () => {
    const set = sts({ partition: 3, current: 'a', update: 'b', updatedReplicas: 2 });
    const ps = [...pods(3, 'a'), pod(4, { rev: 'b' }), pod(6, { rev: 'a' }), pod(2, { rev: 'a', owner: 'someone-else' })];
    // pod 2 owned by another uid is skipped -> ordinal 2 shows missing; ordinal 3 missing
    const rows = podRows(set, ps.filter((p) => p.metadata.name !== 'web-2' || p.metadata.ownerReferences![0]!.uid !== 'uid-web'), NOW);
    const byOrd = Object.fromEntries(rows.map((r) => [r.ordinal, r]));
    expect(rows.map((r) => r.ordinal)).toEqual([0, 1, 2, 3, 4, 6]);
    expect(byOrd[0]).toMatchObject({ kind: 'current', updated: false, inPartition: false });
    expect(byOrd[2]).toMatchObject({ exists: false, phase: 'Missing' });
    expect(byOrd[3]).toMatchObject({ exists: false, inPartition: true });
    expect(byOrd[4]).toMatchObject({ kind: 'update', updated: true, inPartition: true, ready: true });
    expect(byOrd[6]).toMatchObject({ condemned: true, inPartition: false });
  });

  it('start ordinals: pods named from start', () => {
    const rows = podRows(sts({ start: 5, replicas: 2, partition: 1, current: 'a', update: 'b' }), [pod(5, { rev: 'a' }), pod(6, { rev: 'b' })], NOW);
    expect(rows.map((r) => [r.ordinal, r.inPartition, r.kind])).toEqual([
      [5, false, 'current'],
      [6, true, 'update'],
    ]);
  });
});

describe('rolloutStatus', () => {
  const cases: { name: string; set: StsOpts; pods: ReturnType<typeof pods>; state: string; partitionDone: boolean; counts?: Record<string, number>; message?: RegExp }[] = [
    { name: 'complete', set: {}, pods: pods(5, 'web-aaa'), state: 'complete', partitionDone: true, counts: { updated: 5, ready: 5, current: 5 } },
    {
      name: 'held with a pending template',
      set: { partition: 5, current: 'a', update: 'b', updatedReplicas: 0 },
      pods: pods(5, 'a'),
      state: 'held',
      partitionDone: true,
      counts: { updated: 0, current: 5 },
      message: /held: partition 5 >= replicas 5; 5 pods wait/,
    },
    {
      name: 'partitioned, step done',
      set: { partition: 3, current: 'a', update: 'b', updatedReplicas: 2 },
      pods: [...pods(3, 'a'), pod(3, { rev: 'b' }), pod(4, { rev: 'b' })],
      state: 'partitioned',
      partitionDone: true,
      counts: { updated: 2, current: 3 },
    },
    {
      name: 'progressing: a target pod not Ready',
      set: { partition: 3, current: 'a', update: 'b' },
      pods: [...pods(3, 'a'), pod(3, { rev: 'a' }), pod(4, { rev: 'b', ready: false })],
      state: 'progressing',
      partitionDone: false,
      message: /0 of 2/,
    },
    {
      name: 'not observed: progressing even if pods look done',
      set: { partition: 3, current: 'a', update: 'b', generation: 5, observedGeneration: 4 },
      pods: [...pods(3, 'a'), pod(3, { rev: 'b' }), pod(4, { rev: 'b' })],
      state: 'progressing',
      partitionDone: false,
      message: /observe generation 5/,
    },
    { name: 'zero replicas', set: { replicas: 0 }, pods: [], state: 'scaled-to-zero', partitionDone: true },
    { name: 'being deleted', set: { deleting: true }, pods: pods(5), state: 'deleting', partitionDone: true },
    {
      name: 'OnDelete with outdated pods',
      set: { strategy: 'OnDelete', current: 'a', update: 'b' },
      pods: [...pods(4, 'a'), pod(4, { rev: 'b' })],
      state: 'ondelete-pending',
      partitionDone: true,
      message: /--delete-pods/,
    },
    {
      name: 'other revision counted',
      set: { partition: 0, current: 'a', update: 'b' },
      pods: [...pods(4, 'b'), pod(4, { rev: 'z' })],
      state: 'progressing',
      partitionDone: false,
      counts: { other: 1, updated: 4 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = rolloutStatus(sts(c.set), c.pods, NOW);
      expect(s.state).toBe(c.state);
      expect(s.partitionDone).toBe(c.partitionDone);
      if (c.counts) expect(s.counts).toMatchObject(c.counts);
      if (c.message) expect(s.message).toMatch(c.message);
    });
  }
  it('held flag and facts', () => {
    const f = setFacts(sts({ partition: 7, replicas: 5, start: 2 }));
    expect(f).toMatchObject({ held: true, start: 2, partition: 7, replicas: 5, observed: true });
  });
});

describe('waitProgress', () => {
  const target = { partition: 3, generation: 2, ordinals: [4, 3] };
  it('waits for the controller to observe the generation', () => {
    const p = waitProgress(sts({ partition: 3, generation: 3, observedGeneration: 2, current: 'a', update: 'b' }), pods(5, 'b'), { ...target, generation: 3 }, NOW);
    expect(p.done).toBe(false);
    expect(p.waitingOn?.reason).toMatch(/observe generation 3/);
  });
  it('names the highest ordinal not done, old revision first', () => {
    const p = waitProgress(sts({ partition: 3, current: 'a', update: 'b' }), pods(5, 'a'), target, NOW);
    expect(p).toMatchObject({ done: false, doneCount: 0, total: 2, waitingOn: { name: 'web-4', ordinal: 4 } });
    expect(p.waitingOn!.reason).toMatch(/still on revision a/);
  });
  it('unschedulable pod reason names PodScheduled', () => {
    const p = waitProgress(sts({ partition: 3, current: 'a', update: 'b' }), [...pods(4, 'a'), pod(4, { rev: 'b', unschedulable: true })], target, NOW);
    expect(p.waitingOn).toMatchObject({ name: 'web-4' });
    expect(p.waitingOn!.reason).toMatch(/Pending: PodScheduled=False Unschedulable: 0\/3 nodes/);
  });
  it('done when all targets updated and Ready', () => {
    const p = waitProgress(sts({ partition: 3, current: 'a', update: 'b' }), [...pods(3, 'a'), pod(3, { rev: 'b' }), pod(4, { rev: 'b' })], target, NOW);
    expect(p).toMatchObject({ done: true, doneCount: 2 });
  });
  it('minReadySeconds: Ready but not yet available gives availableAt', () => {
    const set = sts({ partition: 3, current: 'a', update: 'b', minReadySeconds: 30 });
    const ps = [...pods(3, 'a'), pod(3, { rev: 'b', readySince: NOW - 10_000 }), pod(4, { rev: 'b', readySince: NOW - 40_000 })];
    const p = waitProgress(set, ps, target, NOW);
    expect(p.done).toBe(false);
    expect(p.availableAt).toBe(NOW + 20_000);
    expect(waitProgress(set, ps, target, NOW + 20_000).done).toBe(true);
  });
  it('terminating pod on update revision is not done', () => {
    const p = waitProgress(sts({ partition: 4, current: 'a', update: 'b' }), [...pods(4, 'a'), pod(4, { rev: 'b', terminating: true })], { partition: 4, generation: 2, ordinals: [4] }, NOW);
    expect(p.waitingOn!.reason).toMatch(/terminating/);
  });
});

describe('maxUnavailable detection', () => {
  it.each([
    [undefined, 1, false, false, /gate is off/],
    [1, 1, true, false, /one at a time/],
    [2, 2, true, true, /honoured.*up to 2 pods/],
    ['40%', 2, true, true, /40% \(= 2\)/],
    ['10%', 1, true, false, /one at a time/],
  ] as const)('maxUnavailable %s', (raw, effective, gateOn, parallel, note) => {
    const m = maxUnavailableInfo(sts(raw === undefined ? {} : { maxUnavailable: raw }));
    expect(m).toMatchObject({ effective, gateOn, parallel });
    expect(m.note).toMatch(note);
  });
  it('applied with kubectl apply but missing on the server: the gate is off, said plainly', () => {
    const set = sts({});
    set.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { maxUnavailable: 2 } } } }) };
    const m = maxUnavailableInfo(set);
    expect(m).toMatchObject({ effective: 1, gateOn: false, parallel: false, dropped: 2 });
    expect(m.note).toBe('2 was applied, but the API server dropped it: the MaxUnavailableStatefulSet feature gate is off on this cluster, so pods are replaced one at a time');
    set.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{not json' };
    expect(maxUnavailableInfo(set)).not.toHaveProperty('dropped');
    expect(maxUnavailableInfo(set).note).toMatch(/^not set;/);
  });
  it('OnDelete does not use it', () => {
    expect(maxUnavailableInfo(sts({ strategy: 'OnDelete' })).note).toMatch(/OnDelete/);
  });
  it('percent scaling rounds down, at least 1', () => {
    expect(scaledMaxUnavailable('50%', 5)).toBe(2);
    expect(scaledMaxUnavailable('1%', 5)).toBe(1);
    expect(scaledMaxUnavailable(3, 5)).toBe(3);
  });
});

describe('OnDelete deletion plan', () => {
  const set = sts({ strategy: 'OnDelete', current: 'a', update: 'b' });
  it.each([
    [{ count: 1 }, ['web-4'], 3],
    [{ count: 2 }, ['web-4', 'web-2'], 2],
    [{ to: 0 }, ['web-4', 'web-2', 'web-1', 'web-0'], 0],
    [{ to: 2 }, ['web-4', 'web-2'], 2],
  ])('%o', (o, want, remaining) => {
    const ps = [...pods(3, 'a'), pod(3, { rev: 'b' }), pod(4, { rev: 'a' })];
    const plan = planPodDeletions(set, ps, o);
    expect(plan.pods.map((p) => p.name)).toEqual(want);
    expect(plan.remaining).toBe(remaining);
    expect(plan.pods[0]!.uid).toBe('uid-web-4-a');
  });
  it('skips terminating pods', () => {
    const plan = planPodDeletions(set, [...pods(4, 'b'), pod(4, { rev: 'a', terminating: true })], { count: 1 });
    expect(plan.pods).toEqual([]);
  });
});

describe('images', () => {
  it('parses CONTAINER=IMAGE against the containers', () => {
    expect(parseImages(['nginx=n:2'], sts())).toEqual([{ container: 'nginx', image: 'n:2' }]);
    expect(() => parseImages(['nope=n:2'], sts())).toThrow(/no container "nope".*nginx/);
    expect(() => parseImages(['nginx'], sts())).toThrow(/CONTAINER=IMAGE/);
  });
});

describe('ControllerRevisions: ownership, history, undo, diff', () => {
  const revs = [
    revision('web-bbb', 2, 'n:2'),
    revision('web-aaa', 1, 'n:1'),
    revision('web-zzz', 9, 'n:9', { owner: 'other-uid' }),
    revision('web-ccc', 3, 'n:3'),
  ];
  it('keeps owned revisions, ordered by .revision', () => {
    expect(ownedRevisions(sts(), revs).map((r) => r.revision)).toEqual([1, 2, 3]);
  });
  it('templateOf drops $patch', () => {
    expect(templateOf(revs[0]!)).toEqual({ metadata: { labels: { app: 'nginx' }, creationTimestamp: null }, spec: { containers: [{ name: 'nginx', image: 'n:2' }] } });
  });
  it('history marks current/update and pods', () => {
    const h = history(sts({ current: 'web-bbb', update: 'web-ccc' }), revs, [...pods(4, 'web-bbb'), pod(4, { rev: 'web-ccc' })]);
    expect(h.map((e) => [e.revision, e.isCurrent, e.isUpdate, e.pods?.length, e.images[0]])).toEqual([
      [1, false, false, 0, 'nginx=n:1'],
      [2, true, false, 4, 'nginx=n:2'],
      [3, false, true, 1, 'nginx=n:3'],
    ]);
  });
  const undoCases: { name: string; set: StsOpts; to?: number; kind: string; target?: number; bad?: string[]; reason?: RegExp }[] = [
    { name: 'previous by default', set: { current: 'web-bbb', update: 'web-ccc', partition: 4 }, kind: 'patch', target: 2, bad: ['web-4'] },
    { name: 'explicit revision', set: { current: 'web-bbb', update: 'web-ccc' }, to: 1, kind: 'patch', target: 1 },
    { name: 'unknown revision', set: { current: 'web-bbb', update: 'web-ccc' }, to: 7, kind: 'refuse', reason: /no revision 7/ },
    { name: 'target is the update revision', set: { current: 'web-ccc', update: 'web-ccc' }, to: 3, kind: 'noop', reason: /already has the template of revision 3/ },
    { name: 'deleting', set: { deleting: true, current: 'web-bbb', update: 'web-ccc' }, kind: 'refuse', reason: /being deleted/ },
  ];
  for (const c of undoCases) {
    it(`undo: ${c.name}`, () => {
      const ps = [...pods(4, 'web-bbb'), pod(4, { rev: 'web-ccc', unschedulable: true })];
      const p = planUndo(sts(c.set), revs, ps, c.to);
      expect(p.kind).toBe(c.kind);
      if (p.kind === 'patch') {
        expect(p.to.revision).toBe(c.target);
        expect((p.patch as any).spec.template.$patch).toBe('replace');
        expect((p.patch as any).spec.template.spec.containers[0].image).toBe(`n:${c.target}`);
        expect(p.notes.join(' ')).toMatch(/template only/);
        if (c.bad) expect(p.badPods.map((b) => [b.name, b.ready])).toEqual([['web-4', false]]);
      }
      if (c.reason) expect((p as { reason: string }).reason).toMatch(c.reason);
    });
  }
  it('undo with no revisions is refused', () => {
    expect(planUndo(sts(), [], [], undefined).kind).toBe('refuse');
  });
  it('diffPair: current -> update, or --revision', () => {
    const set = sts({ current: 'web-bbb', update: 'web-ccc' });
    const d = diffPair(set, revs);
    expect('error' in d ? d.error : [d.from.revision, d.to.revision]).toEqual([2, 3]);
    const d1 = diffPair(set, revs, 1);
    expect('error' in d1 ? d1.error : d1.from.revision).toBe(1);
    const bad = diffPair(set, revs, 8);
    expect('error' in bad && bad.error).toMatch(/no revision 8/);
  });
});

describe('interval checks and messages', () => {
  it('detects restart, lost Ready, replacement and disappearance', () => {
    const base = new Map([['web-4', { uid: 'u4', restarts: 0 }]]);
    const ok = pod(4, { uid: 'u4' });
    expect(intervalProblem(base, [ok])).toBeUndefined();
    expect(intervalProblem(base, [pod(4, { uid: 'u4', restarts: 1 })])?.reason).toMatch(/restarted \(0 -> 1/);
    expect(intervalProblem(base, [pod(4, { uid: 'u4', ready: false })])?.reason).toMatch(/lost Ready/);
    expect(intervalProblem(base, [pod(4, { uid: 'other' })])?.reason).toMatch(/replaced/);
    expect(intervalProblem(base, [])?.reason).toBe('disappeared');
  });
  it('last event line picks the newest', () => {
    expect(lastEventLine([event('web-4', 'Old', 'x', T0), event('web-4', 'FailedScheduling', '0/3 nodes are available', T0 + 9000)])).toBe(
      'Warning FailedScheduling: 0/3 nodes are available',
    );
    expect(lastEventLine([])).toBeUndefined();
  });
  it('describePodState for a crash-looping container', () => {
    const p = pod(1, { ready: false });
    p.status!.containerStatuses![0]!.state = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } };
    expect(describePodState(p)).toBe('Running: container nginx CrashLoopBackOff: back-off 10s');
  });
});
