/**
 * `kubectl sts rollout history|diff|undo NAME`: the set's ControllerRevisions (owned by it,
 * ordered by .revision), the pod-template diff between two of them, and restoring one.
 */
import type { Deps } from '../deps.js';
import type { ControllerRevision, Pod, StatefulSet } from '../core/types.js';
import { CliError, ExitCode, UsageError, checkExitCode } from '../errors.js';
import { diffPair, history, planUndo, setFacts, templateOf, type UndoPlan } from '../core/rollout.js';
import { selectorToString } from '../core/labels.js';
import { isStructured, renderStructured } from '../render/output.js';
import {
  colorDiff,
  historyOutput,
  renderHistory,
  renderRevisionDetail,
  templateDiff,
  type RolloutDiffOutput,
  type RolloutUndoOutput,
} from '../render/rollout.js';
import type { CommandResult, GlobalArgs } from './command.js';
import { confirmChange } from './change.js';
import { context, deleteSetPod, listPods, nsFlag, parseDryRun, patchSet, requestsSince, requireRights, type Ctx } from './rollout-shared.js';

async function listRevisions(ctx: Ctx, sts: StatefulSet): Promise<ControllerRevision[]> {
  const path = ctx.k.resourcePath(ctx.k.Resources.controllerrevisions, { namespace: ctx.ns });
  // The controller labels its revisions with the pod template's labels, which the selector matches.
  const sel = selectorToString(sts.spec.selector);
  return (await ctx.client.list<ControllerRevision>(path, sel ? { labelSelector: sel } : {})).items;
}

// ---------------------------------------------------------------- history

export interface HistoryArgs {
  name?: string | undefined;
  revision?: number | undefined;
}

export async function runHistory(args: HistoryArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const ctx = await context(args, deps);
  const sts = await ctx.client.getNamed<StatefulSet>(ctx.stsPath);
  // The revisions are the answer; the pods only say which revision each runs: skipped if forbidden.
  const warnings = ctx.k.newWarnings();
  const [revs, pods] = await Promise.all([
    listRevisions(ctx, sts),
    ctx.k.readOptional(() => listPods(ctx, sts), warnings, 'pod checks skipped: which pods run which revision is unknown'),
  ]);
  for (const w of warnings.lines) deps.log(`warning: ${w}`);
  const exitCode = checkExitCode(false, warnings.lines.length > 0);
  const partial = warnings.lines.length ? 'PARTIAL: the pods could not be read (forbidden; see the warning): the POD counts are unknown.\n' : '';
  let entries = history(sts, revs, pods);
  if (args.revision !== undefined) {
    const e = entries.find((x) => x.revision === args.revision);
    if (!e) {
      throw new CliError(`statefulset ${ctx.name} has no revision ${args.revision}`, ExitCode.Problems, [
        entries.length ? `Revisions: ${entries.map((x) => x.revision).join(', ')}` : 'It has no ControllerRevisions yet.',
      ]);
    }
    entries = [e];
    if (!isStructured(args.output)) return { output: renderRevisionDetail(ctx.name, e) + partial, exitCode };
  }
  if (isStructured(args.output)) {
    return {
      output: renderStructured(historyOutput(ctx.ns, ctx.name, entries, args.revision !== undefined, warnings.lines), args.output as 'json' | 'yaml'),
      exitCode,
    };
  }
  if (!entries.length) return { output: `statefulset.apps/${ctx.name} has no ControllerRevisions yet\n`, exitCode: ExitCode.Ok };
  return { output: renderHistory(ctx.name, entries, deps.now()) + partial, exitCode };
}

// ---------------------------------------------------------------- diff

export interface DiffArgs {
  name?: string | undefined;
  revision?: number | undefined;
}

export async function runDiff(args: DiffArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const ctx = await context(args, deps);
  const sts = await ctx.client.getNamed<StatefulSet>(ctx.stsPath);
  const revs = await listRevisions(ctx, sts);
  const pair = diffPair(sts, revs, args.revision);
  if ('error' in pair) throw new CliError(pair.error);
  const label = (r: ControllerRevision, role: string) => `${r.metadata.name} (revision ${r.revision}, ${role})`;
  const f = setFacts(sts);
  const fromRole = pair.from.metadata.name === f.currentRevision ? 'current' : 'history';
  const text = templateDiff(label(pair.from, fromRole), templateOf(pair.from), label(pair.to, 'update'), templateOf(pair.to));
  const out: RolloutDiffOutput = {
    kind: 'RolloutDiff',
    namespace: ctx.ns,
    name: ctx.name,
    from: { revision: pair.from.revision, name: pair.from.metadata.name },
    to: { revision: pair.to.revision, name: pair.to.metadata.name },
    changed: text !== '',
    diff: text,
    warnings: [],
  };
  if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode: ExitCode.Ok };
  if (!text) {
    const same = pair.from.metadata.name === pair.to.metadata.name;
    return {
      output: `no template change: ${same ? `${pair.to.metadata.name} is both the current and the update revision` : `${pair.from.metadata.name} and ${pair.to.metadata.name} have the same pod template`}\n`,
      exitCode: ExitCode.Ok,
    };
  }
  return { output: `${colorDiff(text, deps.color).replace(/\n*$/, '')}\n`, exitCode: ExitCode.Ok };
}

// ---------------------------------------------------------------- undo

export interface UndoArgs {
  name?: string | undefined;
  toRevision: number;
  force: boolean;
  yes: boolean;
  dryRun?: string | undefined;
}

export async function runUndo(args: UndoArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  if (!Number.isInteger(args.toRevision) || args.toRevision < 0) throw new UsageError(`--to-revision must be a revision number (0: the previous one), not ${args.toRevision}`);
  const dry = parseDryRun(args.dryRun);
  const ctx = await context(args, deps);
  const first = await ctx.client.getNamed<StatefulSet>(ctx.stsPath);
  const [revs, pods] = await Promise.all([listRevisions(ctx, first), listPods(ctx, first)]);
  const initial = planUndo(first, revs, pods, args.toRevision || undefined);
  if (initial.kind === 'refuse') throw new CliError(initial.reason, ExitCode.Problems, initial.hints);
  const out: RolloutUndoOutput = {
    kind: 'RolloutUndo',
    namespace: ctx.ns,
    name: ctx.name,
    ...(dry !== 'none' ? { dryRun: dry } : {}),
    result: 'ok',
    deletedPods: [],
    notes: [],
    message: '',
    diff: '',
    requests: 0,
    warnings: [],
  };
  const finish = (extra: string[] = []): CommandResult => {
    out.requests = requestsSince(ctx);
    if (isStructured(args.output)) return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode: ExitCode.Ok };
    const lines = [...out.notes.map((n) => deps.color.yellow(`note: ${n}`))];
    if (out.diff && out.result === 'planned') lines.push(colorDiff(out.diff, deps.color).replace(/\n*$/, ''));
    lines.push(out.message, ...extra);
    return { output: `${lines.join('\n')}\n`, exitCode: ExitCode.Ok };
  };
  if (initial.kind === 'noop') {
    out.result = 'noop';
    out.message = initial.reason;
    return finish();
  }
  const f = setFacts(first);
  const current = revs.find((r) => r.metadata.name === f.updateRevision);
  out.from = initial.from;
  out.to = initial.to;
  out.notes.push(...initial.notes);
  out.diff = templateDiff(`${f.updateRevision} (now)`, current ? templateOf(current) : first.spec.template, `${initial.to.name} (revision ${initial.to.revision})`, initial.template);
  const stuck = initial.badPods.filter((p) => !p.ready);
  if (!args.force && stuck.length && f.podManagementPolicy === 'OrderedReady') {
    out.notes.push(
      `${stuck.map((p) => p.name).join(', ')} never became Ready on ${f.updateRevision}; with OrderedReady the controller waits for ${stuck.length > 1 ? 'them' : 'it'} and will not restore the template there: rerun with --force to delete ${stuck.length > 1 ? 'them' : 'it'} (the documented forced rollback)`,
    );
  }
  const toDelete = args.force ? initial.badPods : [];
  if (dry !== 'none') {
    const r = dry === 'server' ? await patchSet(ctx, (cur) => undoPatch(cur, revs, pods, args.toRevision), 'server', first) : undefined;
    // --dry-run=server sends the pod deletes too (dryRun=All), with their preconditions.
    const accepted: string[] = [];
    if (dry === 'server') for (const p of toDelete) if ((await deleteBadPod(ctx, pods, p, f.updateRevision, 'server')).done) accepted.push(p.name);
    out.result = 'planned';
    out.message = `would restore the pod template of revision ${initial.to.revision} (${initial.to.name}) on ${ctx.name}${toDelete.length ? ` and delete ${toDelete.map((p) => p.name).join(', ')}` : ''} (dry run: ${dry})${r?.after ? `; the server accepted the patch${toDelete.length ? ` and ${accepted.length} of ${toDelete.length} pod delete(s)` : ''}` : ''}`;
    out.deletedPods = toDelete.map((p) => p.name);
    return finish();
  }
  const lines = [
    `Restore the pod template of revision ${initial.to.revision} (${initial.to.name}) on statefulset ${ctx.ns}/${ctx.name}:`,
    ...out.diff.split('\n').filter((l) => /^[+-][^+-]/.test(l)).map((l) => `  ${l}`),
    ...(toDelete.length ? [`then delete the pods created from ${f.updateRevision}: ${toDelete.map((p) => `${p.name}${p.ready ? ' (Ready: it restarts)' : ' (not Ready)'}`).join(', ')}`] : []),
  ];
  // The template patch is the first write (its own 403 stops everything); the pod deletes come
  // after it, so their verb is asked first: never a template restored with no right to finish.
  if (toDelete.length) await requireRights(ctx, [['delete', 'pods', toDelete[0]!.name]]);
  await confirmChange(deps, { action: `roll back ${ctx.name} to revision ${initial.to.revision}${toDelete.length ? ` and delete ${toDelete.length} pod(s)` : ''}`, lines, yes: args.yes });
  const r = await patchSet(ctx, (cur) => undoPatch(cur, revs, pods, args.toRevision), 'none', first);
  if (!r.after) {
    out.result = 'noop';
    out.message = `statefulset ${ctx.name} changed meanwhile and already has that template`;
    return finish();
  }
  for (const p of toDelete) if ((await deleteBadPod(ctx, pods, p, f.updateRevision, 'none')).done) out.deletedPods.push(p.name);
  out.message = `statefulset.apps/${ctx.name} rolled back to revision ${initial.to.revision} (${initial.to.name})${out.deletedPods.length ? `; deleted ${out.deletedPods.join(', ')}` : ''}`;
  return finish([`  follow: kubectl sts rollout status ${ctx.name} ${nsFlag(ctx)} -w`]);
}

function undoPatch(cur: StatefulSet, revs: ControllerRevision[], pods: Pod[], toRevision: number): { patch?: Record<string, unknown>; type: 'strategic'; plan: UndoPlan } {
  const plan = planUndo(cur, revs, pods, toRevision || undefined);
  return { patch: plan.kind === 'patch' ? plan.patch : undefined, type: 'strategic', plan };
}

/** A pod of the bad revision (gone or already replaced: the controller makes it from the restored template). */
function deleteBadPod(ctx: Ctx, pods: Pod[], p: { name: string; uid?: string | undefined }, badRevision: string | undefined, mode: 'none' | 'server') {
  return deleteSetPod(ctx, pods.find((x) => x.metadata.name === p.name), p, (rev) => !badRevision || rev === badRevision, mode);
}
