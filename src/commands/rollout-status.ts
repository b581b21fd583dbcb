/** `kubectl sts rollout status NAME [-w]` and `kubectl sts rollout hold NAME [--image C=IMG]`. */
import type { Deps } from '../deps.js';
import type { Pod, StatefulSet } from '../core/types.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { imageChanges, parseImages, partitionPatch, rolloutStatus, rolloutStatusWithoutPods, setFacts, type RolloutStatus } from '../core/rollout.js';
import { isStructured, renderStructured } from '../render/output.js';
import { POD_HEADERS, podRowCells, renderStatus, statusOutput, strategyLine } from '../render/rollout.js';
import { renderTable } from '../render/table.js';
import type { CommandResult, GlobalArgs } from './command.js';
import { context, formatDuration, isAbort, isTimeout, listPods, nsFlag, parseDryRun, parseDurationFlag, patchSet, podQuery, podsPath, requestsSince, setSource } from './rollout-shared.js';

export interface StatusArgs {
  name?: string | undefined;
  watch: boolean;
  timeout: string;
}

function statusResult(s: RolloutStatus, args: GlobalArgs, deps: Deps, exitCode: number = ExitCode.Ok, warnings: string[] = []): CommandResult {
  if (isStructured(args.output)) return { output: renderStructured(statusOutput(s, warnings), args.output as 'json' | 'yaml'), exitCode };
  return { output: renderStatus(s, deps.now(), deps.color), exitCode };
}

/** -w is finished when the pods at or above the partition are done (or nothing can move). */
export function watchFinished(s: RolloutStatus): boolean {
  if (s.state === 'deleting' || s.state === 'scaled-to-zero' || s.state === 'complete') return true;
  if (s.facts.strategy === 'OnDelete') return false;
  return s.facts.observed && s.partitionDone;
}

export async function runStatus(args: StatusArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const timeoutMs = parseDurationFlag('timeout', args.timeout);
  const ctx = await context(args, deps);
  const sts = await ctx.client.getNamed<StatefulSet>(ctx.stsPath);
  if (!args.watch) {
    // Without the right to list pods: the set's own facts and its controller's counts, labelled partial (exit 4).
    const warnings = ctx.k.newWarnings();
    const pods = await ctx.k.readOptional(() => listPods(ctx, sts), warnings, 'pod checks skipped: the status shows the controller\'s counts, not the pods');
    for (const w of warnings.lines) deps.log(`warning: ${w}`);
    if (!pods) return statusResult(rolloutStatusWithoutPods(sts), args, deps, ExitCode.Incomplete, warnings.lines);
    return statusResult(rolloutStatus(sts, pods, deps.now()), args, deps);
  }
  // The watch rides out a lost API server until --timeout (0: as long as it takes).
  ctx.client.outageBudgetMs = timeoutMs || Infinity;
  const structured = isStructured(args.output);
  const lastRows = new Map<string, string>();
  let lastHeader = '';
  let latest: RolloutStatus | undefined;
  let first = true;
  const spinner = await deps.spinner();
  const print = (s: RolloutStatus) => {
    if (structured) return;
    const now = deps.now();
    const rows = s.pods.map((p) => ({ name: p.name, cells: podRowCells(p, s.facts.name, now, deps.color) }));
    // AGE keeps ticking: it does not make a row "changed".
    const keyOf = (cells: string[]) => JSON.stringify(cells.slice(0, 8));
    if (first) {
      deps.write(renderStatus(s, now, deps.color));
      for (const r of rows) lastRows.set(r.name, keyOf(r.cells));
      lastHeader = s.message;
      first = false;
      return;
    }
    if (s.message !== lastHeader) {
      deps.write(`# ${s.message}\n`);
      lastHeader = s.message;
    }
    const changed = rows.filter((r) => lastRows.get(r.name) !== keyOf(r.cells));
    for (const r of changed) lastRows.set(r.name, keyOf(r.cells));
    if (changed.length) {
      // rows only, kubectl get -w style
      deps.write(renderTable(POD_HEADERS, changed.map((r) => r.cells)).split('\n').slice(1).join('\n'));
    }
  };
  spinner.start(`watching ${ctx.name}`);
  try {
    latest = await ctx.k.observe(
      ctx.client,
      {
        sts: setSource(ctx, sts),
        pods: { path: podsPath(ctx), query: podQuery(sts) },
      },
      (snap) => {
        const cur = ([...snap.sts.values()][0] as StatefulSet | undefined) ?? sts;
        const s = rolloutStatus(cur, [...snap.pods.values()] as Pod[], deps.now());
        latest = s;
        spinner.update(`${ctx.name}: ${s.message}`);
        print(s);
        return watchFinished(s) ? s : undefined;
      },
      { timeoutMs, signal: deps.signal },
    );
  } catch (e) {
    spinner.stop();
    if (isTimeout(e)) {
      const msg = `timed out after ${formatDuration(timeoutMs)} watching ${ctx.name}: ${latest?.message ?? 'no status'}`;
      if (structured && latest) return statusResult(latest, args, deps, ExitCode.Problems);
      return { output: `${msg}\n`, exitCode: ExitCode.Problems };
    }
    if (isAbort(e, deps)) {
      // Ctrl-C: the status as last seen, exit 130 (nothing is changed by watching).
      if (structured && latest) return statusResult(latest, args, deps, ExitCode.Interrupted);
      return { output: `interrupted: stopped watching ${ctx.name}: ${latest?.message ?? 'no status yet'}\n`, exitCode: ExitCode.Interrupted };
    }
    throw e;
  }
  spinner.stop();
  if (structured) return statusResult(latest, args, deps);
  return { output: `${latest.message}\n`, exitCode: ExitCode.Ok };
}

// ---------------------------------------------------------------- hold

export interface HoldArgs {
  name?: string | undefined;
  image?: string[] | undefined;
  dryRun?: string | undefined;
}

export interface RolloutHoldOutput {
  kind: 'RolloutHold';
  namespace: string;
  name: string;
  dryRun?: 'client' | 'server' | undefined;
  result: 'ok' | 'noop' | 'planned';
  partition: { from: number; to: number };
  images: { container: string; from: string; to: string }[];
  patch?: Record<string, unknown> | undefined;
  message: string;
  notes: string[];
  requests: number;
  /** Always present; empty (hold reads nothing optional). */
  warnings: string[];
}

export async function runHold(args: HoldArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const dry = parseDryRun(args.dryRun);
  const ctx = await context(args, deps);
  const notes: string[] = [];
  let images: { container: string; from: string; to: string }[] = [];
  const r = await patchSet(
    ctx,
    (cur) => {
      const f = setFacts(cur);
      if (f.deleting) throw new CliError(`statefulset ${ctx.name} is being deleted; it cannot be held`);
      if (f.strategy === 'OnDelete') {
        throw new CliError(`statefulset ${ctx.name} uses updateStrategy OnDelete: pods change only when deleted, so there is no partition to hold`, ExitCode.Problems, [
          `Change the image with kubectl ${nsFlag(ctx)} set image sts/${ctx.name} ...; nothing rolls until you run kubectl sts rollout ${ctx.name} ${nsFlag(ctx)} --step 1 --delete-pods`,
        ]);
      }
      let parsed;
      try {
        parsed = parseImages(args.image ?? [], cur);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      images = imageChanges(cur, parsed);
      const to = Math.max(f.partition, f.replicas);
      if (to === f.partition && !images.length) return { patch: undefined, from: f.partition, to };
      // Strategic merge: containers are merged by name, so only the image changes. A JSON merge
      // patch would replace the whole containers list and drop ports, mounts, probes...
      return {
        patch: partitionPatch(to, parsed.filter((p) => images.some((i) => i.container === p.container))),
        type: 'strategic' as const,
        from: f.partition,
        to,
      };
    },
    dry,
  );
  const f = setFacts(r.before);
  if (f.replicas === 0) notes.push(`${ctx.name} has 0 replicas: the partition of 0 already holds every pod; new replicas get the current revision below it`);
  if (f.partition < f.replicas && (r.before.status?.updatedReplicas ?? 0) > 0 && f.currentRevision !== f.updateRevision) {
    notes.push(`pods already on the update revision stay on it; holding stops further replacements`);
  }
  if (images.length && f.currentRevision !== f.updateRevision && (r.before.status?.updatedReplicas ?? 0) > 0) {
    notes.push(`a rollout was in progress: pods on ${f.updateRevision} will be on an older revision once the new template is recorded`);
  }
  const out: RolloutHoldOutput = {
    kind: 'RolloutHold',
    namespace: ctx.ns,
    name: ctx.name,
    ...(dry !== 'none' ? { dryRun: dry } : {}),
    result: !r.body ? 'noop' : dry !== 'none' ? 'planned' : 'ok',
    partition: { from: r.plan.from, to: r.plan.to },
    images,
    ...(r.body ? { patch: r.body } : {}),
    message: '',
    notes,
    requests: 0,
    warnings: [],
  };
  const imageText = images.map((i) => `${i.container}: ${i.from} -> ${i.to}`).join(', ');
  if (out.result === 'noop') out.message = `statefulset.apps/${ctx.name} already held (partition ${f.partition} >= replicas ${f.replicas}); nothing changed`;
  else {
    const verb = out.result === 'planned' ? 'would be held' : 'held';
    out.message = `statefulset.apps/${ctx.name} ${verb}: partition ${r.plan.from} -> ${r.plan.to}; no pod is replaced until you step${imageText ? `; image ${imageText}` : ''}`;
  }
  out.requests = requestsSince(ctx);
  if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode: ExitCode.Ok };
  const lines = [...notes.map((n) => deps.color.yellow(`note: ${n}`)), out.message];
  if (out.result === 'planned') lines.push(`patch (dry run: ${dry}): ${JSON.stringify(r.body)}`);
  else if (out.result === 'ok') lines.push(`  ${strategyLine({ ...f, partition: r.plan.to })}`, `  next: kubectl sts rollout ${ctx.name} ${nsFlag(ctx)} --step 1`);
  return { output: `${lines.join('\n')}\n`, exitCode: ExitCode.Ok };
}
