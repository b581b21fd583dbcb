/**
 * What the `kubectl sts rollout` forms share: API access (loaded lazily), reading and patching
 * the set with a resourceVersion precondition, confirmations, and the watch-based wait for the
 * pods of a partition.
 */
import { writeOne } from './change.js';
import type { Deps } from '../deps.js';
import type { DryRun, Kube, KubeClient, Source } from '../kube/index.js';
import type { KubeEvent, Pod, StatefulSet } from '../core/types.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { selectorToString } from '../core/labels.js';
import { formatDuration } from '../core/duration.js';
import { describePodState, lastEventLine, waitProgress, type WaitProgress, type WaitTarget } from '../core/rollout.js';
import { patchLanded } from '../core/patch-landed.js';
import { podDeletion } from '../core/pods.js';
import type { DeletePreconditions } from '../core/plan.js';
import { revisionsOf, setDrift, unknownRevision } from '../core/rollout-drift.js';
import type { GlobalArgs } from './command.js';

export type DryRunMode = DryRun;
export type KubeModule = typeof import('../kube/index.js');

export interface Ctx {
  kube: Kube;
  k: KubeModule;
  client: KubeClient;
  ns: string;
  name: string;
  stsPath: string;
  /** requestCount when the command started, to report what it cost. */
  startCount: number;
}

export async function context(args: GlobalArgs & { name?: string | undefined }, deps: Deps): Promise<Ctx> {
  if (!args.name) throw new UsageError('a StatefulSet name is required', ['Usage: kubectl sts rollout NAME --step [N] | --to P | --auto   (see kubectl sts rollout --help)']);
  if (args.allNamespaces) throw new UsageError('rollout works on one StatefulSet: use -n NAMESPACE instead of -A');
  const kube = await deps.kube();
  const k = await import('../kube/index.js');
  const ns = kube.namespace;
  return {
    kube,
    k,
    client: kube.client,
    ns,
    name: args.name,
    stsPath: k.resourcePath(k.Resources.statefulsets, { namespace: ns, name: args.name }),
    startCount: kube.client.requestCount,
  };
}

/**
 * Asks the API server (SelfSubjectAccessReview, one request per verb) for verbs a change needs
 * after its first write, so a missing one stops it with the forbidden error (verb, resource,
 * namespace) before anything is changed: e.g. `undo --force` never restores the template without
 * the right to delete the pods of the bad revision. The first write itself needs no check: its
 * own 403 comes before any change (and a step keeps its 4 requests).
 */
export type Right = readonly [verb: 'patch' | 'delete' | 'list' | 'watch', resource: 'statefulsets' | 'pods', name?: string];

export async function requireRights(ctx: Ctx, needs: readonly Right[]): Promise<void> {
  const { requireAccess } = await import('../kube/access.js');
  await requireAccess(
    ctx.client,
    needs.map(([verb, r, name]) => ({
      verb,
      resource: ctx.k.Resources[r],
      namespace: ctx.ns,
      ...(name ? { name } : r === 'statefulsets' && verb !== 'list' && verb !== 'watch' ? { name: ctx.name } : {}),
    })),
  );
}

export function requestsSince(ctx: Ctx): number {
  return ctx.client.requestCount - ctx.startCount;
}

export function podsPath(ctx: Ctx): string {
  return ctx.k.resourcePath(ctx.k.Resources.pods, { namespace: ctx.ns });
}

export function podQuery(sts: StatefulSet): { labelSelector: string } {
  return { labelSelector: selectorToString(sts.spec.selector) };
}

export async function listPods(ctx: Ctx, sts: StatefulSet): Promise<Pod[]> {
  return (await ctx.client.list<Pod>(podsPath(ctx), podQuery(sts))).items;
}

/** The set as a watch source, starting from `seen` (the set just read or written): no LIST of it. */
export function setSource(ctx: Ctx, seen: StatefulSet): Source {
  return {
    path: ctx.k.resourcePath(ctx.k.Resources.statefulsets, { namespace: ctx.ns }),
    query: { fieldSelector: `metadata.name=${ctx.name}` },
    from: { items: [seen], resourceVersion: seen.metadata.resourceVersion ?? '' },
  };
}

/**
 * Deletes one pod of the set through the mutation pipeline: the uid and resourceVersion it was
 * judged on (`judged`, from the command's LIST). On a conflict it is read again (a LIST by name:
 * no extra "get pods" right) and re-judged (core podDeletion): gone, replaced, or on a revision
 * for which `stale` no longer holds, it is left alone, with the reason.
 */
export async function deleteSetPod(
  ctx: Ctx,
  judged: Pod | undefined,
  p: { name: string; uid?: string | undefined },
  stale: (revision: string) => boolean,
  mode: 'none' | 'server',
): Promise<{ done: true } | { done: false; reason: string }> {
  const o = await writeOne<Pod | undefined, DeletePreconditions, unknown>(
    {
      read: async () => (await ctx.client.list<Pod>(podsPath(ctx), { fieldSelector: `metadata.name=${p.name}` })).items.find((x) => x.metadata.name === p.name),
      plan: (now) => podDeletion(p, now, stale),
      send: (preconditions, m) => ctx.client.delete(ctx.k.resourcePath(ctx.k.Resources.pods, { namespace: ctx.ns, name: p.name }), { preconditions, dryRun: m }),
      goneIsNone: `${p.name} is already gone`,
    },
    mode,
    judged,
  );
  return o.result === 'none' ? { done: false, reason: o.reason } : { done: true };
}

export { parseDryRun, durationFlag as parseDurationFlag } from './flags.js';

/** `-n NS` as the user should type it in a follow-up command. */
export function nsFlag(ctx: Ctx): string {
  return `-n ${ctx.ns}`;
}

/**
 * Read-modify-write of the set: `plan` sees the current object and returns the patch (or a
 * result that needs no patch); the patch carries metadata.resourceVersion, and a 409 re-reads
 * and re-plans (up to 5 times). A PATCH whose answer was lost (connection cut, 5xx) re-reads too:
 * if the change is there it counts as done, else it is re-planned and sent again under the new
 * resourceVersion. The first read is a getNamed (404 lists close names).
 */
export async function patchSet<P extends { patch?: Record<string, unknown> | undefined; type?: 'merge' | 'strategic' }>(
  ctx: Ctx,
  plan: (current: StatefulSet) => P,
  dryRun: DryRunMode,
  first?: StatefulSet,
): Promise<{ before: StatefulSet; after: StatefulSet | undefined; plan: P; body: Record<string, unknown> | undefined }> {
  let planned: P | undefined;
  const o = await writeOne<StatefulSet, { p: P; body: Record<string, unknown> }, StatefulSet>(
    {
      read: () => ctx.client.get<StatefulSet>(ctx.stsPath),
      plan: (cur) => {
        planned = plan(cur);
        if (!planned.patch) return { none: 'no patch' };
        const meta = (planned.patch.metadata as Record<string, unknown> | undefined) ?? {};
        return { write: { p: planned, body: { ...planned.patch, metadata: { ...meta, resourceVersion: cur.metadata.resourceVersion } } } };
      },
      send: (w, mode) => ctx.client.patch<StatefulSet>(ctx.stsPath, w.body, w.p.type ?? 'merge', mode),
      // The connection broke after the PATCH was sent: if it landed, it must not be applied twice.
      landed: (w, now, before) => now.metadata.resourceVersion !== before.metadata.resourceVersion && patchLanded(w.p.patch, now),
    },
    dryRun,
    first ?? (await ctx.client.getNamed<StatefulSet>(ctx.stsPath)),
  );
  if (o.result === 'none' || o.result === 'refused') return { before: o.state!, after: undefined, plan: planned!, body: undefined };
  const after = o.result === 'applied' ? (o.response ?? o.now) : o.result === 'accepted' ? o.response : undefined;
  return { before: o.state, after, plan: o.write.p, body: o.write.body };
}

export function isTimeout(e: unknown): boolean {
  return (e as { name?: string })?.name === 'WaitTimeoutError';
}

export function isAbort(e: unknown, deps: Deps): boolean {
  return deps.signal.aborted || (e as { name?: string })?.name === 'AbortError';
}

export type { WaitOutcome } from '../core/rollout-run.js';
import type { WaitOutcome } from '../core/rollout-run.js';

/**
 * Waits, by list+watch (no polling), until every pod in `target.ordinals` runs the update
 * revision and is available. `sts` is the patch response: when the controller had already
 * observed the template (only the partition changed), its updateRevision is final and only pods
 * are watched; otherwise the set is watched too. A spinner names the pod waited on.
 */
export async function waitForPartition(
  ctx: Ctx,
  deps: Deps,
  sts: StatefulSet,
  target: WaitTarget,
  o: { timeoutMs: number; templateObserved: boolean; label: string },
): Promise<WaitOutcome> {
  const started = deps.now();
  const spinner = await deps.spinner();
  let latest = sts;
  let last: WaitProgress | undefined;
  let lastPods: Pod[] = [];
  const text = (p: WaitProgress) =>
    `${o.label}: ${p.doneCount}/${p.total} updated${p.waitingOn ? `; waiting for ${p.waitingOn.name}: ${p.waitingOn.reason}` : ''}`;
  const knownRevisions = new Set<string>();
  let firstList = true;
  /** Reads the set (one GET) and reports a change by someone else since `sts`, our own write. */
  const drifted = async (): Promise<WaitOutcome | undefined> => {
    const now = await ctx.client.get<StatefulSet>(ctx.stsPath);
    const drift = setDrift(sts, now);
    if (!drift.length) return undefined;
    spinner.stop();
    return { kind: 'changed', sts: now, pods: lastPods, drift, waitedMs: deps.now() - started };
  };
  spinner.start(`${o.label}: waiting for ${target.ordinals.length} pods`);
  try {
    for (;;) {
      const remaining = o.timeoutMs ? o.timeoutMs - (deps.now() - started) : 0;
      if (o.timeoutMs && remaining <= 0) throw new ctx.k.WaitTimeoutError(o.timeoutMs);
      const decide = (snap: Record<string, Map<string, unknown>>) => {
        if (snap.sts) {
          const s = [...snap.sts.values()][0] as StatefulSet | undefined;
          if (s) latest = s;
          // Watching the set: a spec change by someone else shows here directly.
          if (s && setDrift(sts, s).length) return 'drift' as const;
        }
        lastPods = [...snap.pods!.values()] as Pod[];
        if (firstList) {
          for (const r of revisionsOf(lastPods)) knownRevisions.add(r);
          firstList = false;
        }
        const p = waitProgress(latest, lastPods, target, deps.now());
        last = p;
        spinner.update(text(p));
        if (p.done) return 'done' as const;
        // A pod on a revision nobody told us about: the template may have been changed by someone else.
        const odd = unknownRevision(latest, lastPods, knownRevisions);
        if (odd) {
          knownRevisions.add(odd);
          return 'check' as const;
        }
        // Every pod left is Ready and only minReadySeconds remains: no event will come, so sleep it out.
        if (p.availableAt !== undefined) return 'later' as const;
        return undefined;
      };
      const sources: Record<string, Source> = { pods: { path: podsPath(ctx), query: podQuery(sts) } };
      // The set as last seen (first: the patch response) is where its watch starts: no LIST.
      if (!o.templateObserved) sources.sts = setSource(ctx, latest);
      const r = await ctx.k.observe(ctx.client, sources, decide as never, { timeoutMs: remaining > 0 ? remaining : 0, signal: deps.signal });
      if (r === 'done') {
        spinner.stop();
        return { kind: 'done', sts: latest, pods: lastPods, waitedMs: deps.now() - started };
      }
      if (r === 'drift') {
        spinner.stop();
        return { kind: 'changed', sts: latest, pods: lastPods, drift: setDrift(sts, latest), waitedMs: deps.now() - started };
      }
      if (r === 'check') {
        const changed = await drifted();
        if (changed) return changed;
        continue;
      }
      const wait = Math.max(0, (last?.availableAt ?? deps.now()) - deps.now()) + 50;
      await deps.sleep(o.timeoutMs ? Math.min(wait, Math.max(1, o.timeoutMs - (deps.now() - started))) : wait, deps.signal);
    }
  } catch (e) {
    spinner.stop();
    if (isTimeout(e)) {
      // Stuck: was it someone else's change (a scale-down, a new template behind a stuck pod)? One GET, only here.
      const changed = await drifted().catch(() => undefined);
      if (changed) return changed;
      return { kind: 'timeout', sts: latest, pods: lastPods, waitingOn: last?.waitingOn, waitedMs: deps.now() - started };
    }
    if (isAbort(e, deps)) return { kind: 'interrupted', waitingOn: last?.waitingOn, waitedMs: deps.now() - started };
    throw e;
  }
}

/** Why a pod is stuck, with its newest event (one extra LIST, only on this failure path). */
export async function stuckDetail(ctx: Ctx, pod: Pod | undefined, podName: string, fallback: string): Promise<{ reason: string; lastEvent?: string | undefined }> {
  const reason = pod ? describePodState(pod) : fallback;
  try {
    const evs = await ctx.client.list<KubeEvent>(ctx.k.resourcePath(ctx.k.Resources.events, { namespace: ctx.ns }), {
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${podName}`,
    });
    const mine = pod?.metadata.uid ? evs.items.filter((e) => !e.involvedObject?.uid || e.involvedObject.uid === pod.metadata.uid) : evs.items;
    return { reason, lastEvent: lastEventLine(mine) };
  } catch {
    return { reason };
  }
}

export { formatDuration };
