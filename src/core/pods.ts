/** Facts about pods and StatefulSet identities shared by several commands. Pure. */
import type { Pod, PersistentVolumeClaim, StatefulSet } from './types.js';

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

/** Names of the claims a pod mounts through persistentVolumeClaim volumes. */
export function claimsOfPod(pod: Pod): string[] {
  return (pod.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
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
