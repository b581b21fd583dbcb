/** Facts about pods and StatefulSet identities shared by several commands. Pure. */
import type { Pod, PersistentVolumeClaim, StatefulSet } from './types.js';
import { selectorMatches } from './labels.js';
import { preconditionsOf, type DeletePreconditions, type Planned } from './plan.js';

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

export function podCondition(pod: Pod, type: string) {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** Ready as kubectl and the StatefulSet controller see it: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds at `now` (the controller's notion of available). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && now - since >= minReadySeconds * 1000;
}

export function isTerminating(o: { metadata: { deletionTimestamp?: string } }): boolean {
  return Boolean(o.metadata.deletionTimestamp);
}

export function restartCount(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/** The ordinal of pod `<set>-<n>` of set `<set>`, or undefined if the name is not of that form. */
export function ordinalOf(podName: string, setName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** Whether the pod is owned (controller reference) by this StatefulSet. */
export function ownedBy(o: { metadata: { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] } }, sts: StatefulSet): boolean {
  return (o.metadata.ownerReferences ?? []).some(
    (r) => r.kind === 'StatefulSet' && r.controller && (sts.metadata.uid ? r.uid === sts.metadata.uid : r.name === sts.metadata.name),
  );
}

/** The set's ordinal range [start, start + replicas). */
export function ordinalRange(sts: StatefulSet): { start: number; end: number } {
  const start = sts.spec.ordinals?.start ?? 0;
  return { start, end: start + (sts.spec.replicas ?? 1) };
}

/**
 * Names of the claims a pod mounts: its persistentVolumeClaim volumes, and its generic ephemeral
 * volumes, whose claims the ephemeral-volume controller names `<pod>-<volume>`. The one
 * definition every command uses (orphans, finalizers, deletes).
 */
export function claimsOfPod(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec.volumes ?? []) {
    if (v.persistentVolumeClaim) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata.name}-${v.name}`);
  }
  return out;
}

/**
 * The set's pods among `pods`, sorted by ordinal: named `<set>-<ordinal>` and controlled by the
 * set — or, with no controller reference at all, matching its selector (what the StatefulSet
 * controller would adopt). A pod controlled by anything else is never the set's. Terminating
 * pods are included; callers that must skip them say so. The one definition every command uses.
 */
export function podsOfSet(sts: StatefulSet, pods: Pod[]): Pod[] {
  const name = sts.metadata.name;
  return pods
    .filter((p) => {
      if (p.metadata.namespace && sts.metadata.namespace && p.metadata.namespace !== sts.metadata.namespace) return false;
      if (ordinalOf(p.metadata.name, name) === undefined) return false;
      const controller = (p.metadata.ownerReferences ?? []).find((r) => r.controller);
      if (controller) return ownedBy(p, sts);
      return selectorMatches(sts.spec.selector, p.metadata.labels);
    })
    .sort((a, b) => ordinalOf(a.metadata.name, name)! - ordinalOf(b.metadata.name, name)!);
}

/** podsOfSet keyed by ordinal. */
export function podsByOrdinal(sts: StatefulSet, pods: Pod[]): Map<number, Pod> {
  return new Map(podsOfSet(sts, pods).map((p) => [ordinalOf(p.metadata.name, sts.metadata.name)!, p]));
}

/** Map "namespace/claim" -> pods (any phase) that mount it. */
export function claimUsers(pods: Pod[]): Map<string, Pod[]> {
  const m = new Map<string, Pod[]>();
  for (const p of pods) {
    for (const c of claimsOfPod(p)) {
      const k = `${p.metadata.namespace ?? ''}/${c}`;
      const list = m.get(k);
      if (list) list.push(p);
      else m.set(k, [p]);
    }
  }
  return m;
}

/** A pod still uses its volumes unless it has finished (Succeeded/Failed). */
export function podHoldsVolumes(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** The claim name the StatefulSet controller gives ordinal `n` for template `tpl`: `<tpl>-<set>-<n>`. */
export function claimNameFor(template: string, setName: string, ordinal: number): string {
  return `${template}-${setName}-${ordinal}`;
}

/** Storage quantity of a claim (status capacity once bound, else the request). */
export function claimCapacity(pvc: PersistentVolumeClaim): string {
  return pvc.status?.capacity?.storage ?? pvc.spec.resources?.requests?.storage ?? '';
}

/**
 * Re-judges a pod planned for deletion against what was just read: it is deleted only if it is
 * still the pod that was judged (same uid) and `stale(revision)` still holds for the revision it
 * runs; the delete carries that read's uid and resourceVersion. A pod that is gone, was replaced or
 * moved to another revision is left alone. Pure.
 */
export function podDeletion(judged: { name: string; uid?: string | undefined }, now: Pod | undefined, stale: (revision: string) => boolean): Planned<DeletePreconditions> {
  if (!now) return { none: `${judged.name} is already gone` };
  if (isTerminating(now)) return { none: `${judged.name} is already being deleted` };
  if (judged.uid && now.metadata.uid !== judged.uid) return { none: `${judged.name} was replaced meanwhile (new uid)` };
  const rev = now.metadata.labels?.[REVISION_LABEL] ?? '';
  if (!stale(rev)) return { none: `${judged.name} runs revision ${rev || '<none>'} now` };
  return { write: preconditionsOf(now) };
}
