/**
 * MongoDB replica-set health for a StatefulSet: joins rs.status() and rs.conf() (as seen from one
 * or more pods) with the set's pods, and finds what is wrong — no primary, split views, too many
 * voters, hosts that are not the pods' stable DNS names, pods missing from the config (scaled up
 * without rs.add) and members without a pod (scaled down without rs.remove), lag, unhealthy
 * members, and why a pod could not be asked (auth, not a replica set, no shell). Pure.
 */
import type { Pod, StatefulSet } from './types.js';
import { ordinalOf, isTerminating, podsOfSet } from './pods.js';
import { BsonTimestamp, type MongoErrorInfo, type ProbeOutput } from './mongo-parse.js';
import { causeHint, causeLabel, type ExecCause, type ExecProblem } from './exec-cause.js';

export const MAX_VOTING_MEMBERS = 7;
export const MAX_MEMBERS = 50;
export const DEFAULT_PORT = 27017;

// ------------------------------------------------------------------ documents (decoded EJSON)

export interface OpTime {
  ts?: BsonTimestamp;
  t?: number;
}

export interface MemberStatus {
  _id: number;
  name: string;
  health?: number;
  state?: number;
  stateStr?: string;
  uptime?: number;
  /** Protocol version 1: {ts, t}; protocol version 0 (<= 3.x): a bare Timestamp. */
  optime?: OpTime | BsonTimestamp;
  optimeDate?: Date;
  lastHeartbeat?: Date;
  lastHeartbeatRecv?: Date;
  pingMs?: number;
  lastHeartbeatMessage?: string;
  syncSourceHost?: string;
  /** Before 4.4 (deprecated since 4.0). */
  syncingTo?: string;
  infoMessage?: string;
  configVersion?: number;
  self?: boolean;
}

export interface ReplSetStatus {
  set?: string;
  date?: Date;
  myState?: number;
  term?: number;
  members?: MemberStatus[];
}

export interface MemberConfig {
  _id: number;
  host: string;
  arbiterOnly?: boolean;
  buildIndexes?: boolean;
  hidden?: boolean;
  priority?: number;
  votes?: number;
  /** 5.0+. */
  secondaryDelaySecs?: number;
  /** Before 5.0. */
  slaveDelay?: number;
  tags?: Record<string, string>;
}

export interface ReplSetConfig {
  _id?: string;
  version?: number;
  term?: number;
  members?: MemberConfig[];
}

// ------------------------------------------------------------------ views (one pod's answer)

export type ViewErrorKind =
  | 'auth-failed'
  | 'unauthorized'
  | 'not-replset'
  | 'not-initiated'
  | 'no-shell'
  | 'unreachable'
  | 'query-failed';

export interface ViewError {
  kind: ViewErrorKind;
  message: string;
}

/** One pod's answer: its rs.status()/rs.conf(), or why there is none. */
export interface MongoView {
  pod: string;
  /** The probe could not run in this pod (exec forbidden, refused, no shell, timeout, pod not running): nothing was learnt. */
  notAsked?: ExecProblem;
  /** The container the probe ran (or was to run) in. */
  container?: string;
  shell?: 'mongosh' | 'mongo';
  version?: string;
  status?: ReplSetStatus;
  config?: ReplSetConfig;
  error?: ViewError;
}

/** Classifies a server/shell error by its code or message. */
export function classifyMongoError(e: MongoErrorInfo): ViewErrorKind {
  const m = e.message ?? '';
  if (e.code === 18 || e.codeName === 'AuthenticationFailed' || /authentication failed/i.test(m)) return 'auth-failed';
  if (e.code === 76 || e.codeName === 'NoReplicationEnabled' || /not running with --replSet/i.test(m)) return 'not-replset';
  if (e.code === 94 || e.codeName === 'NotYetInitialized' || /no replset config has been received/i.test(m)) return 'not-initiated';
  if (e.code === 13 || e.codeName === 'Unauthorized' || /requires authentication|not authorized/i.test(m)) return 'unauthorized';
  return 'query-failed';
}

export interface ViewContext {
  pod: string;
  container: string;
  username?: string | undefined;
  authDb: string;
}

function describeError(kind: ViewErrorKind, e: MongoErrorInfo, ctx: ViewContext): string {
  const where = `pod ${ctx.pod} (container ${ctx.container})`;
  switch (kind) {
    case 'auth-failed':
      return `authentication failed for user "${ctx.username ?? '?'}" on database "${ctx.authDb}" in ${where}: ${e.message}`;
    case 'unauthorized':
      return `mongod in ${where} needs credentials to read the replica-set status${ctx.username ? ` (user "${ctx.username}" on "${ctx.authDb}" lacks the clusterMonitor role?)` : ': pass --username and --password-from-secret'}: ${e.message}`;
    case 'not-replset':
      return `mongod in ${where} is not running as a replica-set member (start it with --replSet <name>): ${e.message}`;
    case 'not-initiated':
      return `the replica set has not been initiated on ${where} (run rs.initiate()): ${e.message}`;
    default:
      return `${where}: ${e.message}`;
  }
}

/** Builds a view from the probe script's output. */
export function viewFromProbe(out: ProbeOutput, ctx: ViewContext, shell: 'mongosh' | 'mongo'): MongoView {
  const view: MongoView = { pod: ctx.pod, shell };
  if (out.version) view.version = out.version;
  const err = out.authError ?? out.statusError;
  if (err) {
    let kind = classifyMongoError(err);
    if (out.authError && kind === 'query-failed') kind = 'auth-failed';
    view.error = { kind, message: describeError(kind, err, ctx) };
  }
  if (out.status) view.status = out.status as ReplSetStatus;
  if (out.config) view.config = out.config as ReplSetConfig;
  return view;
}

/** Builds a view when the shell printed no result line: reads its stderr. */
export function viewFromFailure(stderr: string, failure: string | undefined, exitCode: number, ctx: ViewContext, shell: 'mongosh' | 'mongo'): MongoView {
  const text = `${failure ?? ''}\n${stderr}`.trim();
  const last = lastMeaningfulLine(text) || `${shell} exited with code ${exitCode}`;
  let kind: ViewErrorKind = 'query-failed';
  let message: string;
  if (/authentication failed/i.test(text)) {
    kind = 'auth-failed';
    message = describeError(kind, { message: last }, ctx);
  } else if (/ECONNREFUSED|couldn't connect|connection refused|MongoNetworkError|MongoServerSelectionError|connect failed/i.test(text)) {
    kind = 'unreachable';
    message = `${shell} in pod ${ctx.pod} (container ${ctx.container}) could not reach mongod: ${last}`;
  } else {
    message = `${shell} failed in pod ${ctx.pod} (container ${ctx.container}), exit code ${exitCode}: ${last}`;
  }
  return { pod: ctx.pod, shell, error: { kind, message } };
}

function lastMeaningfulLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const err = [...lines].reverse().find((l) => /error|failed|exception|refused|denied/i.test(l));
  return (err ?? lines[lines.length - 1] ?? '').slice(0, 400);
}


// ------------------------------------------------------------------ pods and hosts

export type HostMatch = 'dns' | 'ip' | 'hostname' | 'other-service' | 'none';

export interface HostMapping {
  pod?: string;
  match: HostMatch;
  /** True when the host is the pod's stable DNS name under the governing Service. */
  stable: boolean;
}

export function splitHost(host: string): { name: string; port: number } {
  const h = host.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    const port = h.slice(end + 1).startsWith(':') ? Number(h.slice(end + 2)) : DEFAULT_PORT;
    return { name: h.slice(1, end), port: Number.isFinite(port) ? port : DEFAULT_PORT };
  }
  const colons = h.split(':').length - 1;
  if (colons === 1) {
    const [name, port] = h.split(':') as [string, string];
    return { name, port: /^\d+$/.test(port) ? Number(port) : DEFAULT_PORT };
  }
  return { name: h, port: DEFAULT_PORT };
}

function isIp(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

function podIps(pod: Pod): string[] {
  const ips = new Set<string>();
  if (pod.status?.podIP) ips.add(pod.status.podIP);
  for (const p of pod.status?.podIPs ?? []) ips.add(p.ip);
  return [...ips];
}

/** Maps a replica-set member host to a pod of the set: by stable DNS name, bare hostname, or pod IP. */
export function mapHost(host: string, pods: Pod[], serviceName: string | undefined, namespace: string): HostMapping {
  const { name } = splitHost(host);
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (isIp(lower)) {
    const pod = pods.find((p) => podIps(p).includes(lower));
    return pod ? { pod: pod.metadata.name, match: 'ip', stable: false } : { match: 'none', stable: false };
  }
  const labels = lower.split('.');
  const pod = pods.find((p) => p.metadata.name === labels[0]);
  if (labels.length === 1) return pod ? { pod: pod.metadata.name, match: 'hostname', stable: false } : { match: 'none', stable: false };
  const [, svc, ns, svcWord] = labels;
  if (ns !== undefined && ns !== namespace) return { match: 'none', stable: false };
  if (svcWord !== undefined && svcWord !== 'svc') return { match: 'none', stable: false };
  if (!pod) return { match: 'none', stable: false };
  if (serviceName && svc === serviceName) return { pod: pod.metadata.name, match: 'dns', stable: true };
  return { pod: pod.metadata.name, match: 'other-service', stable: false };
}

/** The stable DNS name of a pod of the set: `<pod>.<service>.<namespace>.svc.<domain>:<port>`. */
export function stableHost(pod: string, serviceName: string, namespace: string, port = DEFAULT_PORT, domain = 'cluster.local'): string {
  return `${pod}.${serviceName}.${namespace}.svc.${domain}:${port}`;
}

// ------------------------------------------------------------------ the report

export const STATE_NAMES: Record<number, string> = {
  0: 'STARTUP',
  1: 'PRIMARY',
  2: 'SECONDARY',
  3: 'RECOVERING',
  4: 'FATAL',
  5: 'STARTUP2',
  6: 'UNKNOWN',
  7: 'ARBITER',
  8: 'DOWN',
  9: 'ROLLBACK',
  10: 'REMOVED',
};

export interface MemberRow {
  id: number;
  host: string;
  pod?: string;
  hostMatch: HostMatch;
  state: string;
  health: 'up' | 'down' | 'unknown';
  self: boolean;
  uptimeSeconds?: number;
  /** Time between the member's last heartbeat and the moment rs.status() was taken. */
  lastHeartbeatAgeMs?: number;
  /** How far the member's last applied operation is behind the primary's. */
  lagMs?: number;
  syncSource?: string;
  votes: number;
  priority: number;
  pingMs?: number;
  arbiter: boolean;
  hidden: boolean;
  delaySeconds: number;
  message?: string;
}

export type FindingKind =
  | 'no-primary'
  | 'multiple-primaries'
  | 'too-many-voting-members'
  | 'too-many-members'
  | 'host-not-stable-dns'
  | 'pod-not-in-config'
  | 'member-without-pod'
  | 'lag'
  | 'member-unreachable'
  | 'member-unhealthy'
  | ViewErrorKind;

export interface Finding {
  kind: FindingKind;
  message: string;
  member?: string;
  pod?: string;
  /** What to run or change to fix it, when there is one clear step. */
  fix?: string;
}

export interface ViewSummary {
  pod: string;
  shell?: 'mongosh' | 'mongo';
  /** mongod's version (db.version() in the probe), not the shell's. */
  version?: string;
  /** The state this pod reports for itself. */
  selfState?: string;
  /** The member this pod sees as primary. */
  primary?: string;
  error?: string;
}

/** A pod that was to be asked and could not be, or (pod null) why nobody could be. */
export interface NotAsked {
  pod: string | null;
  cause: ExecCause;
  /** The cause in a few words ("exec forbidden (pods/exec create) in namespace x"). */
  label: string;
  reason: string;
  fix: string;
}

export interface MongoReport {
  /**
   * False when what was asked for could not be decided: no member could be asked (default mode,
   * --pod), or some pod was not asked (--each). Never a clean bill of health (exit 4 without findings).
   */
  complete: boolean;
  /** Pods not asked, and why. In the default mode a pod skipped for another Ready one is listed too. */
  notAsked: NotAsked[];
  statefulSet: string;
  namespace: string;
  replicaSet?: string;
  /** The pod whose rs.status() the member rows come from. */
  source?: string;
  primary?: string;
  configVersion?: number;
  votingMembers: number;
  members: MemberRow[];
  views: ViewSummary[];
  findings: Finding[];
}

export interface AnalyzeInput {
  sts: StatefulSet;
  pods: Pod[];
  namespace: string;
  views: MongoView[];
  maxLagMs: number;
  /**
   * What was asked for: one Ready pod's view (default: complete when any pod answered), a named
   * pod (--pod), or every Running pod (--each: complete only when every pod of the set answered).
   */
  mode?: 'one' | 'pod' | 'each';
  /** Why no pod could even be tried (the set has no pods, or none Ready). */
  nobody?: { label: string; reason: string; fix: string } | undefined;
}

/** How to say and fix a pod that could not be asked, by cause. */
export function notAskedEntry(p: ExecProblem, namespace: string, container: string | undefined): NotAsked {
  return {
    pod: p.pod,
    cause: p.cause,
    label: causeLabel(p, namespace),
    reason: p.detail,
    fix: causeHint(p, namespace, {
      timeoutFlag: '--timeout',
      otherPod: '--pod POD',
      otherContainer: '-c CONTAINER',
      missingBinary: `neither mongosh nor the legacy mongo shell is in container ${container ?? '<default>'} of pod ${p.pod}: pick the container running mongod with -c CONTAINER`,
    }),
  };
}

function optimeSeconds(m: MemberStatus): number | undefined {
  if (m.optimeDate instanceof Date && !Number.isNaN(m.optimeDate.getTime()) && m.optimeDate.getTime() > 0) return m.optimeDate.getTime();
  const o = m.optime;
  const ts = o instanceof BsonTimestamp ? o : o?.ts;
  if (ts instanceof BsonTimestamp && ts.t > 0) return ts.t * 1000;
  return undefined;
}

function stateOf(m: MemberStatus): string {
  const s = m.stateStr && !m.stateStr.startsWith('(') ? m.stateStr : m.state !== undefined ? STATE_NAMES[m.state] ?? `STATE ${m.state}` : 'UNKNOWN';
  return s ?? 'UNKNOWN';
}

const UNHEALTHY_STATES = new Set([0, 3, 4, 5, 6, 8, 9, 10]);

/** The set's pods (podsOfSet), not terminating. */
export function setPods(sts: StatefulSet, pods: Pod[]): Pod[] {
  return podsOfSet(sts, pods).filter((p) => !isTerminating(p));
}

function newestConfig(views: MongoView[]): ReplSetConfig | undefined {
  let best: ReplSetConfig | undefined;
  for (const v of views) {
    const c = v.config;
    if (!c?.members) continue;
    if (!best || (c.term ?? -1) > (best.term ?? -1) || ((c.term ?? -1) === (best.term ?? -1) && (c.version ?? 0) > (best.version ?? 0))) best = c;
  }
  return best;
}

function selfMember(v: MongoView): MemberStatus | undefined {
  return v.status?.members?.find((m) => m.self);
}

export function analyzeMongo(input: AnalyzeInput): MongoReport {
  const { sts, namespace, maxLagMs } = input;
  const pods = setPods(sts, input.pods);
  const serviceName = sts.spec.serviceName;
  const findings: Finding[] = [];
  const notAsked: NotAsked[] = [];
  for (const v of input.views) if (v.notAsked) notAsked.push(notAskedEntry(v.notAsked, namespace, v.container));
  if (input.nobody) notAsked.push({ pod: null, cause: 'pod-not-running', label: input.nobody.label, reason: input.nobody.reason, fix: input.nobody.fix });
  const views = input.views.filter((v) => !v.notAsked);
  const mode = input.mode ?? 'one';
  const complete = notAsked.length === 0 || (mode === 'one' && views.length > 0);
  const report: MongoReport = { complete, notAsked, statefulSet: sts.metadata.name, namespace, votingMembers: 0, members: [], views: [], findings };

  // Per-view summaries and errors.
  for (const v of views) {
    const s: ViewSummary = { pod: v.pod };
    if (v.shell) s.shell = v.shell;
    if (v.version) s.version = v.version;
    const self = selfMember(v);
    if (self) s.selfState = stateOf(self);
    const prim = v.status?.members?.find((m) => m.state === 1);
    if (prim) s.primary = prim.name;
    if (v.error) {
      s.error = v.error.message;
      findings.push({ kind: v.error.kind, message: v.error.message, pod: v.pod });
    }
    report.views.push(s);
  }

  const answered = views.filter((v) => v.status?.members);
  // The member rows come from the primary's own view when it was asked, else the first answer.
  const source = answered.find((v) => selfMember(v)?.state === 1) ?? answered[0];
  const config = newestConfig(views);
  if (!source && !config) {
    report.findings = sortFindings(findings);
    return report;
  }
  const status = source?.status;
  if (source) report.source = source.pod;
  const setName = status?.set ?? config?._id;
  if (setName) report.replicaSet = setName;
  if (config?.version !== undefined) report.configVersion = config.version;

  const statusMembers = status?.members ?? [];
  const configMembers = config?.members ?? [];
  const confById = new Map(configMembers.map((m) => [m._id, m]));
  const statusById = new Map(statusMembers.map((m) => [m._id, m]));
  const ids = [...new Set([...configMembers.map((m) => m._id), ...statusMembers.map((m) => m._id)])].sort((a, b) => a - b);

  const primary = statusMembers.find((m) => m.state === 1);
  if (primary) report.primary = primary.name;
  const primaryOptime = primary ? optimeSeconds(primary) : undefined;
  const statusTime = status?.date instanceof Date ? status.date.getTime() : undefined;

  const port = configMembers.length ? splitHost(configMembers[0]!.host).port : DEFAULT_PORT;
  const mappedPods = new Set<string>();

  for (const id of ids) {
    const c = confById.get(id);
    const s = statusById.get(id);
    const host = c?.host ?? s?.name ?? '?';
    const mapping = mapHost(host, pods, serviceName, namespace);
    if (mapping.pod) mappedPods.add(mapping.pod);
    const arbiter = Boolean(c?.arbiterOnly) || s?.state === 7;
    const row: MemberRow = {
      id,
      host,
      hostMatch: mapping.match,
      state: s ? stateOf(s) : 'NOT IN STATUS',
      health: s?.health === 1 ? 'up' : s?.health === 0 ? 'down' : 'unknown',
      self: Boolean(s?.self),
      votes: c?.votes ?? 1,
      priority: c?.priority ?? (arbiter ? 0 : 1),
      arbiter,
      hidden: Boolean(c?.hidden),
      delaySeconds: c?.secondaryDelaySecs ?? c?.slaveDelay ?? 0,
    };
    if (mapping.pod) row.pod = mapping.pod;
    if (s?.uptime !== undefined) row.uptimeSeconds = s.uptime;
    if (s && !s.self && s.lastHeartbeat instanceof Date && s.lastHeartbeat.getTime() > 0 && statusTime !== undefined) {
      row.lastHeartbeatAgeMs = Math.max(0, statusTime - s.lastHeartbeat.getTime());
    }
    const own = s ? optimeSeconds(s) : undefined;
    if (!arbiter && primaryOptime !== undefined && own !== undefined && s?.health !== 0) row.lagMs = Math.max(0, primaryOptime - own);
    const sync = s?.syncSourceHost || s?.syncingTo;
    if (sync) row.syncSource = sync;
    if (s?.pingMs !== undefined && !s.self) row.pingMs = s.pingMs;
    const msg = s?.lastHeartbeatMessage || s?.infoMessage;
    if (msg) row.message = msg;
    report.members.push(row);

    // Findings about this member.
    if (c && serviceName && !mapping.stable) {
      if (mapping.pod) {
        const why =
          mapping.match === 'ip'
            ? `the IP of pod ${mapping.pod}, which changes when the pod is recreated`
            : mapping.match === 'hostname'
              ? `the bare hostname of pod ${mapping.pod}, which other pods cannot resolve`
              : `a name under a Service other than the governing Service ${serviceName}`;
        findings.push({
          kind: 'host-not-stable-dns',
          member: host,
          pod: mapping.pod,
          message: `member ${id} is configured as ${host}: ${why}; use the stable DNS name ${stableHost(mapping.pod, serviceName, namespace, splitHost(host).port)}`,
          fix: `cfg = rs.conf(); cfg.members[${configMembers.indexOf(c)}].host = "${stableHost(mapping.pod, serviceName, namespace, splitHost(host).port)}"; rs.reconfig(cfg)`,
        });
      } else {
        findings.push({
          kind: 'member-without-pod',
          member: host,
          message: `member ${id} (${host}) matches no pod of StatefulSet ${sts.metadata.name}: scaled down without rs.remove(), a pod IP that has changed, or a member outside the set`,
          fix: `rs.remove("${host}")`,
        });
      }
    }
    if (s && !s.self && s.health === 0) {
      findings.push({
        kind: 'member-unreachable',
        member: host,
        ...(mapping.pod ? { pod: mapping.pod } : {}),
        message: `member ${host} is unreachable from ${source?.pod ?? 'the asked pod'}${s.lastHeartbeatMessage ? `: ${s.lastHeartbeatMessage}` : ''}`,
      });
    } else if (s && s.state !== undefined && UNHEALTHY_STATES.has(s.state)) {
      findings.push({
        kind: 'member-unhealthy',
        member: host,
        ...(mapping.pod ? { pod: mapping.pod } : {}),
        message: `member ${host} is ${row.state}${msg ? `: ${msg}` : ''}`,
      });
    }
    if (row.lagMs !== undefined && row.lagMs - row.delaySeconds * 1000 > maxLagMs) {
      const delay = row.delaySeconds ? ` (${row.delaySeconds}s of it is the configured delay)` : '';
      findings.push({
        kind: 'lag',
        member: host,
        ...(mapping.pod ? { pod: mapping.pod } : {}),
        message: `member ${host} is ${Math.round(row.lagMs / 1000)}s behind the primary${delay}, more than --max-lag ${Math.round(maxLagMs / 1000)}s`,
      });
    }
  }

  // Set-wide findings.
  report.votingMembers = configMembers.length ? configMembers.filter((m) => (m.votes ?? 1) > 0).length : statusMembers.length;
  if (source && !primary) {
    findings.push({ kind: 'no-primary', message: `replica set ${setName ?? '?'} has no PRIMARY as seen from pod ${source.pod}: writes fail until one is elected` });
  }
  const primaries = new Set<string>();
  for (const v of answered) for (const m of v.status?.members ?? []) if (m.state === 1) primaries.add(m.name);
  if (primaries.size > 1) {
    const seen = answered.map((v) => `${v.pod} sees ${v.status?.members?.find((m) => m.state === 1)?.name ?? 'no primary'}`);
    findings.push({ kind: 'multiple-primaries', message: `more than one member is PRIMARY across the pods' views (${[...primaries].sort().join(', ')}): ${seen.join('; ')}` });
  }
  if (report.votingMembers > MAX_VOTING_MEMBERS) {
    findings.push({
      kind: 'too-many-voting-members',
      message: `${report.votingMembers} voting members: a replica set allows at most ${MAX_VOTING_MEMBERS}; give the extra members votes: 0 and priority: 0`,
    });
  }
  if (ids.length > MAX_MEMBERS) {
    findings.push({ kind: 'too-many-members', message: `${ids.length} members: a replica set allows at most ${MAX_MEMBERS}` });
  }
  if (config) {
    for (const p of pods) {
      if (mappedPods.has(p.metadata.name)) continue;
      const host = serviceName ? stableHost(p.metadata.name, serviceName, namespace, port) : `${p.metadata.name}:${port}`;
      const full = report.votingMembers >= MAX_VOTING_MEMBERS;
      findings.push({
        kind: 'pod-not-in-config',
        pod: p.metadata.name,
        message: `pod ${p.metadata.name} is not a member of replica set ${setName ?? '?'} (scaled up without rs.add()?)${full ? `; the set already has ${report.votingMembers} voting members, so add it as non-voting` : ''}`,
        fix: full ? `rs.add({host: "${host}", votes: 0, priority: 0})` : `rs.add("${host}")`,
      });
    }
  }
  report.findings = sortFindings(findings);
  return report;
}

const ORDER: FindingKind[] = [
  'auth-failed',
  'unauthorized',
  'not-replset',
  'not-initiated',
  'no-shell',
  'unreachable',
  'query-failed',
  'no-primary',
  'multiple-primaries',
  'member-unreachable',
  'member-unhealthy',
  'lag',
  'too-many-voting-members',
  'too-many-members',
  'pod-not-in-config',
  'member-without-pod',
  'host-not-stable-dns',
];

function sortFindings(f: Finding[]): Finding[] {
  return f
    .map((x, i) => ({ x, i }))
    .sort((a, b) => ORDER.indexOf(a.x.kind) - ORDER.indexOf(b.x.kind) || a.i - b.i)
    .map((e) => e.x);
}
