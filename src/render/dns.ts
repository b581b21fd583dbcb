/** Output of `kubectl sts dns-check`: one row per check (✓ ok, ✗ fail, ! warning), or -o json|yaml. */
import type { DnsCheck } from '../core/dns.js';
import type { DnsTool, SrvRecord } from '../core/dns-parse.js';
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

/** The documented -o json|yaml shape. */
export interface DnsCheckOutput {
  statefulSet: string;
  namespace: string;
  /** spec.serviceName, or null when unset. */
  service: string | null;
  /** The zone the names were built in (--cluster-domain, or the probe pod's resolv.conf); null when no lookup ran. */
  clusterDomain: string | null;
  /** Pods the lookups ran in. */
  probes: string[];
  summary: { ok: number; warn: number; fail: number };
  checks: DnsCheckRow[];
}

export function summarize(checks: DnsCheck[]): DnsCheckOutput['summary'] {
  const s = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) s[c.status]++;
  return s;
}

const MARK = { ok: '✓', fail: '✗', warn: '!' } as const;

export function renderDnsTable(out: DnsCheckOutput, color: Palette, wide = false): string {
  const paint = { ok: color.green, fail: color.red, warn: color.yellow } as const;
  const headers = wide ? ['', 'check', 'subject', 'result', 'answer'] : ['', 'check', 'subject', 'result'];
  const rows = out.checks.map((c) => {
    const result = c.fix ? `${c.reason}; fix: ${c.fix}` : c.reason;
    const row: string[] = [paint[c.status](MARK[c.status]), c.check, c.subject, result];
    if (wide) row.push(c.addresses?.length ? c.addresses.join(',') : c.srv?.length ? c.srv.map((s) => `${s.target}:${s.port}`).join(',') : '');
    return row;
  });
  const s = out.summary;
  const head = `StatefulSet ${out.namespace}/${out.statefulSet}, Service ${out.service ?? '<none>'}${out.clusterDomain ? `, zone ${out.clusterDomain}` : ''}${out.probes.length ? `, lookups from ${out.probes.length} pod(s)` : ''}\n`;
  const total = s.ok + s.warn + s.fail;
  const tail = `${total} checks: ${s.ok} ok, ${s.warn} warning${s.warn === 1 ? '' : 's'}, ${s.fail} failed\n`;
  const paintTail = s.fail ? color.red : s.warn ? color.yellow : color.green;
  return `${head}${renderTable(headers, rows)}${paintTail(tail.trimEnd())}\n`;
}
