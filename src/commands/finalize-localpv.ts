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
import type { Deps } from '../deps.js';
import type { Kube } from '../kube/index.js';
import { AbortedError, CliError, ExitCode, UsageError, isConflict, isNotFound } from '../errors.js';
import type { LabelSelector, Node, PersistentVolume, PersistentVolumeClaim, Pod } from '../core/types.js';
import { parseSelector } from '../core/labels.js';
import { closestNames } from '../core/names.js';
import {
  diagnoseClaims,
  diagnoseVolumes,
  keyOf,
  planFinalize,
  stillAllowed,
  type Diagnosis,
  type FinalizeInputs,
  type PlanItem,
} from '../core/finalize.js';
import {
  makeAction,
  refOf,
  renderAction,
  renderClaimTable,
  renderDetails,
  renderNothingStuck,
  renderPlanned,
  renderVolumeTable,
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

const MAX_ATTEMPTS = 5;

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

async function readCluster(kube: Kube): Promise<FinalizeInputs> {
  const { Resources, resourcePath } = await import('../kube/resources.js');
  const [pvs, pvcs, pods, nodes] = await Promise.all([
    kube.client.list<PersistentVolume>(resourcePath(Resources.persistentvolumes)),
    kube.client.list<PersistentVolumeClaim>(resourcePath(Resources.persistentvolumeclaims)),
    kube.client.list<Pod>(resourcePath(Resources.pods)),
    kube.client.list<Node>(resourcePath(Resources.nodes)),
  ]);
  return { pvs: pvs.items, pvcs: pvcs.items, pods: pods.items, nodes: nodes.items };
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

/** Removes the finalizers of one planned object, guarded by the resourceVersion read; re-diagnoses on conflict. */
async function finalizeOne(
  kube: Kube,
  item: PlanItem,
  o: { dryRun: DryRunFlag; force: boolean; named: boolean; scope: Scope; now: () => number },
): Promise<ActionOutput> {
  const res = await import('../kube/resources.js');
  let d = item.diagnosis;
  const removed = () => d.finalizers.map((f) => f.name).join(', ');
  if (o.dryRun === 'client') return makeAction(d, 'would-finalize', `would remove ${removed()} (dry run)`);
  for (let attempt = 1; ; attempt++) {
    const body = { metadata: { finalizers: null, resourceVersion: d.resourceVersion } };
    try {
      await kube.client.patch(objectPath(res, d), body, 'merge', o.dryRun === 'server' ? 'server' : 'none');
      if (o.dryRun === 'server') return makeAction(d, 'would-finalize', `the server accepted removing ${removed()} (dry run)`, attempt);
      return makeAction(d, 'finalized', `removed ${removed()}; the API server deletes it now`, attempt);
    } catch (e) {
      if (isNotFound(e)) return makeAction(d, 'gone', 'already deleted', attempt);
      if (!isConflict(e)) return makeAction(d, 'failed', (e as Error).message, attempt);
      if (attempt >= MAX_ATTEMPTS) return makeAction(d, 'failed', `it kept changing while being finalized (${attempt} conflicts); run the command again`, attempt);
      // It changed since it was read: read everything again and decide afresh.
      const fresh = diagnoseAll(await readCluster(kube), { ...o.scope, onlyNamed: false }, o.now());
      const again = [...fresh.volumes, ...fresh.claims].find((x) => keyOf(x) === keyOf(d));
      if (!again || again.finalizers.length === 0) {
        return makeAction(d, 'gone', 'its finalizers were removed by their controllers meanwhile', attempt);
      }
      if (!stillAllowed(again, { force: o.force, named: o.named })) {
        return makeAction(again, 'refused', `changed while being finalized and is no longer safe: ${again.reason}`, attempt);
      }
      d = again;
    }
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
  let inputs: FinalizeInputs;
  try {
    inputs = await readCluster(kube);
  } finally {
    spinner.stop();
  }
  checkNamed(inputs, scope);
  const { volumes, claims: claimDiags } = diagnoseAll(inputs, scope, deps.now());
  const all = [...volumes, ...claimDiags];
  const c = deps.color;
  const structured = isStructured(args.output);

  // The diagnosis.
  let head = '';
  if (all.length === 0) head += renderNothingStuck(args.allTypes, claims);
  else {
    if (volumes.length) head += renderVolumeTable(volumes, c);
    else head += renderNothingStuck(args.allTypes, false);
    if (claimDiags.length) head += `\n${renderClaimTable(claimDiags, c)}`;
    else if (claims) head += '\nNo PersistentVolumeClaim in scope is stuck Terminating.\n';
    for (const d of all) head += `\n${renderDetails(d, c)}`;
  }

  const named = new Set([...targets.pvs.map((n) => `persistentvolume/${n}`), ...targets.claims.map((n) => `persistentvolumeclaim/${scope.claimNamespace}/${n}`)]);
  const plan = acting ? planFinalize(all, { named, allSafe: args.allSafe, force: args.force }) : [];
  const toFinalize = plan.filter((p) => p.decision === 'finalize');
  const actions: ActionOutput[] = plan.filter((p) => p.decision === 'refuse').map((p) => makeAction(p.diagnosis, 'refused', p.why));

  if (acting) {
    if (toFinalize.length) {
      head += `\n${c.bold(dryRun === 'none' ? 'Changes:' : `Changes (dry run, ${dryRun}):`)}\n`;
      for (const p of toFinalize) head += renderPlanned(p.diagnosis, p.diagnosis.risks, c);
    } else if (plan.length === 0) {
      head += args.allSafe ? '\nNothing is safe to finalize with --all-safe.\n' : '\nNothing to finalize.\n';
    }
  }

  // Confirmation: shown the diffs first (table output), and asked with the exact list.
  let streamed = false;
  let confirmed = dryRun !== 'none' || args.yes || toFinalize.length === 0;
  if (!confirmed) {
    if (!deps.interactive) {
      deps.log('error: refusing to remove finalizers without confirmation: there is no terminal to ask on; pass --yes');
    } else {
      if (!structured && args.output !== 'name') {
        deps.write(head);
        streamed = true;
      }
      confirmed = await deps.confirm(confirmQuestion(toFinalize));
      if (!confirmed) throw new AbortedError('nothing was changed: the finalizers were not removed', ['Pass --yes to skip the question.']);
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
  const exitCode = remaining > 0 || failed ? ExitCode.Problems : ExitCode.Ok;

  if (structured) {
    const out: FinalizeOutput = {
      persistentVolumes: volumes.map(toOutput),
      ...(claims ? { persistentVolumeClaims: claimDiags.map(toOutput) } : {}),
      actions,
      ...(dryRun !== 'none' ? { dryRun } : {}),
      remaining,
    };
    return { output: renderStructured(out, args.output as 'json' | 'yaml'), exitCode };
  }
  if (args.output === 'name') {
    // kubectl's -o name: kind/name (a claim's namespace is the -n in effect).
    const name = (o: { kind: Diagnosis['kind']; name: string }) => `${o.kind === 'PersistentVolume' ? 'persistentvolume' : 'persistentvolumeclaim'}/${o.name}`;
    const names = acting ? actions.filter((a) => a.result === 'finalized' || a.result === 'would-finalize').map(name) : all.map(name);
    return { output: names.map((n) => `${n}\n`).join(''), exitCode };
  }
  let tail = '';
  if (actions.length) {
    tail += `\n${c.bold('Results:')}\n`;
    for (const a of actions) tail += renderAction(a, c);
  }
  if (remaining > 0) tail += `\n${remaining} object${remaining > 1 ? 's' : ''} still stuck Terminating.\n`;
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
