/**
 * `kubectl sts rollout NAME --step [N] | --to P | --auto` (partition stepping, watch-based waits)
 * and `--delete-pods` for OnDelete sets.
 */
import type { Deps } from '../deps.js';
import type { Pod, StatefulSet } from '../core/types.js';
import { CliError, ExitCode, InterruptedError, KubeApiError, UsageError } from '../errors.js';
import { standingText, type RolloutStanding } from '../core/rollout-standing.js';
import { retryability } from '../kube/retry.js';
import { closestNames } from '../core/names.js';
import {
  intervalProblem,
  partitionPatch,
  planPodDeletions,
  planStep,
  setFacts,
  targetOrdinals,
} from '../core/rollout.js';
import { renderStructured, isStructured } from '../render/output.js';
import type { RolloutStepOutput } from '../render/rollout.js';
import type { CommandResult, GlobalArgs } from './command.js';
import { confirmChange, writeOne } from './change.js';
import { podDeletion } from '../core/pods.js';
import type { DeletePreconditions } from '../core/plan.js';
import {
  context,
  formatDuration,
  isAbort,
  isTimeout,
  listPods,
  nsFlag,
  parseDryRun,
  patchSet,
  parseDurationFlag,
  podQuery,
  podsPath,
  requestsSince,
  stuckDetail,
  waitForPartition,
  type Ctx,
} from './rollout-shared.js';

export interface StepArgs {
  name?: string | undefined;
  step?: string | undefined;
  to?: number | undefined;
  auto: boolean;
  interval: string;
  timeout: string;
  wait: boolean;
  dryRun?: string | undefined;
  deletePods: boolean;
  yes: boolean;
}

const ROLLOUT_SUBCOMMANDS = ['status', 'hold', 'diff', 'history', 'undo', 'step'];

/** --step with no value means 1; a value must be a whole number >= 1. */
export function parseStep(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === '' || v === 'true') return 1;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--step must be a whole number of 1 or more, not "${v}"`);
  return Number(v);
}

export function validateStepArgs(args: StepArgs): { mode: RolloutStepOutput['mode']; step: number } {
  const step = parseStep(args.step);
  const forms = [step !== undefined && !args.auto, args.to !== undefined, args.auto].filter(Boolean).length;
  if (forms === 0) {
    // `rollout stats`: with no name after it, a near-miss of a subcommand may be a typo.
    const near = args.name ? closestNames(args.name, ROLLOUT_SUBCOMMANDS, 1) : [];
    throw new UsageError(`say how far to roll ${args.name ?? 'the set'}: --step [N], --to PARTITION or --auto`, [
      ...(near.length ? [`(or did you mean the subcommand: kubectl sts rollout ${near[0]} NAME?)`] : []),
      `kubectl sts rollout ${args.name ?? 'NAME'} --step 1     lower the partition by one and wait`,
      `kubectl sts rollout status ${args.name ?? 'NAME'}       show where the rollout stands`,
    ]);
  }
  if (forms > 1) throw new UsageError('--step, --to and --auto are alternatives; pass one (--auto takes --step N as its step size)');
  if (args.to !== undefined && (!Number.isInteger(args.to) || args.to < 0)) throw new UsageError(`--to must be a partition of 0 or more, not ${args.to}`);
  const mode = args.deletePods ? 'delete-pods' : args.auto ? 'auto' : args.to !== undefined ? 'to' : 'step';
  return { mode, step: step ?? 1 };
}

function continueCommand(ctx: Ctx, args: StepArgs, partition: number, step: number): string {
  const base = `kubectl sts rollout ${ctx.name} ${nsFlag(ctx)}`;
  if (args.deletePods) return `${base} ${args.auto ? '--auto' : `--step ${step}`} --delete-pods`;
  if (args.auto) return `${base} --auto${step !== 1 ? ` --step ${step}` : ''} --interval ${args.interval} --timeout ${args.timeout}`;
  return `${base} --to ${partition} --timeout ${args.timeout}`;
}

export async function runStep(args: StepArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const { mode, step } = validateStepArgs(args);
  const dry = parseDryRun(args.dryRun);
  const timeoutMs = parseDurationFlag('timeout', args.timeout);
  const intervalMs = parseDurationFlag('interval', args.interval);
  const ctx = await context(args, deps);
  if (mode === 'delete-pods') return runDeletePods(ctx, args, deps, { step, dry, timeoutMs, intervalMs });

  let sts: StatefulSet | undefined;
  try {
    sts = await ctx.client.getNamed<StatefulSet>(ctx.stsPath);
  } catch (e) {
    if (deps.signal.aborted) throw new InterruptedError(`before statefulset ${ctx.name} was read; nothing was changed`);
    throw e;
  }
  const from = setFacts(sts).partition;
  const out: RolloutStepOutput = {
    kind: 'RolloutStep',
    namespace: ctx.ns,
    name: ctx.name,
    mode,
    ...(dry !== 'none' ? { dryRun: dry } : {}),
    result: 'ok',
    partition: { from, to: from },
    steps: [],
    message: '',
    notes: [],
    requests: 0,
    warnings: [],
  };
  const addNotes = (n: string[]) => {
    for (const x of n) if (!out.notes.includes(x)) out.notes.push(x);
  };
  const req = mode === 'to' ? { to: args.to! } : { step };
  let exitCode: number = ExitCode.Ok;
  // Where the rollout stands, kept up to date for a report if it stops early (Ctrl-C, server gone).
  const standing: RolloutStanding = { name: ctx.name, namespace: ctx.ns, from, partition: from, updated: [] };
  // A wait rides out a lost API server for as long as its --timeout; so do the reads and
  // precondition-guarded writes between steps.
  ctx.client.outageBudgetMs = timeoutMs || Infinity;
  try {
    return await stepLoop();
  } catch (e) {
    throw stoppedEarly(e, deps, standing, continueCommand(ctx, args, standing.partition, step));
  }

  async function stepLoop(): Promise<CommandResult> {
  for (;;) {
    let r: Awaited<ReturnType<typeof patchSetStep>>;
    standing.inFlight = true;
    try {
      r = await patchSetStep(ctx, sts, req, dry);
    } catch (e) {
      // Refused or failed before the PATCH was sent: nothing in flight. (A lost answer stays "in flight".)
      if (!deps.signal.aborted && !(e instanceof KubeApiError && e.exitCode === ExitCode.Unreachable)) standing.inFlight = false;
      throw e;
    }
    standing.inFlight = false;
    if (r.plan.plan.kind === 'patch' && dry === 'none') standing.partition = r.plan.plan.to;
    const plan = r.plan.plan;
    if (plan.kind === 'refuse') throw new CliError(plan.reason, ExitCode.Problems, plan.hints);
    addNotes(plan.notes);
    const f = setFacts(r.before);
    let target: { partition: number; generation: number };
    let templateObserved: boolean;
    let current: StatefulSet;
    if (plan.kind === 'noop') {
      if (plan.settled || !args.wait || dry !== 'none') {
        if (!out.steps.length) out.result = 'noop';
        out.message = out.steps.length ? `rollout of ${ctx.name} complete at partition ${plan.partition}` : plan.reason;
        break;
      }
      // Nothing to change, but pods at this partition may still be rolling: wait for them.
      templateObserved = f.observed;
      target = { partition: plan.partition, generation: templateObserved ? 0 : (r.before.metadata.generation ?? 0) };
      current = r.before;
    } else {
      out.partition.to = plan.to;
      if (dry !== 'none') {
        out.result = 'planned';
        out.patch = r.body ?? partitionPatch(plan.to);
        out.message = `would set the partition of ${ctx.name} from ${plan.from} to ${plan.to}${plan.newTargets.length ? `; pods to update: ${plan.newTargets.map((o) => `${ctx.name}-${o}`).join(', ')}` : ''}`;
        break;
      }
      current = r.after!;
      // The template was already observed before our partition change: updateRevision is final, and
      // the pods alone tell when the step is done (only the set's watch could show the controller
      // observing the partition's generation). Otherwise the set is watched too, for that generation.
      templateObserved = f.observed && Boolean(f.updateRevision);
      target = { partition: plan.to, generation: templateObserved ? 0 : (current.metadata.generation ?? 0) };
      if (!args.wait) {
        out.steps.push({ partition: plan.to, pods: plan.newTargets.map((o) => `${ctx.name}-${o}`), waitedMs: 0 });
        out.message = `partition of ${ctx.name} set from ${plan.from} to ${plan.to}; not waiting (--no-wait)`;
        break;
      }
    }
    const cf = setFacts(current);
    const ordinals = targetOrdinals(cf.start, cf.replicas, target.partition);
    const w = await waitForPartition(ctx, deps, current, { ...target, ordinals }, { timeoutMs, templateObserved, label: `${ctx.name} partition ${target.partition}` });
    if (w.kind === 'interrupted') {
      standing.pending = w.waitingOn?.name;
      throw new InterruptedError(standingText(standing), [`Resume: ${continueCommand(ctx, args, target.partition, step)}`]);
    }
    if (w.kind === 'changed') {
      // A second writer changed the set under the step: change nothing more, say what changed.
      const now = setFacts(w.sts).partition;
      out.result = 'stopped';
      out.partition.to = now;
      standing.partition = now;
      out.continueWith = continueCommand(ctx, args, now, step);
      addNotes([`review what changed before stepping again: kubectl sts rollout diff ${ctx.name} ${nsFlag(ctx)}`]);
      out.message = `statefulset ${ctx.name} was changed by someone else during the step (${w.drift.join('; ')}); stopped without changing anything more: the partition is ${now}`;
      exitCode = ExitCode.Problems;
      break;
    }
    if (w.kind === 'timeout') {
      const podName = w.waitingOn?.name ?? `${ctx.name}-${ordinals[0] ?? ''}`;
      const pod = w.pods.find((p) => p.metadata.name === podName);
      const d = await stuckDetail(ctx, pod, podName, w.waitingOn?.reason ?? 'not updated');
      out.result = 'stopped';
      out.stuck = { pod: podName, reason: d.reason, lastEvent: d.lastEvent };
      out.continueWith = continueCommand(ctx, args, target.partition, step);
      out.message = `timed out after ${formatDuration(timeoutMs)}: ${podName} did not become Ready on the update revision (${d.reason}); the partition stays at ${target.partition}`;
      exitCode = ExitCode.Problems;
      break;
    }
    const updatedPods = ordinals.map((o) => `${ctx.name}-${o}`);
    for (const p of plan.kind === 'patch' ? plan.newTargets.map((o) => `${ctx.name}-${o}`) : []) if (!standing.updated.includes(p)) standing.updated.push(p);
    out.steps.push({ partition: target.partition, pods: plan.kind === 'patch' ? plan.newTargets.map((o) => `${ctx.name}-${o}`) : updatedPods, waitedMs: w.waitedMs });
    if (mode !== 'auto' || target.partition === 0) {
      out.message =
        target.partition === 0
          ? `rollout of ${ctx.name} complete: all ${cf.replicas} pods run ${w.sts.status?.updateRevision ?? 'the update revision'} and are Ready`
          : `partition of ${ctx.name} at ${target.partition}: ${ordinals.length} of ${cf.replicas} pods updated and Ready (ordinals >= ${cf.start + target.partition})`;
      break;
    }
    if (intervalMs > 0) {
      const problem = await watchInterval(ctx, deps, current, w.pods, ordinals.map((o) => `${ctx.name}-${o}`), intervalMs, timeoutMs);
      if (problem === 'interrupted') {
        throw new InterruptedError(`${standingText(standing)} (stopped during the --interval watch)`, [
          `Resume: ${continueCommand(ctx, args, target.partition, step)}`,
        ]);
      }
      if (problem) {
        out.result = 'stopped';
        out.stuck = { pod: problem.pod, reason: problem.reason };
        out.continueWith = continueCommand(ctx, args, target.partition, step);
        out.message = `stopped: ${problem.pod} ${problem.reason} during the ${args.interval} interval; the partition stays at ${target.partition}`;
        exitCode = ExitCode.Problems;
        break;
      }
    }
    sts = undefined; // the next step re-reads the set (one GET)
  }
  out.requests = requestsSince(ctx);
  if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode };
  return { output: renderStepText(out, deps), exitCode };
  }
}

/**
 * A rollout stopped early by Ctrl-C (exit 130) or by an API server that did not come back within
 * --timeout (exit 3): the error says where the rollout stands and the command that resumes it.
 */
function stoppedEarly(e: unknown, deps: Deps, standing: RolloutStanding, resume: string): unknown {
  if (deps.signal.aborted) {
    if (e instanceof InterruptedError && e.message !== 'stopped by Ctrl-C' && e.message !== 'stopped by SIGTERM') return e;
    return new InterruptedError(standingText(standing), [`Resume: ${resume}`]);
  }
  if (e instanceof KubeApiError && e.exitCode === ExitCode.Unreachable) {
    return new KubeApiError(e.message, {
      exitCode: ExitCode.Unreachable,
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      hints: [`Where it stands: ${standingText(standing)}.`, `Resume once the API server answers: ${resume}`, ...e.hints],
    });
  }
  return e;
}

function patchSetStep(ctx: Ctx, first: StatefulSet | undefined, req: { step?: number; to?: number }, dry: ReturnType<typeof parseDryRun>) {
  return patchSet(
    ctx,
    (cur) => {
      const plan = planStep(cur, req);
      return { plan, patch: plan.kind === 'patch' ? partitionPatch(plan.to) : undefined };
    },
    dry,
    first,
  );
}

/**
 * Watches the pods just updated for `ms`: the first restart, loss of Ready or replacement stops
 * the rollout. Resolves undefined when the interval passed quietly.
 */
async function watchInterval(
  ctx: Ctx,
  deps: Deps,
  sts: StatefulSet,
  pods: Pod[],
  names: string[],
  ms: number,
  timeoutMs: number,
): Promise<{ pod: string; reason: string } | undefined | 'interrupted'> {
  const baseline = new Map<string, { uid?: string | undefined; restarts: number }>();
  for (const p of pods) {
    if (!names.includes(p.metadata.name)) continue;
    baseline.set(p.metadata.name, { uid: p.metadata.uid, restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0) });
  }
  const spinner = await deps.spinner();
  spinner.start(`${ctx.name}: watching ${names.join(', ')} for ${formatDuration(ms)} before the next step`);
  try {
    return await ctx.k.observe(
      ctx.client,
      { pods: { path: podsPath(ctx), query: podQuery(sts) } },
      (snap) => intervalProblem(baseline, [...snap.pods.values()] as Pod[]),
      { timeoutMs: ms, signal: deps.signal },
    );
  } catch (e) {
    if (isTimeout(e)) return undefined;
    if (isAbort(e, deps)) return 'interrupted';
    if (!retryability(e).retry) throw e;
  } finally {
    spinner.stop();
  }
  // The interval ended while the API server was away: what happened meanwhile is unseen, so look
  // once it is back (a fresh list shows restarts and lost Ready), for up to --timeout.
  try {
    const r = await ctx.k.observe(
      ctx.client,
      { pods: { path: podsPath(ctx), query: podQuery(sts) } },
      (snap) => intervalProblem(baseline, [...snap.pods.values()] as Pod[]) ?? ('quiet' as const),
      { timeoutMs, signal: deps.signal },
    );
    return r === 'quiet' ? undefined : r;
  } catch (e) {
    if (isAbort(e, deps)) return 'interrupted';
    throw e;
  }
}

export function renderStepText(out: RolloutStepOutput, deps: Pick<Deps, 'color'>): string {
  const c = deps.color;
  const lines: string[] = [];
  for (const n of out.notes) lines.push(c.yellow(`note: ${n}`));
  if (out.result === 'planned') {
    lines.push(`${out.message} (dry run: ${out.dryRun})`);
    if (out.patch) lines.push(`patch: ${JSON.stringify(out.patch)}`);
    return `${lines.join('\n')}\n`;
  }
  for (const s of out.steps) {
    lines.push(`statefulset.apps/${out.name} partition ${s.partition}: ${s.pods.length ? s.pods.join(', ') : 'no new pods'} updated and Ready${s.waitedMs ? ` (${formatDuration(s.waitedMs)})` : ''}`);
  }
  const msg = out.result === 'stopped' ? c.red(out.message) : out.result === 'ok' ? c.green(out.message) : out.message;
  lines.push(msg);
  if (out.stuck?.lastEvent) lines.push(`  last event of ${out.stuck.pod}: ${out.stuck.lastEvent}`);
  if (out.continueWith) {
    lines.push(`  continue:  ${out.continueWith}`);
    lines.push(`  roll back: kubectl sts rollout undo ${out.name} -n ${out.namespace}${out.stuck ? ' --force' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- OnDelete

async function runDeletePods(
  ctx: Ctx,
  args: StepArgs & GlobalArgs,
  deps: Deps,
  o: { step: number; dry: ReturnType<typeof parseDryRun>; timeoutMs: number; intervalMs: number },
): Promise<CommandResult> {
  const sts = await ctx.client.getNamed<StatefulSet>(ctx.stsPath);
  const f = setFacts(sts);
  if (f.deleting) throw new CliError(`statefulset ${ctx.name} is being deleted; it cannot be rolled out`);
  if (f.strategy !== 'OnDelete') {
    throw new UsageError(`--delete-pods is for OnDelete sets; ${ctx.name} uses RollingUpdate, whose partition does the work`, [
      `kubectl sts rollout ${ctx.name} ${nsFlag(ctx)} --step ${o.step}`,
    ]);
  }
  const pods = await listPods(ctx, sts);
  const plan = planPodDeletions(sts, pods, args.auto ? { to: 0 } : args.to !== undefined ? { to: args.to } : { count: o.step });
  const out: RolloutStepOutput = {
    kind: 'RolloutStep',
    namespace: ctx.ns,
    name: ctx.name,
    mode: 'delete-pods',
    ...(o.dry !== 'none' ? { dryRun: o.dry } : {}),
    result: 'ok',
    partition: { from: f.partition, to: f.partition },
    steps: [],
    message: '',
    notes: ['OnDelete: the controller recreates a deleted pod from the update revision'],
    requests: 0,
    warnings: [],
  };
  const finish = (exitCode: number): CommandResult => {
    out.requests = requestsSince(ctx);
    if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode };
    return { output: renderStepText(out, deps), exitCode };
  };
  if (!f.observed) out.notes.push(`the controller has not observed generation ${f.generation} yet; the update revision may still change`);
  if (!plan.pods.length) {
    out.result = 'noop';
    out.message = `nothing to delete: every pod of ${ctx.name} in range runs the update revision ${f.updateRevision}`;
    return finish(ExitCode.Ok);
  }
  const names = plan.pods.map((p) => p.name);
  if (o.dry !== 'none') {
    // --dry-run=server sends each delete (dryRun=All, with its preconditions): the API server
    // checks the rights and admission; nothing is deleted, so nothing is waited for.
    if (o.dry === 'server') for (const p of plan.pods) await deletePod(ctx, pods, p, f.updateRevision, 'server');
    out.result = 'planned';
    out.message = `would delete ${names.join(', ')} one at a time (highest ordinal first), waiting for each to return Ready on ${f.updateRevision}${o.dry === 'server' ? '; the API server accepted every delete' : ''}`;
    return finish(ExitCode.Ok);
  }
  await confirmChange(deps, {
    action: `delete ${names.length} pod(s) of ${ctx.name}`,
    lines: [`Pods to delete, one at a time, each recreated from revision ${f.updateRevision}:`, ...plan.pods.map((p) => `  ${p.name} (revision ${p.revision || '<none>'})`)],
    yes: args.yes,
  });
  for (const p of plan.pods) {
    const deleted = await deletePod(ctx, pods, p, f.updateRevision, 'none');
    if (!deleted.done) {
      out.notes.push(`${p.name} was not deleted: ${deleted.reason}`);
      continue;
    }
    const w = await waitForPartition(ctx, deps, sts, { partition: p.ordinal - f.start, generation: 0, ordinals: [p.ordinal] }, {
      timeoutMs: o.timeoutMs,
      templateObserved: f.observed,
      label: `${ctx.name} (OnDelete)`,
    });
    if (w.kind === 'interrupted') {
      throw new InterruptedError(`while waiting for ${p.name} to come back (the StatefulSet controller goes on recreating it); ${out.steps.length} pod(s) already replaced stay replaced; no further pod was deleted`, [
        `Resume: ${continueCommand(ctx, args, 0, o.step)}`,
      ]);
    }
    if (w.kind === 'changed') {
      out.result = 'stopped';
      out.message = `statefulset ${ctx.name} was changed by someone else while ${p.name} was replaced (${w.drift.join('; ')}); no further pod was deleted`;
      out.continueWith = continueCommand(ctx, args, 0, o.step);
      return finish(ExitCode.Problems);
    }
    if (w.kind === 'timeout') {
      const pod = w.pods.find((x) => x.metadata.name === p.name);
      const d = await stuckDetail(ctx, pod, p.name, w.waitingOn?.reason ?? 'not Ready');
      out.result = 'stopped';
      out.stuck = { pod: p.name, reason: d.reason, lastEvent: d.lastEvent };
      out.continueWith = continueCommand(ctx, args, 0, o.step);
      out.message = `timed out after ${formatDuration(o.timeoutMs)}: ${p.name} did not return Ready on the update revision (${d.reason}); no further pod was deleted`;
      return finish(ExitCode.Problems);
    }
    out.steps.push({ partition: f.partition, pods: [p.name], waitedMs: w.waitedMs });
    if (args.auto && o.intervalMs > 0 && p !== plan.pods[plan.pods.length - 1]) {
      const problem = await watchInterval(ctx, deps, sts, w.pods, [p.name], o.intervalMs, o.timeoutMs);
      if (problem === 'interrupted') {
        throw new InterruptedError(`during the --interval watch after ${p.name}; no further pod was deleted`, [`Resume: ${continueCommand(ctx, args, 0, o.step)}`]);
      }
      if (problem) {
        out.result = 'stopped';
        out.stuck = { pod: problem.pod, reason: problem.reason };
        out.message = `stopped: ${problem.pod} ${problem.reason} during the ${args.interval} interval; no further pod was deleted`;
        return finish(ExitCode.Problems);
      }
    }
  }
  const left = plan.remaining;
  out.message = `${names.length} pod(s) of ${ctx.name} replaced from ${f.updateRevision}${left ? `; ${left} outdated pod(s) left` : '; every pod runs the update revision'}`;
  return finish(ExitCode.Ok);
}

/**
 * Deletes one outdated pod of an OnDelete set through the mutation pipeline: the uid and
 * resourceVersion it was judged on; on a conflict it is read again and re-judged (core
 * podDeletion): replaced, gone or already on the update revision, it is left alone.
 */
async function deletePod(ctx: Ctx, pods: Pod[], p: { name: string; uid?: string | undefined }, updateRevision: string | undefined, mode: 'none' | 'server'): Promise<{ done: true } | { done: false; reason: string }> {
  const o = await writeOne<Pod | undefined, DeletePreconditions, unknown>(
    {
      read: async () => (await ctx.client.list<Pod>(podsPath(ctx), { fieldSelector: `metadata.name=${p.name}` })).items.find((x) => x.metadata.name === p.name),
      plan: (now) => podDeletion(p, now, (rev) => rev !== updateRevision),
      send: (preconditions, m) => ctx.client.delete(podPath(ctx, p.name), { preconditions, dryRun: m }),
      goneIsNone: `${p.name} is already gone`,
    },
    mode,
    pods.find((x) => x.metadata.name === p.name),
  );
  return o.result === 'none' ? { done: false, reason: o.reason } : { done: true };
}

function podPath(ctx: Ctx, name: string): string {
  return ctx.k.resourcePath(ctx.k.Resources.pods, { namespace: ctx.ns, name });
}
