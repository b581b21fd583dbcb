/**
 * Rollout and availability findings of `doctor` for one StatefulSet. Pure: the set, its pods,
 * the nodes, PodDisruptionBudgets and events in; findings out.
 *
 * Facts used:
 * - With podManagementPolicy OrderedReady the StatefulSet controller creates, updates and deletes
 *   one pod at a time and waits for each to be Running and Ready: a pod that never becomes Ready
 *   stops a scale-up and a rolling update for good. After reverting the template, the pods already
 *   created from the bad revision must be deleted by hand ("forced rollback", Kubernetes docs,
 *   StatefulSet rolling updates); `kubectl sts rollout undo --force` does both.
 * - The StatefulSet controller does not go through the eviction API: a PodDisruptionBudget does
 *   not limit a rolling update, only drains and other evictions. An eviction is refused (HTTP 429)
 *   while the budget allows no disruption, and fails (500) for a pod covered by more than one budget.
 */
import type { ContainerStatus, ControllerRevision, KubeEvent, Node, Pod, PodDisruptionBudget, StatefulSet } from './types.js';
import type { DoctorFinding } from './doctor-types.js';
import { describePodState, rolloutStatus, scaledMaxUnavailable, setFacts } from './rollout.js';
import { isPodReady, isTerminating, podCondition, podsOfSet, REVISION_LABEL } from './pods.js';
import { selectorMatches } from './labels.js';
import { humanDuration } from './duration.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export type PodTroubleKind = 'unschedulable' | 'pending-claim' | 'image-pull' | 'crash-loop' | 'container-config' | 'not-ready';

export interface PodTrouble {
  kind: PodTroubleKind;
  /** One line: the reason from the conditions or container statuses. */
  text: string;
  evidence: string[];
  /** Since when the pod is not Ready (creation, or the Ready condition's last transition), in ms at `now`. */
  notReadyForMs: number;
}

const IMAGE_PULL = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CONFIG = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

function when(e: KubeEvent): number {
  return Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '') || 0;
}

/** The newest events about an object (by uid, else kind and name), newest first, as lines. */
export function eventLines(events: KubeEvent[] | undefined, kind: string, obj: { metadata: { name: string; namespace?: string; uid?: string } }, max = 3): string[] {
  if (!events) return [];
  const mine = events.filter((e) => {
    const io = e.involvedObject;
    if (!io || io.kind !== kind) return false;
    if (io.uid && obj.metadata.uid) return io.uid === obj.metadata.uid;
    return io.name === obj.metadata.name && (io.namespace ?? '') === (obj.metadata.namespace ?? '');
  });
  // The same reason and message from several Event objects (one per reporter or series) is one line.
  const lines = new Map<string, number>();
  for (const e of mine.sort((a, b) => when(b) - when(a))) {
    const text = `${e.type ?? 'Normal'} ${e.reason ?? ''}: ${(e.message ?? '').trim()}`;
    lines.set(text, (lines.get(text) ?? 0) + (e.count ?? 1));
  }
  return [...lines.entries()].slice(0, max).map(([text, n]) => `event ${text.replace(/:/, n > 1 ? ` (x${n}):` : ':')}`);
}

/**
 * Why a pod is not Ready, or undefined when it is Ready (or terminating). A pod held by a cause
 * that does not clear by itself (unschedulable, claim, image, crash loop, config) is trouble at
 * once; one merely not Ready yet is trouble only after `stuckAfterMs`.
 */
export function podTrouble(pod: Pod, events: KubeEvent[] | undefined, now: number, stuckAfterMs: number): PodTrouble | undefined {
  if (isPodReady(pod) || isTerminating(pod)) return undefined;
  const ready = podCondition(pod, 'Ready');
  const since = Date.parse(ready?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? '');
  const notReadyForMs = Number.isNaN(since) ? 0 : Math.max(0, now - since);
  const evidence: string[] = [];
  const sched = podCondition(pod, 'PodScheduled');
  let kind: PodTroubleKind | undefined;
  let text = describePodState(pod);
  if (sched && sched.status === 'False') {
    evidence.push(`condition PodScheduled=False ${sched.reason ?? ''}: ${sched.message ?? ''}`.trim());
    const msg = sched.message ?? '';
    kind = /persistentvolumeclaim|PersistentVolumeClaim|persistent volumes to bind|volume node affinity/.test(msg) ? 'pending-claim' : 'unschedulable';
    text = `not scheduled: ${msg || sched.reason || 'Unschedulable'}`;
  }
  for (const c of [...(pod.status?.containerStatuses ?? []), ...((pod.status as { initContainerStatuses?: ContainerStatus[] } | undefined)?.initContainerStatuses ?? [])]) {
    const w = c.state?.waiting;
    const t = c.state?.terminated;
    if (w?.reason) evidence.push(`container ${c.name}: waiting, ${w.reason}${w.message ? `: ${w.message}` : ''}${c.restartCount ? ` (restarts ${c.restartCount})` : ''}`);
    else if (t) evidence.push(`container ${c.name}: terminated, ${t.reason ?? ''} exit ${t.exitCode ?? '?'}${c.restartCount ? ` (restarts ${c.restartCount})` : ''}`);
    if (kind) continue;
    if (w?.reason && IMAGE_PULL.has(w.reason)) {
      kind = 'image-pull';
      text = `container ${c.name} cannot pull image ${c.image ?? ''}: ${w.reason}${w.message ? ` (${w.message})` : ''}`.replace('  ', ' ');
    } else if (w?.reason === 'CrashLoopBackOff') {
      kind = 'crash-loop';
      text = `container ${c.name} is crash-looping (${c.restartCount} restarts)`;
    } else if (w?.reason && CONFIG.has(w.reason)) {
      kind = 'container-config';
      text = `container ${c.name} cannot start: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
    }
  }
  if (!kind) {
    if (notReadyForMs < stuckAfterMs) return undefined;
    kind = 'not-ready';
    if (ready) evidence.push(`condition Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`);
  }
  evidence.push(...eventLines(events, 'Pod', pod));
  return { kind, text, evidence, notReadyForMs };
}

const TROUBLE_CHECK: Record<PodTroubleKind, string> = {
  unschedulable: 'pod-unschedulable',
  'pending-claim': 'pod-pending-claim',
  'image-pull': 'pod-image-pull',
  'crash-loop': 'pod-crash-loop',
  'container-config': 'pod-container-config',
  'not-ready': 'pod-not-ready',
};

function troubleFix(t: PodTrouble, pod: Pod, sts: StatefulSet, onUpdateRevision: boolean): string {
  const ns = pod.metadata.namespace ?? '';
  const name = pod.metadata.name;
  const set = sts.metadata.name;
  switch (t.kind) {
    case 'unschedulable':
      return `make a node fit the pod's nodeSelector, affinity, tolerations and requests, or fix them in the set's template (kubectl -n ${ns} get sts ${set} -o jsonpath='{.spec.template.spec.nodeSelector}'; kubectl -n ${ns} describe pod ${name})`;
    case 'pending-claim':
      return `bind the pod's claim first (see the claim-pending finding; kubectl -n ${ns} describe pod ${name})`;
    case 'image-pull':
      return onUpdateRevision
        ? `roll back the template: kubectl sts rollout undo ${set} -n ${ns} --force (or fix the image: kubectl sts rollout hold ${set} -n ${ns} --image CONTAINER=IMAGE)`
        : `fix the image name or the pull secret (kubectl -n ${ns} describe pod ${name})`;
    case 'crash-loop':
      return `read why it exits: kubectl -n ${ns} logs ${name} --previous${onUpdateRevision ? `; to roll back: kubectl sts rollout undo ${set} -n ${ns} --force` : ''}`;
    case 'container-config':
      return `fix the missing ConfigMap, Secret or container setting named above (kubectl -n ${ns} describe pod ${name})`;
    case 'not-ready':
      return `check the readiness probe and the logs: kubectl -n ${ns} describe pod ${name}; kubectl -n ${ns} logs ${name}`;
  }
}

export interface RolloutInput {
  sts: StatefulSet;
  pods: Pod[];
  events: KubeEvent[] | undefined;
  /** The ControllerRevisions in the namespace (for how long a held rollout has not moved); undefined: not read. */
  revisions?: ControllerRevision[] | undefined;
  now: number;
  stuckAfterMs: number;
}

/** Stuck pods, a held partition, an unobserved template change, an OnDelete change not applied, an OrderedReady set blocked by a broken pod. */
export function rolloutFindings(input: RolloutInput): DoctorFinding[] {
  const { sts, pods, events, now, stuckAfterMs } = input;
  const st = rolloutStatus(sts, pods, now);
  const f = st.facts;
  const ns = f.namespace;
  const out: DoctorFinding[] = [];
  if (f.deleting) return out;
  const own = podsOfSet(sts, pods);
  const broken: { pod: Pod; t: PodTrouble; updated: boolean }[] = [];
  for (const pod of own) {
    const t = podTrouble(pod, events, now, stuckAfterMs);
    if (!t) continue;
    const updated = !st.upToDate && pod.metadata.labels?.[REVISION_LABEL] === f.updateRevision && f.updateRevision !== f.currentRevision;
    broken.push({ pod, t, updated });
    out.push({
      category: 'rollout',
      check: TROUBLE_CHECK[t.kind],
      severity: 'error',
      subject: `Pod/${pod.metadata.name}`,
      message: `${pod.metadata.name} not Ready for ${humanDuration(t.notReadyForMs)}: ${t.text}`,
      evidence: t.evidence,
      fix: troubleFix(t, pod, sts, updated),
    });
  }

  // OrderedReady: one broken pod stops everything after it.
  if (f.podManagementPolicy === 'OrderedReady' && broken.length && f.replicas > 0) {
    const first = broken[0]!;
    const missing = st.pods.filter((r) => !r.exists && !r.condemned).map((r) => r.name);
    const rollingBlocked = f.strategy === 'RollingUpdate' && !st.upToDate && f.updateRevision !== f.currentRevision;
    if (rollingBlocked && broken.some((b) => b.updated)) {
      const bad = broken.filter((b) => b.updated).map((b) => b.pod.metadata.name);
      out.push({
        category: 'rollout',
        check: 'rollout-blocked',
        severity: 'error',
        subject: `StatefulSet/${f.name}`,
        message: `the rolling update to ${f.updateRevision} is stuck: ${bad.join(', ')} (update revision) never became Ready, and OrderedReady waits for it forever; reverting the template alone does not replace ${bad.length === 1 ? 'it' : 'them'}`,
        evidence: [`podManagementPolicy OrderedReady, ${st.counts.updated} of ${f.replicas} pods updated, partition ${f.partition}`, `revisions: ${f.currentRevision} (current) -> ${f.updateRevision} (update)`, ...first.t.evidence.slice(0, 2)],
        fix: `forced rollback: kubectl sts rollout undo ${f.name} -n ${ns} --force (restores the previous template, then deletes ${bad.join(', ')})`,
      });
    } else if (missing.length) {
      out.push({
        category: 'rollout',
        check: 'rollout-blocked',
        severity: 'error',
        subject: `StatefulSet/${f.name}`,
        message: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not created: OrderedReady creates the next pod only after ${first.pod.metadata.name} is Running and Ready`,
        evidence: [`podManagementPolicy OrderedReady, replicas ${f.replicas}, ${own.length} pods exist`, `${first.pod.metadata.name}: ${first.t.text}`],
        fix: `fix ${first.pod.metadata.name} (see its finding); or, when the pods may start in any order, recreate the set with podManagementPolicy: Parallel`,
      });
    }
  }

  if (!f.observed) {
    out.push({
      category: 'rollout',
      check: 'generation-not-observed',
      severity: 'warning',
      subject: `StatefulSet/${f.name}`,
      message: `the StatefulSet controller has not yet seen the latest change of the set (generation ${f.generation}, observed ${f.observedGeneration}): nothing of it is rolled out`,
      evidence: [`metadata.generation ${f.generation}, status.observedGeneration ${f.observedGeneration}`],
      fix: `wait a few seconds and run again; if it stays, kube-controller-manager is not running or not leading (kubectl get --raw /readyz; kubectl -n kube-system get leases kube-controller-manager)`,
    });
  } else if (st.state === 'held' || st.state === 'partitioned') {
    const still = heldFor(input, f.updateRevision);
    out.push({
      category: 'rollout',
      check: 'partition-held',
      severity: 'warning',
      subject: `StatefulSet/${f.name}`,
      message: `the rollout to ${f.updateRevision} is paused at partition ${f.partition}${still !== undefined ? `, with no progress for ${humanDuration(still)}` : ''}: ${st.counts.updated} of ${f.replicas} pods updated; the rest stay on ${f.currentRevision} until the partition is lowered`,
      evidence: [
        `updateStrategy RollingUpdate, partition ${f.partition}, replicas ${f.replicas}`,
        `revisions: ${f.currentRevision} (current) -> ${f.updateRevision} (update)`,
        ...(still !== undefined ? [`last progress ${humanDuration(still)} ago (the update revision made, or its newest pod created)`] : []),
      ],
      fix: `go on: kubectl sts rollout ${f.name} -n ${ns} --step (or --auto); or drop the change: kubectl sts rollout undo ${f.name} -n ${ns}`,
    });
  } else if (st.state === 'ondelete-pending') {
    out.push({
      category: 'rollout',
      check: 'ondelete-pending',
      severity: 'warning',
      subject: `StatefulSet/${f.name}`,
      message: `OnDelete: ${f.replicas - st.counts.updated} of ${f.replicas} pods run an older revision; they change only when deleted`,
      evidence: [`updateStrategy OnDelete`, `revisions: ${f.currentRevision} (current) -> ${f.updateRevision} (update)`],
      fix: `kubectl sts rollout ${f.name} -n ${ns} --delete-pods`,
    });
  }
  return out;
}

/**
 * How long a held rollout has not moved, in ms: since the later of the update revision's creation
 * and the creation of its newest pod. Undefined when the revisions were not read.
 */
export function heldFor(input: Pick<RolloutInput, 'sts' | 'pods' | 'revisions' | 'now'>, updateRevision: string): number | undefined {
  const rev = input.revisions?.find((r) => r.metadata.name === updateRevision && (r.metadata.namespace ?? '') === (input.sts.metadata.namespace ?? ''));
  if (!rev) return undefined;
  const times = [rev.metadata.creationTimestamp, ...podsOfSet(input.sts, input.pods).filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).map((p) => p.metadata.creationTimestamp)]
    .map((t) => Date.parse(t ?? ''))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(0, input.now - Math.max(...times)) : undefined;
}

/** Whether a set waits below its partition with a change pending: then the revisions are worth a LIST. */
export function waitsBelowPartition(sts: StatefulSet): boolean {
  const f = setFacts(sts);
  return f.strategy === 'RollingUpdate' && f.partition > 0 && f.updateRevision !== '' && f.updateRevision !== f.currentRevision;
}

// ---------------------------------------------------------------------------------------------
// Availability

function templateLabels(sts: StatefulSet): Record<string, string> {
  return (sts.spec.template.metadata?.labels as Record<string, string> | undefined) ?? {};
}

/** The budgets whose selector selects the set's pods (policy/v1: a null selector selects nothing, {} everything). */
export function budgetsOf(sts: StatefulSet, pdbs: PodDisruptionBudget[]): PodDisruptionBudget[] {
  const ns = sts.metadata.namespace ?? '';
  return pdbs.filter((p) => (p.metadata.namespace ?? '') === ns && p.spec.selector != null && selectorMatches(p.spec.selector, templateLabels(sts)));
}

/** Pods a budget lets be disrupted at once, out of `replicas` (percentages rounded up, as the disruption controller does); undefined when unreadable. */
export function budgetAllows(pdb: PodDisruptionBudget, replicas: number): number | undefined {
  const scale = (v: number | string): number | undefined => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)%$/.exec(v);
    if (m) return Math.ceil((Number(m[1]) * replicas) / 100);
    return /^\d+$/.test(v) ? Number(v) : undefined;
  };
  if (pdb.spec.maxUnavailable !== undefined) return scale(pdb.spec.maxUnavailable);
  if (pdb.spec.minAvailable !== undefined) {
    const min = scale(pdb.spec.minAvailable);
    return min === undefined ? undefined : Math.max(0, replicas - min);
  }
  return undefined;
}

function selectorFlag(sts: StatefulSet): string {
  const labels = sts.spec.selector.matchLabels ?? {};
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export interface AvailabilityInput {
  sts: StatefulSet;
  pods: Pod[];
  /** undefined: the nodes could not be read (zones unknown). */
  nodes: Node[] | undefined;
  /** undefined: the budgets could not be read. */
  pdbs: PodDisruptionBudget[] | undefined;
}

/** Replicas on one node or one zone, no budget, a budget that blocks every eviction, maxUnavailable beyond the budget. */
export function availabilityFindings(input: AvailabilityInput): DoctorFinding[] {
  const { sts, nodes, pdbs } = input;
  const f = setFacts(sts);
  const ns = f.namespace;
  const out: DoctorFinding[] = [];
  if (f.replicas < 2 || f.deleting) return out;
  const sel = selectorFlag(sts);
  const spread = (key: string) =>
    `kubectl -n ${ns} patch sts ${f.name} --type=merge -p '${JSON.stringify({ spec: { template: { spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: key, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: sts.spec.selector.matchLabels ?? {} } }] } } } })}' (takes effect as pods are replaced: kubectl sts rollout ${f.name} -n ${ns} --auto)`;

  const placed = podsOfSet(sts, input.pods).filter((p) => !isTerminating(p) && p.spec.nodeName);
  const byNode = new Map<string, string[]>();
  for (const p of placed) byNode.set(p.spec.nodeName!, [...(byNode.get(p.spec.nodeName!) ?? []), p.metadata.name]);
  if (placed.length >= 2 && byNode.size === 1) {
    const [node, names] = [...byNode.entries()][0]!;
    out.push({
      category: 'availability',
      check: 'single-node',
      severity: 'warning',
      subject: `StatefulSet/${f.name}`,
      message: `all ${placed.length} scheduled pods run on node ${node}: losing that node takes the whole set down`,
      evidence: [`${names.join(', ')} on ${node}`, ...(nodes ? [`the cluster has ${nodes.length} node${nodes.length === 1 ? '' : 's'}`] : [])],
      fix: spread('kubernetes.io/hostname'),
    });
  } else if (placed.length >= 2 && nodes) {
    const zoneOf = new Map(nodes.map((n) => [n.metadata.name, n.metadata.labels?.[ZONE_LABEL]]));
    const zones = new Set(placed.map((p) => zoneOf.get(p.spec.nodeName!) ?? ''));
    const clusterZones = new Set(nodes.map((n) => n.metadata.labels?.[ZONE_LABEL]).filter((z): z is string => Boolean(z)));
    const zone = [...zones][0];
    if (zones.size === 1 && zone && clusterZones.size > 1) {
      out.push({
        category: 'availability',
        check: 'single-zone',
        severity: 'warning',
        subject: `StatefulSet/${f.name}`,
        message: `all ${placed.length} scheduled pods run in zone ${zone} although the cluster has ${clusterZones.size} zones: a zone outage takes the whole set down`,
        evidence: [...byNode.entries()].map(([n, p]) => `${p.join(', ')} on ${n} (zone ${zone})`),
        fix: spread(ZONE_LABEL),
      });
    }
  }

  if (!pdbs) return out;
  const mine = budgetsOf(sts, pdbs);
  if (!mine.length) {
    out.push({
      category: 'availability',
      check: 'pdb-missing',
      severity: 'warning',
      subject: `StatefulSet/${f.name}`,
      message: `no PodDisruptionBudget covers the ${f.replicas} pods: a node drain may evict all of them at once`,
      evidence: [`no PodDisruptionBudget in namespace ${ns} selects labels ${Object.entries(templateLabels(sts)).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'}`],
      fix: `kubectl -n ${ns} create poddisruptionbudget ${f.name} --selector=${sel} --max-unavailable=1`,
    });
    return out;
  }
  if (mine.length > 1) {
    out.push({
      category: 'availability',
      check: 'pdb-multiple',
      severity: 'warning',
      subject: `StatefulSet/${f.name}`,
      message: `${mine.length} PodDisruptionBudgets select the pods (${mine.map((p) => p.metadata.name).join(', ')}): the eviction API refuses to evict a pod covered by more than one, so drains fail`,
      evidence: mine.map((p) => `PodDisruptionBudget ${p.metadata.name}: selector ${JSON.stringify(p.spec.selector)}`),
      fix: `keep one: kubectl -n ${ns} delete pdb ${mine.slice(1).map((p) => p.metadata.name).join(' ')}`,
    });
  }
  for (const pdb of mine) {
    const allows = budgetAllows(pdb, f.replicas);
    const spec = pdb.spec.maxUnavailable !== undefined ? `maxUnavailable ${pdb.spec.maxUnavailable}` : `minAvailable ${pdb.spec.minAvailable}`;
    const s = pdb.status;
    const healthyButBlocked = s !== undefined && s.disruptionsAllowed === 0 && (s.expectedPods ?? 0) > 0 && (s.currentHealthy ?? 0) >= (s.expectedPods ?? 0);
    if (allows === 0 || healthyButBlocked) {
      out.push({
        category: 'availability',
        check: 'pdb-blocks-eviction',
        severity: 'warning',
        subject: `PodDisruptionBudget/${pdb.metadata.name}`,
        message: `PodDisruptionBudget ${pdb.metadata.name} (${spec}) allows no eviction even with every pod healthy: node drains and upgrades hang on these pods`,
        evidence: [`${spec} for ${f.replicas} replicas`, ...(s ? [`status: disruptionsAllowed ${s.disruptionsAllowed ?? 0}, currentHealthy ${s.currentHealthy ?? 0}, expectedPods ${s.expectedPods ?? 0}`] : [])],
        fix: `kubectl -n ${ns} patch pdb ${pdb.metadata.name} --type=merge -p '{"spec":{"minAvailable":null,"maxUnavailable":1}}'`,
      });
      continue;
    }
    const mu = f.maxUnavailable;
    if (allows !== undefined && mu.parallel && mu.raw !== undefined) {
      const eff = scaledMaxUnavailable(mu.raw, f.replicas);
      if (eff > allows) {
        out.push({
          category: 'availability',
          check: 'maxunavailable-exceeds-pdb',
          severity: 'warning',
          subject: `StatefulSet/${f.name}`,
          message: `a rolling update may take ${eff} pods down at once (maxUnavailable ${mu.raw}), more than PodDisruptionBudget ${pdb.metadata.name} allows (${allows}): the StatefulSet controller does not ask the budget`,
          evidence: [`updateStrategy.rollingUpdate.maxUnavailable ${mu.raw} (= ${eff} of ${f.replicas})`, `PodDisruptionBudget ${pdb.metadata.name}: ${spec} (= ${allows} may be down)`],
          fix: `kubectl -n ${ns} patch sts ${f.name} --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"maxUnavailable":${Math.max(1, allows)}}}}}'`,
        });
      }
    }
  }
  return out;
}
