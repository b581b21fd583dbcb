/** Text and the documented -o json|yaml shapes of `kubectl sts rollout ...`. */
import { createTwoFilesPatch } from 'diff';
import { dump } from 'js-yaml';
import type { PodRow, RevisionEntry, RolloutStatus, SetFacts } from '../core/rollout.js';
import { normalizedTemplate } from '../core/rollout.js';
import type { PodTemplateSpec } from '../core/types.js';
import { age, formatDuration } from '../core/duration.js';
import type { StepReport } from '../core/rollout-run.js';
import { renderTable } from './table.js';
import type { Palette } from './color.js';

// ---------------------------------------------------------------- json shapes

export interface RolloutPodOutput {
  ordinal: number;
  name: string;
  exists: boolean;
  revision: string;
  /** update | current | other | unknown (see README). */
  revisionKind: string;
  updated: boolean;
  inPartition: boolean;
  ready: boolean;
  available: boolean;
  phase: string;
  terminating: boolean;
  restarts: number;
  node: string;
  created?: string | undefined;
  condemned: boolean;
}

export interface RolloutStatusOutput {
  kind: 'RolloutStatus';
  namespace: string;
  name: string;
  strategy: string;
  partition: number;
  replicas: number;
  ordinalsStart: number;
  podManagementPolicy: string;
  minReadySeconds: number;
  held: boolean;
  deleting: boolean;
  currentRevision: string;
  updateRevision: string;
  generation: number;
  observedGeneration: number;
  counts: RolloutStatus['counts'];
  maxUnavailable: { value?: number | string | undefined; effective: number; honoured: boolean; dropped?: number | string | undefined; note: string };
  state: string;
  message: string;
  pods: RolloutPodOutput[];
  /** False when the pods could not be read (state "unknown", counts from the set's status). */
  complete: boolean;
  /** One line per part skipped (a forbidden read), as written to stderr. Always present. */
  warnings: string[];
}

/** The -o json|yaml shape of a step/to/auto/--delete-pods run: core's report, with the status where shown. */
export interface RolloutStepOutput extends StepReport {
  status?: RolloutStatusOutput | undefined;
}

export interface RolloutHistoryOutput {
  kind: 'RolloutHistory';
  namespace: string;
  name: string;
  revisions: {
    revision: number;
    name: string;
    changeCause: string;
    images: string[];
    current: boolean;
    update: boolean;
    /** null: the pods could not be read. */
    pods: string[] | null;
    created?: string | undefined;
    template?: PodTemplateSpec | undefined;
  }[];
  /** False when the pods could not be read (which pods run which revision is unknown). */
  complete: boolean;
  /** One line per part skipped (a forbidden read), as written to stderr. Always present. */
  warnings: string[];
}

export interface RolloutUndoOutput {
  kind: 'RolloutUndo';
  namespace: string;
  name: string;
  dryRun?: 'client' | 'server' | undefined;
  result: 'ok' | 'noop' | 'planned';
  from?: { revision: number; name: string } | undefined;
  to?: { revision: number; name: string } | undefined;
  deletedPods: string[];
  notes: string[];
  message: string;
  diff: string;
  requests: number;
  /** Parts skipped for lack of rights (a forbidden read); always present (this form needs none optional, so empty). */
  warnings: string[];
}

export interface RolloutDiffOutput {
  kind: 'RolloutDiff';
  namespace: string;
  name: string;
  from: { revision: number; name: string };
  to: { revision: number; name: string };
  changed: boolean;
  diff: string;
  /** Parts skipped for lack of rights (a forbidden read); always present (this form needs none optional, so empty). */
  warnings: string[];
}

// ---------------------------------------------------------------- status

export function statusOutput(s: RolloutStatus, warnings: string[] = []): RolloutStatusOutput {
  const f = s.facts;
  return {
    kind: 'RolloutStatus',
    namespace: f.namespace,
    name: f.name,
    strategy: f.strategy,
    partition: f.partition,
    replicas: f.replicas,
    ordinalsStart: f.start,
    podManagementPolicy: f.podManagementPolicy,
    minReadySeconds: f.minReadySeconds,
    held: f.held,
    deleting: f.deleting,
    currentRevision: f.currentRevision,
    updateRevision: f.updateRevision,
    generation: f.generation,
    observedGeneration: f.observedGeneration,
    counts: s.counts,
    maxUnavailable: { value: f.maxUnavailable.raw, effective: f.maxUnavailable.effective, honoured: f.maxUnavailable.gateOn, ...(f.maxUnavailable.dropped !== undefined ? { dropped: f.maxUnavailable.dropped } : {}), note: f.maxUnavailable.note },
    state: s.state,
    message: s.message,
    pods: s.pods.map((p) => ({
      ordinal: p.ordinal,
      name: p.name,
      exists: p.exists,
      revision: p.revision,
      revisionKind: p.kind,
      updated: p.updated,
      inPartition: p.inPartition,
      ready: p.ready,
      available: p.available,
      phase: p.phase,
      terminating: p.terminating,
      restarts: p.restarts,
      node: p.node,
      created: p.created,
      condemned: p.condemned,
    })),
    complete: s.podsKnown !== false && warnings.length === 0,
    warnings,
  };
}

/** `<set>-<hash>` -> the hash, to keep columns short. */
export function shortRevision(name: string, setName: string): string {
  return name.startsWith(`${setName}-`) ? name.slice(setName.length + 1) : name;
}

export function strategyLine(f: SetFacts): string {
  if (f.strategy === 'OnDelete') return 'OnDelete (pods change only when deleted)';
  const last = f.start + f.replicas - 1;
  const from = f.start + f.partition;
  const scope = f.replicas === 0 ? 'no pods' : from > last ? 'updates no ordinal: held' : from <= f.start ? `updates every ordinal ${f.start}..${last}` : `updates ordinals ${from}..${last}`;
  return `RollingUpdate, partition ${f.partition} (${scope})`;
}

export function renderStatusHeader(s: RolloutStatus, c: Palette): string {
  const f = s.facts;
  const lines: string[] = [];
  const flag = f.deleting ? c.red(' [being deleted]') : f.held ? c.yellow(' [held]') : '';
  lines.push(`StatefulSet ${f.namespace}/${f.name}${flag}`);
  lines.push(`  Strategy:     ${strategyLine(f)}, ${f.podManagementPolicy}`);
  lines.push(`  Replicas:     ${f.replicas}, ordinals ${f.replicas ? `${f.start}..${f.start + f.replicas - 1}` : '-'}${f.start ? ` (start ${f.start})` : ''}${f.minReadySeconds ? `, minReadySeconds ${f.minReadySeconds}` : ''}`);
  if (s.podsKnown === false) {
    lines.push(`  Pods:         unknown (could not be read); the controller's status says ${s.counts.updated} updated, ${s.counts.ready} ready, ${s.counts.current} current`);
  } else {
    lines.push(
      `  Pods:         ${s.counts.updated} updated, ${s.counts.ready} ready, ${s.counts.current} current${s.counts.other ? `, ${s.counts.other} other` : ''}${s.counts.missing ? `, ${s.counts.missing} missing` : ''}`,
    );
  }
  const revs = f.currentRevision === f.updateRevision ? `${f.updateRevision || '<none>'} (current = update)` : `${f.currentRevision || '<none>'} (current) -> ${f.updateRevision || '<none>'} (update)`;
  lines.push(`  Revisions:    ${revs}`);
  lines.push(`  Generation:   observed ${f.observedGeneration} of ${f.generation}${f.observed ? '' : c.yellow(' (the controller has not seen the latest spec yet)')}`);
  lines.push(`  MaxUnavail.:  ${f.maxUnavailable.note}`);
  const colorState = s.state === 'complete' ? c.green : s.state === 'deleting' ? c.red : s.state === 'progressing' ? c.cyan : c.yellow;
  lines.push(`  State:        ${colorState(s.message)}`);
  return `${lines.join('\n')}\n`;
}

function revisionCell(p: PodRow, setName: string): string {
  if (!p.exists) return '-';
  const r = p.revision ? shortRevision(p.revision, setName) : '<none>';
  return `${r} (${p.kind})`;
}

export function podRowCells(p: PodRow, setName: string, now: number, c: Palette): string[] {
  const kindColor = p.kind === 'update' ? c.green : p.kind === 'other' ? c.red : (s: string) => s;
  const ready = p.exists ? (p.ready ? '1/1' : c.yellow('0/1')) : '-';
  const status = !p.exists ? 'Missing' : p.terminating ? 'Terminating' : p.phase;
  return [
    String(p.ordinal),
    p.name,
    kindColor(revisionCell(p, setName)),
    p.inPartition ? 'yes' : p.condemned ? 'condemned' : 'no',
    ready,
    status,
    String(p.restarts),
    p.node || '<none>',
    p.exists ? age(p.created, now) : '-',
  ];
}

export const POD_HEADERS = ['ordinal', 'pod', 'revision', 'in-partition', 'ready', 'status', 'restarts', 'node', 'age'];

export function renderStatus(s: RolloutStatus, now: number, c: Palette): string {
  const table = s.pods.length ? `\n${renderTable(POD_HEADERS, s.pods.map((p) => podRowCells(p, s.facts.name, now, c)))}` : '';
  const partial = s.podsKnown === false ? '\nPARTIAL: the pods could not be read (forbidden; see the warning): where the rollout stands is unknown.\n' : '';
  return renderStatusHeader(s, c) + table + partial;
}

// ---------------------------------------------------------------- history

export function historyOutput(namespace: string, name: string, entries: RevisionEntry[], withTemplate: boolean, warnings: string[] = []): RolloutHistoryOutput {
  return {
    kind: 'RolloutHistory',
    namespace,
    name,
    revisions: entries.map((e) => ({
      revision: e.revision,
      name: e.name,
      changeCause: e.changeCause,
      images: e.images,
      current: e.isCurrent,
      update: e.isUpdate,
      pods: e.pods,
      created: e.created,
      ...(withTemplate ? { template: e.template } : {}),
    })),
    complete: warnings.length === 0,
    warnings,
  };
}

export function renderHistory(name: string, entries: RevisionEntry[], now: number): string {
  const rows = entries.map((e) => [
    String(e.revision),
    e.name,
    [e.isCurrent ? 'current' : '', e.isUpdate ? 'update' : ''].filter(Boolean).join(',') || '-',
    e.pods === null ? 'unknown' : String(e.pods.length),
    e.images.join(' '),
    age(e.created, now),
    e.changeCause || '<none>',
  ]);
  return `statefulset.apps/${name}\n${renderTable(['revision', 'controllerrevision', 'role', 'pods', 'images', 'age', 'change-cause'], rows)}`;
}

export function renderRevisionDetail(name: string, e: RevisionEntry): string {
  const head = [
    `statefulset.apps/${name} with revision #${e.revision} (${e.name})`,
    `  Role:         ${[e.isCurrent ? 'current' : '', e.isUpdate ? 'update' : ''].filter(Boolean).join(', ') || 'history'}`,
    `  Pods:         ${e.pods === null ? 'unknown (the pods could not be read)' : e.pods.length ? e.pods.join(', ') : '<none>'}`,
    `  Change-cause: ${e.changeCause || '<none>'}`,
    'Pod Template:',
  ];
  const body = dump(normalizedTemplate(e.template), { noRefs: true, lineWidth: -1 })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `  ${l}`)
    .join('\n');
  return `${head.join('\n')}\n${body}\n`;
}

// ---------------------------------------------------------------- diff

export function templateYaml(t: PodTemplateSpec | undefined): string {
  return dump(normalizedTemplate(t), { noRefs: true, lineWidth: -1 });
}

/** A unified diff of two pod templates (YAML, keys sorted); '' when they are equal. */
export function templateDiff(fromLabel: string, from: PodTemplateSpec | undefined, toLabel: string, to: PodTemplateSpec | undefined): string {
  const a = templateYaml(from);
  const b = templateYaml(to);
  if (a === b) return '';
  return createTwoFilesPatch(fromLabel, toLabel, a, b, undefined, undefined, { context: 3 })
    .split('\n')
    .filter((l) => !l.startsWith('====='))
    .join('\n');
}

export function colorDiff(text: string, c: Palette): string {
  return text
    .split('\n')
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return c.bold(l);
      if (l.startsWith('+')) return c.green(l);
      if (l.startsWith('-')) return c.red(l);
      if (l.startsWith('@@')) return c.cyan(l);
      return l;
    })
    .join('\n');
}

/** The text of a step/to/auto/--delete-pods run: one line per step, the outcome, and how to go on or back. */
export function renderStepText(out: RolloutStepOutput, c: Palette): string {
  const lines: string[] = [];
  for (const n of out.notes) lines.push(c.yellow(`note: ${n}`));
  if (out.result === 'planned') {
    lines.push(`${out.message} (dry run: ${out.dryRun})`);
    if (out.patch) lines.push(`patch: ${JSON.stringify(out.patch)}`);
    return `${lines.join('\n')}\n`;
  }
  for (const s of out.steps) {
    lines.push(`statefulset.apps/${out.name} partition ${s.partition}: ${s.pods.length ? s.pods.join(', ') : 'no new pods'} updated and Ready${s.waitedMs ? ` (${formatDuration(s.waitedMs)})` : ''}`);
  }
  const msg = out.result === 'stopped' ? c.red(out.message) : out.result === 'ok' ? c.green(out.message) : out.message;
  lines.push(msg);
  if (out.stuck?.lastEvent) lines.push(`  last event of ${out.stuck.pod}: ${out.stuck.lastEvent}`);
  if (out.continueWith) {
    lines.push(`  continue:  ${out.continueWith}`);
    lines.push(`  roll back: kubectl sts rollout undo ${out.name} -n ${out.namespace}${out.stuck ? ' --force' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
