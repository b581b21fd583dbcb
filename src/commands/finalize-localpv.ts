/**
 * `kubectl sts finalize-localpv [PV...]`: explains why PersistentVolumes (local and hostPath by
 * default) are stuck Terminating, and removes their finalizers when that is safe (or when the
 * user insists, with the risk printed). With --claims, the same for PVCs stuck on
 * kubernetes.io/pvc-protection.
 *
 * API use: four LISTs (PVs, PVCs, pods, nodes), then one PATCH per object finalized; a
 * resourceVersion conflict re-reads those four lists and re-diagnoses before retrying.
 */
import { defineCommand, type CommandResult, type GlobalArgs } from './command.js';
import { parseDryRun } from './flags.js';
import { confirmChange, MAX_ATTEMPTS, writeOne } from './change.js';
import type { Deps } from '../deps.js';
import type { Kube } from '../kube/index.js';
import { AbortedError, CliError, ExitCode, UsageError, checkExitCode, isConflict, isForbidden } from '../errors.js';
import { newWarnings, readOptional, type Warnings } from '../kube/optional.js';
import type { ResourceType } from '../kube/resources.js';
import type { LabelSelector, Node, PersistentVolume, PersistentVolumeClaim, Pod } from '../core/types.js';
import { parseSelector } from '../core/labels.js';
import { closestNames } from '../core/names.js';
import {
  diagnoseClaims,
  diagnoseVolumes,
  keyOf,
  planFinalize,
  finalizeWrite,
  volumesInScope,
  type Diagnosis,
  type FinalizeInputs,
  type PlanItem,
} from '../core/finalize.js';
import {
  makeAction,
  refOf,
  renderChanges,
  renderDiagnosis,
  renderFinalizeNames,
  renderResults,
  toOutput,
  type ActionOutput,
  type FinalizeOutput,
} from '../render/finalize.js';
import { renderStructured, isStructured } from '../render/output.js';

type DryRunFlag = 'none' | 'client' | 'server';

export interface FinalizeArgs {
  names?: string[];
  allSafe: boolean;
  force: boolean;
  claims: boolean;
  allTypes: boolean;
  yes: boolean;
  dryRun: DryRunFlag;
  selector?: string;
}


/** Splits the positional names into PV names and (pvc/NAME) claim names. */
export function parseTargets(names: string[]): { pvs: string[]; claims: string[] } {
  const pvs: string[] = [];
  const claims: string[] = [];
  for (const raw of names) {
    const m = raw.match(/^(pv|persistentvolume|persistentvolumes|pvc|persistentvolumeclaim|persistentvolumeclaims)\/(.+)$/);
    if (m) {
      if (m[1]!.startsWith('pvc') || m[1]!.startsWith('persistentvolumeclaim')) claims.push(m[2]!);
      else pvs.push(m[2]!);
    } else if (raw.includes('/')) {
      throw new UsageError(`"${raw}" is not a PersistentVolume name`, ['Name PVs as NAME or pv/NAME, and claims as pvc/NAME (with -n NAMESPACE).']);
    } else pvs.push(raw);
  }
  return { pvs: [...new Set(pvs)], claims: [...new Set(claims)] };
}

interface Read {
  inputs: FinalizeInputs;
  warnings: Warnings;
  /** Parts of the scope that could not be looked at at all (the volume sweep, the claim sweep). */
  gaps: string[];
}

/**
 * A namespaced resource in the namespaces the diagnosis needs: one cluster-wide LIST (what an
 * admin gets: the same cost whatever the number of namespaces), and when that is forbidden one
 * LIST per needed namespace. What stays unreadable is skipped with a warning; `readIn` then says
 * where the items are known.
 */
async function readSpread<T>(
  kube: Kube,
  r: ResourceType,
  o: { needed: string[]; all: boolean; required: string[]; warnings: Warnings; what: string; gaps: string[] },
): Promise<{ items: T[]; readIn?: string[] }> {
  const { resourcePath } = await import('../kube/resources.js');
  if (!o.all && o.needed.length === 0) return { items: [] };
  try {
    return { items: (await kube.client.list<T>(resourcePath(r))).items };
  } catch (e) {
    if (!isForbidden(e)) throw e;
    if (o.all) {
      o.warnings.lines.push(`${o.what} across all namespaces skipped (to check one namespace you may read, use -n NAMESPACE): ${(e as Error).message}`);
      o.gaps.push(`${o.what} across all namespaces could not be listed`);
    }
  }
  const lists = await Promise.all(
    o.needed.filter((ns) => ns !== '').map(async (ns) => {
      const read = () => kube.client.list<T>(resourcePath(r, { namespace: ns }));
      // Objects named on the command line are not skipped: their namespace must be readable.
      const l = o.required.includes(ns) ? await read() : await readOptional(read, o.warnings, `${o.what} in namespace ${ns} skipped`);
      return { ns, items: l?.items };
    }),
  );
  return { items: lists.flatMap((l) => l.items ?? []), readIn: lists.filter((l) => l.items).map((l) => l.ns) };
}

/**
 * Reads what the diagnosis needs, and only that: the PVs; the claims and pods of the namespaces
 * their claims live in (and of the -n namespace with --claims); the nodes when something stuck
 * was found. A namespace-scoped identity reads what it may: the rest is skipped with a warning
 * and every verdict that depends on it is "unknown".
 */
async function readCluster(kube: Kube, scope: Scope): Promise<Read> {
  const { Resources, resourcePath } = await import('../kube/resources.js');
  const warnings = newWarnings();
  const gaps: string[] = [];
  const listPvs = () => kube.client.list<PersistentVolume>(resourcePath(Resources.persistentvolumes));
  const pvList = scope.pvNames.length
    ? await listPvs()
    : await readOptional(listPvs, warnings, 'PersistentVolume checks skipped (PersistentVolumes are cluster-scoped): stuck volumes cannot be looked for');
  if (!pvList) gaps.push('PersistentVolumes could not be read');
  const pvs = pvList?.items ?? [];

  const volumeScope = { allTypes: scope.allTypes, names: scope.pvNames, onlyNamed: scope.onlyNamed, ...(scope.selector ? { selector: scope.selector } : {}) };
  const stuck = volumesInScope(pvs, volumeScope);
  const needed = new Set<string>();
  for (const pv of stuck) if (pv.spec.claimRef?.name) needed.add(pv.spec.claimRef.namespace ?? '');
  const all = scope.claims && scope.claimNamespace === undefined;
  if (scope.claims && scope.claimNamespace !== undefined) needed.add(scope.claimNamespace);
  const required = scope.claimNames.length && scope.claimNamespace !== undefined ? [scope.claimNamespace] : [];
  const common = { needed: [...needed].sort(), all, required, warnings, gaps };
  const [pvcs, pods] = await Promise.all([
    readSpread<PersistentVolumeClaim>(kube, Resources.persistentvolumeclaims, { ...common, what: 'claim checks' }),
    readSpread<Pod>(kube, Resources.pods, { ...common, what: 'pod checks' }),
  ]);
  if (scope.claims && scope.claimNamespace !== undefined && pvcs.readIn && !pvcs.readIn.includes(scope.claimNamespace)) {
    gaps.push(`the claims in namespace ${scope.claimNamespace} could not be read`);
  }

  const stuckClaims = pvcs.items.some((c) => c.metadata.deletionTimestamp);
  let nodes: Node[] = [];
  let nodesUnread = false;
  if (stuck.length || (scope.claims && stuckClaims)) {
    const l = await readOptional(
      () => kube.client.list<Node>(resourcePath(Resources.nodes)),
      warnings,
      'node checks skipped (nodes are cluster-scoped): whether the node of a local volume or of a pod still exists is unknown',
    );
    nodes = l?.items ?? [];
    nodesUnread = !l;
  }
  const inputs: FinalizeInputs = { pvs, pvcs: pvcs.items, pods: pods.items, nodes };
  if (!pvList) inputs.pvsUnread = true;
  if (nodesUnread) inputs.nodesUnread = true;
  if (pvcs.readIn) inputs.claimsReadIn = pvcs.readIn;
  if (pods.readIn) inputs.podsReadIn = pods.readIn;
  return { inputs, warnings, gaps };
}

interface Scope {
  pvNames: string[];
  claimNames: string[];
  onlyNamed: boolean;
  claimNamespace: string | undefined;
  claims: boolean;
  allTypes: boolean;
  selector: LabelSelector | undefined;
}

function diagnoseAll(inputs: FinalizeInputs, scope: Scope, now: number): { volumes: Diagnosis[]; claims: Diagnosis[] } {
  const volumes = diagnoseVolumes(inputs, {
    now,
    allTypes: scope.allTypes,
    names: scope.pvNames,
    onlyNamed: scope.onlyNamed,
    ...(scope.selector ? { selector: scope.selector } : {}),
  });
  const claims = scope.claims
    ? diagnoseClaims(inputs, {
        now,
        ...(scope.claimNamespace !== undefined ? { namespace: scope.claimNamespace } : {}),
        names: scope.claimNames,
        onlyNamed: scope.onlyNamed,
        ...(scope.selector ? { selector: scope.selector } : {}),
      })
    : [];
  return { volumes, claims };
}

/** Every named object must exist and be Terminating: otherwise nothing is touched. */
function checkNamed(inputs: FinalizeInputs, scope: Scope): void {
  for (const name of scope.pvNames) {
    const pv = inputs.pvs.find((p) => p.metadata.name === name);
    if (!pv) {
      const close = closestNames(name, inputs.pvs.map((p) => p.metadata.name));
      throw new CliError(`persistentvolume "${name}" not found`, ExitCode.Problems, close.length ? [`Did you mean: ${close.join(', ')}?`] : ['List them with: kubectl get pv']);
    }
    if (!pv.metadata.deletionTimestamp) {
      throw new CliError(`persistentvolume "${name}" is not being deleted: only the finalizers of a Terminating volume are removed`, ExitCode.Problems, [
        `Delete it first (kubectl delete pv ${name} --wait=false), then run this again if it stays Terminating.`,
      ]);
    }
  }
  for (const name of scope.claimNames) {
    const ns = scope.claimNamespace!;
    const pvc = inputs.pvcs.find((c) => c.metadata.namespace === ns && c.metadata.name === name);
    if (!pvc) {
      const close = closestNames(name, inputs.pvcs.filter((c) => c.metadata.namespace === ns).map((c) => c.metadata.name));
      throw new CliError(`persistentvolumeclaim "${name}" not found in namespace "${ns}"`, ExitCode.Problems, close.length ? [`Did you mean: ${close.join(', ')}?`] : []);
    }
    if (!pvc.metadata.deletionTimestamp) {
      throw new CliError(`persistentvolumeclaim "${name}" in namespace "${ns}" is not being deleted: only the finalizers of a Terminating claim are removed`, ExitCode.Problems, [
        `Delete it first (kubectl delete pvc -n ${ns} ${name} --wait=false).`,
      ]);
    }
  }
}

function objectPath(res: typeof import('../kube/resources.js'), d: Diagnosis): string {
  return d.kind === 'PersistentVolume'
    ? res.resourcePath(res.Resources.persistentvolumes, { name: d.name })
    : res.resourcePath(res.Resources.persistentvolumeclaims, { namespace: d.namespace ?? '', name: d.name });
}

/**
 * Removes the finalizers of one planned object through the mutation pipeline: the patch carries
 * the resourceVersion diagnosed; on a conflict everything the diagnosis needs is read again and
 * core's finalizeWrite decides afresh (gone, no longer safe, or patched under the new version).
 */
async function finalizeOne(
  kube: Kube,
  item: PlanItem,
  o: { dryRun: DryRunFlag; force: boolean; named: boolean; scope: Scope; now: () => number },
): Promise<ActionOutput> {
  const res = await import('../kube/resources.js');
  const removed = (d: Diagnosis) => d.finalizers.map((f) => f.name).join(', ');
  try {
    const r = await writeOne<Diagnosis | undefined, Diagnosis, unknown>(
      {
        read: async () => {
          const fresh = diagnoseAll((await readCluster(kube, o.scope)).inputs, { ...o.scope, onlyNamed: false }, o.now());
          return [...fresh.volumes, ...fresh.claims].find((x) => keyOf(x) === keyOf(item.diagnosis));
        },
        plan: (d) => finalizeWrite(d, { force: o.force, named: o.named }),
        send: (d, mode) => kube.client.patch(objectPath(res, d), { metadata: { finalizers: null, resourceVersion: d.resourceVersion } }, 'merge', mode),
        goneIsNone: 'already deleted',
      },
      o.dryRun,
      item.diagnosis,
    );
    switch (r.result) {
      case 'planned':
        return makeAction(r.write, 'would-finalize', `would remove ${removed(r.write)} (dry run)`);
      case 'accepted':
        return makeAction(r.write, 'would-finalize', `the server accepted removing ${removed(r.write)} (dry run)`, r.attempts);
      case 'applied':
        return makeAction(r.write, 'finalized', `removed ${removed(r.write)}; the API server deletes it now`, r.attempts);
      case 'refused':
        return makeAction(r.state ?? item.diagnosis, 'refused', r.reason, r.attempts);
      case 'none':
        return makeAction(r.state ?? item.diagnosis, 'gone', r.reason, r.attempts);
    }
  } catch (e) {
    if (isConflict(e)) return makeAction(item.diagnosis, 'failed', `it kept changing while being finalized (${MAX_ATTEMPTS} conflicts); run the command again`, MAX_ATTEMPTS);
    return makeAction(item.diagnosis, 'failed', (e as Error).message);
  }
}

function confirmQuestion(items: PlanItem[]): string {
  const lines = items.map((i) => {
    const d = i.diagnosis;
    return `  ${refOf(d)}: remove ${d.finalizers.map((f) => f.name).join(', ')} (${d.verdict}${d.risks.length ? `, ${d.risks.length} risk${d.risks.length > 1 ? 's' : ''}` : ''})`;
  });
  return `Remove the finalizers of ${items.length} object${items.length > 1 ? 's' : ''}?\n${lines.join('\n')}\n`;
}

export async function runFinalize(args: FinalizeArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const dryRun = parseDryRun(args.dryRun);
  const targets = parseTargets((args.names ?? []).map(String));
  let selector: LabelSelector | undefined;
  if (args.selector) {
    try {
      selector = parseSelector(args.selector);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const acting = targets.pvs.length > 0 || targets.claims.length > 0 || args.allSafe;
  if (args.force && targets.pvs.length === 0 && targets.claims.length === 0) {
    throw new UsageError('--force applies only to objects named on the command line', [
      '--all-safe never finalizes a volume that a pod still uses; name it (kubectl sts finalize-localpv PV --force) if you must.',
    ]);
  }
  if (targets.claims.length && args.allNamespaces) throw new UsageError('name claims with -n NAMESPACE, not -A');

  const kube = await deps.kube();
  const claims = args.claims || targets.claims.length > 0;
  const scope: Scope = {
    pvNames: targets.pvs,
    claimNames: targets.claims,
    onlyNamed: (targets.pvs.length > 0 || targets.claims.length > 0) && !args.allSafe,
    claimNamespace: args.allNamespaces ? undefined : (args.namespace ?? kube.namespace),
    claims,
    allTypes: args.allTypes,
    selector,
  };
  const spinner = await deps.spinner();
  spinner.start('Reading PersistentVolumes, claims, pods and nodes');
  let read: Read;
  try {
    read = await readCluster(kube, scope);
  } finally {
    spinner.stop();
  }
  const inputs = read.inputs;
  for (const w of read.warnings.lines) deps.log(`warning: ${w}`);
  checkNamed(inputs, scope);
  const { volumes, claims: claimDiags } = diagnoseAll(inputs, scope, deps.now());
  const all = [...volumes, ...claimDiags];
  const complete = read.gaps.length === 0 && all.every((d) => !d.undetermined?.length);
  const c = deps.color;
  const structured = isStructured(args.output);

  const named = new Set([...targets.pvs.map((n) => `persistentvolume/${n}`), ...targets.claims.map((n) => `persistentvolumeclaim/${scope.claimNamespace}/${n}`)]);
  const plan = acting ? planFinalize(all, { named, allSafe: args.allSafe, force: args.force }) : [];
  const toFinalize = plan.filter((p) => p.decision === 'finalize');
  const actions: ActionOutput[] = plan.filter((p) => p.decision === 'refuse').map((p) => makeAction(p.diagnosis, 'refused', p.why));

  let head = renderDiagnosis({ volumes, claims: claimDiags, pvsUnread: Boolean(inputs.pvsUnread), withClaims: claims, allTypes: args.allTypes }, c);
  if (acting) head += renderChanges(toFinalize.map((p) => p.diagnosis), { dryRun, allSafe: args.allSafe, planned: plan.length }, c);

  // Every verb the change needs, asked before the first patch: a missing one stops it whole.
  if (toFinalize.length && dryRun !== 'client') {
    const { Resources } = await import('../kube/resources.js');
    const { requireAccess } = await import('../kube/access.js');
    await requireAccess(
      kube.client,
      toFinalize.map((p) =>
        p.diagnosis.kind === 'PersistentVolume'
          ? { verb: 'patch' as const, resource: Resources.persistentvolumes, name: p.diagnosis.name }
          : { verb: 'patch' as const, resource: Resources.persistentvolumeclaims, namespace: p.diagnosis.namespace, name: p.diagnosis.name },
      ),
    );
  }

  // Confirmation: shown the diffs first (table output), and asked with the exact list.
  let streamed = false;
  let confirmed = true;
  if (toFinalize.length) {
    const asks = deps.interactive && !args.yes && dryRun === 'none';
    if (asks && !structured && args.output !== 'name') {
      deps.write(head);
      streamed = true;
    }
    try {
      await confirmChange(deps, { action: `remove the finalizers of ${toFinalize.length} object(s)`, lines: [], question: confirmQuestion(toFinalize), yes: args.yes, dryRun });
    } catch (e) {
      // No terminal and no --yes: the same refusal as every command, and the report still says
      // what was diagnosed (each planned object "not-confirmed", exit 1). A "no" stops here.
      if (deps.interactive || !(e instanceof CliError) || e instanceof AbortedError) throw e;
      deps.log(`error: ${e.message}`);
      for (const h of e.hints) deps.log(`  ${h}`);
      confirmed = false;
    }
  }

  if (confirmed) {
    for (const p of toFinalize) {
      actions.push(
        await finalizeOne(kube, p, { dryRun, force: args.force, named: named.has(keyOf(p.diagnosis)), scope, now: () => deps.now() }),
      );
    }
  } else {
    for (const p of toFinalize) actions.push(makeAction(p.diagnosis, 'not-confirmed', 'not confirmed (no terminal to ask on): pass --yes'));
  }

  const cleared = new Set(
    actions.filter((a) => a.result === 'finalized' || a.result === 'would-finalize' || a.result === 'gone').map((a) => keyOf(a)),
  );
  const remaining = all.filter((d) => !cleared.has(keyOf(d))).length;
  const failed = actions.some((a) => a.result === 'failed' || a.result === 'refused' || a.result === 'not-confirmed');
  const exitCode = checkExitCode(remaining > 0 || failed, !complete);

  if (structured) {
    const out: FinalizeOutput = {
      persistentVolumes: volumes.map(toOutput),
      ...(claims ? { persistentVolumeClaims: claimDiags.map(toOutput) } : {}),
      actions,
      ...(dryRun !== 'none' ? { dryRun } : {}),
      remaining,
      complete,
      warnings: read.warnings.lines,
    };
    return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode };
  }
  if (args.output === 'name') return { output: renderFinalizeNames(acting ? actions.filter((a) => a.result === 'finalized' || a.result === 'would-finalize') : all), exitCode };
  const tail = renderResults(actions, { remaining, complete, gaps: read.gaps, unknown: all.filter((d) => d.verdict === 'unknown').length }, c);
  return { output: streamed ? tail : head + tail, exitCode };
}

export const finalizeLocalPvCommand = defineCommand<FinalizeArgs>({
  command: 'finalize-localpv [names..]',
  describe: 'Explain why PersistentVolumes (local/hostPath) are stuck Terminating, and clear their finalizers safely',
  builder: (y) =>
    y
      .positional('names', { type: 'string', array: true, describe: 'PVs to finalize (NAME or pv/NAME); claims as pvc/NAME with --claims' })
      .option('all-safe', { type: 'boolean', default: false, describe: 'Finalize every stuck object whose verdict is safe (never one a pod uses)' })
      .option('force', { type: 'boolean', default: false, describe: 'Finalize the named objects even if a pod still uses them (the risk is printed)' })
      .option('claims', { type: 'boolean', default: false, describe: 'Also diagnose PVCs stuck Terminating (-n / -A scope)' })
      .option('all-types', { type: 'boolean', default: false, describe: 'Every PV type, not only local and hostPath' })
      .option('selector', { alias: 'l', type: 'string', describe: 'Only PVs (and claims) with these labels, e.g. app=web' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation' })
      .option('dry-run', {
        type: 'string',
        default: 'none',
        describe: 'none, client (print what would change) or server (also have the API server validate it)',
      })
      .example('kubectl sts finalize-localpv', 'Diagnose every local/hostPath PV stuck Terminating (exit 1 if any)')
      .example('kubectl sts finalize-localpv example-pv', 'Show the diff, ask, then remove the finalizers of example-pv')
      .example('kubectl sts finalize-localpv --all-safe --yes', 'Finalize every stuck PV that nothing uses any more')
      .example('kubectl sts finalize-localpv --claims -n test', 'Also explain claims stuck on kubernetes.io/pvc-protection in namespace test')
      .example('kubectl sts finalize-localpv example-pv --force --dry-run=server', 'What --force would do to a PV a pod still uses') as never,
  run: runFinalize,
});
