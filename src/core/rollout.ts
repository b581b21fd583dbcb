/**
 * Partition rollouts of a StatefulSet, as pure functions over API objects: the set's strategy
 * facts, which revision each pod runs, the per-set progress, the step planner, the wait
 * predicate, OnDelete deletion plans, and undo plans from ControllerRevisions.
 *
 * Partition semantics (as the StatefulSet controller implements them, v1.36): the partition
 * counts replicas from `spec.ordinals.start`, so the pods updated are those with
 * ordinal >= start + partition; partition >= replicas holds every pod on the current revision.
 */
import type { ControllerRevision, KubeEvent, Pod, PodTemplateSpec, StatefulSet } from './types.js';
import { REVISION_LABEL, isPodAvailable, isPodReady, isTerminating, ordinalOf, ownedBy, podCondition, podsByOrdinal, restartCount } from './pods.js';

export type StrategyType = 'RollingUpdate' | 'OnDelete';

export interface SetFacts {
  namespace: string;
  name: string;
  strategy: StrategyType;
  /** spec.updateStrategy.rollingUpdate.partition (0 when unset); only meaningful for RollingUpdate. */
  partition: number;
  replicas: number;
  /** spec.ordinals.start (0 when unset). */
  start: number;
  podManagementPolicy: 'OrderedReady' | 'Parallel';
  minReadySeconds: number;
  currentRevision: string;
  updateRevision: string;
  generation: number;
  observedGeneration: number;
  /** The controller has seen the latest spec. */
  observed: boolean;
  /** partition >= replicas: a template change rolls nothing. */
  held: boolean;
  deleting: boolean;
  maxUnavailable: MaxUnavailableInfo;
}

export interface MaxUnavailableInfo {
  /** The value on the server's copy of the set, as written (number or percent), if any. */
  raw?: number | string;
  /** Pods the controller may take down at once when it honours the field. */
  effective: number;
  /** Whether the API server has the MaxUnavailableStatefulSet gate on (it keeps / defaults the field). */
  gateOn: boolean;
  /** Whether more than one pod may be replaced at once. */
  parallel: boolean;
  /** The value last applied with `kubectl apply` (its last-applied-configuration) when the server's copy lacks it: the API server dropped it. */
  dropped?: number | string;
  note: string;
}

/** maxUnavailable as last written by client-side `kubectl apply`, from its annotation (undefined when absent or unreadable). */
function appliedMaxUnavailable(sts: StatefulSet): number | string | undefined {
  const text = sts.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (!text) return undefined;
  try {
    const v = (JSON.parse(text) as { spec?: { updateStrategy?: { rollingUpdate?: { maxUnavailable?: unknown } } } })?.spec?.updateStrategy?.rollingUpdate?.maxUnavailable;
    return typeof v === 'number' || typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `maxUnavailable` is honoured, judged from the server's behaviour: with the
 * MaxUnavailableStatefulSet gate on, the API server defaults rollingUpdate.maxUnavailable to 1
 * on every RollingUpdate set it returns; with the gate off it drops the field on writes. So the
 * field's presence on a RollingUpdate set read back from the server tells the gate's state.
 * (Gate history: alpha and off 1.24–1.34; beta from 1.35; off by default in v1.36.)
 */
export function maxUnavailableInfo(sts: StatefulSet): MaxUnavailableInfo {
  const strategy = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  const replicas = sts.spec.replicas ?? 1;
  const raw = sts.spec.updateStrategy?.rollingUpdate?.maxUnavailable;
  if (strategy === 'OnDelete') {
    return { effective: 1, gateOn: false, parallel: false, note: 'not used: OnDelete replaces a pod only when it is deleted' };
  }
  if (raw === undefined || raw === null) {
    const dropped = appliedMaxUnavailable(sts);
    if (dropped !== undefined) {
      return {
        effective: 1,
        gateOn: false,
        parallel: false,
        dropped,
        note: `${dropped} was applied, but the API server dropped it: the MaxUnavailableStatefulSet feature gate is off on this cluster, so pods are replaced one at a time`,
      };
    }
    return {
      effective: 1,
      gateOn: false,
      parallel: false,
      note: 'not set; the API server does not default it, so the MaxUnavailableStatefulSet gate is off there: pods are replaced one at a time',
    };
  }
  const effective = scaledMaxUnavailable(raw, replicas);
  const shown = typeof raw === 'string' ? `${raw} (= ${effective})` : String(raw);
  if (effective <= 1) {
    return { raw, effective: 1, gateOn: true, parallel: false, note: `${shown}; pods are replaced one at a time` };
  }
  return {
    raw,
    effective,
    gateOn: true,
    parallel: true,
    note: `${shown}, honoured: the API server keeps the field (MaxUnavailableStatefulSet on), so up to ${effective} pods at or above the partition may be replaced at once (if kube-controller-manager runs with the same gate)`,
  };
}

/** maxUnavailable as the controller scales it: a percentage of replicas rounded down, at least 1. */
export function scaledMaxUnavailable(raw: number | string, replicas: number): number {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (/^\d+%$/.test(raw)) n = Math.floor((Number(raw.slice(0, -1)) * replicas) / 100);
  else n = Number.parseInt(raw, 10) || 1;
  return Math.max(1, n);
}

export function setFacts(sts: StatefulSet): SetFacts {
  const strategy = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
  const replicas = sts.spec.replicas ?? 1;
  const partition = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const generation = sts.metadata.generation ?? 0;
  const observedGeneration = sts.status?.observedGeneration ?? 0;
  return {
    namespace: sts.metadata.namespace ?? '',
    name: sts.metadata.name,
    strategy,
    partition,
    replicas,
    start: sts.spec.ordinals?.start ?? 0,
    podManagementPolicy: sts.spec.podManagementPolicy ?? 'OrderedReady',
    minReadySeconds: sts.spec.minReadySeconds ?? 0,
    currentRevision: sts.status?.currentRevision ?? '',
    updateRevision: sts.status?.updateRevision ?? '',
    generation,
    observedGeneration,
    observed: observedGeneration >= generation,
    held: strategy === 'RollingUpdate' && partition >= replicas && replicas > 0,
    deleting: isTerminating(sts),
    maxUnavailable: maxUnavailableInfo(sts),
  };
}

// ---------------------------------------------------------------------------------------------
// Per-pod revision and readiness

export type RevisionKind = 'update' | 'current' | 'other' | 'unknown';

/**
 * Which revision a pod runs, by its controller-revision-hash label: `update` when it runs the
 * update revision of a rollout in progress, `current` when it runs the current revision (also
 * when nothing is pending, current == update), `other` for any older revision.
 */
export function classifyRevision(label: string | undefined, currentRevision: string, updateRevision: string): RevisionKind {
  if (!label) return 'unknown';
  if (label === currentRevision) return 'current';
  if (label === updateRevision) return 'update';
  return 'other';
}

export interface PodRow {
  ordinal: number;
  name: string;
  /** Exists on the server (false for an ordinal whose pod is missing). */
  exists: boolean;
  revision: string;
  kind: RevisionKind;
  /** Runs the update revision. */
  updated: boolean;
  /** At or above the partition: the controller moves it to the update revision. */
  inPartition: boolean;
  ready: boolean;
  available: boolean;
  phase: string;
  terminating: boolean;
  restarts: number;
  node: string;
  created?: string | undefined;
  /** Outside [start, start+replicas): being removed by a scale-down. */
  condemned: boolean;
}

export function podRows(sts: StatefulSet, pods: Pod[], now: number): PodRow[] {
  const f = setFacts(sts);
  const byOrd = podsByOrdinal(sts, pods);
  const ords = new Set<number>(byOrd.keys());
  for (let o = f.start; o < f.start + f.replicas; o++) ords.add(o);
  const rows: PodRow[] = [];
  for (const ord of [...ords].sort((a, b) => a - b)) {
    const pod = byOrd.get(ord);
    const condemned = ord < f.start || ord >= f.start + f.replicas;
    const inPartition = !condemned && f.strategy === 'RollingUpdate' && ord >= f.start + f.partition;
    if (!pod) {
      rows.push({
        ordinal: ord,
        name: `${f.name}-${ord}`,
        exists: false,
        revision: '',
        kind: 'unknown',
        updated: false,
        inPartition,
        ready: false,
        available: false,
        phase: 'Missing',
        terminating: false,
        restarts: 0,
        node: '',
        condemned,
      });
      continue;
    }
    const revision = pod.metadata.labels?.[REVISION_LABEL] ?? '';
    rows.push({
      ordinal: ord,
      name: pod.metadata.name,
      exists: true,
      revision,
      kind: classifyRevision(revision, f.currentRevision, f.updateRevision),
      updated: Boolean(revision) && revision === f.updateRevision,
      inPartition,
      ready: isPodReady(pod),
      available: isPodAvailable(pod, f.minReadySeconds, now),
      phase: pod.status?.phase ?? 'Pending',
      terminating: isTerminating(pod),
      restarts: restartCount(pod),
      node: pod.spec.nodeName ?? '',
      created: pod.metadata.creationTimestamp,
      condemned,
    });
  }
  return rows;
}

/** unknown: the pods could not be read, so where the rollout stands cannot be told from them. */
export type RolloutState = 'complete' | 'progressing' | 'held' | 'partitioned' | 'ondelete-pending' | 'scaled-to-zero' | 'deleting' | 'unknown';

export interface RolloutStatus {
  facts: SetFacts;
  pods: PodRow[];
  counts: { replicas: number; ready: number; available: number; updated: number; current: number; other: number; missing: number };
  /** Ordinals the controller should move to the update revision (>= start + partition). */
  targetOrdinals: number[];
  /** No template change is pending: update == current and every pod runs it. */
  upToDate: boolean;
  /** The pods at or above the partition run the update revision and are available. */
  partitionDone: boolean;
  state: RolloutState;
  message: string;
  /** False when the pods could not be read: `pods` is empty and `counts` are the controller's (status). */
  podsKnown?: boolean;
}

/** Target ordinals of a partition: [start + partition, start + replicas), highest first (the controller's order). */
export function targetOrdinals(start: number, replicas: number, partition: number): number[] {
  const out: number[] = [];
  for (let o = start + replicas - 1; o >= start + Math.max(0, partition); o--) out.push(o);
  return out;
}

export function rolloutStatus(sts: StatefulSet, pods: Pod[], now: number): RolloutStatus {
  const f = setFacts(sts);
  const rows = podRows(sts, pods, now);
  const live = rows.filter((r) => !r.condemned);
  const counts = {
    replicas: f.replicas,
    ready: live.filter((r) => r.ready).length,
    available: live.filter((r) => r.available).length,
    updated: live.filter((r) => r.updated).length,
    current: live.filter((r) => r.exists && r.revision === f.currentRevision).length,
    other: live.filter((r) => r.kind === 'other').length,
    missing: live.filter((r) => !r.exists).length,
  };
  const targets = f.strategy === 'RollingUpdate' ? targetOrdinals(f.start, f.replicas, f.partition) : [];
  const upToDate =
    f.observed && f.currentRevision !== '' && f.currentRevision === f.updateRevision && live.every((r) => r.exists && r.revision === f.updateRevision);
  const byOrd = new Map(rows.map((r) => [r.ordinal, r]));
  const partitionDone =
    f.observed && targets.every((o) => {
      const r = byOrd.get(o);
      return Boolean(r && r.updated && r.available && !r.terminating);
    });
  let state: RolloutState;
  let message: string;
  const pending = f.replicas - counts.updated;
  if (f.deleting) {
    state = 'deleting';
    message = `${f.name} is being deleted; no rollout can proceed`;
  } else if (f.replicas === 0) {
    state = 'scaled-to-zero';
    message = `${f.name} has 0 replicas: there are no pods to update`;
  } else if (upToDate && counts.available === f.replicas) {
    state = 'complete';
    message = `rollout complete: ${f.replicas} pods at revision ${f.updateRevision}`;
  } else if (f.strategy === 'OnDelete') {
    state = upToDate ? 'progressing' : 'ondelete-pending';
    message = upToDate
      ? `waiting for ${f.replicas - counts.available} pods to become available`
      : `OnDelete: ${pending} of ${f.replicas} pods still run an older revision; they change only when deleted (kubectl sts rollout ${f.name} -n ${f.namespace} --delete-pods)`;
  } else if (!partitionDone) {
    state = 'progressing';
    const done = targets.filter((o) => byOrd.get(o)?.updated && byOrd.get(o)?.available).length;
    message = f.observed
      ? `rolling out: ${done} of ${targets.length} pods at or above the partition updated and available`
      : `waiting for the controller to observe generation ${f.generation} (observed ${f.observedGeneration})`;
  } else if (f.held) {
    state = 'held';
    message = `held: partition ${f.partition} >= replicas ${f.replicas}; ${pending} pods wait on the current revision (kubectl sts rollout ${f.name} -n ${f.namespace} --step)`;
  } else if (pending > 0) {
    state = 'partitioned';
    message = `partitioned: ${counts.updated} of ${f.replicas} pods updated; ${pending} below partition ${f.partition} wait (kubectl sts rollout ${f.name} -n ${f.namespace} --step)`;
  } else {
    state = 'progressing';
    message = `all pods updated; waiting for ${f.replicas - counts.available} to become available`;
  }
  return { facts: f, pods: rows, counts, targetOrdinals: targets, upToDate, partitionDone, state, message };
}

/**
 * The status when the set's pods could not be read (forbidden): the set's own facts, and the
 * controller's counts from its status, labelled as such; never a verdict that needs the pods.
 */
export function rolloutStatusWithoutPods(sts: StatefulSet): RolloutStatus {
  const f = setFacts(sts);
  const st = sts.status ?? {};
  const counts = {
    replicas: f.replicas,
    ready: st.readyReplicas ?? 0,
    available: st.availableReplicas ?? 0,
    updated: st.updatedReplicas ?? 0,
    current: st.currentReplicas ?? 0,
    other: 0,
    missing: Math.max(0, f.replicas - (st.replicas ?? 0)),
  };
  const targets = f.strategy === 'RollingUpdate' ? targetOrdinals(f.start, f.replicas, f.partition) : [];
  const state: RolloutState = f.deleting ? 'deleting' : 'unknown';
  const message = f.deleting
    ? `${f.name} is being deleted; no rollout can proceed`
    : `the pods could not be read: the controller reports ${counts.updated} of ${f.replicas} updated, ${counts.ready} ready (status, observed generation ${f.observedGeneration} of ${f.generation}); which pods those are is unknown`;
  return { facts: f, pods: [], counts, targetOrdinals: targets, upToDate: false, partitionDone: false, state, message, podsKnown: false };
}

// ---------------------------------------------------------------------------------------------
// Step planning

export interface StepRequest {
  /** Lower the partition by this many (>= 1). */
  step?: number;
  /** Set the partition to exactly this. */
  to?: number;
  /** Set the partition to replicas (hold every pod). */
  hold?: boolean;
}

export type StepPlan =
  | { kind: 'patch'; from: number; to: number; newTargets: number[]; notes: string[] }
  /** settled: nothing to wait for either (up to date, no replicas); else the pods at `partition` may still be rolling. */
  | { kind: 'noop'; partition: number; reason: string; notes: string[]; settled: boolean }
  | { kind: 'refuse'; reason: string; hints: string[] };

/**
 * What a partition change does. `newTargets` are the ordinals that move to the update revision
 * because of this change (highest first), i.e. the pods the step waits on besides those already
 * targeted and not yet done.
 */
export function planStep(sts: StatefulSet, req: StepRequest): StepPlan {
  const f = setFacts(sts);
  const notes: string[] = [];
  if (f.deleting) return { kind: 'refuse', reason: `statefulset ${f.name} is being deleted (deletionTimestamp is set); it cannot be rolled out`, hints: [] };
  if (f.strategy === 'OnDelete') {
    return {
      kind: 'refuse',
      reason: `statefulset ${f.name} uses updateStrategy OnDelete: the controller replaces a pod only when it is deleted, so the partition has no effect`,
      hints: [
        `Pass --delete-pods to delete outdated pods from the highest ordinal down, one at a time, waiting for each to return Ready on the update revision:`,
        `  kubectl sts rollout ${f.name} -n ${f.namespace} --step 1 --delete-pods`,
        `Or switch the set to RollingUpdate: kubectl -n ${f.namespace} patch sts ${f.name} -p '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}'`,
      ],
    };
  }
  if (f.maxUnavailable.parallel) notes.push(`maxUnavailable ${f.maxUnavailable.note}`);
  if (f.partition > f.replicas) notes.push(`partition ${f.partition} is above replicas ${f.replicas} (nothing is updated); counting from ${f.replicas}`);
  const base = Math.min(f.partition, f.replicas);
  let to: number;
  if (req.hold) to = f.replicas;
  else if (req.to !== undefined) to = req.to;
  else to = Math.max(0, base - (req.step ?? 1));
  if (to < 0) return { kind: 'refuse', reason: `partition ${to} is invalid: it must be 0 or more`, hints: [] };
  if (f.replicas === 0 && !req.hold) {
    return { kind: 'noop', partition: f.partition, reason: `${f.name} has 0 replicas: there are no pods to update; the partition stays at ${f.partition}`, notes, settled: true };
  }
  if (!req.hold && req.to === undefined && isUpToDate(sts)) {
    return {
      kind: 'noop',
      partition: f.partition,
      reason: `nothing to roll out: every pod of ${f.name} runs the update revision ${f.updateRevision}; the partition stays at ${f.partition}`,
      notes,
      settled: true,
    };
  }
  if (!req.hold && req.to === undefined && f.partition === 0) {
    return { kind: 'noop', partition: 0, reason: `the partition of ${f.name} is already 0: every pod is in the rollout`, notes, settled: false };
  }
  if (to > f.replicas && !req.hold) notes.push(`partition ${to} is above replicas ${f.replicas}: it holds every pod`);
  if (to === f.partition) {
    return { kind: 'noop', partition: to, reason: `the partition of ${f.name} is already ${to}`, notes, settled: false };
  }
  const oldTargets = new Set(targetOrdinals(f.start, f.replicas, f.partition));
  const newTargets = targetOrdinals(f.start, f.replicas, to).filter((o) => !oldTargets.has(o));
  if (f.start !== 0) notes.push(`ordinals start at ${f.start}: partition ${to} updates ordinals >= ${f.start + to}`);
  return { kind: 'patch', from: f.partition, to, newTargets, notes };
}

/**
 * No template change is pending, judged from the set's status alone (no pod list): the controller
 * has seen the spec, current == update revision and every replica counts as updated.
 */
export function isUpToDate(sts: StatefulSet): boolean {
  const f = setFacts(sts);
  if (!f.observed || !f.updateRevision || f.updateRevision !== f.currentRevision) return false;
  return (sts.status?.updatedReplicas ?? 0) >= f.replicas && (sts.status?.replicas ?? 0) === f.replicas;
}

/** The merge patch that sets the partition (and, for `hold --image`, container images by name). */
export function partitionPatch(partition: number, images: ImageChange[] = []): Record<string, unknown> {
  const spec: Record<string, unknown> = { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } } };
  const containers = images.filter((i) => !i.init).map((i) => ({ name: i.container, image: i.image }));
  const initContainers = images.filter((i) => i.init).map((i) => ({ name: i.container, image: i.image }));
  if (containers.length || initContainers.length) {
    spec.template = { spec: { ...(containers.length ? { containers } : {}), ...(initContainers.length ? { initContainers } : {}) } };
  }
  return { spec };
}

export interface ImageChange {
  container: string;
  image: string;
  init?: boolean;
}

/** Parses `--image CONTAINER=IMAGE` values against the set's containers; throws a message on error. */
export function parseImages(values: string[], sts: StatefulSet): ImageChange[] {
  const names = sts.spec.template.spec.containers.map((c) => c.name);
  const inits = (sts.spec.template.spec.initContainers ?? []).map((c) => c.name);
  const out: ImageChange[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new Error(`--image "${v}" must be CONTAINER=IMAGE (containers: ${names.join(', ')})`);
    const container = v.slice(0, eq);
    const image = v.slice(eq + 1);
    if (names.includes(container)) out.push({ container, image });
    else if (inits.includes(container)) out.push({ container, image, init: true });
    else throw new Error(`statefulset ${sts.metadata.name} has no container "${container}" (containers: ${[...names, ...inits].join(', ')})`);
  }
  return out;
}

/** Images that would actually change (same image is not a change). */
export function imageChanges(sts: StatefulSet, images: ImageChange[]): { container: string; from: string; to: string }[] {
  const all = [...sts.spec.template.spec.containers, ...(sts.spec.template.spec.initContainers ?? [])];
  return images
    .map((i) => ({ container: i.container, from: all.find((c) => c.name === i.container)?.image ?? '', to: i.image }))
    .filter((c) => c.from !== c.to);
}

// ---------------------------------------------------------------------------------------------
// Waiting

export interface WaitTarget {
  /** The partition the wait is for. */
  partition: number;
  /** The generation the patch produced: the controller must have observed at least this one. */
  generation: number;
  /** Ordinals to wait on (highest first). */
  ordinals: number[];
}

export interface WaitProgress {
  done: boolean;
  /** The pod the controller is working on (the highest ordinal not yet done). */
  waitingOn?: { name: string; ordinal: number; reason: string } | undefined;
  doneCount: number;
  total: number;
  /** When every pod left is Ready and only minReadySeconds remains: the instant all will be available. */
  availableAt?: number | undefined;
}

/**
 * Whether every target pod runs the update revision and is available. `sts` is the freshest copy
 * of the set (from the watch, or the patch response when it is already observed).
 */
export function waitProgress(sts: StatefulSet, pods: Pod[], target: WaitTarget, now: number): WaitProgress {
  const f = setFacts(sts);
  const byOrd = podsByOrdinal(sts, pods);
  const total = target.ordinals.length;
  if (f.observedGeneration < target.generation) {
    return {
      done: false,
      doneCount: 0,
      total,
      waitingOn: target.ordinals.length
        ? { name: `${f.name}-${target.ordinals[0]}`, ordinal: target.ordinals[0]!, reason: `waiting for the controller to observe generation ${target.generation}` }
        : undefined,
    };
  }
  let doneCount = 0;
  let waitingOn: WaitProgress['waitingOn'];
  let availableAt: number | undefined;
  let onlyMinReady = true;
  for (const ord of target.ordinals) {
    const pod = byOrd.get(ord);
    const reason = podWaitReason(pod, f, now);
    if (!reason) {
      doneCount++;
      continue;
    }
    if (reason.availableAt !== undefined) availableAt = Math.max(availableAt ?? 0, reason.availableAt);
    else onlyMinReady = false;
    if (!waitingOn) waitingOn = { name: `${f.name}-${ord}`, ordinal: ord, reason: reason.text };
  }
  const done = doneCount === total;
  return { done, waitingOn, doneCount, total, availableAt: !done && onlyMinReady ? availableAt : undefined };
}

/** Why a pod is not yet done (undefined: done). */
export function podWaitReason(pod: Pod | undefined, f: SetFacts, now: number): { text: string; availableAt?: number } | undefined {
  if (!pod) return { text: 'not created yet' };
  if (isTerminating(pod)) return { text: 'terminating (the controller recreates it on the update revision)' };
  const rev = pod.metadata.labels?.[REVISION_LABEL];
  if (rev !== f.updateRevision) return { text: `still on revision ${rev ?? '<none>'}; waiting for the controller to replace it` };
  if (!isPodReady(pod)) return { text: describePodState(pod) };
  if (!isPodAvailable(pod, f.minReadySeconds, now)) {
    const since = Date.parse(podCondition(pod, 'Ready')?.lastTransitionTime ?? '');
    const at = Number.isNaN(since) ? now + f.minReadySeconds * 1000 : since + f.minReadySeconds * 1000;
    return { text: `Ready, waiting out minReadySeconds ${f.minReadySeconds}`, availableAt: at };
  }
  return undefined;
}

/** A pod's state in a few words: phase, the failing condition, a waiting container reason. */
export function describePodState(pod: Pod): string {
  const phase = pod.status?.phase ?? 'Pending';
  const sched = podCondition(pod, 'PodScheduled');
  if (sched && sched.status !== 'True') {
    return `${phase}: PodScheduled=False ${sched.reason ?? ''}${sched.message ? `: ${sched.message}` : ''}`.trim();
  }
  const waiting = (pod.status?.containerStatuses ?? []).find((c) => c.state?.waiting?.reason);
  if (waiting) return `${phase}: container ${waiting.name} ${waiting.state!.waiting!.reason}${waiting.state!.waiting!.message ? `: ${waiting.state!.waiting!.message}` : ''}`;
  const terminated = (pod.status?.containerStatuses ?? []).find((c) => c.state?.terminated);
  if (terminated) return `${phase}: container ${terminated.name} terminated (${terminated.state!.terminated!.reason ?? `exit ${terminated.state!.terminated!.exitCode}`})`;
  const ready = podCondition(pod, 'Ready');
  if (ready) return `${phase}: Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`;
  return `${phase}: not Ready`;
}

/** The newest event about a pod, as one line. */
export function lastEventLine(events: KubeEvent[]): string | undefined {
  const when = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '') || 0;
  const last = [...events].sort((a, b) => when(b) - when(a))[0];
  if (!last) return undefined;
  return `${last.type ?? 'Normal'} ${last.reason ?? ''}: ${(last.message ?? '').trim()}`;
}


/**
 * During --interval: the first watched pod that restarted, lost Ready, or disappeared since the
 * baseline (undefined: all still healthy).
 */
export function intervalProblem(baseline: Map<string, { uid?: string | undefined; restarts: number }>, pods: Pod[]): { pod: string; reason: string } | undefined {
  const byName = new Map(pods.map((p) => [p.metadata.name, p]));
  for (const [name, b] of [...baseline.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
    const p = byName.get(name);
    if (!p) return { pod: name, reason: 'disappeared' };
    if (b.uid && p.metadata.uid && p.metadata.uid !== b.uid) return { pod: name, reason: 'was replaced' };
    const r = restartCount(p);
    if (r > b.restarts) return { pod: name, reason: `restarted (${b.restarts} -> ${r} restarts)` };
    if (!isPodReady(p)) return { pod: name, reason: `lost Ready (${describePodState(p)})` };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// OnDelete: rolling by deleting pods

export interface DeletePlan {
  /** Pods to delete, highest ordinal first, each with the uid/resourceVersion to guard the delete. */
  pods: { name: string; ordinal: number; uid?: string | undefined; resourceVersion?: string | undefined; revision: string }[];
  /** Outdated pods left for later steps. */
  remaining: number;
}

/**
 * For --delete-pods: the outdated pods (not on the update revision) to delete in this step,
 * highest ordinal first; `count` of them, or all at ordinal >= start + `to`.
 */
export function planPodDeletions(sts: StatefulSet, pods: Pod[], o: { count?: number; to?: number }): DeletePlan {
  const f = setFacts(sts);
  const byOrd = podsByOrdinal(sts, pods);
  const outdated: DeletePlan['pods'] = [];
  for (let ord = f.start + f.replicas - 1; ord >= f.start; ord--) {
    const p = byOrd.get(ord);
    if (!p || isTerminating(p)) continue;
    const rev = p.metadata.labels?.[REVISION_LABEL] ?? '';
    if (rev === f.updateRevision) continue;
    outdated.push({ name: p.metadata.name, ordinal: ord, uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion, revision: rev });
  }
  let chosen: DeletePlan['pods'];
  if (o.to !== undefined) chosen = outdated.filter((p) => p.ordinal >= f.start + o.to!);
  else chosen = outdated.slice(0, o.count ?? 1);
  return { pods: chosen, remaining: outdated.length - chosen.length };
}

// ---------------------------------------------------------------------------------------------
// ControllerRevisions: history, diff, undo

export interface RevisionEntry {
  revision: number;
  name: string;
  changeCause: string;
  images: string[];
  isCurrent: boolean;
  isUpdate: boolean;
  /** The set's pods running this revision; null when the pods could not be read. */
  pods: string[] | null;
  created?: string | undefined;
  template?: PodTemplateSpec | undefined;
}

/** The set's ControllerRevisions (controller owner reference), oldest first. */
export function ownedRevisions(sts: StatefulSet, revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions
    .filter((r) =>
      (r.metadata.ownerReferences ?? []).some(
        (o) => o.kind === 'StatefulSet' && o.controller !== false && (sts.metadata.uid ? o.uid === sts.metadata.uid : o.name === sts.metadata.name),
      ),
    )
    .sort((a, b) => a.revision - b.revision || a.metadata.name.localeCompare(b.metadata.name));
}

/** The pod template a revision recorded (data.spec.template), without the `$patch: replace` directive. */
export function templateOf(rev: ControllerRevision): PodTemplateSpec | undefined {
  const t = rev.data?.spec?.template as (PodTemplateSpec & { $patch?: string }) | undefined;
  if (!t) return undefined;
  const { $patch: _ignored, ...rest } = t;
  return rest as PodTemplateSpec;
}

export function imagesOf(t: PodTemplateSpec | undefined): string[] {
  if (!t) return [];
  return [...(t.spec.initContainers ?? []), ...t.spec.containers].map((c) => `${c.name}=${c.image ?? ''}`);
}

export function history(sts: StatefulSet, revisions: ControllerRevision[], pods: Pod[] | undefined): RevisionEntry[] {
  const f = setFacts(sts);
  const byOrd = podsByOrdinal(sts, pods ?? []);
  return ownedRevisions(sts, revisions).map((r) => {
    const t = templateOf(r);
    return {
      revision: r.revision,
      name: r.metadata.name,
      changeCause: r.metadata.annotations?.['kubernetes.io/change-cause'] ?? '',
      images: imagesOf(t),
      isCurrent: r.metadata.name === f.currentRevision,
      isUpdate: r.metadata.name === f.updateRevision,
      pods: pods ? [...byOrd.values()].filter((p) => p.metadata.labels?.[REVISION_LABEL] === r.metadata.name).map((p) => p.metadata.name) : null,
      created: r.metadata.creationTimestamp,
      template: t,
    };
  });
}

export type UndoPlan =
  | {
      kind: 'patch';
      from: { revision: number; name: string } | undefined;
      to: { revision: number; name: string };
      template: PodTemplateSpec;
      /** Strategic merge patch body (without the resourceVersion precondition). */
      patch: Record<string, unknown>;
      /** Pods created from the revision being left (for --force), highest ordinal first. */
      badPods: { name: string; ordinal: number; uid?: string | undefined; resourceVersion?: string | undefined; ready: boolean }[];
      notes: string[];
    }
  | { kind: 'noop'; reason: string }
  | { kind: 'refuse'; reason: string; hints: string[] };

/**
 * Restoring the pod template of revision `toRevision` (0 or undefined: the one before the update
 * revision). Only spec.template changes; strategy and partition stay. The patch is the revision's
 * own data (a strategic merge patch replacing the template), as the controller recorded it.
 */
export function planUndo(sts: StatefulSet, revisions: ControllerRevision[], pods: Pod[], toRevision?: number): UndoPlan {
  const f = setFacts(sts);
  if (f.deleting) return { kind: 'refuse', reason: `statefulset ${f.name} is being deleted; it cannot be rolled back`, hints: [] };
  const own = ownedRevisions(sts, revisions);
  if (!own.length) {
    return { kind: 'refuse', reason: `statefulset ${f.name} has no ControllerRevisions to roll back to`, hints: ['The controller records one per template; check that kube-controller-manager runs.'] };
  }
  const latest = own.find((r) => r.metadata.name === f.updateRevision) ?? own[own.length - 1]!;
  let target: ControllerRevision | undefined;
  if (toRevision) {
    target = own.find((r) => r.revision === toRevision);
    if (!target) {
      return {
        kind: 'refuse',
        reason: `statefulset ${f.name} has no revision ${toRevision}`,
        hints: [`Revisions: ${own.map((r) => r.revision).join(', ')} (kubectl sts rollout history ${f.name} -n ${f.namespace})`],
      };
    }
  } else {
    const older = own.filter((r) => r.metadata.name !== latest.metadata.name && r.revision < latest.revision);
    target = older[older.length - 1];
    if (!target) return { kind: 'refuse', reason: `statefulset ${f.name} has no earlier revision than ${latest.revision} (${latest.metadata.name})`, hints: [] };
  }
  const template = templateOf(target);
  if (!template) return { kind: 'refuse', reason: `revision ${target.revision} (${target.metadata.name}) records no pod template (data.spec.template)`, hints: [] };
  if (target.metadata.name === f.updateRevision) {
    return { kind: 'noop', reason: `statefulset ${f.name} already has the template of revision ${target.revision} (${target.metadata.name})` };
  }
  const byOrd = podsByOrdinal(sts, pods);
  const badPods = [...byOrd.entries()]
    .filter(([, p]) => f.updateRevision && p.metadata.labels?.[REVISION_LABEL] === f.updateRevision && !isTerminating(p))
    .sort((a, b) => b[0] - a[0])
    .map(([ord, p]) => ({ name: p.metadata.name, ordinal: ord, uid: p.metadata.uid, resourceVersion: p.metadata.resourceVersion, ready: isPodReady(p) }));
  const notes = [`undo restores the pod template only; the update strategy and partition (${f.strategy === 'RollingUpdate' ? f.partition : 'OnDelete'}) stay as they are`];
  if (f.strategy === 'RollingUpdate' && f.partition > 0) {
    notes.push(`pods below the partition (ordinals < ${f.start + f.partition}) keep their revision; lower it with --step/--to to roll them`);
  }
  return {
    kind: 'patch',
    from: { revision: latest.revision, name: latest.metadata.name },
    to: { revision: target.revision, name: target.metadata.name },
    template,
    patch: { spec: { template: { ...template, $patch: 'replace' } } },
    badPods,
    notes,
  };
}

/** The template diff input: two YAML-able templates with stable key order. */
export function normalizedTemplate(t: PodTemplateSpec | undefined): unknown {
  return sortKeys(t ?? {});
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => k !== '$patch')
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

/** The pair of revisions `rollout diff` compares: `from` (default the current revision) to the update revision. */
export function diffPair(
  sts: StatefulSet,
  revisions: ControllerRevision[],
  fromRevision?: number,
): { from: ControllerRevision; to: ControllerRevision } | { error: string } {
  const f = setFacts(sts);
  const own = ownedRevisions(sts, revisions);
  const to = own.find((r) => r.metadata.name === f.updateRevision) ?? own[own.length - 1];
  if (!to) return { error: `statefulset ${f.name} has no ControllerRevisions yet` };
  const from = fromRevision ? own.find((r) => r.revision === fromRevision) : own.find((r) => r.metadata.name === f.currentRevision);
  if (!from) {
    return { error: fromRevision ? `statefulset ${f.name} has no revision ${fromRevision} (revisions: ${own.map((r) => r.revision).join(', ')})` : `the current revision ${f.currentRevision} of ${f.name} is not among its ControllerRevisions` };
  }
  return { from, to };
}
