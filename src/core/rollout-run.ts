/**
 * The state machine of `kubectl sts rollout NAME --step [N] | --to P | --auto`. The command
 * (src/commands/rollout-step.ts) does the I/O — patch the partition, wait for the pods, watch the
 * interval, read a stuck pod's events — and hands each outcome to one of the transitions here,
 * which update the report and say what to do next. Pure: no client, no clock.
 *
 *   patch ──afterPatch──▶ wait ──afterWait──▶ interval ──afterInterval──▶ patch …
 *                 │               │  └─▶ stuck ──afterStuck──▶ finish
 *                 └─▶ finish      └─▶ finish
 */
import type { Pod, StatefulSet } from './types.js';
import { setFacts, targetOrdinals, type StepPlan, type WaitProgress } from './rollout.js';
import { standingText, type RolloutStanding } from './rollout-standing.js';
import { formatDuration } from './duration.js';

/** The report of a step/to/auto run (-o json|yaml: RolloutStepOutput in src/render/rollout.ts adds the status). */
export interface StepReport {
  kind: 'RolloutStep';
  namespace: string;
  name: string;
  mode: 'step' | 'to' | 'auto' | 'hold' | 'delete-pods';
  dryRun?: 'client' | 'server' | undefined;
  /** ok: done as asked; noop: nothing to change; stopped: a pod failed (timeout, restart); interrupted: Ctrl-C. */
  result: 'ok' | 'noop' | 'stopped' | 'interrupted' | 'planned';
  partition: { from: number; to: number };
  steps: { partition: number; pods: string[]; waitedMs: number }[];
  message: string;
  notes: string[];
  patch?: Record<string, unknown> | undefined;
  stuck?: { pod: string; reason: string; lastEvent?: string | undefined } | undefined;
  /** The command that continues from here, when the rollout is not finished. */
  continueWith?: string | undefined;
  /** API requests this command sent (watches count once each). */
  requests: number;
  /** Parts skipped for lack of rights (a forbidden read); always present (this form needs none optional, so empty). */
  warnings: string[];
}

/** What a wait for the pods of a partition ended with. */
export type WaitOutcome =
  | { kind: 'done'; sts: StatefulSet; pods: Pod[]; waitedMs: number }
  /** Someone else changed the set during the wait (`drift` says what); `sts` is the set as it is now. */
  | { kind: 'changed'; sts: StatefulSet; pods: Pod[]; drift: string[]; waitedMs: number }
  | { kind: 'timeout'; sts: StatefulSet; pods: Pod[]; waitingOn: WaitProgress['waitingOn']; waitedMs: number }
  | { kind: 'interrupted'; waitingOn: WaitProgress['waitingOn']; waitedMs: number };

/** What the user asked for, as far as the run and its resume command need it. */
export interface StepAsk {
  mode: 'step' | 'to' | 'auto';
  /** --step N (also --auto's step size). */
  step: number;
  to?: number | undefined;
  /** --no-wait: false. */
  wait: boolean;
  dryRun: 'none' | 'client' | 'server';
  /** As typed, for the resume command. */
  interval: string;
  intervalMs: number;
  timeout: string;
  timeoutMs: number;
  /** "-n NS" (or "--context C -n NS"), as the resume command needs it. */
  nsFlag: string;
  /** --delete-pods (an OnDelete set): pods are deleted instead of the partition lowered. */
  deletePods: boolean;
}

export interface StepRun {
  ask: StepAsk;
  report: StepReport;
  standing: RolloutStanding;
  /** Set by afterPatch for the wait and what follows it. */
  target?: {
    partition: number;
    generation: number;
    ordinals: number[];
    templateObserved: boolean;
    current: StatefulSet;
    /** The pods this step's patch moved to the update revision; undefined when no patch was needed (waiting on what was already moving). */
    newPods: string[] | undefined;
  };
}

export type Next =
  /** Wait for the pods of run.target. */
  | { kind: 'wait' }
  /** --auto: watch the pods just updated for the interval, then step again. */
  | { kind: 'interval'; pods: Pod[]; names: string[] }
  /** Patch the next step (the set is read again). */
  | { kind: 'step' }
  /** A pod did not become Ready: read what is known about it (its events), then afterStuck. */
  | { kind: 'stuck'; podName: string; pod: Pod | undefined; fallback: string }
  /** Stop with this report and exit code. */
  | { kind: 'finish'; exitCode: 0 | 1 }
  /** The plan refused (OnDelete set, being deleted, invalid partition): an error with these hints. */
  | { kind: 'refuse'; reason: string; hints: string[] };

export function newStepRun(sts: StatefulSet, where: { name: string; namespace: string }, ask: StepAsk): StepRun {
  const from = setFacts(sts).partition;
  const { name, namespace } = where;
  return {
    ask,
    report: {
      kind: 'RolloutStep',
      namespace,
      name,
      mode: ask.deletePods ? 'delete-pods' : ask.mode,
      ...(ask.dryRun !== 'none' ? { dryRun: ask.dryRun } : {}),
      result: 'ok',
      partition: { from, to: from },
      steps: [],
      message: '',
      notes: [],
      requests: 0,
      warnings: [],
    },
    standing: { name, namespace, from, partition: from, updated: [] },
  };
}

/** The command that continues a run stopped at `partition`. */
export function resumeCommand(run: Pick<StepRun, 'ask' | 'report'>, partition: number): string {
  const a = run.ask;
  const base = `kubectl sts rollout ${run.report.name} ${a.nsFlag}`;
  if (a.deletePods) return `${base} ${a.mode === 'auto' ? '--auto' : `--step ${a.step}`} --delete-pods`;
  if (a.mode === 'auto') return `${base} --auto${a.step !== 1 ? ` --step ${a.step}` : ''} --interval ${a.interval} --timeout ${a.timeout}`;
  return `${base} --to ${partition} --timeout ${a.timeout}`;
}

/** Where an interrupted run stands, as the InterruptedError's message and its resume hint. */
export function interruptedAt(run: StepRun, during?: string): { message: string; resume: string } {
  const partition = run.target?.partition ?? run.standing.partition;
  return { message: `${standingText(run.standing)}${during ? ` (${during})` : ''}`, resume: `Resume: ${resumeCommand(run, partition)}` };
}

function addNotes(r: StepReport, notes: string[]): void {
  for (const n of notes) if (!r.notes.includes(n)) r.notes.push(n);
}

/**
 * After the partition patch (or the plan that needed none): `before` is the set it was planned
 * on, `after` the set the server returned (absent for a dry run or no patch), `body` what was or
 * would be sent.
 */
export function afterPatch(run: StepRun, r: { plan: StepPlan; before: StatefulSet; after?: StatefulSet | undefined; body?: Record<string, unknown> | undefined }): Next {
  const { report: out, ask } = run;
  const plan = r.plan;
  if (plan.kind === 'refuse') return { kind: 'refuse', reason: plan.reason, hints: plan.hints };
  if (plan.kind === 'patch' && ask.dryRun === 'none') run.standing.partition = plan.to;
  addNotes(out, plan.notes);
  const f = setFacts(r.before);
  if (plan.kind === 'noop') {
    if (plan.settled || !ask.wait || ask.dryRun !== 'none') {
      if (!out.steps.length) out.result = 'noop';
      out.message = out.steps.length ? `rollout of ${out.name} complete at partition ${plan.partition}` : plan.reason;
      return { kind: 'finish', exitCode: 0 };
    }
    // Nothing to change, but pods at this partition may still be rolling: wait for them.
    return setTarget(run, r.before, plan.partition, f.observed, undefined);
  }
  out.partition.to = plan.to;
  const newPods = plan.newTargets.map((o) => `${out.name}-${o}`);
  if (ask.dryRun !== 'none') {
    out.result = 'planned';
    out.patch = r.body;
    out.message = `would set the partition of ${out.name} from ${plan.from} to ${plan.to}${newPods.length ? `; pods to update: ${newPods.join(', ')}` : ''}`;
    return { kind: 'finish', exitCode: 0 };
  }
  if (!ask.wait) {
    out.steps.push({ partition: plan.to, pods: newPods, waitedMs: 0 });
    out.message = `partition of ${out.name} set from ${plan.from} to ${plan.to}; not waiting (--no-wait)`;
    return { kind: 'finish', exitCode: 0 };
  }
  // The template was already observed before our partition change: updateRevision is final, and
  // the pods alone tell when the step is done (only the set's watch could show the controller
  // observing the partition's generation). Otherwise the set is watched too, for that generation.
  return setTarget(run, r.after ?? r.before, plan.to, f.observed && Boolean(f.updateRevision), newPods);
}

function setTarget(run: StepRun, current: StatefulSet, partition: number, templateObserved: boolean, newPods: string[] | undefined): Next {
  const cf = setFacts(current);
  run.target = {
    partition,
    generation: templateObserved ? 0 : (current.metadata.generation ?? 0),
    ordinals: targetOrdinals(cf.start, cf.replicas, partition),
    templateObserved,
    current,
    newPods,
  };
  return { kind: 'wait' };
}

/** After the wait for the pods of run.target ('interrupted' is the command's: it throws). */
export function afterWait(run: StepRun, w: Exclude<WaitOutcome, { kind: 'interrupted' }>): Next {
  const { report: out, ask } = run;
  const t = run.target!;
  if (w.kind === 'changed') {
    // A second writer changed the set under the step: change nothing more, say what changed.
    const now = setFacts(w.sts).partition;
    out.result = 'stopped';
    out.partition.to = now;
    run.standing.partition = now;
    out.continueWith = resumeCommand(run, now);
    addNotes(out, [`review what changed before stepping again: kubectl sts rollout diff ${out.name} ${ask.nsFlag}`]);
    out.message = `statefulset ${out.name} was changed by someone else during the step (${w.drift.join('; ')}); stopped without changing anything more: the partition is ${now}`;
    return { kind: 'finish', exitCode: 1 };
  }
  if (w.kind === 'timeout') {
    const podName = w.waitingOn?.name ?? `${out.name}-${t.ordinals[0] ?? ''}`;
    return { kind: 'stuck', podName, pod: w.pods.find((p) => p.metadata.name === podName), fallback: w.waitingOn?.reason ?? 'not updated' };
  }
  const cf = setFacts(t.current);
  for (const p of t.newPods ?? []) if (!run.standing.updated.includes(p)) run.standing.updated.push(p);
  out.steps.push({ partition: t.partition, pods: t.newPods ?? t.ordinals.map((o) => `${out.name}-${o}`), waitedMs: w.waitedMs });
  if (ask.mode !== 'auto' || t.partition === 0) {
    out.message =
      t.partition === 0
        ? `rollout of ${out.name} complete: all ${cf.replicas} pods run ${w.sts.status?.updateRevision ?? 'the update revision'} and are Ready`
        : `partition of ${out.name} at ${t.partition}: ${t.ordinals.length} of ${cf.replicas} pods updated and Ready (ordinals >= ${cf.start + t.partition})`;
    return { kind: 'finish', exitCode: 0 };
  }
  if (ask.intervalMs > 0) return { kind: 'interval', pods: w.pods, names: t.ordinals.map((o) => `${out.name}-${o}`) };
  return { kind: 'step' };
}

/** A pod did not become Ready within --timeout: the report names it, its reason and last event. */
export function afterStuck(run: StepRun, podName: string, d: { reason: string; lastEvent?: string | undefined }): Next {
  const { report: out, ask } = run;
  const t = run.target!;
  out.result = 'stopped';
  out.stuck = { pod: podName, reason: d.reason, lastEvent: d.lastEvent };
  out.continueWith = resumeCommand(run, t.partition);
  out.message = `timed out after ${formatDuration(ask.timeoutMs)}: ${podName} did not become Ready on the update revision (${d.reason}); the partition stays at ${t.partition}`;
  return { kind: 'finish', exitCode: 1 };
}

/** After --auto's interval watch: a restart, lost Ready or replacement stops the run. */
export function afterInterval(run: StepRun, problem: { pod: string; reason: string } | undefined): Next {
  if (!problem) return { kind: 'step' };
  const { report: out, ask } = run;
  const t = run.target!;
  out.result = 'stopped';
  out.stuck = { pod: problem.pod, reason: problem.reason };
  out.continueWith = resumeCommand(run, t.partition);
  out.message = `stopped: ${problem.pod} ${problem.reason} during the ${ask.interval} interval; the partition stays at ${t.partition}`;
  return { kind: 'finish', exitCode: 1 };
}
