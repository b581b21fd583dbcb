/**
 * Deleting orphaned volumes safely: which objects a `--delete` removes and in what order, what
 * each deletion leaves behind by the volume's reclaim policy, the confirmation text, and the
 * re-check made right before each claim is deleted. Pure.
 */
import type { KubeObject, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from './types.js';
import { claimsOfPod, isTerminating } from './pods.js';
import { detectOrphans, type OrphanFinding, type OrphanKind } from './orphans.js';
import { preconditionsOf, type DeletePreconditions, type Planned } from './plan.js';

export interface DeleteTarget {
  kind: OrphanKind;
  /** The claim's namespace; for a volume the namespace of its claim (volumes are cluster-scoped). */
  namespace: string;
  name: string;
  uid: string;
  /** Precondition; unset for a volume removed after its claim (deleting the claim changes it). */
  resourceVersion: string | undefined;
  /** An orphan finding itself, or the Retain volume of a claim deleted in the same run. */
  role: 'orphan' | 'volumeOfClaim';
  /** For role volumeOfClaim: the claim ("ns/name") that must be deleted first. */
  afterClaim?: string;
  /** What deleting it leaves behind. */
  leavesBehind: string;
  finding: OrphanFinding;
}

export interface DeletionPlan {
  targets: DeleteTarget[];
  /** Findings that this run will not delete (Released volumes without --include-pvs). */
  notIncluded: OrphanFinding[];
  /** Candidates (confirmed: false: the pods could not be read) that are never deleted. */
  unconfirmed: OrphanFinding[];
}

export function shortKind(kind: OrphanKind): 'pvc' | 'pv' {
  return kind === 'PersistentVolumeClaim' ? 'pvc' : 'pv';
}

function storageOf(src: string | null): string {
  return src ? ` (${src})` : '';
}

/** What deleting the claim leaves behind, by the reclaim policy of its volume. */
export function claimLeavesBehind(f: OrphanFinding, pv: PersistentVolume | undefined, volumeAlsoDeleted: boolean): string {
  if (!f.volume) return 'nothing: the claim is not bound to a volume';
  if (f.reclaimPolicy === 'unknown') {
    return `volume ${f.volume} could not be read (PersistentVolumes are cluster-scoped): its reclaim policy, and so whether its data is deleted, is unknown`;
  }
  if (!pv) return `volume ${f.volume} was not found; nothing else is known`;
  const policy = pv.spec.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Delete') return `volume ${f.volume} and its storage are deleted with it (reclaim policy Delete): the data is lost`;
  if (policy === 'Recycle') return `volume ${f.volume} is scrubbed and becomes Available again (reclaim policy Recycle): the data is lost`;
  if (volumeAlsoDeleted) {
    return `volume ${f.volume} (Retain) is removed as well; the storage itself${storageOf(f.volumeSource)} is kept, Kubernetes never deletes it`;
  }
  return `volume ${f.volume} stays, Released, with the data (reclaim policy Retain); remove it with --include-pvs or \`kubectl delete pv ${f.volume}\``;
}

/** What deleting a Released volume object leaves behind. */
export function volumeLeavesBehind(f: OrphanFinding): string {
  if (f.reclaimPolicy === 'Delete') return `its storage${storageOf(f.volumeSource)} is deleted by the provisioner: the data is lost`;
  return `the storage itself${storageOf(f.volumeSource)} is kept: Kubernetes does not delete it for a ${f.reclaimPolicy ?? 'Retain'} volume`;
}

/**
 * The objects a --delete removes, in order: every orphaned claim; with includeVolumes every
 * Released volume found and the Retain volume of each deleted claim (right after its claim).
 */
export function planDeletion(all: OrphanFinding[], volumes: PersistentVolume[] | undefined, includeVolumes: boolean): DeletionPlan {
  const pvByName = new Map((volumes ?? []).map((v) => [v.metadata.name, v] as const));
  const targets: DeleteTarget[] = [];
  const notIncluded: OrphanFinding[] = [];
  const unconfirmed = all.filter((f) => !f.confirmed);
  const findings = all.filter((f) => f.confirmed);
  const planned = new Set<string>();
  for (const f of findings) {
    if (f.kind !== 'PersistentVolumeClaim') continue;
    const pv = f.volume ? pvByName.get(f.volume) : undefined;
    const retained = Boolean(pv && (pv.spec.persistentVolumeReclaimPolicy ?? 'Retain') === 'Retain');
    const alsoVolume = includeVolumes && retained && pv!.spec.claimRef?.name === f.name;
    targets.push({
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      uid: f.uid,
      resourceVersion: f.resourceVersion || undefined,
      role: 'orphan',
      leavesBehind: claimLeavesBehind(f, pv, alsoVolume),
      finding: f,
    });
    if (alsoVolume) {
      planned.add(pv!.metadata.name);
      targets.push({
        kind: 'PersistentVolume',
        namespace: f.namespace,
        name: pv!.metadata.name,
        uid: pv!.metadata.uid ?? '',
        resourceVersion: undefined,
        role: 'volumeOfClaim',
        afterClaim: `${f.namespace}/${f.name}`,
        leavesBehind: volumeLeavesBehind({ ...f, reclaimPolicy: 'Retain' }),
        finding: f,
      });
    }
  }
  for (const f of findings) {
    if (f.kind !== 'PersistentVolume' || planned.has(f.name)) continue;
    if (!includeVolumes) {
      notIncluded.push(f);
      continue;
    }
    targets.push({
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      uid: f.uid,
      resourceVersion: f.resourceVersion || undefined,
      role: 'orphan',
      leavesBehind: volumeLeavesBehind(f),
      finding: f,
    });
  }
  return { targets, notIncluded, unconfirmed };
}

/** The confirmation question: exactly what will be deleted, and what stays. */
export function confirmationText(plan: DeletionPlan): string {
  const claims = plan.targets.filter((t) => t.kind === 'PersistentVolumeClaim').length;
  const vols = plan.targets.length - claims;
  const parts = [claims ? `${claims} PersistentVolumeClaim${claims === 1 ? '' : 's'}` : '', vols ? `${vols} PersistentVolume${vols === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(' and ');
  const lines = [`This deletes ${parts}:`];
  for (const t of plan.targets) {
    const f = t.finding;
    const where = t.kind === 'PersistentVolumeClaim' ? `-n ${t.namespace} ` : '';
    const what =
      t.role === 'volumeOfClaim'
        ? `volume of claim ${t.afterClaim}`
        : [f.statefulSet ? `${f.statefulSet}${f.ordinal !== null ? ` ordinal ${f.ordinal}` : ''}` : '', f.reason, f.capacity].filter(Boolean).join(', ');
    lines.push(`  ${where}${shortKind(t.kind)}/${t.name}  (${what}) -> ${t.leavesBehind}`);
  }
  if (plan.notIncluded.length) {
    lines.push(`Not deleted: ${plan.notIncluded.length} Released PersistentVolume(s) (pass --include-pvs to remove them too).`);
  }
  if (plan.unconfirmed.length) {
    lines.push(`Not deleted: ${plan.unconfirmed.length} candidate(s) that could not be confirmed unused (the pods could not be read).`);
  }
  lines.push(`Delete ${plan.targets.length === 1 ? 'it' : `these ${plan.targets.length} objects`}?`);
  return lines.join('\n');
}

export type Recheck = { ok: true } | { ok: false; detail: string };

/**
 * The check right before a claim is deleted, on fresh lists of that namespace's pods and
 * StatefulSets: the claim must still be an orphan (no pod mounts it, no set took it back).
 */
export function recheckClaim(claim: PersistentVolumeClaim, fresh: { pods: Pod[]; statefulSets: StatefulSet[]; now: number }): Recheck {
  const ns = claim.metadata.namespace ?? '';
  const r = detectOrphans({ statefulSets: fresh.statefulSets, claims: [claim], pods: fresh.pods, volumes: [], namespace: ns, now: fresh.now });
  if (r.findings.some((f) => f.kind === 'PersistentVolumeClaim' && f.name === claim.metadata.name)) return { ok: true };
  const k = r.kept[0];
  return { ok: false, detail: k ? `no longer orphaned: ${k.detail}` : 'no longer orphaned' };
}

/** An object whose delete the server accepted, as it stands when the wait ends. */
export interface StillThere {
  kind: 'PersistentVolumeClaim' | 'PersistentVolume';
  namespace: string;
  name: string;
  uid: string;
}

/**
 * Which accepted deletions are not finished: the objects still present with the uid that was
 * deleted (an object recreated under the same name is a new object, and counts as gone).
 * `present` maps "namespace/name" (namespace "" for volumes) to the live object.
 */
export function pendingDeletions<T extends StillThere>(deleted: T[], present: { claims: Map<string, KubeObject>; volumes: Map<string, KubeObject> }): T[] {
  return deleted.filter((d) => {
    const live = d.kind === 'PersistentVolumeClaim' ? present.claims.get(`${d.namespace}/${d.name}`) : present.volumes.get(`/${d.name}`);
    return live !== undefined && live.metadata.uid === d.uid;
  });
}

/**
 * Why a deleted claim or volume is still Terminating, in one line: its finalizers and, for the
 * usual one (kubernetes.io/pvc-protection), the pods that still mount the claim; for a volume
 * (kubernetes.io/pv-protection), the claim it is still bound to.
 */
export function holdersOf(obj: KubeObject & { spec?: unknown }, kind: StillThere['kind'], pods: Pod[]): string {
  const parts: string[] = [];
  const finalizers = obj.metadata.finalizers ?? [];
  if (finalizers.length) parts.push(`finalizers: ${finalizers.join(', ')}`);
  if (kind === 'PersistentVolumeClaim') {
    const users = pods.filter((p) => p.metadata.namespace === obj.metadata.namespace && claimsOfPod(p).includes(obj.metadata.name)).map((p) => p.metadata.name);
    if (users.length) parts.push(`mounted by pod${users.length === 1 ? '' : 's'} ${users.join(', ')}`);
  } else {
    const ref = (obj.spec as { claimRef?: { namespace?: string; name?: string } } | undefined)?.claimRef;
    if (ref?.name) parts.push(`still bound to claim ${ref.namespace ?? ''}/${ref.name}`);
  }
  if (!obj.metadata.deletionTimestamp) parts.push('no deletionTimestamp yet');
  return parts.length ? parts.join('; ') : 'nothing visible holds it (the controller has not caught up)';
}

/**
 * The delete of one claim, planned against what was just read (the claim, and its namespace's
 * pods and sets): still the claim that was listed (same uid), not already being deleted, and still
 * orphaned (recheckClaim). Its preconditions are that read's uid and resourceVersion, so a claim
 * changed after this read is not deleted but read and judged again. Pure.
 */
export function claimDeletion(t: DeleteTarget, now: PersistentVolumeClaim | undefined, fresh: { pods: Pod[]; statefulSets: StatefulSet[]; now: number }): Planned<DeletePreconditions> {
  const same = sameObject(t, now);
  if ('none' in same) return same;
  const check = recheckClaim(now!, fresh);
  return check.ok ? same : { none: check.detail };
}

/**
 * The delete of one volume against what was just read: the volume that was listed (same uid),
 * not being deleted, and not bound to a claim again. Pure.
 */
export function volumeDeletion(t: DeleteTarget, now: PersistentVolume | undefined): Planned<DeletePreconditions> {
  const same = sameObject(t, now);
  if ('none' in same) return same;
  if (now!.status?.phase === 'Bound' && t.role === 'orphan') return { none: `bound again (to ${now!.spec?.claimRef?.namespace ?? ''}/${now!.spec?.claimRef?.name ?? ''})` };
  return same;
}

function sameObject(t: DeleteTarget, now: KubeObject | undefined): Planned<DeletePreconditions> {
  if (!now) return { none: 'already gone' };
  if (now.metadata.uid !== t.uid) return { none: 'replaced since it was listed (a new object of that name): run again to judge the new one' };
  if (isTerminating(now)) return { none: 'already being deleted' };
  return { write: preconditionsOf(now) };
}
