/**
 * Why a PersistentVolume (or, with --claims, a PersistentVolumeClaim) is stuck Terminating, and
 * whether clearing its finalizers by hand is safe. Pure: plain API objects in, sorted diagnoses
 * out; `now` is passed in.
 *
 * Facts the verdicts rest on (kube-controller-manager and the CSI sidecars):
 * - kubernetes.io/pv-protection: the pv-protection controller removes it from a PV with a
 *   deletionTimestamp as soon as the PV's phase is not Bound (the PV controller moves it to
 *   Released once the claim is deleted).
 * - kubernetes.io/pvc-protection: the pvc-protection controller removes it once no pod that is
 *   scheduled to a node references the claim (finished pods count until they are deleted).
 * - external-provisioner.volume.kubernetes.io/finalizer: the CSI external-provisioner removes it
 *   after the backing volume is deleted on the storage system (reclaim policy Delete).
 * - kubernetes.io/pv-controller: the in-tree PV controller removes it after the in-tree plugin
 *   deleted the backing volume (dynamically provisioned in-tree PVs, reclaim policy Delete).
 * - external-attacher/<driver>: the CSI external-attacher removes it once the volume is detached.
 */
import type { LabelSelector, Node, ObjectMeta, PersistentVolume, PersistentVolumeClaim, Pod } from './types.js';
import { humanDuration } from './duration.js';
import { selectorMatches } from './labels.js';
import type { Planned } from './plan.js';
import { claimsOfPod, podHoldsVolumes } from './pods.js';
import { explainFinalizer, type FinalizerContext, type FinalizerInfo } from './finalize-finalizers.js';

export { explainFinalizer, KNOWN_FINALIZERS, PV_PROTECTION, PVC_PROTECTION, CSI_PROVISIONER_FINALIZER, INTREE_PV_FINALIZER } from './finalize-finalizers.js';
export type { FinalizerInfo, FinalizerContext } from './finalize-finalizers.js';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export type VolumeType = 'local' | 'hostPath' | 'csi' | 'nfs' | 'other';
/** unknown: the verdict depends on something that could not be read (forbidden); never guessed. */
export type Verdict = 'safe' | 'blocked-by-pod' | 'node-gone' | 'waiting-for-controller' | 'unknown';
/** unknown: the claims of its namespace could not be read. */
export type { ClaimState, ObjectKind, PodUse } from './finalize-types.js';
import type { ClaimState, ObjectKind, PodUse } from './finalize-types.js';


export interface ClaimInfo {
  namespace: string;
  name: string;
  state: ClaimState;
  phase?: string;
  /** The volume the claim of that name is bound to, when it exists. */
  volumeName?: string;
  note?: string;
}

export interface NodeInfo {
  /** The node(s) the volume's node affinity names (kubernetes.io/hostname). */
  name: string;
  /** null: the nodes could not be read. */
  exists: boolean | null;
}

export interface DataLocation {
  /** Node whose disk holds the data; undefined when unknown (a hostPath PV never used by a pod). */
  node?: string;
  path: string;
}

export interface Diagnosis {
  kind: ObjectKind;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** PVs: the volume source. */
  volumeType?: VolumeType;
  path?: string;
  driver?: string;
  reclaimPolicy?: string;
  phase?: string;
  deletionTimestamp: string;
  terminatingForSeconds: number;
  terminatingFor: string;
  finalizers: FinalizerInfo[];
  /** PVs: the claim in spec.claimRef. */
  claim?: ClaimInfo;
  /** PVCs: the bound volume. */
  volume?: string;
  pods: PodUse[];
  node?: NodeInfo;
  verdict: Verdict;
  /** One line: "blocked by pod ns/web-0 (Running on node n1)", "waiting for the pv-protection controller ...". */
  reason: string;
  blockingPods: string[];
  waitingFor?: string[];
  /** What would unblock it. */
  action: string;
  /** What removing the finalizers by hand would do, beyond letting the object go. */
  risks: string[];
  /** Where the data of a local/hostPath volume stays after the object is gone. */
  dataLocation?: DataLocation;
  /** What could not be checked for this object (a forbidden read); the verdict is "unknown" when it depends on it. */
  undetermined?: string[];
  /** The metadata as read, and as it would be after the finalizers are removed. */
  metadataBefore: ObjectMeta;
  metadataAfter: ObjectMeta;
}

export interface FinalizeInputs {
  pvs: PersistentVolume[];
  pvcs: PersistentVolumeClaim[];
  pods: Pod[];
  nodes: Node[];
  /** The PersistentVolumes could not be read (pvs is empty, not known to be). */
  pvsUnread?: boolean;
  /** The nodes could not be read. */
  nodesUnread?: boolean;
  /** When set, the claims are known only in these namespaces (the others could not be read). */
  claimsReadIn?: string[];
  /** When set, the pods are known only in these namespaces. */
  podsReadIn?: string[];
}

function claimsKnown(inputs: FinalizeInputs, ns: string): boolean {
  return !inputs.claimsReadIn || inputs.claimsReadIn.includes(ns);
}
function podsKnown(inputs: FinalizeInputs, ns: string): boolean {
  return !inputs.podsReadIn || inputs.podsReadIn.includes(ns);
}

export interface VolumeScope {
  now: number;
  /** Every volume type, not only local and hostPath. */
  allTypes: boolean;
  /** PVs named on the command line: always considered, whatever their type or labels. */
  names?: string[];
  /** Only the named PVs (no --all-safe sweep). */
  onlyNamed?: boolean;
  selector?: LabelSelector;
}

export interface ClaimScope {
  now: number;
  /** undefined: every namespace. */
  namespace?: string;
  /** Claims named on the command line (in `namespace`): always considered. */
  names?: string[];
  onlyNamed?: boolean;
  selector?: LabelSelector;
}

export function volumeType(pv: PersistentVolume): VolumeType {
  if (pv.spec.local) return 'local';
  if (pv.spec.hostPath) return 'hostPath';
  if (pv.spec.csi) return 'csi';
  if (pv.spec.nfs) return 'nfs';
  return 'other';
}

function volumePath(pv: PersistentVolume): string | undefined {
  return pv.spec.local?.path ?? pv.spec.hostPath?.path ?? (pv.spec.nfs ? `${pv.spec.nfs.server}:${pv.spec.nfs.path}` : undefined);
}

/** The node names a PV's required node affinity pins it to (kubernetes.io/hostname In [...]). */
export function pvNodeNames(pv: PersistentVolume): string[] {
  const names = new Set<string>();
  for (const term of pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of term.matchExpressions ?? []) {
      if (e.key === HOSTNAME_LABEL && e.operator === 'In') for (const v of e.values ?? []) names.add(v);
    }
  }
  return [...names].sort();
}

function nodeExists(nodes: Node[], name: string): boolean {
  return nodes.some((n) => n.metadata.name === name || n.metadata.labels?.[HOSTNAME_LABEL] === name);
}

function nodeInfo(pv: PersistentVolume | undefined, inputs: FinalizeInputs): NodeInfo | undefined {
  if (!pv) return undefined;
  const names = pvNodeNames(pv);
  if (names.length === 0) return undefined;
  if (inputs.nodesUnread) return { name: names.join(','), exists: null };
  return { name: names.join(','), exists: names.some((n) => nodeExists(inputs.nodes, n)) };
}


function podUse(pod: Pod, inputs: FinalizeInputs): PodUse {
  const node = pod.spec.nodeName || undefined;
  // Nodes unreadable: the pod's node is taken to exist, so the pod still counts as using the volume.
  const nodeGone = node !== undefined && !inputs.nodesUnread && !nodeExists(inputs.nodes, node);
  const terminating = Boolean(pod.metadata.deletionTimestamp);
  return {
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name,
    ...(node !== undefined ? { node } : {}),
    phase: pod.status?.phase ?? 'Pending',
    terminating,
    nodeGone,
    holds: podHoldsVolumes(pod) && !nodeGone,
  };
}

function podsMounting(inputs: FinalizeInputs, namespace: string, claim: string): PodUse[] {
  return inputs.pods
    .filter((p) => (p.metadata.namespace ?? '') === namespace && claimsOfPod(p).includes(claim))
    .map((p) => podUse(p, inputs))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** "ns/web-0 (Running on node n1)", "ns/web-1 (Pending, not scheduled)". */
export function describePodUse(u: PodUse): string {
  const state = u.terminating ? `${u.phase}, terminating,` : u.phase;
  const where = u.node ? ` on node ${u.node}${u.nodeGone ? ', which no longer exists' : ''}` : `${u.terminating ? '' : ','} not scheduled`;
  return `${u.namespace}/${u.name} (${state}${where})`;
}

function terminatingSeconds(meta: ObjectMeta, now: number): number {
  const t = meta.deletionTimestamp ? Date.parse(meta.deletionTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : Math.max(0, Math.floor((now - t) / 1000));
}

/** The object's metadata with every finalizer removed: what the merge patch produces. */
export function withoutFinalizers(meta: ObjectMeta): ObjectMeta {
  const { finalizers: _dropped, ...rest } = meta;
  return rest;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Metadata as shown in diffs: without managedFields and kubectl's last-applied copy (noise). */
function shownMetadata(meta: ObjectMeta): ObjectMeta {
  const { managedFields: _m, ...rest } = meta as ObjectMeta & { managedFields?: unknown };
  if (rest.annotations && LAST_APPLIED in rest.annotations) {
    const { [LAST_APPLIED]: _l, ...annotations } = rest.annotations;
    if (Object.keys(annotations).length) rest.annotations = annotations;
    else delete rest.annotations;
  }
  return rest;
}

function claimOf(pv: PersistentVolume, inputs: FinalizeInputs): { info?: ClaimInfo; pvc?: PersistentVolumeClaim } {
  const pvcs = inputs.pvcs;
  const ref = pv.spec.claimRef;
  if (!ref?.name) return {};
  const namespace = ref.namespace ?? '';
  if (!claimsKnown(inputs, namespace)) return { info: { namespace, name: ref.name, state: 'unknown' } };
  const pvc = pvcs.find((c) => (c.metadata.namespace ?? '') === namespace && c.metadata.name === ref.name);
  const info: ClaimInfo = { namespace, name: ref.name, state: 'gone' };
  if (!pvc) return { info };
  if (ref.uid && pvc.metadata.uid && ref.uid !== pvc.metadata.uid) {
    info.note = `a newer claim of that name exists (uid ${pvc.metadata.uid})${pvc.spec.volumeName ? `, bound to ${pvc.spec.volumeName}` : ''}`;
    return { info };
  }
  info.state = pvc.metadata.deletionTimestamp ? 'terminating' : 'exists';
  if (pvc.status?.phase) info.phase = pvc.status.phase;
  if (pvc.spec.volumeName) info.volumeName = pvc.spec.volumeName;
  return { info, pvc };
}

interface Verdicted {
  verdict: Verdict;
  reason: string;
  blockingPods: string[];
  waitingFor?: string[];
  action: string;
}

function decide(
  o: { kind: ObjectKind; ref: string; node: NodeInfo | undefined; pods: PodUse[]; finalizers: FinalizerInfo[]; claim?: ClaimInfo; undetermined?: string[] },
): Verdicted {
  const holders = o.pods.filter((p) => p.holds);
  if (holders.length === 0 && o.undetermined?.length) {
    // No known pod blocks it, but what would decide safe / node gone / waiting could not be read.
    return {
      verdict: 'unknown',
      reason: `could not check: ${o.undetermined.join('; ')}`,
      blockingPods: [],
      action: `ask for read access to what could not be checked (see the warnings), or ask someone who has it to run this; finalizing it by name needs --force until then`,
    };
  }
  if (holders.length > 0) {
    const list = holders.map(describePodUse);
    return {
      verdict: 'blocked-by-pod',
      reason: `blocked by pod${holders.length > 1 ? 's' : ''} ${list.join(', ')}`,
      blockingPods: holders.map((p) => `${p.namespace}/${p.name}`),
      action:
        `stop ${holders.length > 1 ? 'those pods' : 'that pod'} first (delete ${holders.map((p) => `pod ${p.namespace}/${p.name}`).join(', ')}, ` +
        `or scale its StatefulSet down); then the controllers release the ${o.kind === 'PersistentVolume' ? 'claim and the volume' : 'claim'} by themselves`,
    };
  }
  if (o.node && !o.node.exists) {
    return {
      verdict: 'node-gone',
      reason: `node ${o.node.name} no longer exists`,
      blockingPods: [],
      action:
        `the disk lived on node ${o.node.name}, which is gone: finalize it (kubectl sts finalize-localpv ${o.ref}) ` +
        `and recreate the claim${o.claim && o.claim.state === 'exists' ? ` (${o.claim.namespace}/${o.claim.name} becomes Lost)` : ''} so its pod can be scheduled elsewhere`,
    };
  }
  const pending = o.finalizers.filter((f) => f.pending);
  if (pending.length > 0) {
    const controllers = [...new Set(pending.map((f) => f.removedBy))];
    return {
      verdict: 'waiting-for-controller',
      reason: `waiting for ${controllers.join(' and ')}: ${pending.map((f) => f.now).join('; ')}`,
      blockingPods: [],
      waitingFor: controllers,
      action: pending.map((f) => f.unblock ?? `see why ${f.removedBy} has not removed ${f.name}`).join('; '),
    };
  }
  return {
    verdict: 'safe',
    reason:
      o.kind === 'PersistentVolume'
        ? 'no pod uses it and its claim is gone or being deleted'
        : 'no running or pending pod uses it',
    blockingPods: [],
    action: [
      `nothing uses it: kubectl sts finalize-localpv ${o.ref} (or --all-safe) removes the finalizers`,
      ...o.finalizers.flatMap((f) => (f.unblock ? [`or ${f.unblock}`] : [])),
      ...(o.finalizers.some((f) => f.overdue) ? ['its controller should have done this by itself: check that kube-controller-manager is running'] : []),
    ].join('; '),
  };
}

function risksFor(d: Omit<Diagnosis, 'risks' | 'metadataBefore' | 'metadataAfter'>): string[] {
  const risks: string[] = [];
  for (const ref of d.blockingPods) {
    const p = d.pods.find((u) => `${u.namespace}/${u.name}` === ref)!;
    risks.push(
      `pod ${describePodUse(p)} may still be writing to this volume; once the finalizers are gone Kubernetes no longer tracks that disk`,
    );
  }
  if (d.kind === 'PersistentVolume' && d.claim?.state === 'exists') {
    risks.push(`claim ${d.claim.namespace}/${d.claim.name} is still bound to it and becomes Lost: pods using it cannot start again`);
  }
  if (d.kind === 'PersistentVolumeClaim' && d.volume) {
    risks.push(`volume ${d.volume} is released and handled by its reclaim policy`);
  }
  if (d.node && !d.node.exists && d.dataLocation) {
    risks.push(`node ${d.node.name} is gone: the data at ${d.dataLocation.path} comes back only with that machine`);
  }
  for (const f of d.finalizers) if (f.pending && f.risk) risks.push(f.risk);
  return risks;
}

function dataLocation(pv: PersistentVolume, pods: PodUse[]): DataLocation | undefined {
  const t = volumeType(pv);
  if (t !== 'local' && t !== 'hostPath') return undefined;
  const path = volumePath(pv)!;
  const nodes = pvNodeNames(pv);
  const node = nodes.length ? nodes.join(',') : [...new Set(pods.flatMap((p) => (p.node ? [p.node] : [])))].sort().join(',') || undefined;
  return node ? { node, path } : { path };
}

/** Diagnoses a single PV that has a deletionTimestamp. */
export function diagnoseVolume(pv: PersistentVolume, inputs: FinalizeInputs, now: number): Diagnosis {
  const { info: claim, pvc } = claimOf(pv, inputs);
  // Pods mounting the claim use this PV unless the claim of that name is bound to another volume now.
  const usesOther = claim !== undefined && claim.state === 'gone' && claim.note !== undefined;
  const podsUnknown = claim !== undefined && !usesOther && !podsKnown(inputs, claim.namespace);
  const pods = claim && !usesOther && !podsUnknown ? podsMounting(inputs, claim.namespace, claim.name) : [];
  const node = nodeInfo(pv, inputs);
  const undetermined: string[] = [];
  if (claim?.state === 'unknown') undetermined.push(`claim ${claim.namespace}/${claim.name} (the claims in namespace ${claim.namespace} could not be read)`);
  if (podsUnknown) undetermined.push(`which pods mount claim ${claim!.namespace}/${claim!.name} (the pods in namespace ${claim!.namespace} could not be read)`);
  if (node && node.exists === null) undetermined.push(`whether node ${node.name} still exists (the nodes could not be read)`);
  if (inputs.nodesUnread && pods.some((p) => p.node && p.holds)) undetermined.push('whether the nodes of its pods still exist (the nodes could not be read)');
  const type = volumeType(pv);
  const ctx: FinalizerContext = {
    kind: 'PersistentVolume',
    ref: pv.metadata.name,
    phase: pv.status?.phase,
    reclaimPolicy: pv.spec.persistentVolumeReclaimPolicy,
    driver: pv.spec.csi?.driver,
    claim: claim ? { ref: `${claim.namespace}/${claim.name}`, state: claim.state } : undefined,
    pods,
    podsUnknown,
    boundToClaim: pvc !== undefined && pvc.spec.volumeName === pv.metadata.name,
  };
  const finalizers = (pv.metadata.finalizers ?? []).map((f) => explainFinalizer(f, ctx));
  const v = decide({ kind: 'PersistentVolume', ref: pv.metadata.name, node, pods, finalizers, undetermined, ...(claim ? { claim } : {}) });
  const secs = terminatingSeconds(pv.metadata, now);
  const d: Omit<Diagnosis, 'risks' | 'metadataBefore' | 'metadataAfter'> = {
    kind: 'PersistentVolume',
    name: pv.metadata.name,
    deletionTimestamp: pv.metadata.deletionTimestamp ?? '',
    terminatingForSeconds: secs,
    terminatingFor: humanDuration(secs * 1000),
    volumeType: type,
    finalizers,
    pods,
    ...v,
  };
  if (pv.metadata.uid) d.uid = pv.metadata.uid;
  if (pv.metadata.resourceVersion) d.resourceVersion = pv.metadata.resourceVersion;
  const path = volumePath(pv);
  if (path) d.path = path;
  if (pv.spec.csi?.driver) d.driver = pv.spec.csi.driver;
  if (pv.spec.persistentVolumeReclaimPolicy) d.reclaimPolicy = pv.spec.persistentVolumeReclaimPolicy;
  if (pv.status?.phase) d.phase = pv.status.phase;
  if (claim) d.claim = claim;
  if (node) d.node = node;
  if (undetermined.length) d.undetermined = undetermined;
  const loc = dataLocation(pv, pods);
  if (loc) d.dataLocation = loc;
  return { ...d, risks: risksFor(d), metadataBefore: shownMetadata(pv.metadata), metadataAfter: withoutFinalizers(shownMetadata(pv.metadata)) };
}

/** Diagnoses a single PVC that has a deletionTimestamp. */
export function diagnoseClaim(pvc: PersistentVolumeClaim, inputs: FinalizeInputs, now: number): Diagnosis {
  const namespace = pvc.metadata.namespace ?? '';
  const podsUnknown = !podsKnown(inputs, namespace);
  const pods = podsUnknown ? [] : podsMounting(inputs, namespace, pvc.metadata.name);
  const pv = pvc.spec.volumeName ? inputs.pvs.find((v) => v.metadata.name === pvc.spec.volumeName) : undefined;
  const node = nodeInfo(pv, inputs);
  const ref = `pvc/${pvc.metadata.name}`;
  // What decides a claim's verdict is the pods (pvc-protection); its volume and node only add detail.
  const undetermined: string[] = [];
  if (podsUnknown) undetermined.push(`which pods mount it (the pods in namespace ${namespace} could not be read)`);
  if (inputs.nodesUnread && pods.some((p) => p.node && p.holds)) undetermined.push('whether the nodes of its pods still exist (the nodes could not be read)');
  const notes: string[] = [];
  if (pvc.spec.volumeName && inputs.pvsUnread) notes.push(`volume ${pvc.spec.volumeName}: its node and data location (the PersistentVolumes could not be read)`);
  if (node && node.exists === null) notes.push(`whether node ${node.name} still exists (the nodes could not be read)`);
  const ctx: FinalizerContext = { kind: 'PersistentVolumeClaim', ref: `${pvc.metadata.name} -n ${namespace}`, phase: pvc.status?.phase, pods, podsUnknown };
  const finalizers = (pvc.metadata.finalizers ?? []).map((f) => explainFinalizer(f, ctx));
  const v = decide({ kind: 'PersistentVolumeClaim', ref: `${ref} -n ${namespace}`, node: node?.exists === null ? undefined : node, pods, finalizers, undetermined });
  const secs = terminatingSeconds(pvc.metadata, now);
  const d: Omit<Diagnosis, 'risks' | 'metadataBefore' | 'metadataAfter'> = {
    kind: 'PersistentVolumeClaim',
    name: pvc.metadata.name,
    namespace,
    deletionTimestamp: pvc.metadata.deletionTimestamp ?? '',
    terminatingForSeconds: secs,
    terminatingFor: humanDuration(secs * 1000),
    finalizers,
    pods,
    ...v,
  };
  if (pvc.metadata.uid) d.uid = pvc.metadata.uid;
  if (pvc.metadata.resourceVersion) d.resourceVersion = pvc.metadata.resourceVersion;
  if (pvc.status?.phase) d.phase = pvc.status.phase;
  if (pvc.spec.volumeName) d.volume = pvc.spec.volumeName;
  if (node) d.node = node;
  if (undetermined.length || notes.length) d.undetermined = [...undetermined, ...notes];
  if (pv) {
    const loc = dataLocation(pv, pods);
    if (loc) d.dataLocation = loc;
  }
  return { ...d, risks: risksFor(d), metadataBefore: shownMetadata(pvc.metadata), metadataAfter: withoutFinalizers(shownMetadata(pvc.metadata)) };
}

/** Every PV in scope that is Terminating, by name. */
/** The Terminating PVs a diagnosis with this scope looks at (named ones, plus the sweep). */
export function volumesInScope(pvs: PersistentVolume[], scope: Omit<VolumeScope, 'now'>): PersistentVolume[] {
  const named = new Set(scope.names ?? []);
  const inSweep = (pv: PersistentVolume) =>
    !scope.onlyNamed &&
    (scope.allTypes || ['local', 'hostPath'].includes(volumeType(pv))) &&
    (!scope.selector || selectorMatches(scope.selector, pv.metadata.labels));
  return pvs.filter((pv) => pv.metadata.deletionTimestamp).filter((pv) => named.has(pv.metadata.name) || inSweep(pv));
}

export function diagnoseVolumes(inputs: FinalizeInputs, scope: VolumeScope): Diagnosis[] {
  return volumesInScope(inputs.pvs, scope)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((pv) => diagnoseVolume(pv, inputs, scope.now));
}

/** Every PVC in scope that is Terminating, by namespace and name. */
export function diagnoseClaims(inputs: FinalizeInputs, scope: ClaimScope): Diagnosis[] {
  const named = new Set(scope.names ?? []);
  const inSweep = (c: PersistentVolumeClaim) => !scope.onlyNamed && (!scope.selector || selectorMatches(scope.selector, c.metadata.labels));
  return inputs.pvcs
    .filter((c) => c.metadata.deletionTimestamp)
    .filter((c) => scope.namespace === undefined || c.metadata.namespace === scope.namespace)
    .filter((c) => named.has(c.metadata.name) || inSweep(c))
    .sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name))
    .map((c) => diagnoseClaim(c, inputs, scope.now));
}

/** "persistentvolume/x", "persistentvolumeclaim/ns/x": how the command names objects. */
export function keyOf(d: { kind: ObjectKind; name: string; namespace?: string }): string {
  return d.kind === 'PersistentVolume' ? `persistentvolume/${d.name}` : `persistentvolumeclaim/${d.namespace ?? ''}/${d.name}`;
}

export type Decision = 'finalize' | 'refuse';

export interface PlanItem {
  diagnosis: Diagnosis;
  decision: Decision;
  /** Why refused, or why chosen ("named", "--all-safe"). */
  why: string;
}

export interface PlanOptions {
  /** Keys (keyOf) of objects named on the command line. */
  named: Set<string>;
  allSafe: boolean;
  force: boolean;
}

/**
 * Which diagnosed objects to finalize. Named objects are finalized whatever their verdict, except
 * that one a pod still uses is refused without --force; --all-safe adds every `safe` one.
 */
export function planFinalize(diags: Diagnosis[], o: PlanOptions): PlanItem[] {
  const out: PlanItem[] = [];
  for (const d of diags) {
    const named = o.named.has(keyOf(d));
    if (!named && !(o.allSafe && d.verdict === 'safe')) continue;
    if (d.finalizers.length === 0) continue;
    if (d.verdict === 'blocked-by-pod' && !o.force) {
      out.push({ diagnosis: d, decision: 'refuse', why: `${d.reason}; stop the pod first, or pass --force to finalize anyway` });
      continue;
    }
    if (d.verdict === 'unknown' && !o.force) {
      out.push({ diagnosis: d, decision: 'refuse', why: `${d.reason}; a pod may still use it: pass --force to finalize anyway` });
      continue;
    }
    const forced = d.verdict === 'blocked-by-pod' || d.verdict === 'unknown';
    out.push({ diagnosis: d, decision: 'finalize', why: named ? (forced ? 'named, --force' : 'named') : '--all-safe' });
  }
  return out;
}

/**
 * The finalizer removal for one object, planned against a fresh diagnosis (the mutation
 * pipeline asks again after every conflict): removed only while the diagnosis still allows what
 * was planned; the patch's precondition is that diagnosis's resourceVersion. Pure.
 */
export function finalizeWrite(d: Diagnosis | undefined, o: { force: boolean; named: boolean }): Planned<Diagnosis> {
  // Gone after a re-read, or still there with no finalizer left: their controllers finished.
  if (!d || d.finalizers.length === 0) return { none: 'its finalizers were removed by their controllers meanwhile' };
  if (!stillAllowed(d, o)) return { refuse: `changed while being finalized and is no longer safe: ${d.reason}` };
  return { write: d };
}

/** Whether a re-diagnosis still allows what was planned (used after a conflict). */
export function stillAllowed(d: Diagnosis, o: { force: boolean; named: boolean }): boolean {
  if (d.finalizers.length === 0) return false;
  if (d.verdict === 'blocked-by-pod' || d.verdict === 'unknown') return o.force;
  return o.named || d.verdict === 'safe';
}
