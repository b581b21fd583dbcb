/**
 * What each finalizer found on a stuck PV or PVC means: which component removes it, when, what it
 * is waiting for in this case, and what removing it by hand skips. Pure.
 */
import type { ClaimState, ObjectKind, PodUse } from './finalize-types.js';

export const PV_PROTECTION = 'kubernetes.io/pv-protection';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const CSI_PROVISIONER_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer';
export const INTREE_PV_FINALIZER = 'kubernetes.io/pv-controller';
export const CSI_ATTACHER_PREFIX = 'external-attacher/';
export const SNAPSHOT_SOURCE_FINALIZER = 'snapshot.storage.kubernetes.io/pvc-as-source-protection';

export const KNOWN_FINALIZERS = [
  PV_PROTECTION,
  PVC_PROTECTION,
  CSI_PROVISIONER_FINALIZER,
  INTREE_PV_FINALIZER,
  `${CSI_ATTACHER_PREFIX}<driver>`,
  SNAPSHOT_SOURCE_FINALIZER,
] as const;

export interface FinalizerInfo {
  name: string;
  /** The component that normally removes it. */
  removedBy: string;
  /** The condition under which that component removes it. */
  removedWhen: string;
  /** What it is waiting for on this object, now. */
  now: string;
  /** Its remover still has work to do (a pod, a claim, a storage backend): not safe to skip blindly. */
  pending: boolean;
  /** Nothing it waits for is left: its controller should already have removed it. */
  overdue: boolean;
  /** What would let its remover do its job. */
  unblock?: string;
  /** What removing it by hand skips. */
  risk?: string;
}

export interface FinalizerContext {
  kind: ObjectKind;
  /** The object's name as the user types it (for commands in hints). */
  ref?: string;
  phase?: string | undefined;
  reclaimPolicy?: string | undefined;
  driver?: string | undefined;
  /** PVs: the claim in claimRef and its state. */
  claim?: { ref: string; state: ClaimState } | undefined;
  /** The claim named in claimRef still exists and is bound to this PV. */
  boundToClaim?: boolean;
  pods: PodUse[];
  /** The pods of the namespace could not be read: `pods` is empty, not known to be. */
  podsUnknown?: boolean | undefined;
}

const CONTROLLER_MANAGER = 'kube-controller-manager';

function podList(pods: PodUse[]): string {
  return pods.map((p) => `${p.namespace}/${p.name}`).join(', ');
}

function pvProtection(ctx: FinalizerContext): Omit<FinalizerInfo, 'name'> {
  const base = {
    removedBy: `the pv-protection controller (${CONTROLLER_MANAGER})`,
    removedWhen: 'once the PV is no longer Bound to a claim (its claim was deleted and the PV became Released)',
  };
  const claim = ctx.claim;
  if (claim && claim.state === 'unknown') {
    return {
      ...base,
      now: `claim ${claim.ref} could not be read: whether the PV is still bound to an existing claim is unknown`,
      pending: true,
      overdue: false,
    };
  }
  if (claim && claim.state === 'exists' && (ctx.boundToClaim || ctx.phase === 'Bound')) {
    const [ns, name] = claim.ref.split('/');
    return {
      ...base,
      now: `the PV is Bound to claim ${claim.ref}, which still exists`,
      pending: true,
      overdue: false,
      unblock: `delete claim ${claim.ref} once no pod needs it (kubectl delete pvc -n ${ns} ${name}): the controller then removes the finalizer by itself`,
    };
  }
  if (claim && claim.state === 'terminating') {
    return {
      ...base,
      now: `claim ${claim.ref} is being deleted; once it is gone the PV becomes Released and the controller removes this`,
      pending: false,
      overdue: false,
    };
  }
  if (ctx.phase === 'Bound') {
    return {
      ...base,
      now: `the PV still says Bound but ${claim ? `claim ${claim.ref} is gone` : 'it has no claim'}: the PV controller marks it Released, then this is removed`,
      pending: false,
      overdue: true,
    };
  }
  return {
    ...base,
    now: `the PV is ${ctx.phase ?? 'not Bound'}: the controller should remove it right away`,
    pending: false,
    overdue: true,
  };
}

function pvcProtection(ctx: FinalizerContext): Omit<FinalizerInfo, 'name'> {
  const base = {
    removedBy: `the pvc-protection controller (${CONTROLLER_MANAGER})`,
    removedWhen: 'once no pod scheduled to a node references the claim (finished pods count until they are deleted)',
  };
  if (ctx.podsUnknown) {
    return { ...base, now: 'the pods could not be read: whether a pod uses the claim is unknown', pending: true, overdue: false };
  }
  const scheduled = ctx.pods.filter((p) => p.node !== undefined);
  const active = scheduled.filter((p) => p.holds);
  if (active.length) {
    return { ...base, now: `pod ${podList(active)} uses it`, pending: true, overdue: false, unblock: `delete pod ${podList(active)}` };
  }
  if (scheduled.length) {
    return {
      ...base,
      now: `pod ${podList(scheduled)} still references it (finished, or on a node that is gone)`,
      pending: false,
      overdue: false,
      unblock: `delete pod ${podList(scheduled)}: the controller then removes the finalizer by itself`,
    };
  }
  return { ...base, now: 'no scheduled pod references it: the controller should remove it right away', pending: false, overdue: true };
}

/** Explains one finalizer of a Terminating PV or PVC. */
export function explainFinalizer(name: string, ctx: FinalizerContext): FinalizerInfo {
  const ref = ctx.ref ?? '<name>';
  const kindArg = ctx.kind === 'PersistentVolume' ? 'pv' : 'pvc';
  let rest: Omit<FinalizerInfo, 'name'>;
  if (name === PV_PROTECTION && ctx.kind === 'PersistentVolume') rest = pvProtection(ctx);
  else if (name === PVC_PROTECTION && ctx.kind === 'PersistentVolumeClaim') rest = pvcProtection(ctx);
  else if (name === CSI_PROVISIONER_FINALIZER) {
    const driver = ctx.driver ?? 'of this volume';
    rest = {
      removedBy: `the CSI external-provisioner (driver ${driver})`,
      removedWhen: 'after it deleted the backing volume on the storage system (reclaim policy Delete, once the PV is Released)',
      now:
        ctx.claim?.state === 'exists'
          ? `claim ${ctx.claim.ref} still exists, so the backing volume is not deleted yet`
          : 'the backing volume has not been deleted (or the deletion failed)',
      pending: true,
      overdue: false,
      unblock: `check the CSI driver's controller (external-provisioner logs) and the events of kubectl describe ${kindArg} ${ref}`,
      risk: 'removing the CSI provisioner\'s finalizer skips deleting the backing volume: it leaks on the storage system',
    };
  } else if (name === INTREE_PV_FINALIZER) {
    rest = {
      removedBy: `the in-tree PV controller (${CONTROLLER_MANAGER})`,
      removedWhen: 'after the in-tree volume plugin deleted the backing volume (dynamically provisioned in-tree PVs, reclaim policy Delete)',
      now: 'the in-tree plugin has not deleted the backing volume yet',
      pending: true,
      overdue: false,
      unblock: `read the events of kubectl describe pv ${ref}: the plugin's delete is failing or still waiting for the claim`,
      risk: 'removing it skips the in-tree plugin\'s delete: the backing volume leaks',
    };
  } else if (name.startsWith(CSI_ATTACHER_PREFIX)) {
    const driver = name.slice(CSI_ATTACHER_PREFIX.length);
    rest = {
      removedBy: `the CSI external-attacher (driver ${driver})`,
      removedWhen: 'once the volume is detached from every node (no VolumeAttachment left for it)',
      now: 'the volume may still be attached to a node',
      pending: true,
      overdue: false,
      unblock: `check kubectl get volumeattachments for ${ref} and the external-attacher logs`,
      risk: 'the volume may still be attached to a node',
    };
  } else if (name === SNAPSHOT_SOURCE_FINALIZER) {
    rest = {
      removedBy: 'the CSI snapshot-controller',
      removedWhen: 'once no VolumeSnapshot is being taken from the claim',
      now: 'a snapshot of the claim may be in progress',
      pending: true,
      overdue: false,
      unblock: 'wait for the VolumeSnapshot taken from it to become ready, or delete that snapshot',
      risk: 'a snapshot being taken from it may fail',
    };
  } else {
    rest = {
      removedBy: `the component that added "${name}"`,
      removedWhen: 'unknown to kubectl-sts',
      now: 'unknown',
      pending: true,
      overdue: false,
      unblock: `find the controller that owns the finalizer "${name}"`,
      risk: `whatever "${name}" guards is skipped`,
    };
  }
  return { name, ...rest };
}
