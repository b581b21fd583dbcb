/**
 * `kubectl sts pvc-orphans` (alias `cleanup-pv`): lists the claims StatefulSets left behind
 * (scale-down, raised start ordinal, deleted or deleting sets) and Released volumes whose claim
 * is gone; with --delete removes them after a confirmation, re-checking each claim right
 * before its delete and deleting with uid/resourceVersion preconditions.
 *
 * Detection reads exactly four paginated LISTs (statefulsets, persistentvolumeclaims, pods,
 * persistentvolumes) whatever the number of objects; no per-object GET.
 */
import { defineCommand, type CommandResult, type GlobalArgs } from './command.js';
import { durationFlag, parseDryRun } from './flags.js';
import { waitUntilGone } from './pvc-orphans-wait.js';
import { confirmChange, MAX_ATTEMPTS, writeOne } from './change.js';
import type { Deps } from '../deps.js';
import type { DryRun, Kube } from '../kube/index.js';
import { AbortedError, CliError, ExitCode, KubeApiError, UsageError, checkExitCode, isConflict, isForbidden, isNotFound } from '../errors.js';
import { newWarnings, readOptional, type Warnings } from '../kube/optional.js';
import type { KubeObject, LabelSelector, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../core/types.js';
import { detectOrphans, type OrphanFinding, type OrphanResult } from '../core/orphans.js';
import { orphanProjections as project } from '../core/projections.js';
import { claimDeletion, confirmationText, planDeletion, shortKind, volumeDeletion, type DeleteTarget } from '../core/orphans-delete.js';
import type { DeletePreconditions } from '../core/plan.js';
import { parseSelector } from '../core/labels.js';
import { parseDuration } from '../core/duration.js';
import { closestNames } from '../core/names.js';
import { renderStructured } from '../render/output.js';
import {
  PODS_GAP,
  findingsFooter,
  renderDeletionTable,
  renderFindingsTable,
  renderNames,
  type DeleteOutcome,
  type PvcOrphansOutput,
} from '../render/orphans.js';

export type DryRunMode = DryRun;

export interface PvcOrphansArgs {
  sts?: string | undefined;
  selector?: string | undefined;
  olderThan?: string | undefined;
  delete: boolean;
  includePvs: boolean;
  yes: boolean;
  dryRun?: string | undefined;
  wait: boolean;
  timeout: string;
}

/** --older-than: a Go duration (72h, 90m) or whole days (7d, 1d12h). */
export function parseAge(text: string): number {
  const m = /^(\d+)d(.*)$/.exec(text.trim());
  if (m) return Number(m[1]) * 86_400_000 + (m[2] ? parseDuration(m[2]) : 0);
  return parseDuration(text);
}


interface Validated {
  timeoutMs: number;
  selector: LabelSelector | undefined;
  olderThanMs: number | undefined;
  dryRun: DryRunMode;
}

function validate(args: PvcOrphansArgs & GlobalArgs): Validated {
  const dryRun = parseDryRun(args.dryRun);
  if (!args.delete) {
    const stray = [args.yes && '--yes', args.includePvs && '--include-pvs', dryRun !== 'none' && '--dry-run'].filter(Boolean);
    if (stray.length) throw new UsageError(`${stray.join(', ')} only appl${stray.length === 1 ? 'ies' : 'y'} with --delete`, ['Add --delete to remove what is listed.']);
  }
  let selector: LabelSelector | undefined;
  if (args.selector !== undefined) {
    try {
      selector = parseSelector(args.selector);
    } catch (e) {
      throw new UsageError(`invalid --selector: ${(e as Error).message}`, ['Use the kubectl syntax, e.g. -l app=web or -l \'tier in (db,cache)\'.']);
    }
  }
  let olderThanMs: number | undefined;
  if (args.olderThan !== undefined) {
    try {
      olderThanMs = parseAge(args.olderThan);
    } catch (e) {
      throw new UsageError(`invalid --older-than: ${(e as Error).message}`, ['Examples: --older-than 36h, --older-than 7d.']);
    }
  }
  return { selector, olderThanMs, dryRun, timeoutMs: durationFlag('timeout', args.timeout) };
}

interface Fetched {
  /** undefined: forbidden (skipped, with a warning). */
  statefulSets: StatefulSet[] | undefined;
  claims: PersistentVolumeClaim[];
  pods: Pod[] | undefined;
  volumes: PersistentVolume[] | undefined;
  warnings: Warnings;
  /** What could not be read, in a few words each, for the table's footer. */
  gaps: string[];
}

async function paths() {
  return import('../kube/resources.js');
}

const NARROW = 'to check one namespace you may read, use -n NAMESPACE';

/**
 * The four LISTs detection needs (all pages of each), in parallel, each item projected to the
 * fields pvc-orphans reads as its page arrives (core/projections.ts). Claims are required; a
 * forbidden list of StatefulSets, pods or PersistentVolumes (cluster-scoped: a namespace-scoped
 * identity never may) is skipped with a warning, and what depends on it is left undecided.
 */
async function fetchAll(kube: Kube, namespace: string | undefined): Promise<Fetched> {
  const { Resources, resourcePath } = await paths();
  const warnings = newWarnings();
  const allNs = namespace === undefined ? ` (${NARROW})` : '';
  const claimsRead = kube.client.list<PersistentVolumeClaim>(resourcePath(Resources.persistentvolumeclaims, { namespace }), {}, undefined, project.claims).catch((e: unknown) => {
    if (isForbidden(e) && namespace === undefined) {
      const k = e as KubeApiError;
      throw new CliError(k.message, ExitCode.Problems, [...k.hints, `Listing claims across all namespaces is not allowed for you: ${NARROW}.`]);
    }
    throw e;
  });
  const [statefulSets, claims, pods, volumes] = await Promise.all([
    readOptional(
      () => kube.client.list<StatefulSet>(resourcePath(Resources.statefulsets, { namespace }), {}, undefined, project.statefulSets),
      warnings,
      `StatefulSet checks skipped, so claims of StatefulSets cannot be told from orphans${allNs}`,
    ),
    claimsRead,
    readOptional(
      () => kube.client.list<Pod>(resourcePath(Resources.pods, { namespace }), {}, undefined, project.pods),
      warnings,
      `pod checks skipped, so no claim is known to be unused: orphans are unconfirmed candidates and --delete removes none${allNs}`,
    ),
    readOptional(
      () => kube.client.list<PersistentVolume>(resourcePath(Resources.persistentvolumes), {}, undefined, project.volumes),
      warnings,
      'volume checks skipped (PersistentVolumes are cluster-scoped): reclaim policies are unknown and Released volumes were not looked for',
    ),
  ]);
  const gaps: string[] = [];
  // Nothing at all in the namespace: a typo in -n must not read as "no orphans" (asked only then).
  if (namespace !== undefined && !claims.items.length && !statefulSets?.items.length && !pods?.items.length && (await kube.client.namespaceMissing(namespace))) {
    warnings.lines.push(`nothing was checked: ${kube.client.missingNamespaceText(namespace)}`);
    gaps.push(`namespace ${namespace} does not exist`);
  }
  if (!statefulSets) gaps.push('StatefulSets could not be read');
  if (!pods) gaps.push(PODS_GAP);
  if (!volumes) gaps.push('PersistentVolumes could not be read');
  return { statefulSets: statefulSets?.items, claims: claims.items, pods: pods?.items, volumes: volumes?.items, warnings, gaps };
}

/** The command line that deletes what this run found. */
function cleanupCommand(args: PvcOrphansArgs & GlobalArgs, namespace: string | undefined, findings: OrphanFinding[]): string {
  const parts = ['kubectl sts pvc-orphans', namespace === undefined ? '-A' : `-n ${namespace}`];
  if (args.sts) parts.push(`--sts ${args.sts}`);
  if (args.selector) parts.push(`-l '${args.selector}'`);
  if (args.olderThan) parts.push(`--older-than ${args.olderThan}`);
  parts.push('--delete');
  if (findings.some((f) => f.kind === 'PersistentVolume')) parts.push('--include-pvs');
  return parts.join(' ');
}

function report(args: PvcOrphansArgs & GlobalArgs, namespace: string | undefined, result: OrphanResult, data: Fetched): PvcOrphansOutput {
  return {
    kind: 'PvcOrphanReport',
    namespace: namespace ?? null,
    filters: { statefulSet: args.sts ?? null, selector: args.selector ?? null, olderThan: args.olderThan ?? null },
    complete: data.gaps.length === 0,
    warnings: data.warnings.lines,
    summary: result.summary,
    findings: result.findings,
  };
}

/** Runs the plan: per claim a fresh look at its namespace's pods and sets, then a delete with preconditions. */
async function executePlan(
  kube: Kube,
  deps: Deps,
  targets: DeleteTarget[],
  claims: Map<string, PersistentVolumeClaim>,
  dryRun: DryRunMode,
  responses: Map<DeleteOutcome, KubeObject | undefined> = new Map(),
): Promise<DeleteOutcome[]> {
  const { Resources, resourcePath } = await paths();
  const results: DeleteOutcome[] = [];
  const deletedClaims = new Set<string>();
  const spinner = await deps.spinner();
  spinner.start(`Deleting ${targets.length} object${targets.length === 1 ? '' : 's'}`);
  try {
    for (const [i, t] of targets.entries()) {
      const out = (status: DeleteOutcome['status'], detail = ''): void =>
        void results.push({ kind: t.kind, namespace: t.namespace, name: t.name, status, detail, leavesBehind: t.leavesBehind });
      if (deps.signal.aborted) {
        out('notAttempted', 'interrupted');
        continue;
      }
      spinner.update(`Deleting ${shortKind(t.kind)}/${t.name} (${i + 1}/${targets.length})`);
      const key = `${t.namespace}/${t.name}`;
      if (t.role === 'volumeOfClaim' && !deletedClaims.has(t.afterClaim!)) {
        out('notAttempted', `its claim ${t.afterClaim} was not deleted`);
        continue;
      }
      const isClaim = t.kind === 'PersistentVolumeClaim';
      const path = isClaim
        ? resourcePath(Resources.persistentvolumeclaims, { namespace: t.namespace, name: t.name })
        : resourcePath(Resources.persistentvolumes, { name: t.name });
      const byName = { fieldSelector: `metadata.name=${t.name}` };
      const named = (o: KubeObject) => o.metadata.name === t.name;
      try {
        // The mutation pipeline: read right before the delete (a claim with its namespace's pods
        // and sets, re-checked as orphaned), delete with that read's uid + resourceVersion, and on
        // a conflict read and judge again.
        const o = await writeOne<{ obj: KubeObject | undefined; pods: Pod[]; sets: StatefulSet[] }, DeletePreconditions, KubeObject>(
          {
            read: async () => {
              if (!isClaim) return { obj: (await kube.client.list<PersistentVolume>(resourcePath(Resources.persistentvolumes), byName)).items.find(named), pods: [], sets: [] };
              const [obj, pods, sets] = await Promise.all([
                kube.client.list<PersistentVolumeClaim>(resourcePath(Resources.persistentvolumeclaims, { namespace: t.namespace }), byName),
                kube.client.list<Pod>(resourcePath(Resources.pods, { namespace: t.namespace })),
                kube.client.list<StatefulSet>(resourcePath(Resources.statefulsets, { namespace: t.namespace })),
              ]);
              return { obj: obj.items.find(named), pods: pods.items, sets: sets.items };
            },
            plan: (st) =>
              isClaim
                ? claimDeletion(t, st.obj as PersistentVolumeClaim | undefined, { pods: st.pods, statefulSets: st.sets, now: deps.now() })
                : volumeDeletion(t, st.obj as PersistentVolume | undefined),
            send: (preconditions, mode) => kube.client.delete<KubeObject>(path, { preconditions, dryRun: mode }),
            goneIsNone: 'already gone',
          },
          dryRun,
        );
        if (o.result === 'none' || o.result === 'refused') {
          out('skipped', o.reason);
          continue;
        }
        out('deleted');
        if (o.result !== 'planned') responses.set(results[results.length - 1]!, o.response);
        if (isClaim) deletedClaims.add(key);
      } catch (e) {
        if (deps.signal.aborted) out('notAttempted', 'interrupted while it was being deleted: it may or may not have reached the API server');
        else if (isConflict(e)) out('skipped', `kept changing while being deleted (${MAX_ATTEMPTS} conflicts); run again to re-check it`);
        else out('failed', e instanceof Error ? e.message : String(e));
      }
    }
  } finally {
    spinner.stop();
  }
  return results;
}

export const pvcOrphansCommand = defineCommand<PvcOrphansArgs>({
  command: 'pvc-orphans',
  aliases: ['cleanup-pv'],
  describe: 'Find (and with --delete remove) claims and Released volumes that StatefulSets left behind',
  builder: (y) =>
    y
      .option('sts', { type: 'string', describe: 'Only the claims of this StatefulSet (existing, or deleted)' })
      .option('selector', { alias: 'l', type: 'string', describe: 'Only claims whose labels match (kubectl -l syntax)' })
      .option('older-than', { type: 'string', describe: 'Only claims created (volumes released) at least this long ago, e.g. 36h, 7d' })
      .option('delete', { type: 'boolean', default: false, describe: 'Delete the claims found, after a confirmation' })
      .option('include-pvs', { type: 'boolean', default: false, describe: 'With --delete: also delete Released volumes and the Retain volumes of deleted claims' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'With --delete: do not ask for confirmation' })
      .option('dry-run', { type: 'string', describe: 'With --delete: client (show what would be deleted) or server (let the API server validate the deletes)' })
      .option('wait', { type: 'boolean', default: true, describe: 'With --delete: wait until the deleted objects are gone, like kubectl delete (--wait=false returns at once)' })
      .option('timeout', { type: 'string', default: '1m', describe: 'With --delete: how long to wait for them (0: no limit); what is still there is reported as terminating, with what holds it' })
      .option('all-contexts', { type: 'boolean', default: false, describe: 'Without --delete: run against every context of the kubeconfig at once (or name several: --context a,b,c)' })
      .example('kubectl sts pvc-orphans -n shop', 'List the orphaned claims (and Released volumes) in namespace shop')
      .example('kubectl sts pvc-orphans -A -o wide', 'Everywhere, with retention policy, storage class and evidence')
      .example('kubectl sts pvc-orphans -n shop --sts web --delete', "Delete web's leftover claims after confirming")
      .example('kubectl sts cleanup-pv -n shop --delete --include-pvs --yes', 'Also remove Released volumes, without asking')
      .example('kubectl sts pvc-orphans -A --older-than 7d --delete --dry-run=server', 'Preview deleting week-old orphans') as never,
  fleet: { refuse: (a) => (a.delete ? '--delete cannot be used' : undefined) },
  run: async (args, deps): Promise<CommandResult> => {
    const v = validate(args);
    const kube = await deps.kube();
    const namespace = args.allNamespaces ? undefined : (args.namespace ?? kube.namespace);
    const spinner = await deps.spinner();
    spinner.start('Listing StatefulSets, claims, pods and volumes');
    let data: Fetched;
    try {
      data = await fetchAll(kube, namespace);
    } finally {
      spinner.stop();
    }
    const listRequests = kube.client.requestCount;
    for (const w of data.warnings.lines) deps.log(`warning: ${w}`);
    const result = detectOrphans({ ...data, namespace, now: deps.now() }, { statefulSet: args.sts, selector: v.selector, olderThanMs: v.olderThanMs });
    if (args.verbose >= 1) {
      for (const k of result.kept) if (k.why !== 'notStatefulSet') deps.log(`kept ${k.namespace}/${k.name}: ${k.detail}`);
      const n = (l: unknown[] | undefined) => (l ? String(l.length) : 'no (forbidden)');
      deps.log(`pvc-orphans: ${listRequests} API requests to list ${n(data.statefulSets)} StatefulSets, ${data.claims.length} claims, ${n(data.pods)} pods, ${n(data.volumes)} volumes`);
    }
    const out = report(args, namespace, result, data);
    const confirmed = result.findings.filter((f) => f.confirmed).length;
    const allNs = namespace === undefined;
    const notes: string[] = [];
    if (args.sts && data.statefulSets && !result.findings.length && !data.statefulSets.some((s) => s.metadata.name === args.sts)) {
      const near = closestNames(args.sts, new Set(data.statefulSets.map((s) => s.metadata.name)));
      notes.push(`Note: no StatefulSet named ${args.sts} exists here${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}, and no claim looks like one of its.`);
    }

    if (!args.delete || !result.findings.length) {
      // Candidates that could not be confirmed are not problems found; an incomplete check exits 4.
      const exitCode = checkExitCode(confirmed > 0, !out.complete);
      if (args.output === 'json' || args.output === 'yaml') return { output: renderStructured(out, args.output), exitCode };
      // -o name feeds scripts (xargs kubectl delete): only confirmed orphans, never a candidate a pod may mount.
      if (args.output === 'name') return { output: renderNames(result.findings.filter((f) => f.confirmed)), exitCode };
      const table = result.findings.length ? renderFindingsTable(result.findings, { wide: args.output === 'wide', allNamespaces: allNs }) : '';
      const footer = findingsFooter(out, cleanupCommand(args, namespace, result.findings), data.gaps);
      return { output: table + footer + notes.map((n) => `${n}\n`).join(''), exitCode };
    }

    const plan = planDeletion(result.findings, data.volumes, args.includePvs);
    if (args.includePvs && !data.volumes) {
      deps.log('warning: --include-pvs: the PersistentVolumes could not be read, so no volume is deleted (only claims)');
    }
    if (plan.targets.length && v.dryRun !== 'client') {
      // Every verb the deletion needs, asked before the first delete: a missing one stops it whole.
      const { Resources } = await paths();
      const { requireAccess } = await import('../kube/access.js');
      await requireAccess(
        kube.client,
        plan.targets.flatMap((t): import('../kube/access.js').AccessNeed[] =>
          t.kind === 'PersistentVolumeClaim'
            ? [
                { verb: 'delete', resource: Resources.persistentvolumeclaims, namespace: t.namespace, name: t.name },
                { verb: 'list', resource: Resources.persistentvolumeclaims, namespace: t.namespace },
                { verb: 'list', resource: Resources.pods, namespace: t.namespace },
                { verb: 'list', resource: Resources.statefulsets, namespace: t.namespace },
              ]
            : [
                { verb: 'delete', resource: Resources.persistentvolumes, name: t.name },
                { verb: 'list', resource: Resources.persistentvolumes },
              ],
        ),
      );
    }
    if (plan.targets.length) {
      const text = confirmationText(plan).split('\n');
      await confirmChange(deps, { action: `delete ${plan.targets.length} object(s)`, lines: text.slice(0, -1), question: text[text.length - 1]!, yes: args.yes, dryRun: v.dryRun });
    }
    const claims = new Map<string, PersistentVolumeClaim>(data.claims.map((c) => [`${c.metadata.namespace ?? ''}/${c.metadata.name}`, c]));
    const responses = new Map<DeleteOutcome, KubeObject | undefined>();
    const results = await executePlan(kube, deps, plan.targets, claims, v.dryRun, responses);
    // Ctrl-C during the deletes: what was deleted and what was not is the answer (exit 130).
    const interrupted = deps.signal.aborted;
    if (v.dryRun === 'none' && !interrupted) await waitUntilGone(kube, deps, results, plan.targets, { timeoutMs: v.timeoutMs, wait: args.wait, responses });
    out.deletion = {
      dryRun: v.dryRun,
      includePvs: args.includePvs,
      results,
      notIncluded: plan.notIncluded.map((f) => ({ kind: f.kind, namespace: f.namespace, name: f.name })),
      unconfirmed: plan.unconfirmed.map((f) => ({ kind: f.kind, namespace: f.namespace, name: f.name })),
    };
    const everythingGone =
      v.dryRun === 'none' && plan.notIncluded.length === 0 && plan.unconfirmed.length === 0 && results.every((r) => r.status === 'deleted');
    // Everything found was deleted, but what could not be read was not looked at: 4, not 0.
    const exitCode = interrupted ? ExitCode.Interrupted : checkExitCode(!everythingGone, !out.complete);
    if (interrupted) {
      const done = results.filter((r) => r.status === 'deleted').length;
      deps.log(`interrupted: ${done} of ${results.length} deleted; the rest were not attempted (see the table); run the command again to re-check what is left`);
    }
    if (args.verbose >= 1) deps.log(`pvc-orphans: ${kube.client.requestCount} API requests in all`);
    if (args.output === 'json' || args.output === 'yaml') return { output: renderStructured(out, args.output), exitCode };
    if (args.output === 'name') return { output: renderNames(results.filter((r) => r.status === 'deleted')), exitCode };
    return { output: renderDeletionTable(out.deletion, { allNamespaces: allNs, color: deps.color, gaps: data.gaps }), exitCode };
  },
});
