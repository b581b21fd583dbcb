/**
 * `kubectl sts doctor` output: a table of the sets in scope (one row each), then every finding
 * with its evidence and fix; `-o json|yaml` prints DoctorOutput.
 */
import type { SetReport, DoctorSummary } from '../core/doctor.js';
import type { DoctorFinding } from '../core/doctor-types.js';
import { isProblem } from '../core/doctor-types.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

/** The documented `-o json|yaml` shape (stable: scripts may rely on it). */
export interface DoctorOutput {
  kind: 'DoctorReport';
  apiVersion: 'kubectl-sts/v1';
  /** The namespace checked, or null for all namespaces. */
  namespace: string | null;
  /** The set named on the command line, or null for every set in scope. */
  statefulSet: string | null;
  /** False when something could not be checked (see `warnings` and each set's `unchecked`). */
  complete: boolean;
  warnings: string[];
  summary: DoctorSummary;
  statefulSets: SetReport[];
}

function status(s: SetReport): string {
  const e = s.findings.filter((f) => f.severity === 'error').length;
  const w = s.findings.filter((f) => f.severity === 'warning').length;
  if (e || w) return [e && `${e} error${e === 1 ? '' : 's'}`, w && `${w} warning${w === 1 ? '' : 's'}`].filter(Boolean).join(', ');
  return s.unchecked.length ? 'not fully checked' : 'healthy';
}

function severityLabel(f: DoctorFinding, c: Palette): string {
  const t = f.severity.toUpperCase();
  return f.severity === 'error' ? c.red(t) : f.severity === 'warning' ? c.yellow(t) : c.dim(t);
}

export function renderDoctor(out: DoctorOutput, o: { wide: boolean; color: Palette }): string {
  const c = o.color;
  const allNs = out.namespace === null;
  if (!out.statefulSets.length) {
    return `No StatefulSets found${allNs ? '' : ` in namespace ${out.namespace}`}.${out.complete ? '' : ' PARTIAL: see the warnings above.'}\n`;
  }
  const rows = out.statefulSets.map((s) => [...(allNs ? [s.namespace] : []), s.name, `${s.ready}/${s.replicas}`, status(s)]);
  let text = renderTable([...(allNs ? ['namespace'] : []), 'statefulset', 'ready', 'status'], rows);
  for (const s of out.statefulSets) {
    const shown = s.findings.filter((f) => o.wide || isProblem(f));
    if (!shown.length && !s.unchecked.length) continue;
    text += `\n${c.bold(`StatefulSet ${s.namespace}/${s.name}`)}\n`;
    for (const f of shown) {
      text += `  ${severityLabel(f, c)}  ${f.category}/${f.check}  ${f.subject}\n`;
      text += `    ${f.message}\n`;
      for (const e of o.wide ? f.evidence : f.evidence.slice(0, 3)) text += `    ${c.dim('evidence:')} ${e}\n`;
      if (!o.wide && f.evidence.length > 3) text += `    ${c.dim(`(${f.evidence.length - 3} more lines of evidence with -o wide)`)}\n`;
      text += `    ${c.cyan('fix:')} ${f.fix}\n`;
    }
    for (const u of s.unchecked) text += `  ${c.yellow('NOT CHECKED')}  ${u}\n`;
  }
  const sm = out.summary;
  const withFindings = out.statefulSets.filter((s) => s.findings.some(isProblem)).length;
  text += `\n${sm.statefulSets} StatefulSet${sm.statefulSets === 1 ? '' : 's'} checked: ${sm.healthy} healthy, ${withFindings} with findings (${sm.errors} error${sm.errors === 1 ? '' : 's'}, ${sm.warnings} warning${sm.warnings === 1 ? '' : 's'})`;
  text += !o.wide && sm.info ? `; ${sm.info} informational note${sm.info === 1 ? '' : 's'} with -o wide.\n` : '.\n';
  if (!out.complete) text += 'PARTIAL: part of the checks could not run (see NOT CHECKED and the warnings); this is not a clean bill of health.\n';
  return text;
}
