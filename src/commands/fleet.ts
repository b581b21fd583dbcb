/**
 * Fleet mode of the read commands (doctor, pvc-orphans, finalize-localpv, rollout status,
 * dns-check --static-only): `--context a,b,c` or `--all-contexts` runs the command against every
 * context at once (at most FLEET_CONCURRENCY in flight), each with its own connection. The result
 * is one table with a CONTEXT column (the first table of each context's output, re-aligned),
 * followed by what each context printed besides it; `-o json|yaml` groups the results by
 * context. A context that cannot be reached, or whose reads are refused, is reported as such
 * and does not stop the others. The exit code is the worst: 3 (a context unreachable) over 1
 * (problems found or a refusal) over 4 (could not check everything) over 0.
 */
import type { CommandResult, CommandSpec, GlobalArgs, Host } from './command.js';
import type { Deps } from '../deps.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { silentSpinner } from '../render/spinner.js';
import { renderStructured } from '../render/output.js';
import { renderTable } from '../render/table.js';

export const FLEET_CONCURRENCY = 4;

/** `--all-contexts`, which each fleet-capable command declares (`--context` itself is global; a comma list selects fleet mode). */
export interface FleetArgs {
  allContexts?: boolean | undefined;
}

/** The contexts named for fleet mode, or undefined for an ordinary run. */
export function fleetContexts(args: GlobalArgs & FleetArgs): string[] | 'all' | undefined {
  if (args.allContexts) {
    if (args.context) throw new UsageError('--all-contexts and --context cannot be used together', ['Name the contexts instead: --context a,b,c.']);
    return 'all';
  }
  if (args.context && args.context.includes(',')) {
    const names = args.context.split(',').map((c) => c.trim());
    if (names.some((n) => !n)) throw new UsageError(`invalid value "${args.context}" for --context: an empty name in the list`, ['For example: --context prod-eu,prod-us.']);
    return [...new Set(names)];
  }
  return undefined;
}

const RANK: Record<number, number> = { [ExitCode.Ok]: 0, [ExitCode.Incomplete]: 1, [ExitCode.Problems]: 2, [ExitCode.Unreachable]: 3 };

/** The worst of several exit codes (unknown codes rank as problems). */
export function worstExit(codes: number[]): number {
  return codes.reduce((w, c) => ((RANK[c] ?? 2) > (RANK[w] ?? 2) ? c : w), ExitCode.Ok as number);
}

export interface ContextResult {
  context: string;
  exitCode: number;
  /** What the command printed (ordinary run). */
  output?: string;
  /** Why the context could not be checked (unreachable, refused, not in the kubeconfig). */
  error?: string;
}

/** The first table of a command's output (a header line of upper-case column names, rows up to the first blank line), and the text around it. */
export function splitFirstTable(text: string): { before: string; header: string | undefined; rows: string[]; after: string } {
  const lines = text.replace(/\n$/, '').split('\n');
  // Upper-case column names three or more spaces apart; a first column may have an empty header (dns-check's status marks).
  const isHeader = (l: string) => /^( {3,})?[A-Z][A-Z0-9/().-]*( [A-Z0-9/().-]+)*( {3,}[A-Z][A-Z0-9/().-]*( [A-Z0-9/().-]+)*)+$/.test(l);
  const h = lines.findIndex(isHeader);
  if (h < 0) return { before: text, header: undefined, rows: [], after: '' };
  // Rows go on to the first blank line, or to the first line that does not break at the header's column starts (a summary line).
  const starts = columnStarts(lines[h]!).filter((x) => x > 0);
  const fits = (l: string) => starts.every((x) => x >= l.length || l[x - 1] === ' ');
  let end = h + 1;
  while (end < lines.length && lines[end] !== '' && fits(lines[end]!)) end++;
  const join = (l: string[]) => (l.length ? `${l.join('\n')}\n` : '');
  return { before: join(lines.slice(0, h)), header: lines[h], rows: lines.slice(h + 1, end), after: join(lines.slice(lines[end] === '' ? end + 1 : end)) };
}

/** Where each column of a header line starts; a header that starts with spaces has an unnamed first column at 0. */
function columnStarts(header: string): number[] {
  return [...(header.startsWith(' ') ? [0] : []), ...[...header.matchAll(/\S+(?: \S+)*/g)].map((m) => m.index!)];
}

/** Cuts a table row into cells at the column offsets of its header (renderTable pads every cell to its column). */
export function cells(header: string, row: string): { names: string[]; values: string[] } {
  const starts = columnStarts(header);
  const names = [...(header.startsWith(' ') ? [''] : []), ...[...header.matchAll(/\S+(?: \S+)*/g)].map((m) => m[0])];
  const values = starts.map((s, i) => row.slice(s, i + 1 < starts.length ? starts[i + 1] : undefined).trim());
  return { names, values };
}

/** One table with a CONTEXT column from every context's first table, then each context's other output and its error, if any. */
export function mergeTables(results: ContextResult[]): string {
  const parts = results.map((r) => ({ r, t: r.output !== undefined ? splitFirstTable(r.output) : undefined }));
  const header = parts.find((p) => p.t?.header)?.t?.header;
  let text = '';
  if (header) {
    const names = cells(header, header).names;
    const rows: string[][] = [];
    for (const { r, t } of parts) {
      if (!t?.header) continue;
      for (const row of t.rows) rows.push([r.context, ...cells(t.header, row).values]);
    }
    text += renderTable(['context', ...names.map((n) => n.toLowerCase())], rows);
  }
  for (const { r, t } of parts) {
    const rest = r.error !== undefined ? '' : `${t?.before ?? ''}${t?.after ?? ''}`.trim();
    const status = r.error !== undefined ? `could not be checked (exit ${r.exitCode}): ${r.error}` : `exit ${r.exitCode}`;
    text += `\n=== context ${r.context}: ${status}\n${rest ? `${rest}\n` : ''}`;
  }
  return text;
}

function describeError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof CliError) return { message: [e.message, ...e.hints].join('; '), exitCode: e.exitCode };
  return { message: e instanceof Error ? e.message : String(e), exitCode: ExitCode.Problems };
}

/** Runs `spec` once per context and merges the results. */
export async function runFleet(spec: CommandSpec<any>, args: GlobalArgs & FleetArgs & Record<string, unknown>, host: Host, which: string[] | 'all'): Promise<CommandResult> {
  if (args.watch) throw new UsageError('fleet mode (--context a,b / --all-contexts) does not watch: drop -w');
  if (args.output === 'name') throw new UsageError('fleet mode cannot print -o name: a name does not say which cluster it is in', ['Use -o json (grouped by context).']);
  const base = host.deps({ ...args, context: undefined });
  let contexts: string[];
  if (which === 'all') {
    const { loadKube } = await import('../kube/load.js');
    const m = await loadKube();
    contexts = m.listContexts({ kubeconfig: args.kubeconfig }, process.env);
    if (!contexts.length) throw new CliError('the kubeconfig has no contexts', ExitCode.Unreachable);
  } else {
    contexts = which;
  }
  const structured = args.output === 'json' || args.output === 'yaml';
  const { mapBounded } = await import('../kube/concurrency.js');
  const results = await mapBounded(contexts, FLEET_CONCURRENCY, async (context): Promise<ContextResult> => {
    const a = { ...args, context, allContexts: false, output: structured ? 'json' : args.output };
    const d = host.deps(a);
    const deps: Deps = { ...d, log: (l) => base.log(`[${context}] ${l}`), spinner: async () => silentSpinner, confirm: async () => false, interactive: false };
    try {
      const r = await spec.run!(a, deps);
      return { context, exitCode: r.exitCode, output: r.output };
    } catch (e) {
      if (base.signal.aborted) throw e;
      const { message, exitCode } = describeError(e);
      return { context, exitCode, error: message };
    }
  });
  const exitCode = worstExit(results.map((r) => r.exitCode));
  if (structured) {
    const doc = {
      kind: 'FleetReport',
      apiVersion: 'kubectl-sts/v1',
      contexts: results.map((r) => (r.error !== undefined ? { context: r.context, exitCode: r.exitCode, error: r.error } : { context: r.context, exitCode: r.exitCode, result: JSON.parse(r.output!) as unknown })),
    };
    return { output: renderStructured(doc, args.output as 'json' | 'yaml'), exitCode };
  }
  return { output: mergeTables(results), exitCode };
}
