/** `kubectl sts mongo-status` output: the member table with findings, and the -o json|yaml shape. */
import type { Palette } from './color.js';
import { renderTable } from './table.js';
import { humanDuration } from '../core/duration.js';
import type { Finding, MemberRow, MongoReport, NotAsked, ViewSummary } from '../core/mongo.js';

/** The documented -o json|yaml shape. Durations are in seconds (fractions for heartbeats and lag). */
export interface MongoStatusOutput {
  /** False when no member could be asked (or, with --each, some pod was not asked): not a pass, exit 4 unless there are findings. */
  complete: boolean;
  /** Pods that could not be asked, with the cause (forbidden, refused, container-missing, binary-missing, timeout, pod-not-running) and the fix. */
  notAsked: NotAsked[];
  /** One line per pod not asked (also written to stderr as "warning: ..."). */
  warnings: string[];
  statefulSet: string;
  namespace: string;
  replicaSet: string | null;
  /** The pod whose rs.status() the members come from. */
  source: string | null;
  primary: string | null;
  configVersion: number | null;
  votingMembers: number;
  members: {
    id: number;
    host: string;
    pod: string | null;
    hostMatch: MemberRow['hostMatch'];
    state: string;
    health: MemberRow['health'];
    self: boolean;
    uptimeSeconds: number | null;
    lastHeartbeatAgeSeconds: number | null;
    lagSeconds: number | null;
    syncSource: string | null;
    votes: number;
    priority: number;
    pingMs: number | null;
    arbiter: boolean;
    hidden: boolean;
    delaySeconds: number;
    message: string | null;
  }[];
  views: ViewSummary[];
  findings: Finding[];
}

export function mongoStatusOutput(r: MongoReport): MongoStatusOutput {
  const sec = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);
  return {
    complete: r.complete,
    notAsked: r.notAsked,
    warnings: r.notAsked.map((n) => (n.pod ? `pod ${n.pod} not asked: ${n.reason}` : `nobody asked: ${n.reason}`)),
    statefulSet: r.statefulSet,
    namespace: r.namespace,
    replicaSet: r.replicaSet ?? null,
    source: r.source ?? null,
    primary: r.primary ?? null,
    configVersion: r.configVersion ?? null,
    votingMembers: r.votingMembers,
    members: r.members.map((m) => ({
      id: m.id,
      host: m.host,
      pod: m.pod ?? null,
      hostMatch: m.hostMatch,
      state: m.state,
      health: m.health,
      self: m.self,
      uptimeSeconds: m.uptimeSeconds ?? null,
      lastHeartbeatAgeSeconds: sec(m.lastHeartbeatAgeMs),
      lagSeconds: sec(m.lagMs),
      syncSource: m.syncSource ?? null,
      votes: m.votes,
      priority: m.priority,
      pingMs: m.pingMs ?? null,
      arbiter: m.arbiter,
      hidden: m.hidden,
      delaySeconds: m.delaySeconds,
      message: m.message ?? null,
    })),
    views: r.views,
    findings: r.findings,
  };
}

function stateCell(m: MemberRow, c: Palette): string {
  const tags = [m.hidden ? 'hidden' : '', m.delaySeconds ? `delay ${m.delaySeconds}s` : ''].filter(Boolean);
  const text = tags.length ? `${m.state} (${tags.join(', ')})` : m.state;
  if (m.state === 'PRIMARY') return c.green(text);
  if (m.state === 'SECONDARY' || m.state === 'ARBITER') return text;
  return c.red(text);
}

function lagCell(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return '0s';
  return humanDuration(ms);
}

function heartbeatCell(m: MemberRow): string {
  if (m.self) return 'self';
  if (m.lastHeartbeatAgeMs === undefined) return '-';
  return `${(m.lastHeartbeatAgeMs / 1000).toFixed(1)}s`;
}

export function renderMongoStatus(r: MongoReport, o: { wide: boolean; color: Palette }): string {
  const c = o.color;
  const lines: string[] = [];
  // The version is the server's (db.version()), not the shell's: say so.
  const asked = r.views.map((v) => `${v.pod}${v.shell ? ` (${v.shell}${v.version ? `, mongod ${v.version}` : ''})` : ''}`).join(', ');
  lines.push(
    (!r.views.length ? `StatefulSet ${r.namespace}/${r.statefulSet}: no member could be asked, replica set not read` : `Replica set ${r.replicaSet ?? '<unknown>'} of StatefulSet ${r.namespace}/${r.statefulSet}`) +
      (r.primary ? `, primary ${r.primary}` : '') +
      (r.configVersion !== undefined ? `, config version ${r.configVersion}` : '') +
      (asked ? `; asked ${asked}` : ''),
  );
  if (r.members.length) {
    const headers = ['member', 'pod', 'state', 'health', 'uptime', 'heartbeat', 'lag', 'sync source', 'votes', 'priority', 'ping'];
    if (o.wide) headers.unshift('id');
    if (o.wide) headers.push('message');
    const rows = r.members.map((m) => {
      const row: (string | number)[] = [
        m.host,
        m.pod ?? '<none>',
        stateCell(m, c),
        m.health === 'down' ? c.red('down') : m.health,
        m.uptimeSeconds !== undefined ? humanDuration(m.uptimeSeconds * 1000) : '-',
        heartbeatCell(m),
        lagCell(m.lagMs),
        m.syncSource ?? '-',
        m.votes,
        m.priority,
        m.pingMs !== undefined ? `${m.pingMs}ms` : '-',
      ];
      if (o.wide) row.unshift(m.id);
      if (o.wide) row.push(m.message ?? '');
      return row;
    });
    lines.push('', renderTable(headers, rows).trimEnd());
  }
  const split = r.views.length > 1;
  if (split) {
    lines.push('', 'Views:');
    for (const v of r.views) {
      lines.push(`  ${v.pod}: ${v.error ? c.red('no answer') : `${v.selfState ?? '?'}, sees primary ${v.primary ?? 'none'}`}`);
    }
  }
  lines.push('');
  if (r.findings.length === 0) {
    if (r.complete) lines.push(c.green('No problems found.'));
    else if (!r.views.length) lines.push(c.yellow(`Could not check: no member could be asked (${causes(r.notAsked)}); this is not a pass.`));
    else lines.push(c.yellow(`Partial: ${notAskedCount(r)} not asked (${causes(r.notAsked)}); no problem found in what could be read, but this is not a pass.`));
  } else {
    lines.push(`${r.findings.length} problem${r.findings.length === 1 ? '' : 's'} found${r.complete ? '' : ` (incomplete: ${notAskedCount(r)} not asked)`}:`);
    for (const f of r.findings) {
      lines.push(`  ${c.red('✗')} ${f.message}`);
      if (f.fix) lines.push(`      fix: ${f.fix}`);
    }
  }
  if (r.notAsked.length) {
    lines.push('', r.complete ? 'Not asked (another Ready pod answered instead):' : 'Not asked:');
    for (const n of r.notAsked) {
      lines.push(`  ${c.yellow('?')} ${n.reason}`);
      lines.push(`      fix: ${n.fix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function notAskedCount(r: MongoReport): string {
  const pods = r.notAsked.filter((n) => n.pod).length;
  return pods ? `${pods} pod${pods === 1 ? '' : 's'}` : 'no pod';
}

/** The distinct causes, in a few words each. */
function causes(n: NotAsked[]): string {
  return [...new Set(n.map((x) => x.label))].join('; ');
}
