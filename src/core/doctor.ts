/**
 * `kubectl sts doctor`: one report per StatefulSet of what is wrong and what to do, put together
 * from the other commands' pure checks: rollout state and stuck pods (rollout.ts,
 * doctor-rollout.ts), placement and disruption budgets (doctor-rollout.ts), orphaned and Pending
 * claims, stuck volumes and the retention policy (orphans.ts, doctor-storage.ts, finalize.ts), the
 * static DNS checks (dns.ts). Findings that need an exec (live DNS lookups, MongoDB) are made by
 * the command and passed in as `extra`.
 *
 * Pure: the objects of every resource type are listed once for the whole scope and handed in;
 * a list that could not be read is `undefined`, and what depends on it is reported as not
 * checked (never as healthy).
 */
import type {
  ControllerRevision,
  EndpointSlice,
  KubeEvent,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  Service,
  StatefulSet,
  StorageClass,
} from './types.js';
import { CATEGORY_ORDER, SEVERITY_ORDER, isProblem, type DoctorFinding, type Severity } from './doctor-types.js';
import { availabilityFindings, eventLines, rolloutFindings } from './doctor-rollout.js';
import { explainPendingClaim } from './doctor-storage.js';
import { cmp, detectOrphans, parseClaimName, type OrphanFinding } from './orphans.js';
import { diagnoseVolume } from './finalize.js';
import { staticChecks, type DnsCheck } from './dns.js';
import { claimUsers, isPodReady, ordinalRange, podsOfSet } from './pods.js';
import { mapSelectorMatches } from './labels.js';
import type { MongoReport } from './mongo.js';

export type { DoctorFinding, Severity, Category } from './doctor-types.js';

export interface DoctorInput {
  now: number;
  /** A pod not Ready for no known cause is reported after this long. */
  stuckAfterMs: number;
  /** The scope: one namespace, or undefined for all. */
  namespace: string | undefined;
  statefulSets: StatefulSet[];
  /** Each undefined when it could not be read. */
  pods: Pod[] | undefined;
  claims: PersistentVolumeClaim[] | undefined;
  volumes: PersistentVolume[] | undefined;
  nodes: Node[] | undefined;
  pdbs: PodDisruptionBudget[] | undefined;
  storageClasses: StorageClass[] | undefined;
  services: Service[] | undefined;
  endpointSlices: EndpointSlice[] | undefined;
  /** undefined: not read (nothing needed them) or could not be read; findings then carry no events. */
  events: KubeEvent[] | undefined;
  /** undefined: not read (no set waits below its partition) or could not be read. */
  revisions?: ControllerRevision[] | undefined;
  /** Findings made elsewhere (live DNS, MongoDB), by setKey. */
  extra?: Map<string, { findings: DoctorFinding[]; unchecked: string[] }>;
}

export interface SetReport {
  namespace: string;
  name: string;
  replicas: number;
  ready: number;
  /** No error or warning, and everything was checked. */
  healthy: boolean;
  findings: DoctorFinding[];
  /** What could not be checked for this set, and why. */
  unchecked: string[];
}

export function setKey(sts: { metadata: { namespace?: string; name: string } }): string {
  return `${sts.metadata.namespace ?? ''}/${sts.metadata.name}`;
}

function sortFindings(f: DoctorFinding[]): DoctorFinding[] {
  return f.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || CATEGORY_ORDER[a.category] - CATEGORY_ORDER[b.category] || cmp(a.check, b.check) || cmp(a.subject, b.subject));
}

/** Whether the claim name is one the set's volumeClaimTemplates produce (any ordinal). */
function isSetClaim(sts: StatefulSet, claimName: string): boolean {
  const p = parseClaimName(claimName, sts.metadata.name);
  return Boolean(p && (sts.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === p.template));
}

function orphanFinding(sts: StatefulSet, list: OrphanFinding[]): DoctorFinding {
  const ns = sts.metadata.namespace ?? '';
  const claims = list.filter((o) => o.kind === 'PersistentVolumeClaim');
  const vols = list.filter((o) => o.kind === 'PersistentVolume');
  const parts = [claims.length && `${claims.length} claim${claims.length === 1 ? '' : 's'}`, vols.length && `${vols.length} Released volume${vols.length === 1 ? '' : 's'}`].filter(Boolean);
  return {
    category: 'storage',
    check: 'orphaned-claims',
    severity: 'warning',
    subject: `StatefulSet/${sts.metadata.name}`,
    message: `${parts.join(' and ')} left behind (${[...new Set(list.map((o) => o.reason))].join(', ')}): they keep their storage, and a scale-up mounts the old data again`,
    evidence: list.map((o) => `${o.kind === 'PersistentVolume' ? 'pv' : 'pvc'}/${o.name}: ${o.message}`),
    fix: `kubectl sts pvc-orphans -n ${ns} --sts ${sts.metadata.name} --delete${vols.length ? ' --include-pvs' : ''}`,
  };
}

function retentionFinding(sts: StatefulSet): DoctorFinding | undefined {
  if (!(sts.spec.volumeClaimTemplates ?? []).length) return undefined;
  const p = sts.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const whenDeleted = p.whenDeleted ?? 'Retain';
  const whenScaled = p.whenScaled ?? 'Retain';
  const say = (v: string) => (v === 'Delete' ? 'deleted' : 'kept');
  return {
    category: 'storage',
    check: 'retention-policy',
    severity: 'info',
    subject: `StatefulSet/${sts.metadata.name}`,
    message: `claims are ${say(whenDeleted)} when the set is deleted (whenDeleted ${whenDeleted}) and ${say(whenScaled)} on scale-down (whenScaled ${whenScaled})${p.whenDeleted || p.whenScaled ? '' : ' (the default)'}`,
    evidence: [`spec.persistentVolumeClaimRetentionPolicy: ${JSON.stringify(sts.spec.persistentVolumeClaimRetentionPolicy ?? {})}`],
    fix: `to change it: kubectl -n ${sts.metadata.namespace ?? ''} patch sts ${sts.metadata.name} --type=merge -p '{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}}'`,
  };
}

interface StorageContext {
  input: DoctorInput;
  orphansBySet: Map<string, OrphanFinding[]>;
  usersOf: Map<string, Pod[]>;
}

function storageFindings(sts: StatefulSet, ctx: StorageContext, unchecked: string[]): DoctorFinding[] {
  const { input } = ctx;
  const ns = sts.metadata.namespace ?? '';
  const out: DoctorFinding[] = [];
  const retention = retentionFinding(sts);
  if (retention) out.push(retention);
  if (!(sts.spec.volumeClaimTemplates ?? []).length) return out;
  if (!input.claims) {
    unchecked.push('storage: the claims could not be read (orphaned and Pending claims not checked)');
    return out;
  }
  const orphans = ctx.orphansBySet.get(setKey(sts));
  if (orphans?.length) out.push(orphanFinding(sts, orphans));

  const { start, end } = ordinalRange(sts);
  const mine = input.claims.filter((c) => (c.metadata.namespace ?? '') === ns && isSetClaim(sts, c.metadata.name));
  for (const c of mine) {
    const p = parseClaimName(c.metadata.name, sts.metadata.name)!;
    if (p.ordinal < start || p.ordinal >= end) continue; // left behind: the orphan finding covers it
    if (c.status?.phase !== 'Pending' || c.metadata.deletionTimestamp) continue;
    const users = ctx.usersOf.get(`${ns}/${c.metadata.name}`) ?? [];
    const why = explainPendingClaim(c, { classes: input.storageClasses, volumes: input.volumes, nodes: input.nodes, users });
    out.push({
      category: 'storage',
      check: 'claim-pending',
      severity: 'error',
      subject: `PersistentVolumeClaim/${c.metadata.name}`,
      message: `claim ${c.metadata.name} is Pending: ${why.text}`,
      evidence: [...why.evidence, ...eventLines(input.events, 'PersistentVolumeClaim', c)],
      fix: why.fix,
    });
  }
  if (!input.volumes) {
    unchecked.push('storage: the PersistentVolumes could not be read (volumes stuck Terminating not checked)');
    return out;
  }
  const stuck = input.volumes.filter((v) => v.metadata.deletionTimestamp && (v.spec.claimRef?.namespace ?? '') === ns && v.spec.claimRef?.name && isSetClaim(sts, v.spec.claimRef.name));
  for (const pv of stuck) {
    const d = diagnoseVolume(pv, { pvs: input.volumes, pvcs: input.claims, pods: input.pods ?? [], nodes: input.nodes ?? [], nodesUnread: !input.nodes, ...(input.pods ? {} : { podsReadIn: [] }) }, input.now);
    out.push({
      category: 'storage',
      check: 'volume-terminating',
      severity: 'error',
      subject: `PersistentVolume/${pv.metadata.name}`,
      message: `volume ${pv.metadata.name} (claim ${pv.spec.claimRef!.name}) is stuck Terminating for ${d.terminatingFor}: ${d.reason}`,
      evidence: [`finalizers: ${(pv.metadata.finalizers ?? []).join(', ') || '<none>'}`, `phase ${pv.status?.phase ?? '?'}, reclaim policy ${pv.spec.persistentVolumeReclaimPolicy ?? '?'}`, ...d.finalizers.map((f) => `${f.name}: ${f.now}`)],
      fix: `${d.action}; to diagnose and clear it: kubectl sts finalize-localpv ${pv.metadata.name}`,
    });
  }
  return out;
}

function networkFindings(sts: StatefulSet, input: DoctorInput, pods: Pod[], unchecked: string[]): DoctorFinding[] {
  const ns = sts.metadata.namespace ?? '';
  if (!input.services) {
    unchecked.push('network identity: the Services could not be read (static DNS checks not run)');
    return [];
  }
  const svcName = sts.spec.serviceName;
  const inNs = input.services.filter((s) => (s.metadata.namespace ?? '') === ns);
  const service = svcName ? inNs.find((s) => s.metadata.name === svcName) : undefined;
  const selectedPods = service?.spec.selector && Object.keys(service.spec.selector).length ? (input.pods ?? []).filter((p) => (p.metadata.namespace ?? '') === ns && mapSelectorMatches(service.spec.selector, p.metadata.labels)) : [];
  const endpointSlices = input.endpointSlices?.filter((e) => (e.metadata.namespace ?? '') === ns && e.metadata.labels?.['kubernetes.io/service-name'] === svcName);
  const checks = staticChecks({ sts, service, pods, selectedPods, endpointSlices, serviceNames: inNs.map((s) => s.metadata.name) });
  const out: DoctorFinding[] = [];
  for (const c of checks) {
    if (c.status === 'ok') continue;
    if (c.status === 'not-run') {
      unchecked.push(`network identity: ${c.check} not run (${c.reason})`);
      continue;
    }
    out.push({
      category: 'network',
      check: `dns-${c.check}`,
      severity: c.status === 'fail' ? 'error' : 'warning',
      subject: c.subject,
      message: c.reason,
      evidence: [`static DNS check ${c.check} (kubectl sts dns-check ${sts.metadata.name} -n ${ns} --static-only)`],
      fix: c.fix ?? `kubectl sts dns-check ${sts.metadata.name} -n ${ns}`,
    });
  }
  return out;
}

/** Diagnoses every set in `input.statefulSets`, sorted by namespace and name. */
export function diagnoseSets(input: DoctorInput): SetReport[] {
  const orphansBySet = new Map<string, OrphanFinding[]>();
  if (input.claims) {
    const res = detectOrphans({ statefulSets: input.statefulSets, claims: input.claims, pods: input.pods, volumes: input.volumes, namespace: input.namespace, now: input.now });
    for (const o of res.findings) {
      if (!o.statefulSet || !o.statefulSetExists || !o.confirmed) continue;
      const k = `${o.namespace}/${o.statefulSet}`;
      orphansBySet.set(k, [...(orphansBySet.get(k) ?? []), o]);
    }
  }
  const usersOf = claimUsers(input.pods ?? []);
  // Each set looks only at its namespace's objects: grouped once, so -A costs one pass per list, not one per set.
  const pods = byNamespace(input.pods);
  const claims = byNamespace(input.claims);
  const pdbs = byNamespace(input.pdbs);
  const services = byNamespace(input.services);
  const slices = byNamespace(input.endpointSlices);
  const events = byNamespace(input.events);
  const revisions = byNamespace(input.revisions);
  const sets = [...input.statefulSets].sort((a, b) => cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name));
  return sets.map((all) => {
    const ns = all.metadata.namespace ?? '';
    const narrowed: DoctorInput = { ...input, pods: pods(ns), claims: claims(ns), pdbs: pdbs(ns), services: services(ns), endpointSlices: slices(ns), events: events(ns), revisions: revisions(ns) };
    return diagnoseOne(all, narrowed, { orphansBySet, usersOf });
  });
}

/** A list grouped by namespace: the lookup answers undefined when the list could not be read. */
function byNamespace<T extends { metadata: { namespace?: string } }>(list: T[] | undefined): (ns: string) => T[] | undefined {
  if (!list) return () => undefined;
  const m = new Map<string, T[]>();
  for (const o of list) {
    const k = o.metadata.namespace ?? '';
    const l = m.get(k);
    if (l) l.push(o);
    else m.set(k, [o]);
  }
  return (ns) => m.get(ns) ?? [];
}

function diagnoseOne(sts: StatefulSet, input: DoctorInput, shared: Pick<StorageContext, 'orphansBySet' | 'usersOf'>): SetReport {
  const { orphansBySet, usersOf } = shared;
  const unchecked: string[] = [];
  const findings: DoctorFinding[] = [];
  const pods = input.pods ? podsOfSet(sts, input.pods) : [];
  if (input.pods) {
    findings.push(...rolloutFindings({ sts, pods: input.pods, events: input.events, revisions: input.revisions, now: input.now, stuckAfterMs: input.stuckAfterMs }));
  } else {
    unchecked.push('rollout: the pods could not be read (stuck pods, rollout progress and placement not checked)');
  }
  if (input.pods) findings.push(...availabilityFindings({ sts, pods: input.pods, nodes: input.nodes, pdbs: input.pdbs }));
  if (!input.pdbs && (sts.spec.replicas ?? 1) >= 2) unchecked.push('availability: the PodDisruptionBudgets could not be read');
  if (!input.nodes && input.pods) unchecked.push('availability: the nodes could not be read (zones not checked)');
  findings.push(...storageFindings(sts, { input, orphansBySet, usersOf }, unchecked));
  findings.push(...networkFindings(sts, input, pods, unchecked));
  const extra = input.extra?.get(setKey(sts));
  if (extra) {
    findings.push(...extra.findings);
    unchecked.push(...extra.unchecked);
  }
  sortFindings(findings);
  return {
    namespace: sts.metadata.namespace ?? '',
    name: sts.metadata.name,
    replicas: sts.spec.replicas ?? 1,
    ready: input.pods ? pods.filter(isPodReady).length : (sts.status?.readyReplicas ?? 0),
    healthy: !findings.some(isProblem) && unchecked.length === 0,
    findings,
    unchecked,
  };
}

export interface DoctorSummary {
  statefulSets: number;
  healthy: number;
  errors: number;
  warnings: number;
  info: number;
}

export function summarize(sets: SetReport[]): DoctorSummary {
  const count = (s: Severity) => sets.reduce((n, r) => n + r.findings.filter((f) => f.severity === s).length, 0);
  return { statefulSets: sets.length, healthy: sets.filter((s) => s.healthy).length, errors: count('error'), warnings: count('warning'), info: count('info') };
}

/** Whether a set has a pod not Ready or a Pending claim: then the events (their reasons) are worth a LIST. */
export function needsEvents(input: Pick<DoctorInput, 'statefulSets' | 'pods' | 'claims'>): boolean {
  const setsIn = new Map<string, StatefulSet[]>();
  for (const s of input.statefulSets) setsIn.set(s.metadata.namespace ?? '', [...(setsIn.get(s.metadata.namespace ?? '') ?? []), s]);
  const unwellPod = (p: Pod) => !isPodReady(p) && !p.metadata.deletionTimestamp && (setsIn.get(p.metadata.namespace ?? '') ?? []).some((s) => podsOfSet(s, [p]).length > 0);
  const pendingClaim = (c: PersistentVolumeClaim) => c.status?.phase === 'Pending' && (setsIn.get(c.metadata.namespace ?? '') ?? []).some((s) => isSetClaim(s, c.metadata.name));
  return Boolean(input.pods?.some(unwellPod) || input.claims?.some(pendingClaim));
}

/** Whether the set runs MongoDB: a container named mongo/mongod/mongodb, running mongod, or from a mongo image. */
export function runsMongo(sts: StatefulSet): boolean {
  return sts.spec.template.spec.containers.some(
    (c) =>
      ['mongo', 'mongod', 'mongodb'].includes(c.name) ||
      [...(c.command ?? []), ...(c.args ?? [])].some((a) => /(^|\/)mongod(\s|$)/.test(a)) ||
      (/(^|\/)(mongo|mongodb[\w-]*)(:|@|$)/.test(c.image ?? '') && !/sidecar/i.test(c.image ?? '')),
  );
}

const MONGO_ERRORS = new Set(['no-primary', 'multiple-primaries', 'member-unreachable', 'member-unhealthy']);

/** mongo-status's findings and unasked pods, as doctor findings and not-checked lines. */
export function mongoFindings(sts: StatefulSet, report: MongoReport): { findings: DoctorFinding[]; unchecked: string[] } {
  const ns = sts.metadata.namespace ?? '';
  const findings = report.findings.map(
    (f): DoctorFinding => ({
      category: 'datastore',
      check: `mongo-${f.kind}`,
      severity: MONGO_ERRORS.has(f.kind) ? 'error' : 'warning',
      subject: f.pod ? `Pod/${f.pod}` : f.member ? `member ${f.member}` : `StatefulSet/${sts.metadata.name}`,
      message: f.message,
      evidence: report.replicaSet
        ? [`replica set ${report.replicaSet}${report.source ? `, as seen by ${report.source}` : ''}${report.primary ? `, primary ${report.primary}` : ''}`]
        : [`no replica-set status was read${report.views.length ? ` (asked: ${report.views.map((v) => v.pod).join(', ')})` : ''}`],
      fix: f.fix ?? `kubectl sts mongo-status ${sts.metadata.name} -n ${ns}`,
    }),
  );
  const unchecked = report.complete ? [] : report.notAsked.map((n) => `data store: MongoDB ${n.pod ? `pod ${n.pod}` : 'replica set'} not asked: ${n.reason} (${n.fix})`);
  return { findings, unchecked };
}

/**
 * dns-check's live rows (lookups from inside the pods) as doctor findings, one per check and
 * verdict with every failed lookup as evidence; lookups that could not run are not checked.
 */
export function liveDnsFindings(sts: StatefulSet, rows: DnsCheck[]): { findings: DoctorFinding[]; unchecked: string[] } {
  const ns = sts.metadata.namespace ?? '';
  const groups = new Map<string, DnsCheck[]>();
  const notRun = new Map<string, number>();
  for (const r of rows) {
    if (r.status === 'ok') continue;
    if (r.status === 'not-run') {
      const label = r.causeLabel ?? r.reason;
      notRun.set(label, (notRun.get(label) ?? 0) + 1);
      continue;
    }
    const k = `${r.check} ${r.status}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const findings = [...groups.values()].map((list): DoctorFinding => {
    const first = list[0]!;
    return {
      category: 'network',
      check: `dns-live-${first.check}`,
      severity: first.status === 'fail' ? 'error' : 'warning',
      subject: list.length === 1 ? first.subject : `StatefulSet/${sts.metadata.name}`,
      message: list.length === 1 ? first.reason : `${list.length} lookups from inside the pods: ${first.reason}${list.length > 1 ? ' (and the like)' : ''}`,
      evidence: list.map((r) => `${r.subject}: ${r.reason}`),
      fix: first.fix ?? `kubectl sts dns-check ${sts.metadata.name} -n ${ns}`,
    };
  });
  const unchecked = [...notRun.entries()].map(([label, n]) => `network identity: ${n} live DNS check${n === 1 ? '' : 's'} not run: ${label}`);
  return { findings, unchecked };
}
