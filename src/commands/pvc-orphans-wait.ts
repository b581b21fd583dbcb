/**
 * `pvc-orphans --delete` waits, as `kubectl delete` does, until what it deleted is gone from the
 * API (a watch, not polling). A claim still mounted by a pod stays Terminating behind
 * kubernetes.io/pvc-protection; a volume behind pv-protection while its claim exists. Whatever is
 * still there when --timeout passes is reported as `terminating`, with what holds it, and never
 * as `deleted`. With --wait=false nothing is waited for and an object whose delete response still
 * carries finalizers is reported as `terminating` too.
 */
import type { Deps } from '../deps.js';
import type { Kube, Source } from '../kube/index.js';
import type { KubeObject, Pod } from '../core/types.js';
import { holdersOf, pendingDeletions, type DeleteTarget } from '../core/orphans-delete.js';
import { formatDuration } from '../core/duration.js';
import type { DeleteOutcome } from '../render/orphans.js';
import { isForbidden } from '../errors.js';

type Snap = { claims: Map<string, KubeObject>; volumes: Map<string, KubeObject> };

function targetOf(r: DeleteOutcome, targets: DeleteTarget[]): DeleteTarget | undefined {
  return targets.find((t) => t.kind === r.kind && t.namespace === r.namespace && t.name === r.name);
}

/**
 * Updates `results` in place: every `deleted` entry that is still present (same uid) when the
 * wait ends becomes `terminating` with its holders. timeoutMs 0 waits as long as it takes.
 */
export async function waitUntilGone(kube: Kube, deps: Deps, results: DeleteOutcome[], targets: DeleteTarget[], o: { timeoutMs: number; wait: boolean; responses: Map<DeleteOutcome, KubeObject | undefined> }): Promise<void> {
  const deleted = results.filter((r) => r.status === 'deleted').map((r) => ({ r, kind: r.kind, namespace: r.namespace, name: r.name, uid: targetOf(r, targets)?.uid ?? '' }));
  if (!deleted.length) return;
  /** Without a wait, the delete responses are all there is: one still carrying finalizers is not gone. */
  const fromResponses = (why: string) => {
    for (const d of deleted) {
      const resp = o.responses.get(d.r);
      if (resp?.metadata?.finalizers?.length) {
        d.r.status = 'terminating';
        d.r.detail = `delete accepted, ${why}; ${holdersOf(resp, d.kind, [])}`;
      }
    }
  };
  if (!o.wait) return fromResponses('not waited for (--wait=false)');
  const { Resources, resourcePath, observe, WaitTimeoutError } = await import('../kube/index.js');
  const claimNamespaces = [...new Set(deleted.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => d.namespace))];
  const sources: Record<string, Source> = {};
  claimNamespaces.forEach((ns, i) => (sources[`claims${i}`] = { path: resourcePath(Resources.persistentvolumeclaims, { namespace: ns }) }));
  if (deleted.some((d) => d.kind === 'PersistentVolume')) sources.volumes = { path: resourcePath(Resources.persistentvolumes) };
  let last: Snap = { claims: new Map(), volumes: new Map() };
  const merge = (snap: Record<string, Map<string, KubeObject>>): Snap => {
    const claims = new Map<string, KubeObject>();
    for (const [k, m] of Object.entries(snap)) if (k !== 'volumes') for (const [key, obj] of m) claims.set(key, obj);
    return { claims, volumes: snap.volumes ?? new Map() };
  };
  const spinner = await deps.spinner();
  spinner.start(`Waiting for ${deleted.length} deleted object${deleted.length === 1 ? '' : 's'} to be gone`);
  try {
    await observe(
      kube.client,
      sources,
      (snap) => {
        last = merge(snap);
        return pendingDeletions(deleted, last).length === 0 ? true : undefined;
      },
      { timeoutMs: o.timeoutMs, signal: deps.signal },
    );
    return;
  } catch (e) {
    if (isForbidden(e)) {
      // May delete but not list/watch: the deletes stand; say the wait could not be made.
      deps.log(`warning: could not wait for the deletions to finish: ${(e as Error).message}`);
      return fromResponses('not waited for (list/watch forbidden)');
    }
    if (!(e instanceof WaitTimeoutError)) throw e;
  } finally {
    spinner.stop();
  }
  const pending = pendingDeletions(deleted, last);
  const podNamespaces = [...new Set(pending.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => d.namespace))];
  const pods: Pod[] = [];
  for (const ns of podNamespaces) pods.push(...(await kube.client.list<Pod>(resourcePath(Resources.pods, { namespace: ns }))).items);
  for (const d of pending) {
    const live = (d.kind === 'PersistentVolumeClaim' ? last.claims.get(`${d.namespace}/${d.name}`) : last.volumes.get(`/${d.name}`))!;
    d.r.status = 'terminating';
    d.r.detail = `still there after ${formatDuration(o.timeoutMs)}: ${holdersOf(live, d.kind, pods)}`;
  }
}
