/**
 * Projections for `pvc-orphans`: each takes one object as LISTed and returns a smaller plain
 * object of the same API shape that keeps exactly the fields pvc-orphans reads — detection
 * (core/orphans.ts, core/pods.ts), the deletion plan (core/orphans-delete.ts) and the command
 * itself (set names for --sts). Its table, -o name, -o json and -o yaml print findings, never
 * the listed objects, so nothing else is needed. Applied to each item as its page arrives
 * (KubeClient.list), they let the full objects be collected at once: at 20,000 claims and 8,000
 * pods the full objects are most of the command's peak memory.
 *
 * A projected object is for pvc-orphans' detection only: a required field it does not need is
 * left empty (a pod's containers, a set's pod template), so never hand one to other code. Reads
 * made right before a delete (the re-check) use full objects. test/unit/projections.test.ts runs
 * detection, the plan and the rendered output on full objects and on their projections and
 * requires the same answer: a field read here but dropped below makes it fail.
 * Pure.
 */
import type { ObjectMeta, OwnerReference, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet, Volume } from './types.js';

/** Copies the listed keys of `o` that are present (undefined and absent stay absent). */
function pick<T extends object, K extends keyof T>(o: T | undefined, keys: readonly K[]): Pick<T, K> | undefined {
  if (!o) return undefined;
  const out = {} as Pick<T, K>;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

type MetaKey = keyof ObjectMeta;
const CLAIM_META: readonly MetaKey[] = ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'labels'];
const POD_META: readonly MetaKey[] = ['name', 'namespace', 'uid'];
const SET_META: readonly MetaKey[] = ['name', 'namespace', 'uid', 'deletionTimestamp'];
const VOLUME_META: readonly MetaKey[] = ['name', 'uid', 'resourceVersion', 'creationTimestamp', 'labels'];

/** The listed metadata keys; with `owners`, each ownerReference's kind, name and uid. */
function meta(m: ObjectMeta, keys: readonly MetaKey[], owners = false): ObjectMeta {
  const out = pick(m, keys) as ObjectMeta;
  if (owners && m.ownerReferences) out.ownerReferences = m.ownerReferences.map((r) => pick(r, ['kind', 'name', 'uid']) as OwnerReference);
  return out;
}

/** The object's own fields (apiVersion, kind) plus `rest`. */
function object<T extends { apiVersion?: string; kind?: string }>(o: T, rest: Omit<T, 'apiVersion' | 'kind'>): T {
  const out = {} as T;
  if (o.apiVersion !== undefined) out.apiVersion = o.apiVersion;
  if (o.kind !== undefined) out.kind = o.kind;
  return Object.assign(out, rest);
}

/** A claim: identity, age, labels and owners (kind, name, uid); the volume it is bound to, its class, size and phase. */
export function projectClaim(c: PersistentVolumeClaim): PersistentVolumeClaim {
  const spec: PersistentVolumeClaim['spec'] = pick(c.spec, ['storageClassName', 'volumeName'])!;
  const storage = c.spec?.resources?.requests?.storage;
  if (storage !== undefined) spec.resources = { requests: { storage } };
  const out = object(c, { metadata: meta(c.metadata, CLAIM_META, true), spec });
  if (c.status) {
    const status: NonNullable<PersistentVolumeClaim['status']> = {};
    if (c.status.phase !== undefined) status.phase = c.status.phase;
    if (c.status.capacity?.storage !== undefined) status.capacity = { storage: c.status.capacity.storage };
    out.status = status;
  }
  return out;
}

/**
 * A pod: name, namespace, uid, phase and the claims it mounts (persistentVolumeClaim volumes, and generic
 * ephemeral volumes, whose claim name is `<pod>-<volume>`: only their presence is kept).
 * Its containers are not kept (empty), nor its labels and owners.
 */
export function projectPod(p: Pod): Pod {
  const volumes: Volume[] = [];
  for (const v of p.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) volumes.push({ name: v.name, persistentVolumeClaim: { claimName: v.persistentVolumeClaim.claimName } });
    else if (v.ephemeral) volumes.push({ name: v.name, ephemeral: {} });
  }
  const out = object(p, { metadata: meta(p.metadata, POD_META), spec: { containers: [], ...(p.spec?.volumes ? { volumes } : {}) } });
  if (p.status) out.status = p.status.phase !== undefined ? { phase: p.status.phase } : {};
  return out;
}

/**
 * A StatefulSet: identity and whether it is being deleted; replicas, ordinals, selector, the
 * names and labels of its claim templates, its claim retention policy. Its pod template is not
 * kept (empty), nor are the templates' claim specs.
 */
export function projectStatefulSet(s: StatefulSet): StatefulSet {
  const spec = pick(s.spec, ['replicas', 'ordinals', 'selector', 'persistentVolumeClaimRetentionPolicy'])! as StatefulSet['spec'];
  spec.template = { spec: { containers: [] } };
  if (s.spec.volumeClaimTemplates) {
    spec.volumeClaimTemplates = s.spec.volumeClaimTemplates.map((t) => ({ metadata: pick(t.metadata, ['name', 'labels'])!, spec: {} }));
  }
  return object(s, { metadata: meta(s.metadata, SET_META), spec });
}

/** PersistentVolume spec keys that nothing in pvc-orphans reads (volumeSource skips exactly these when it looks for the source). */
const PV_DROPPED = new Set(['accessModes', 'nodeAffinity', 'volumeMode', 'mountOptions']);

/**
 * A PersistentVolume: identity, labels, age; size, class, reclaim policy, the claim it refers
 * to, phase and when it entered it; where its data lives (csi driver and handle, hostPath,
 * local, nfs, or any other volume source, kept whole and in its place: volumeSource names the
 * first one).
 */
export function projectVolume(v: PersistentVolume): PersistentVolume {
  const spec = {} as PersistentVolume['spec'];
  for (const [k, val] of Object.entries(v.spec ?? {})) {
    if (PV_DROPPED.has(k) || val === undefined) continue;
    switch (k) {
      case 'capacity':
        spec.capacity = v.spec.capacity?.storage !== undefined ? { storage: v.spec.capacity.storage } : {};
        break;
      case 'claimRef':
        spec.claimRef = pick(v.spec.claimRef, ['namespace', 'name', 'uid'])!;
        break;
      case 'csi':
        spec.csi = { driver: v.spec.csi!.driver, volumeHandle: v.spec.csi!.volumeHandle };
        break;
      case 'hostPath':
        spec.hostPath = { path: v.spec.hostPath!.path };
        break;
      case 'local':
        spec.local = { path: v.spec.local!.path };
        break;
      case 'nfs':
        spec.nfs = { server: v.spec.nfs!.server, path: v.spec.nfs!.path };
        break;
      default:
        spec[k] = val;
    }
  }
  const out = object(v, { metadata: meta(v.metadata, VOLUME_META), spec });
  if (v.status) {
    const st = v.status as NonNullable<PersistentVolume['status']> & { lastPhaseTransitionTime?: string };
    out.status = pick(st, ['phase', 'lastPhaseTransitionTime']) as PersistentVolume['status'];
  }
  return out;
}

/** The projections pvc-orphans applies to its four LISTs. */
export const orphanProjections = {
  statefulSets: projectStatefulSet,
  claims: projectClaim,
  pods: projectPod,
  volumes: projectVolume,
} as const;
