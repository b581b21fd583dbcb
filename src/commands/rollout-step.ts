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
} from '../core/rollout.js';
import { renderStructured, isStructured } from '../render/output.js';
import { renderStepText, type RolloutStepOutput } from '../render/rollout.js';
import { afterInterval, afterPatch, afterStuck, afterWait, interruptedAt, newStepRun, resumeCommand, type Next, type StepAsk } from '../core/rollout-run.js';
import type { CommandResult, GlobalArgs } from './command.js';
import { confirmChange } from './change.js';
import {
  context,
  deleteSetPod,
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

function stepAsk(args: StepArgs, ctx: Ctx, mode: RolloutStepOutput['mode'], step: number, o: { dry: StepAsk['dryRun']; timeoutMs: number; intervalMs: number }): StepAsk {
  return {
    mode: mode === 'auto' || (mode === 'delete-pods' && args.auto) ? 'auto' : args.to !== undefined ? 'to' : 'step',
    step,
    to: args.to,
    wait: args.wait,
    dryRun: o.dry,
    interval: args.interval,
    intervalMs: o.intervalMs,
    timeout: args.timeout,
    timeoutMs: o.timeoutMs,
    nsFlag: `-n ${ctx.ns}`,
    deletePods: mode === 'delete-pods',
  };
}

/**
 * The I/O of a step/to/auto run; every decision is core's (src/core/rollout-run.ts): patch the
 * partition, wait for its pods, watch the interval, read a stuck pod's events — each outcome goes
 * to a transition, which says what to do next.
 */
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
  const run = newStepRun(sts, { name: ctx.name, namespace: ctx.ns }, stepAsk(args, ctx, mode, step, { dry, timeoutMs, intervalMs }));
  const req = mode === 'to' ? { to: args.to! } : { step };
  // A wait rides out a lost API server for as long as its --timeout; so do the reads and
  // precondition-guarded writes between steps.
  ctx.client.outageBudgetMs = timeoutMs || Infinity;
  let next: Next = { kind: 'step' };
  try {
    while (next.kind !== 'finish') {
      switch (next.kind) {
        case 'step': {
          run.standing.inFlight = true;
          let r: Awaited<ReturnType<typeof patchSetStep>>;
          try {
            r = await patchSetStep(ctx, sts, req, dry);
          } catch (e) {
            // Refused or failed before the PATCH was sent: nothing in flight. (A lost answer stays "in flight".)
            if (!deps.signal.aborted && !(e instanceof KubeApiError && e.exitCode === ExitCode.Unreachable)) run.standing.inFlight = false;
            throw e;
          }
          run.standing.inFlight = false;
          sts = undefined; // a later step re-reads the set (one GET)
          next = afterPatch(run, { plan: r.plan.plan, before: r.before, after: r.after, body: r.body ?? (r.plan.plan.kind === 'patch' ? partitionPatch(r.plan.plan.to) : undefined) });
          break;
        }
        case 'wait': {
          const t = run.target!;
          const w = await waitForPartition(ctx, deps, t.current, { partition: t.partition, generation: t.generation, ordinals: t.ordinals }, { timeoutMs, templateObserved: t.templateObserved, label: `${ctx.name} partition ${t.partition}` });
          if (w.kind === 'interrupted') {
            run.standing.pending = w.waitingOn?.name;
            const i = interruptedAt(run);
            throw new InterruptedError(i.message, [i.resume]);
          }
          next = afterWait(run, w);
          break;
        }
        case 'stuck':
          next = afterStuck(run, next.podName, await stuckDetail(ctx, next.pod, next.podName, next.fallback));
          break;
        case 'interval': {
          const problem = await watchInterval(ctx, deps, run.target!.current, next.pods, next.names, intervalMs, timeoutMs);
          if (problem === 'interrupted') {
            const i = interruptedAt(run, 'stopped during the --interval watch');
            throw new InterruptedError(i.message, [i.resume]);
          }
          next = afterInterval(run, problem);
          break;
        }
        case 'refuse':
          throw new CliError(next.reason, ExitCode.Problems, next.hints);
      }
    }
  } catch (e) {
    throw stoppedEarly(e, deps, run.standing, resumeCommand(run, run.standing.partition));
  }
  run.report.requests = requestsSince(ctx);
  const out: RolloutStepOutput = run.report;
  if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode: next.exitCode };
  return { output: renderStepText(out, deps.color), exitCode: next.exitCode };
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
  const resume = resumeCommand({ ask: stepAsk(args, ctx, 'delete-pods', o.step, { dry: o.dry, timeoutMs: o.timeoutMs, intervalMs: o.intervalMs }), report: out }, 0);
  const finish = (exitCode: number): CommandResult => {
    out.requests = requestsSince(ctx);
    if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode };
    return { output: renderStepText(out, deps.color), exitCode };
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
        `Resume: ${resume}`,
      ]);
    }
    if (w.kind === 'changed') {
      out.result = 'stopped';
      out.message = `statefulset ${ctx.name} was changed by someone else while ${p.name} was replaced (${w.drift.join('; ')}); no further pod was deleted`;
      out.continueWith = resume;
      return finish(ExitCode.Problems);
    }
    if (w.kind === 'timeout') {
      const pod = w.pods.find((x) => x.metadata.name === p.name);
      const d = await stuckDetail(ctx, pod, p.name, w.waitingOn?.reason ?? 'not Ready');
      out.result = 'stopped';
      out.stuck = { pod: p.name, reason: d.reason, lastEvent: d.lastEvent };
      out.continueWith = resume;
      out.message = `timed out after ${formatDuration(o.timeoutMs)}: ${p.name} did not return Ready on the update revision (${d.reason}); no further pod was deleted`;
      return finish(ExitCode.Problems);
    }
    out.steps.push({ partition: f.partition, pods: [p.name], waitedMs: w.waitedMs });
    if (args.auto && o.intervalMs > 0 && p !== plan.pods[plan.pods.length - 1]) {
      const problem = await watchInterval(ctx, deps, sts, w.pods, [p.name], o.intervalMs, o.timeoutMs);
      if (problem === 'interrupted') {
        throw new InterruptedError(`during the --interval watch after ${p.name}; no further pod was deleted`, [`Resume: ${resume}`]);
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

/** One outdated pod of an OnDelete set (already on the update revision: left alone). */
function deletePod(ctx: Ctx, pods: Pod[], p: { name: string; uid?: string | undefined }, updateRevision: string | undefined, mode: 'none' | 'server') {
  return deleteSetPod(ctx, pods.find((x) => x.metadata.name === p.name), p, (rev) => rev !== updateRevision, mode);
}
