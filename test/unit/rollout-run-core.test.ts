/**
 * The rollout step/to/auto state machine (src/core/rollout-run.ts), transition by transition:
 * what each outcome does to the report and what the command does next. Pure; table-driven.
 */
import { describe, expect, it } from 'vitest';
import { afterInterval, afterPatch, afterStuck, afterWait, interruptedAt, newStepRun, resumeCommand, type StepAsk, type StepRun } from '../../src/core/rollout-run.js';
import { partitionPatch, planStep } from '../../src/core/rollout.js';
import { pod, sts, type StsOpts } from '../fixtures/rollout/objects.js';

const ask = (o: Partial<StepAsk> = {}): StepAsk => ({
  mode: 'step',
  step: 1,
  wait: true,
  dryRun: 'none',
  interval: '0s',
  intervalMs: 0,
  timeout: '5m',
  timeoutMs: 300_000,
  nsFlag: '-n shop',
  deletePods: false,
  ...o,
});
const HELD: StsOpts = { partition: 5, current: 'a', update: 'b', updatedReplicas: 0 };

function start(set: StsOpts, a: Partial<StepAsk> = {}): { run: StepRun; set: ReturnType<typeof sts> } {
  const s = sts(set);
  return { run: newStepRun(s, { name: 'web', namespace: 'shop' }, ask(a)), set: s };
}

/** afterPatch with the plan core makes for `req` on `set`; `after` = the set with the new partition. */
function patched(run: StepRun, set: ReturnType<typeof sts>, req: { step?: number; to?: number }) {
  const plan = planStep(set, req);
  const after = plan.kind === 'patch' ? sts({ ...HELD, partition: plan.to }) : undefined;
  return afterPatch(run, { plan, before: set, after, body: plan.kind === 'patch' ? partitionPatch(plan.to) : undefined });
}

describe('afterPatch', () => {
  it.each([
    ['a step: wait for the pod it moved', HELD, {}, { step: 1 }, { kind: 'wait' }, { partition: 4, newPods: ['web-4'], ordinals: [4] }],
    ['--to 3: wait for ordinals 4 and 3', HELD, { mode: 'to', to: 3 } as Partial<StepAsk>, { to: 3 }, { kind: 'wait' }, { partition: 3, newPods: ['web-4', 'web-3'], ordinals: [4, 3] }],
    ['nothing to change, pods still rolling: wait for them, no new pods', { partition: 0, current: 'a', update: 'b', updatedReplicas: 2 }, {}, { step: 1 }, { kind: 'wait' }, { partition: 0, newPods: undefined }],
  ] as const)('%s', (_n, set, a, req, next, target) => {
    const { run, set: s } = start(set, a);
    expect(patched(run, s, req)).toEqual(next);
    expect(run.target).toMatchObject(target);
  });

  it('the partition it set is where the run stands (for a Ctrl-C report)', () => {
    const { run, set } = start(HELD);
    patched(run, set, { step: 2 });
    expect(run.standing.partition).toBe(3);
    expect(run.report.partition).toEqual({ from: 5, to: 3 });
  });

  it('a dry run: planned, the patch shown, finish 0, the standing partition unchanged', () => {
    const { run, set } = start(HELD, { dryRun: 'server' });
    expect(patched(run, set, { step: 1 })).toEqual({ kind: 'finish', exitCode: 0 });
    expect(run.report).toMatchObject({ result: 'planned', patch: partitionPatch(4), message: 'would set the partition of web from 5 to 4; pods to update: web-4', dryRun: 'server' });
    expect(run.standing.partition).toBe(5);
  });

  it('--no-wait: one step recorded, not waited for', () => {
    const { run, set } = start(HELD, { wait: false });
    expect(patched(run, set, { step: 1 })).toEqual({ kind: 'finish', exitCode: 0 });
    expect(run.report.steps).toEqual([{ partition: 4, pods: ['web-4'], waitedMs: 0 }]);
    expect(run.report.message).toBe('partition of web set from 5 to 4; not waiting (--no-wait)');
  });

  it('already rolled out: noop', () => {
    const { run, set } = start({ partition: 3 });
    expect(patched(run, set, { step: 1 })).toEqual({ kind: 'finish', exitCode: 0 });
    expect(run.report.result).toBe('noop');
  });

  it('--auto reaching a settled set after steps: complete, not noop', () => {
    const { run, set } = start({ partition: 3 }, { mode: 'auto' });
    run.report.steps.push({ partition: 3, pods: ['web-3'], waitedMs: 1 });
    expect(patched(run, set, { step: 1 })).toEqual({ kind: 'finish', exitCode: 0 });
    expect(run.report).toMatchObject({ result: 'ok', message: 'rollout of web complete at partition 3' });
  });

  it('OnDelete: the refusal with its hints', () => {
    const { run, set } = start({ strategy: 'OnDelete', current: 'a', update: 'b' });
    const next = patched(run, set, { step: 1 });
    expect(next).toMatchObject({ kind: 'refuse', reason: expect.stringContaining('OnDelete') });
  });
});

describe('afterWait', () => {
  const ready = (names: string[]) => names.map((n) => pod(Number(n.split('-')[1]), { rev: 'b', ready: true }));

  it('done, --step: finish 0 with the pods updated', () => {
    const { run, set } = start(HELD);
    patched(run, set, { step: 1 });
    expect(afterWait(run, { kind: 'done', sts: set, pods: ready(['web-4']), waitedMs: 1500 })).toEqual({ kind: 'finish', exitCode: 0 });
    expect(run.report.steps).toEqual([{ partition: 4, pods: ['web-4'], waitedMs: 1500 }]);
    expect(run.report.message).toBe('partition of web at 4: 1 of 5 pods updated and Ready (ordinals >= 4)');
    expect(run.standing.updated).toEqual(['web-4']);
  });

  it('done, --auto: the next step (or the interval watch first)', () => {
    for (const [intervalMs, kind] of [
      [0, 'step'],
      [30_000, 'interval'],
    ] as const) {
      const { run, set } = start(HELD, { mode: 'auto', intervalMs, interval: '30s' });
      patched(run, set, { step: 1 });
      const next = afterWait(run, { kind: 'done', sts: set, pods: ready(['web-4']), waitedMs: 1 });
      expect(next.kind).toBe(kind);
      if (next.kind === 'interval') expect(next.names).toEqual(['web-4']);
    }
  });

  it('done at partition 0: the rollout is complete, even with --auto', () => {
    const { run, set } = start({ partition: 1, current: 'a', update: 'b', updatedReplicas: 4 }, { mode: 'auto' });
    patched(run, set, { step: 1 });
    expect(afterWait(run, { kind: 'done', sts: set, pods: [], waitedMs: 1 })).toEqual({ kind: 'finish', exitCode: 0 });
    expect(run.report.message).toMatch(/^rollout of web complete: all 5 pods run b and are Ready$/);
  });

  it('a second writer changed the set: stopped, exit 1, partition as it is now, diff suggested', () => {
    const { run, set } = start(HELD);
    patched(run, set, { step: 1 });
    const now = sts({ ...HELD, partition: 2 });
    expect(afterWait(run, { kind: 'changed', sts: now, pods: [], drift: ['partition 4 -> 2'], waitedMs: 1 })).toEqual({ kind: 'finish', exitCode: 1 });
    expect(run.report).toMatchObject({ result: 'stopped', partition: { from: 5, to: 2 }, continueWith: 'kubectl sts rollout web -n shop --to 2 --timeout 5m' });
    expect(run.report.notes).toContain('review what changed before stepping again: kubectl sts rollout diff web -n shop');
    expect(run.standing.partition).toBe(2);
  });

  it('timeout: ask for the stuck pod (the one waited on, else the first target)', () => {
    const { run, set } = start(HELD);
    patched(run, set, { step: 1 });
    const p = pod(4, { rev: 'b' });
    expect(afterWait(run, { kind: 'timeout', sts: set, pods: [p], waitingOn: { name: 'web-4', ordinal: 4, reason: 'not Ready' }, waitedMs: 1 })).toEqual({ kind: 'stuck', podName: 'web-4', pod: p, fallback: 'not Ready' });
    expect(afterWait(run, { kind: 'timeout', sts: set, pods: [], waitingOn: undefined, waitedMs: 1 })).toEqual({ kind: 'stuck', podName: 'web-4', pod: undefined, fallback: 'not updated' });
  });
});

describe('afterStuck / afterInterval / resume', () => {
  it('a stuck pod: stopped with its reason and last event, exit 1, the command to continue', () => {
    const { run, set } = start(HELD, { mode: 'auto', interval: '10s', intervalMs: 10_000 });
    patched(run, set, { step: 1 });
    expect(afterStuck(run, 'web-4', { reason: 'ImagePullBackOff', lastEvent: 'Failed to pull image' })).toEqual({ kind: 'finish', exitCode: 1 });
    expect(run.report).toMatchObject({
      result: 'stopped',
      stuck: { pod: 'web-4', reason: 'ImagePullBackOff', lastEvent: 'Failed to pull image' },
      continueWith: 'kubectl sts rollout web -n shop --auto --interval 10s --timeout 5m',
      message: 'timed out after 5m: web-4 did not become Ready on the update revision (ImagePullBackOff); the partition stays at 4',
    });
  });

  it('a quiet interval steps again; a restart stops the run', () => {
    const { run, set } = start(HELD, { mode: 'auto', interval: '10s', intervalMs: 10_000 });
    patched(run, set, { step: 1 });
    expect(afterInterval(run, undefined)).toEqual({ kind: 'step' });
    expect(afterInterval(run, { pod: 'web-4', reason: 'restarted (1 restart)' })).toEqual({ kind: 'finish', exitCode: 1 });
    expect(run.report.message).toBe('stopped: web-4 restarted (1 restart) during the 10s interval; the partition stays at 4');
  });

  it.each([
    [{ mode: 'step' }, 3, 'kubectl sts rollout web -n shop --to 3 --timeout 5m'],
    [{ mode: 'auto', step: 2, interval: '1m' }, 3, 'kubectl sts rollout web -n shop --auto --step 2 --interval 1m --timeout 5m'],
    [{ mode: 'step', deletePods: true, step: 2 }, 0, 'kubectl sts rollout web -n shop --step 2 --delete-pods'],
    [{ mode: 'auto', deletePods: true }, 0, 'kubectl sts rollout web -n shop --auto --delete-pods'],
  ] as const)('resume %j at %i', (a, partition, want) => {
    const { run } = start(HELD, a as Partial<StepAsk>);
    expect(resumeCommand(run, partition)).toBe(want);
  });

  it('interrupted during a wait: where it stands and the resume command from the target partition', () => {
    const { run, set } = start(HELD);
    patched(run, set, { step: 2 });
    run.standing.pending = 'web-3';
    expect(interruptedAt(run)).toEqual({
      message: 'partition of web is 3 (was 5); web-3 was not yet (the StatefulSet controller goes on replacing it); nothing else was changed',
      resume: 'Resume: kubectl sts rollout web -n shop --to 3 --timeout 5m',
    });
  });
});
