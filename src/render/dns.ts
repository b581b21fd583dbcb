/** Output of `kubectl sts dns-check`: one row per check (✓ ok, ✗ fail, ! warning, ? not run), or -o json|yaml. */
import type { DnsCheck } from '../core/dns.js';
import type { DnsTool, SrvRecord } from '../core/dns-parse.js';
import type { ExecCause } from '../core/exec-cause.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

/** One check in the -o json|yaml output. Live checks carry what was asked and answered. */
export interface DnsCheckRow extends DnsCheck {
  kind: 'static' | 'live';
  /** live: the pod the lookup ran in, the query, its type, the tool and what it answered. */
  probe?: string;
  query?: string;
  type?: 'A' | 'SRV';
  tool?: DnsTool;
  container?: string;
  addresses?: string[];
  srv?: SrvRecord[];
}

/** Counts by outcome. `ok`, `warn` and `fail` are the same counts as passed, warnings and failed (earlier names). */
export interface DnsSummary {
  total: number;
  passed: number;
  warnings: number;
  failed: number;
  /** Checks that were asked for but could not run (exec forbidden, refused, timed out, ...). */
  notRun: number;
  ok: number;
  warn: number;
  fail: number;
}

/** The not-run checks grouped by cause, with what to do about each. */
export interface NotRunCause {
  cause: ExecCause;
  /** The cause in a few words ("exec forbidden (pods/exec create) in namespace x"). */
  label: string;
  checks: number;
  fix: string;
}

/** The documented -o json|yaml shape. */
export interface DnsCheckOutput {
  statefulSet: string;
  namespace: string;
  /** spec.serviceName, or null when unset. */
  service: string | null;
  /** The zone the names were built in (--cluster-domain, or the probe pod's resolv.conf); null when no lookup ran. */
  clusterDomain: string | null;
  /** Pods the lookups ran in (or were to run in). */
  probes: string[];
  /** --static-only: no live lookups were asked for. */
  staticOnly: boolean;
  /** False when any check that was asked for could not run, or a read was skipped: not a pass (exit 4 unless something failed). */
  complete: boolean;
  summary: DnsSummary;
  notRunCauses: NotRunCause[];
  /** What was skipped or could not run, one line each (also written to stderr as "warning: ..."). */
  warnings: string[];
  checks: DnsCheckRow[];
}

export function summarize(checks: DnsCheck[]): DnsSummary {
  const n = { ok: 0, warn: 0, fail: 0, 'not-run': 0 };
  for (const c of checks) n[c.status]++;
  return { total: checks.length, passed: n.ok, warnings: n.warn, failed: n.fail, notRun: n['not-run'], ok: n.ok, warn: n.warn, fail: n.fail };
}

/** Not-run checks grouped by cause label, in order of first appearance. */
export function notRunCauses(checks: DnsCheck[]): NotRunCause[] {
  const groups = new Map<string, NotRunCause>();
  for (const c of checks) {
    if (c.status !== 'not-run') continue;
    const cause = c.cause ?? 'refused';
    const label = c.causeLabel ?? cause;
    const g = groups.get(label);
    if (g) g.checks++;
    else groups.set(label, { cause, label, checks: 1, fix: c.fix ?? '' });
  }
  return [...groups.values()];
}

/** "9 not run: exec forbidden (...)" or "9 not run: 6 exec forbidden (...), 3 no answer in time". */
export function notRunText(out: Pick<DnsCheckOutput, 'summary' | 'notRunCauses'>): string {
  const g = out.notRunCauses;
  if (!out.summary.notRun) return '';
  const causes = g.length === 1 ? g[0]!.label : g.map((x) => `${x.checks} ${x.label}`).join(', ');
  return `${out.summary.notRun} not run: ${causes}`;
}

const MARK = { ok: '✓', fail: '✗', warn: '!', 'not-run': '?' } as const;

export function renderDnsTable(out: DnsCheckOutput, color: Palette, wide = false): string {
  const paint = { ok: color.green, fail: color.red, warn: color.yellow, 'not-run': color.yellow } as const;
  const headers = wide ? ['', 'check', 'subject', 'result', 'answer'] : ['', 'check', 'subject', 'result'];
  const rows = out.checks.map((c) => {
    // The fix of a check that did not run is given once per cause under the verdict.
    const result = c.fix && c.status !== 'not-run' ? `${c.reason}; fix: ${c.fix}` : c.reason;
    const row: string[] = [paint[c.status](MARK[c.status]), c.check, c.subject, result];
    if (wide) row.push(c.addresses?.length ? c.addresses.join(',') : c.srv?.length ? c.srv.map((s) => `${s.target}:${s.port}`).join(',') : '');
    return row;
  });
  const s = out.summary;
  const head = `StatefulSet ${out.namespace}/${out.statefulSet}, Service ${out.service ?? '<none>'}${out.clusterDomain ? `, zone ${out.clusterDomain}` : ''}${
    out.staticOnly ? ', static checks only (--static-only)' : out.probes.length ? `, lookups from ${out.probes.length} pod(s)` : ''
  }\n`;
  const notRun = notRunText(out);
  const tail = `${s.total} checks: ${s.passed} ok, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${s.failed} failed${notRun ? `, ${notRun}` : ''}`;
  const paintTail = s.failed ? color.red : s.warnings || !out.complete ? color.yellow : color.green;
  const lines = [paintTail(tail)];
  if (!out.complete) {
    lines.push(
      s.failed
        ? `Incomplete as well: ${s.notRun ? `${s.notRun} check${s.notRun === 1 ? '' : 's'} could not run` : 'some reads were skipped'}.`
        : `Could not check: ${s.notRun ? `${s.notRun} check${s.notRun === 1 ? '' : 's'} could not run` : 'some reads were skipped'}; this is not a pass.`,
    );
    for (const g of out.notRunCauses) lines.push(`  ${g.label}: ${g.fix}`);
  }
  return `${head}${renderTable(headers, rows)}${lines.join('\n')}\n`;
}
