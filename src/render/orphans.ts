/** Output of `kubectl sts pvc-orphans`: the findings table (table|wide), the deletion report, -o name, and the json|yaml shape. */
import type { OrphanFinding, OrphanSummary } from '../core/orphans.js';
import { shortKind, type DeleteTarget } from '../core/orphans-delete.js';
import { renderTable } from './table.js';
import type { Palette } from './color.js';

/**
 * deleted: gone from the API (or, with a dry run, would be). terminating: the delete was accepted
 * but the object is still there (held by a finalizer or a pod), or was not waited for
 * (--wait=false). skipped / failed / notAttempted: not deleted.
 */
export type DeleteStatus = 'deleted' | 'terminating' | 'skipped' | 'failed' | 'notAttempted';

export interface DeleteOutcome {
  kind: DeleteTarget['kind'];
  namespace: string;
  name: string;
  status: DeleteStatus;
  /** Why it was skipped / how it failed; empty when deleted. */
  detail: string;
  /** What the deletion leaves behind (by the volume's reclaim policy). */
  leavesBehind: string;
}

/** The documented -o json|yaml shape. */
export interface PvcOrphansOutput {
  kind: 'PvcOrphanReport';
  /** The namespace looked at; null with --all-namespaces. */
  namespace: string | null;
  filters: { statefulSet: string | null; selector: string | null; olderThan: string | null };
  /** False when something the check needs could not be read (see warnings): not a clean bill of health. */
  complete: boolean;
  /** One line per part skipped (a forbidden read), as written to stderr. Always present. */
  warnings: string[];
  summary: OrphanSummary;
  findings: OrphanFinding[];
  /** Present with --delete. */
  deletion?: {
    dryRun: 'none' | 'client' | 'server';
    includePvs: boolean;
    results: DeleteOutcome[];
    /** Findings this run did not try to delete (Released volumes without --include-pvs). */
    notIncluded: { kind: OrphanFinding['kind']; namespace: string; name: string }[];
    /** Candidates never deleted because the pods could not be read (confirmed: false). */
    unconfirmed: { kind: OrphanFinding['kind']; namespace: string; name: string }[];
  };
}

const FULL_KIND = { pvc: 'persistentvolumeclaim', pv: 'persistentvolume' } as const;

export function objectName(f: { kind: OrphanFinding['kind']; name: string }): string {
  return `${shortKind(f.kind)}/${f.name}`;
}

function setCell(f: OrphanFinding): string {
  if (!f.statefulSet) return '<none>';
  return f.statefulSetGuessed ? `${f.statefulSet}?` : f.statefulSet;
}

function reasonCell(f: OrphanFinding): string {
  return f.confirmed ? f.reason : `${f.reason} (unconfirmed)`;
}

function scaleUpCell(f: OrphanFinding): string {
  return f.reattach.onScaleUp ? `at ${f.reattach.atReplicas} replicas` : 'no';
}

function retentionCell(f: OrphanFinding): string {
  return f.retention ? `${f.retention.rule}=${f.retention.policy}` : '-';
}

export function renderFindingsTable(findings: OrphanFinding[], o: { wide: boolean; allNamespaces: boolean }): string {
  const headers = o.wide
    ? ['name', 'statefulset', 'template', 'ordinal', 'reason', 'capacity', 'storageclass', 'volume', 'phase', 'reclaim', 'retention', 'scale-up', 'age', 'evidence', 'message']
    : ['name', 'statefulset', 'ordinal', 'reason', 'capacity', 'volume', 'reclaim', 'scale-up', 'age'];
  if (o.allNamespaces) headers.unshift('namespace');
  const rows = findings.map((f) => {
    const ordinal = f.ordinal === null ? '-' : String(f.ordinal);
    const volume = f.kind === 'PersistentVolume' ? `(claim ${f.claim})` : (f.volume ?? '<none>');
    const row = o.wide
      ? [
          objectName(f),
          setCell(f),
          f.template ?? '-',
          ordinal,
          reasonCell(f),
          f.capacity || '-',
          f.storageClass || '-',
          volume,
          f.phase || '-',
          f.reclaimPolicy ?? '-',
          retentionCell(f),
          scaleUpCell(f),
          f.age,
          f.evidence,
          f.message,
        ]
      : [objectName(f), setCell(f), ordinal, reasonCell(f), f.capacity || '-', volume, f.reclaimPolicy ?? '-', scaleUpCell(f), f.age];
    if (o.allNamespaces) row.unshift(f.namespace);
    return row;
  });
  return renderTable(headers, rows);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The gap line pvc-orphans records when the pods could not be read (nothing is then known to be in use). */
export const PODS_GAP = 'pods could not be read';

/** The partial-result lines: what could not be read, and what that leaves undecided. */
export function partialLines(s: OrphanSummary, gaps: string[]): string[] {
  if (!gaps.length) return [];
  const lines = [`PARTIAL: ${gaps.join('; ')} (see the warnings). This is not a clean bill of health.`];
  if (s.undecided) lines.push(`${plural(s.undecided, 'claim')} could not be decided.`);
  if (s.unconfirmed) lines.push(`${plural(s.unconfirmed, 'finding')} (unconfirmed) could not be checked against the pods: --delete removes none of them.`);
  return lines;
}

/** The line under the table: counts, and the command that cleans up. */
export function findingsFooter(out: PvcOrphansOutput, cleanupCommand: string, gaps: string[] = []): string {
  const s = out.summary;
  const where = out.namespace === null ? 'across all namespaces' : `in namespace ${out.namespace}`;
  const partial = partialLines(s, gaps);
  const podsUnread = gaps.includes(PODS_GAP);
  const checked = podsUnread
    ? `${plural(s.claimsChecked, 'claim')} checked; which are in use by pods could not be checked`
    : `${plural(s.claimsChecked, 'claim')} checked, ${s.inUse} in use by pods and left alone`;
  if (!out.findings.length) {
    if (partial.length) {
      return `No orphaned StatefulSet claims found in what could be read ${where} (${checked}).\n${partial.join('\n')}\n`;
    }
    return `No orphaned StatefulSet claims or Released volumes ${where} (${plural(s.claimsChecked, 'claim')} checked, ${s.inUse} in use by pods).\n`;
  }
  const claimsWord = podsUnread ? 'candidate orphaned claim' : 'orphaned claim';
  const found = [s.orphanedClaims ? plural(s.orphanedClaims, claimsWord) : '', s.releasedVolumes ? plural(s.releasedVolumes, 'Released volume') : '']
    .filter(Boolean)
    .join(' and ');
  const lines = [`Found ${found} ${where} (${checked}).`];
  if (out.findings.some((f) => f.statefulSetGuessed)) lines.push('"?" marks a StatefulSet name guessed from the claim name: the set is gone.');
  if (out.findings.some((f) => f.reattach.onScaleUp)) lines.push('SCALE-UP: a scale-up to that many replicas mounts the old claim again, stale data included.');
  if (s.unconfirmed < out.findings.length) lines.push(`Delete them with: ${cleanupCommand}`);
  lines.push(...partial);
  return `\n${lines.join('\n')}\n`;
}

function statusCell(r: DeleteOutcome, dryRun: 'none' | 'client' | 'server', c: Palette): string {
  if (r.status === 'deleted') return dryRun === 'none' ? c.green('deleted') : `deleted (${dryRun} dry run)`;
  if (r.status === 'terminating') return c.yellow('terminating');
  if (r.status === 'skipped') return c.yellow('skipped');
  if (r.status === 'failed') return c.red('failed');
  return 'not attempted';
}

export function renderDeletionTable(
  d: NonNullable<PvcOrphansOutput['deletion']>,
  o: { allNamespaces: boolean; color: Palette; gaps?: string[] },
): string {
  const headers = ['result', 'object', 'leaves behind / reason'];
  if (o.allNamespaces) headers.splice(1, 0, 'namespace');
  const rows = d.results.map((r) => {
    const row = [statusCell(r, d.dryRun, o.color), objectName(r), r.status === 'deleted' ? r.leavesBehind : r.detail];
    if (o.allNamespaces) row.splice(1, 0, r.kind === 'PersistentVolumeClaim' ? r.namespace : '-');
    return row;
  });
  const count = (s: DeleteStatus) => d.results.filter((r) => r.status === s).length;
  const verb = d.dryRun === 'none' ? 'Deleted' : `Would delete (${d.dryRun} dry run)`;
  const tail = [`${verb} ${count('deleted')} of ${plural(d.results.length, 'object')}`];
  if (count('terminating')) tail.push(`${count('terminating')} still terminating`);
  if (count('skipped')) tail.push(`${count('skipped')} skipped`);
  if (count('failed')) tail.push(`${count('failed')} failed`);
  if (count('notAttempted')) tail.push(`${count('notAttempted')} not attempted`);
  let text = `${renderTable(headers, rows)}\n${tail.join(', ')}.\n`;
  if (d.notIncluded.length) text += `${plural(d.notIncluded.length, 'Released volume')} not deleted: pass --include-pvs to remove them too.\n`;
  if (d.unconfirmed.length) {
    text += `${plural(d.unconfirmed.length, 'candidate')} not deleted: whether a pod mounts ${d.unconfirmed.length === 1 ? 'it' : 'them'} could not be checked (${d.unconfirmed
      .map(objectName)
      .join(', ')}).\n`;
  }
  if (o.gaps?.length) text += `PARTIAL: ${o.gaps.join('; ')} (see the warnings).\n`;
  return text;
}

/** -o name: one `kind/name` a line (with --delete: what was deleted). */
export function renderNames(items: { kind: OrphanFinding['kind']; name: string }[]): string {
  return items.map((i) => `${FULL_KIND[shortKind(i.kind)]}/${i.name}\n`).join('');
}
