/**
 * Output of `kubectl sts finalize-localpv`: the diagnosis table and per-object details, the
 * metadata diffs of what would change, and the outcome of each finalization; plus the
 * documented -o json|yaml shape.
 */
import { createPatch, FILE_HEADERS_ONLY } from 'diff';
import { dump } from 'js-yaml';
import type { DataLocation, Diagnosis, Verdict } from '../core/finalize.js';
import { describePodUse, keyOf } from '../core/finalize.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

export type ActionResult = 'finalized' | 'would-finalize' | 'refused' | 'not-confirmed' | 'gone' | 'failed';

export interface ActionOutput {
  kind: Diagnosis['kind'];
  name: string;
  namespace?: string;
  result: ActionResult;
  message: string;
  /** What removing the finalizers skips or breaks (printed even with --force). */
  risks: string[];
  /** Unified diff of the object's metadata, before -> after. */
  diff: string;
  /** Local/hostPath volumes: where the data stays once the PV object is gone. */
  dataLeft?: DataLocation;
  /** PATCH attempts (more than 1 after resourceVersion conflicts). */
  attempts?: number;
}

/** A diagnosis as printed in json/yaml (the metadata copies are left out; the diff is in `actions`). */
export type DiagnosisOutput = Omit<Diagnosis, 'metadataBefore' | 'metadataAfter'>;

/** The documented -o json|yaml shape. */
export interface FinalizeOutput {
  /** Terminating PVs in scope, by name. */
  persistentVolumes: DiagnosisOutput[];
  /** With --claims: Terminating PVCs in scope. */
  persistentVolumeClaims?: DiagnosisOutput[];
  /** What the command did (or, with --dry-run, would do); empty when it only diagnosed. */
  actions: ActionOutput[];
  dryRun?: 'client' | 'server';
  /** Stuck objects in scope that this run did not clear (exit code 1 when > 0). */
  remaining: number;
  /** False when something the diagnosis needs could not be read (see warnings): exit 4 unless objects are stuck. */
  complete: boolean;
  /** One line per part skipped (a forbidden read), as written to stderr. Always present. */
  warnings: string[];
}

/** Key order of a diagnosis in json/yaml: identity, facts, then the verdict. */
const OUTPUT_KEYS: (keyof DiagnosisOutput)[] = [
  'kind',
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'volumeType',
  'path',
  'driver',
  'reclaimPolicy',
  'phase',
  'deletionTimestamp',
  'terminatingForSeconds',
  'terminatingFor',
  'finalizers',
  'claim',
  'volume',
  'pods',
  'node',
  'verdict',
  'reason',
  'blockingPods',
  'waitingFor',
  'action',
  'risks',
  'dataLocation',
  'undetermined',
];

export function toOutput(d: Diagnosis): DiagnosisOutput {
  const out: Record<string, unknown> = {};
  for (const k of OUTPUT_KEYS) if (d[k] !== undefined) out[k] = d[k];
  return out as DiagnosisOutput;
}

/** How the user names the object: persistentvolume/NAME, persistentvolumeclaim/NAME -n NS. */
export function refOf(d: { kind: Diagnosis['kind']; name: string; namespace?: string }): string {
  return d.kind === 'PersistentVolume' ? `persistentvolume/${d.name}` : `persistentvolumeclaim/${d.name} -n ${d.namespace ?? ''}`;
}

const VERDICT_TEXT: Record<Verdict, string> = {
  safe: 'safe',
  'blocked-by-pod': 'blocked by pod',
  'node-gone': 'node gone',
  'waiting-for-controller': 'waiting for controller',
  unknown: 'unknown (could not check)',
};

function verdictColor(v: Verdict, c: Palette): (s: string) => string {
  if (v === 'safe') return c.green;
  if (v === 'blocked-by-pod') return c.red;
  return c.yellow;
}

export function verdictText(d: Diagnosis): string {
  if (d.verdict === 'blocked-by-pod') return `blocked by pod ${d.blockingPods.join(',')}`;
  if (d.verdict === 'waiting-for-controller') return 'waiting for controller';
  return VERDICT_TEXT[d.verdict];
}

function nodeCell(d: Diagnosis): string {
  if (!d.node) return d.dataLocation?.node ?? '<none>';
  if (d.node.exists === null) return `${d.node.name} (unknown)`;
  return d.node.exists ? d.node.name : `${d.node.name} (gone)`;
}

export function renderVolumeTable(diags: Diagnosis[], c: Palette): string {
  return renderTable(
    ['NAME', 'TYPE', 'TERMINATING', 'FINALIZERS', 'CLAIM', 'NODE', 'VERDICT'],
    diags.map((d) => [
      d.name,
      d.volumeType ?? '',
      d.terminatingFor,
      d.finalizers.map((f) => f.name).join(',') || '<none>',
      d.claim ? `${d.claim.namespace}/${d.claim.name} (${d.claim.state})` : '<none>',
      nodeCell(d),
      verdictColor(d.verdict, c)(verdictText(d)),
    ]),
  );
}

export function renderClaimTable(diags: Diagnosis[], c: Palette): string {
  return renderTable(
    ['NAMESPACE', 'NAME', 'TERMINATING', 'FINALIZERS', 'VOLUME', 'PODS', 'VERDICT'],
    diags.map((d) => [
      d.namespace ?? '',
      d.name,
      d.terminatingFor,
      d.finalizers.map((f) => f.name).join(',') || '<none>',
      d.volume ?? '<none>',
      d.pods.map((p) => p.name).join(',') || '<none>',
      verdictColor(d.verdict, c)(verdictText(d)),
    ]),
  );
}

/** The explanation block of one object. */
export function renderDetails(d: Diagnosis, c: Palette): string {
  const lines: string[] = [];
  const what: string[] = [];
  if (d.kind === 'PersistentVolume') {
    what.push(d.volumeType ?? 'volume');
    if (d.path) what.push(d.path);
    if (d.driver) what.push(`driver ${d.driver}`);
    if (d.reclaimPolicy) what.push(`reclaim ${d.reclaimPolicy}`);
  }
  if (d.phase) what.push(`phase ${d.phase}`);
  lines.push(`${c.bold(refOf(d))}: ${what.join(', ')}; Terminating for ${d.terminatingFor}`);
  if (d.finalizers.length === 0) lines.push('  no finalizers left: the API server removes it');
  for (const f of d.finalizers) {
    lines.push(`  finalizer ${f.name}`);
    lines.push(`    removed by: ${f.removedBy}`);
    lines.push(`    when:       ${f.removedWhen}`);
    lines.push(`    now:        ${f.now}`);
  }
  if (d.claim) lines.push(`  claim ${d.claim.namespace}/${d.claim.name}: ${d.claim.state}${d.claim.phase ? ` (${d.claim.phase})` : ''}${d.claim.note ? `; ${d.claim.note}` : ''}`);
  else if (d.kind === 'PersistentVolume') lines.push('  claim: none');
  if (d.volume) lines.push(`  volume ${d.volume}`);
  const podsUnread = (d.undetermined ?? []).some((u) => u.startsWith('which pods mount'));
  if (d.pods.length === 0) lines.push(podsUnread ? '  pods: unknown (could not be read)' : '  pods: none mount it');
  for (const p of d.pods) lines.push(`  pod ${describePodUse(p)}${p.holds ? '' : ' - not using it'}`);
  if (d.node) lines.push(`  node ${d.node.name}: ${d.node.exists === null ? c.yellow('unknown (the nodes could not be read)') : d.node.exists ? 'exists' : c.red('gone')}`);
  for (const u of d.undetermined ?? []) lines.push(`  ${c.yellow('could not check')}: ${u}`);
  lines.push(`  verdict: ${verdictColor(d.verdict, c)(d.reason)}`);
  lines.push(`  action:  ${d.action}`);
  return `${lines.join('\n')}\n`;
}

/** Unified diff of the object's metadata before and after its finalizers are removed. */
export function metadataDiff(d: Diagnosis): string {
  const before = dump({ metadata: d.metadataBefore }, { noRefs: true, lineWidth: -1, sortKeys: false });
  const after = dump({ metadata: d.metadataAfter }, { noRefs: true, lineWidth: -1, sortKeys: false });
  const name = keyOf(d);
  return createPatch(name, before, after, 'before', 'after', { headerOptions: FILE_HEADERS_ONLY });
}

export function colorDiff(diff: string, c: Palette): string {
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+') && !l.startsWith('+++') ? c.green(l) : l.startsWith('-') && !l.startsWith('---') ? c.red(l) : l))
    .join('\n');
}

/** One action record, keys in the documented order. */
export function makeAction(d: Diagnosis, result: ActionResult, message: string, attempts?: number): ActionOutput {
  return {
    kind: d.kind,
    name: d.name,
    ...(d.namespace ? { namespace: d.namespace } : {}),
    result,
    message,
    risks: d.risks,
    diff: metadataDiff(d),
    ...(d.kind === 'PersistentVolume' && d.dataLocation && (result === 'finalized' || result === 'would-finalize') ? { dataLeft: d.dataLocation } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
  };
}

export function dataLeftText(loc: DataLocation): string {
  return loc.node
    ? `the data is still at ${loc.path} on node ${loc.node}: Kubernetes never wipes it; only a person or a cleanup job on that node can`
    : `the data is still at ${loc.path} on whichever node used it: Kubernetes never wipes it`;
}

export function renderAction(a: ActionOutput, c: Palette): string {
  const ref = refOf(a);
  const color = a.result === 'finalized' || a.result === 'would-finalize' || a.result === 'gone' ? c.green : c.red;
  const lines = [`${ref} ${color(a.result)}: ${a.message}`];
  if (a.dataLeft && (a.result === 'finalized' || a.result === 'would-finalize')) lines.push(`  ${dataLeftText(a.dataLeft)}`);
  return `${lines.join('\n')}\n`;
}

/** The preview of one planned change: diff and risks. */
export function renderPlanned(d: Diagnosis, risks: string[], c: Palette): string {
  let out = colorDiff(metadataDiff(d), c);
  if (!out.endsWith('\n')) out += '\n';
  if (risks.length) out += `${c.yellow('risk')}: ${risks.join(`\n${c.yellow('risk')}: `)}\n`;
  return out;
}

export function renderNothingStuck(allTypes: boolean, claims: boolean): string {
  const scope = allTypes ? 'of any type' : 'of type local or hostPath (--all-types for every kind)';
  return `No PersistentVolume ${scope} is stuck Terminating${claims ? ', and no PersistentVolumeClaim in scope is' : ''}.\n`;
}

/** The diagnosis: the tables of stuck volumes and claims, then each one in detail. */
export function renderDiagnosis(d: { volumes: Diagnosis[]; claims: Diagnosis[]; pvsUnread: boolean; withClaims: boolean; allTypes: boolean }, c: Palette): string {
  const all = [...d.volumes, ...d.claims];
  const noPvs = 'The PersistentVolumes could not be read: stuck volumes were not looked for.\n';
  if (all.length === 0 && d.pvsUnread) return noPvs + (d.withClaims ? 'No PersistentVolumeClaim that could be read is stuck Terminating.\n' : '');
  if (all.length === 0) return renderNothingStuck(d.allTypes, d.withClaims);
  let out = '';
  if (d.volumes.length) out += renderVolumeTable(d.volumes, c);
  else out += d.pvsUnread ? noPvs : renderNothingStuck(d.allTypes, false);
  if (d.claims.length) out += `\n${renderClaimTable(d.claims, c)}`;
  else if (d.withClaims) out += '\nNo PersistentVolumeClaim in scope is stuck Terminating.\n';
  for (const x of all) out += `\n${renderDetails(x, c)}`;
  return out;
}

/** What a finalizing run will change (shown before the question), or that nothing will. */
export function renderChanges(toFinalize: Diagnosis[], o: { dryRun: 'none' | 'client' | 'server'; allSafe: boolean; planned: number }, c: Palette): string {
  if (toFinalize.length) {
    let out = `\n${c.bold(o.dryRun === 'none' ? 'Changes:' : `Changes (dry run, ${o.dryRun}):`)}\n`;
    for (const d of toFinalize) out += renderPlanned(d, d.risks, c);
    return out;
  }
  if (o.planned === 0) return o.allSafe ? '\nNothing is safe to finalize with --all-safe.\n' : '\nNothing to finalize.\n';
  return '';
}

/** The results of the finalizer removals, what is still stuck, and what could not be checked. */
export function renderResults(actions: ActionOutput[], o: { remaining: number; complete: boolean; gaps: string[]; unknown: number }, c: Palette): string {
  let out = '';
  if (actions.length) {
    out += `\n${c.bold('Results:')}\n`;
    for (const a of actions) out += renderAction(a, c);
  }
  if (o.remaining > 0) out += `\n${o.remaining} object${o.remaining > 1 ? 's' : ''} still stuck Terminating.\n`;
  if (!o.complete) {
    const parts = [...o.gaps, ...(o.unknown ? [`${o.unknown} object${o.unknown > 1 ? 's have' : ' has'} an unknown verdict`] : [])];
    if (!parts.length) parts.push('some details could not be checked');
    out += `\nPARTIAL: ${parts.join('; ')} (forbidden; see the warnings). This is not a clean bill of health.\n`;
  }
  return out;
}

/** kubectl's -o name: kind/name (a claim's namespace is the -n in effect). */
export function renderFinalizeNames(objs: { kind: Diagnosis['kind']; name: string }[]): string {
  return objs.map((o) => `${o.kind === 'PersistentVolume' ? 'persistentvolume' : 'persistentvolumeclaim'}/${o.name}\n`).join('');
}
