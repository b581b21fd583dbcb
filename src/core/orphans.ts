/**
 * Orphaned StatefulSet volumes: claims the StatefulSet controller created from a
 * volumeClaimTemplate and then left behind (scale-down, ordinals moved, set deleted or being
 * deleted), and Released PersistentVolumes whose claim is gone. Pure: lists in, sorted findings
 * out; the clock is passed in.
 *
 * Safety rules, in this order:
 *  - a claim that any pod mounts (pod not Succeeded/Failed) is never an orphan, whatever its name;
 *  - a claim managed by another controller (ownerReference other than StatefulSet/Pod) is not ours;
 *  - a claim whose name looks like `<template>-<set>-<n>` of an existing set but whose labels miss
 *    what that set stamps on its claims (template labels + selector matchLabels) is not the set's;
 *  - a claim of an existing set whose ordinal lies inside [start, start + replicas) belongs to
 *    the set even when its pod is momentarily gone (restart, eviction).
 */
import type { LabelSelector, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from './types.js';
import { claimCapacity, claimUsers, isTerminating, ordinalRange, podHoldsVolumes } from './pods.js';
import { selectorMatches } from './labels.js';
import { age } from './duration.js';

export type OrphanReason =
  /** Ordinal at or above start + replicas of an existing set. */
  | 'ScaledDown'
  /** Ordinal below spec.ordinals.start of an existing set (the start was raised). */
  | 'BelowStartOrdinal'
  /** The StatefulSet no longer exists. */
  | 'SetDeleted'
  /** The StatefulSet has a deletionTimestamp: it is going away. */
  | 'SetDeleting'
  /** A PersistentVolume in phase Released whose claim is gone (or is itself an orphan). */
  | 'ReleasedVolume';

/** How the finding was tied to its StatefulSet. */
export type Evidence = 'ownerReference' | 'nameAndLabels' | 'claimRef';

export interface RetentionOutcome {
  /** The persistentVolumeClaimRetentionPolicy field that governs this case. */
  rule: 'whenScaled' | 'whenDeleted';
  policy: 'Retain' | 'Delete';
  /** What the StatefulSet controller does with such a claim under that policy. */
  outcome: 'retained' | 'deleted';
  note: string;
}

export interface Reattach {
  /** Whether scaling the existing set up remounts this claim (and its old data). */
  onScaleUp: boolean;
  /** With onScaleUp: the replica count from which the claim is mounted again. */
  atReplicas?: number;
  note: string;
}

export type OrphanKind = 'PersistentVolumeClaim' | 'PersistentVolume';

export interface OrphanFinding {
  kind: OrphanKind;
  /** The claim's namespace (for a volume: the namespace of the claim it was bound to). */
  namespace: string;
  /** Claim name, or PersistentVolume name. */
  name: string;
  uid: string;
  resourceVersion: string;
  reason: OrphanReason;
  message: string;
  statefulSet: string | null;
  statefulSetExists: boolean;
  /** The set name was guessed from the claim name (the set is gone and nothing recorded it). */
  statefulSetGuessed: boolean;
  template: string | null;
  ordinal: number | null;
  evidence: Evidence;
  capacity: string;
  storageClass: string;
  /** For a claim: the PersistentVolume it is bound to; for a volume: its own name. */
  volume: string | null;
  /** For a claim: its own name; for a volume: the claim spec.claimRef names. */
  claim: string;
  /** Claim phase (Bound/Pending/Lost) or volume phase (Released). */
  phase: string;
  createdAt: string | null;
  age: string;
  /**
   * The bound volume's reclaim policy; null when the claim has no volume; "unknown" when the
   * PersistentVolumes could not be read (never guessed).
   */
  reclaimPolicy: string | null;
  /** Where the data lives (hostPath, local, csi, nfs), when known. */
  volumeSource: string | null;
  /** What the set's persistentVolumeClaimRetentionPolicy would have done (claims only). */
  retention: RetentionOutcome | null;
  reattach: Reattach;
  /**
   * False when the verdict rests on something that could not be read: the pods (so no pod is
   * known not to mount the claim). Such a finding is a candidate, not a problem found, and
   * --delete never removes it.
   */
  confirmed: boolean;
  /** Facts of this finding that could not be determined: "inUse" (pods unreadable), "reclaimPolicy" (volumes unreadable). */
  undetermined: string[];
}

export interface OrphanInput {
  /** undefined: they could not be read (claims of StatefulSets cannot then be told from orphans). */
  statefulSets: StatefulSet[] | undefined;
  claims: PersistentVolumeClaim[];
  /** undefined: they could not be read (no claim is known to be unused). */
  pods: Pod[] | undefined;
  /** All PersistentVolumes (cluster-scoped); undefined: they could not be read. */
  volumes: PersistentVolume[] | undefined;
  /** The namespace scope; undefined means all namespaces. */
  namespace?: string | undefined;
  now: number;
}

export interface OrphanFilter {
  /** Only findings of this StatefulSet (existing, or a guessed name of a deleted one). */
  statefulSet?: string | undefined;
  /** Claims whose labels match (volumes of gone claims: the volume's own labels). */
  selector?: LabelSelector | undefined;
  /** Only findings at least this old (claims: since creation; volumes: since they were released). */
  olderThanMs?: number | undefined;
}

/** Why a claim that was looked at is not an orphan (for -v and the summary). */
export interface KeptClaim {
  namespace: string;
  name: string;
  /** undecided: the answer depends on StatefulSets or pods that could not be read. */
  why: 'inUse' | 'inRange' | 'ownedByPod' | 'managedElsewhere' | 'lookAlike' | 'notStatefulSet' | 'undecided';
  detail: string;
}

export interface OrphanSummary {
  claimsChecked: number;
  inUse: number;
  inRange: number;
  lookAlike: number;
  orphanedClaims: number;
  releasedVolumes: number;
  /** Claims that could not be decided (StatefulSets or pods unreadable); listed in `kept` as undecided. */
  undecided: number;
  /** Findings that are candidates only (confirmed: false). */
  unconfirmed: number;
}

export interface OrphanResult {
  findings: OrphanFinding[];
  kept: KeptClaim[];
  summary: OrphanSummary;
}

/** PersistentVolume status as recent API servers send it (lastPhaseTransitionTime is 1.31+ GA). */
type VolumeStatus = NonNullable<PersistentVolume['status']> & { lastPhaseTransitionTime?: string };

/** Code-point order: fast, and the same on every machine (localeCompare is neither). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ORDINAL_SUFFIX = /^(.+)-(0|[1-9]\d*)$/;

/** `<template>-<set>-<n>` read against one set name: the template and ordinal, or undefined. */
export function parseClaimName(claimName: string, setName: string): { template: string; ordinal: number } | undefined {
  const m = ORDINAL_SUFFIX.exec(claimName);
  if (!m) return undefined;
  const prefix = m[1]!;
  if (!prefix.endsWith(`-${setName}`)) return undefined;
  const template = prefix.slice(0, prefix.length - setName.length - 1);
  if (!template) return undefined;
  return { template, ordinal: Number(m[2]) };
}

/** Every way to read a claim name as `<template>-<set>-<n>` (template first-dash split first). */
export function claimNameSplits(claimName: string): { template: string; statefulSet: string; ordinal: number }[] {
  const m = ORDINAL_SUFFIX.exec(claimName);
  if (!m) return [];
  const prefix = m[1]!;
  const out: { template: string; statefulSet: string; ordinal: number }[] = [];
  for (let i = prefix.indexOf('-'); i > 0 && i < prefix.length - 1; i = prefix.indexOf('-', i + 1)) {
    out.push({ template: prefix.slice(0, i), statefulSet: prefix.slice(i + 1), ordinal: Number(m[2]) });
  }
  return out;
}

/** The labels the StatefulSet controller puts on the claims of a template: its labels plus the selector's matchLabels. */
export function expectedClaimLabels(sts: StatefulSet, template: string): Record<string, string> | undefined {
  const tpl = (sts.spec.volumeClaimTemplates ?? []).find((t) => t.metadata.name === template);
  if (!tpl) return undefined;
  return { ...(tpl.metadata.labels ?? {}), ...(sts.spec.selector.matchLabels ?? {}) };
}

function labelsInclude(have: Record<string, string> | undefined, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

function nsOf(o: { metadata: { namespace?: string } }): string {
  return o.metadata.namespace ?? '';
}

/** A short description of where a volume's data lives. */
export function volumeSource(pv: PersistentVolume | undefined): string | null {
  if (!pv) return null;
  const s = pv.spec;
  if (s.csi) return `csi ${s.csi.driver} ${s.csi.volumeHandle}`;
  if (s.hostPath) return `hostPath ${s.hostPath.path}`;
  if (s.local) return `local ${s.local.path}`;
  if (s.nfs) return `nfs ${s.nfs.server}:${s.nfs.path}`;
  const other = Object.keys(s).find(
    (k) => !['capacity', 'accessModes', 'persistentVolumeReclaimPolicy', 'storageClassName', 'claimRef', 'nodeAffinity', 'volumeMode', 'mountOptions'].includes(k),
  );
  return other ?? null;
}

interface Attribution {
  sts: StatefulSet | undefined;
  setName: string;
  template: string | null;
  ordinal: number | null;
  evidence: Evidence;
  guessed: boolean;
  /** Other set names a guessed claim could belong to (for --sts). */
  candidates: string[];
  /** The claim carries an ownerReference to a StatefulSet that is gone (whenDeleted=Delete was set). */
  ownerSetGone: boolean;
  /** The claim carries an ownerReference to a pod that is gone (whenScaled=Delete condemned it). */
  ownerPodGone: string | undefined;
}

type Classified = { orphan: OrphanFinding; candidates: string[] } | { kept: KeptClaim };

interface NsContext {
  sets: StatefulSet[];
  setsByUid: Map<string, StatefulSet>;
  setsByName: Map<string, StatefulSet>;
  podsByUid: Map<string, Pod>;
  users: Map<string, Pod[]>;
  volumes: Map<string, PersistentVolume>;
  now: number;
  /** What could not be read. */
  unknown: { sets: boolean; pods: boolean; volumes: boolean };
}

function unknownOf(input: OrphanInput): NsContext['unknown'] {
  return { sets: input.statefulSets === undefined, pods: input.pods === undefined, volumes: input.volumes === undefined };
}

function buildContext(input: OrphanInput): Map<string, NsContext> & { volumes: Map<string, PersistentVolume>; users: Map<string, Pod[]> } {
  const unknown = unknownOf(input);
  const volumes = new Map((input.volumes ?? []).map((v) => [v.metadata.name, v] as const));
  const users = claimUsers((input.pods ?? []).filter(podHoldsVolumes));
  const byNs = new Map<string, NsContext>() as Map<string, NsContext> & { volumes: Map<string, PersistentVolume>; users: Map<string, Pod[]> };
  byNs.volumes = volumes;
  byNs.users = users;
  const ctx = (ns: string): NsContext => {
    let c = byNs.get(ns);
    if (!c) {
      c = { sets: [], setsByUid: new Map(), setsByName: new Map(), podsByUid: new Map(), users, volumes, now: input.now, unknown };
      byNs.set(ns, c);
    }
    return c;
  };
  const sets = [...(input.statefulSets ?? [])].sort((a, b) => cmp(a.metadata.name, b.metadata.name));
  for (const s of sets) {
    const c = ctx(nsOf(s));
    c.sets.push(s);
    c.setsByName.set(s.metadata.name, s);
    if (s.metadata.uid) c.setsByUid.set(s.metadata.uid, s);
  }
  for (const p of input.pods ?? []) if (p.metadata.uid) ctx(nsOf(p)).podsByUid.set(p.metadata.uid, p);
  for (const c of input.claims) ctx(nsOf(c));
  return byNs;
}

function keep(claim: PersistentVolumeClaim, why: KeptClaim['why'], detail: string): Classified {
  return { kept: { namespace: nsOf(claim), name: claim.metadata.name, why, detail } };
}

function inRange(sts: StatefulSet, ordinal: number): boolean {
  const r = ordinalRange(sts);
  return ordinal >= r.start && ordinal < r.end;
}

/** `labels|set-candidate` -> the templates that claims with those labels would have under that set name. */
type SplitIndex = Map<string, Set<string>>;

function labelsKey(claim: PersistentVolumeClaim): string {
  return JSON.stringify(Object.entries(claim.metadata.labels ?? {}).sort(([a], [b]) => cmp(a, b)));
}

/** Indexes every reading of every claim name in one namespace (for guessSplit). */
function splitIndex(claims: PersistentVolumeClaim[]): SplitIndex {
  const idx: SplitIndex = new Map();
  for (const c of claims) {
    const lk = labelsKey(c);
    for (const s of claimNameSplits(c.metadata.name)) {
      const k = `${lk}|${s.statefulSet}`;
      const set = idx.get(k);
      if (set) set.add(s.template);
      else idx.set(k, new Set([s.template]));
    }
  }
  return idx;
}

/** Picks the display name for a guessed set: a split shared with another template of claims with the same labels, else the first-dash split. */
function guessSplit(
  claim: PersistentVolumeClaim,
  splits: { template: string; statefulSet: string; ordinal: number }[],
  index: SplitIndex,
): { template: string; statefulSet: string; ordinal: number } {
  // Several templates of one deleted set leave `<t1>-<set>-<n>` and `<t2>-<set>-<n>` with the
  // same labels: the common `<set>` settles where the template ends.
  const lk = labelsKey(claim);
  for (const s of splits) {
    const templates = index.get(`${lk}|${s.statefulSet}`);
    if (templates && [...templates].some((t) => t !== s.template)) return s;
  }
  return splits[0]!;
}

function retentionFor(reason: OrphanReason, sts: StatefulSet | undefined, a: Attribution): RetentionOutcome | null {
  const policy = sts?.spec.persistentVolumeClaimRetentionPolicy;
  if (reason === 'ScaledDown' || reason === 'BelowStartOrdinal') {
    const p = a.ownerPodGone ? 'Delete' : (policy?.whenScaled ?? 'Retain');
    return {
      rule: 'whenScaled',
      policy: p,
      outcome: p === 'Delete' ? 'deleted' : 'retained',
      note:
        p === 'Delete'
          ? a.ownerPodGone
            ? `whenScaled=Delete: owned by the removed pod ${a.ownerPodGone}; the garbage collector should delete it`
            : 'whenScaled=Delete: the controller deletes claims of removed ordinals; this one predates the policy or escaped it'
          : 'whenScaled=Retain (the default): scale-down keeps the claim on purpose',
    };
  }
  if (reason === 'SetDeleted' || reason === 'SetDeleting') {
    const p = sts ? (policy?.whenDeleted ?? 'Retain') : a.ownerSetGone ? 'Delete' : 'Retain';
    return {
      rule: 'whenDeleted',
      policy: p,
      outcome: p === 'Delete' ? 'deleted' : 'retained',
      note:
        p === 'Delete'
          ? sts
            ? 'whenDeleted=Delete: the garbage collector deletes it once the set is gone'
            : 'whenDeleted=Delete (owner reference): the garbage collector should have deleted it; it is still here'
          : sts
            ? 'whenDeleted=Retain (the default): the claim survives the set'
            : 'whenDeleted=Retain (no owner reference): deleting the set kept the claim',
    };
  }
  return null;
}

function reattachFor(reason: OrphanReason, sts: StatefulSet | undefined, a: Attribution): Reattach {
  const setName = a.setName;
  switch (reason) {
    case 'ScaledDown': {
      const start = sts ? ordinalRange(sts).start : 0;
      const at = (a.ordinal ?? 0) - start + 1;
      return { onScaleUp: true, atReplicas: at, note: `scaling ${setName} to ${at} or more replicas mounts it again, with its old data` };
    }
    case 'BelowStartOrdinal':
      return {
        onScaleUp: false,
        note: `no scale-up reaches ordinal ${a.ordinal}; only lowering spec.ordinals.start of ${setName} to ${a.ordinal} or less would`,
      };
    case 'SetDeleted':
    case 'SetDeleting':
      return {
        onScaleUp: false,
        note:
          a.template !== null && a.ordinal !== null
            ? `re-creating a StatefulSet named ${setName} with template ${a.template} mounts it again at ordinal ${a.ordinal}`
            : `re-creating a StatefulSet named ${setName} could mount it again`,
      };
    default:
      return { onScaleUp: false, note: 'a new claim of that name does not bind it: spec.claimRef still holds the deleted claim' };
  }
}

function messageFor(reason: OrphanReason, sts: StatefulSet | undefined, a: Attribution): string {
  const r = sts ? ordinalRange(sts) : undefined;
  switch (reason) {
    case 'ScaledDown':
      return `ordinal ${a.ordinal} is outside ${a.setName}'s ordinals [${r!.start}, ${r!.end}) after a scale-down`;
    case 'BelowStartOrdinal':
      return `ordinal ${a.ordinal} is below ${a.setName}'s spec.ordinals.start ${r!.start}`;
    case 'SetDeleting':
      return `StatefulSet ${a.setName} is being deleted`;
    case 'SetDeleted':
      if (a.evidence === 'ownerReference') return `owner StatefulSet ${a.setName} no longer exists`;
      return a.guessed
        ? `no StatefulSet owns it; it looks like template ${a.template} of a deleted StatefulSet ${a.setName}`
        : `StatefulSet ${a.setName} no longer exists`;
    default:
      return '';
  }
}

function claimFinding(claim: PersistentVolumeClaim, reason: OrphanReason, a: Attribution, c: NsContext): OrphanFinding {
  const pv = claim.spec.volumeName ? c.volumes.get(claim.spec.volumeName) : undefined;
  const policyUnknown = Boolean(claim.spec.volumeName) && c.unknown.volumes;
  const undetermined = [...(c.unknown.pods ? ['inUse'] : []), ...(policyUnknown ? ['reclaimPolicy'] : [])];
  return {
    kind: 'PersistentVolumeClaim',
    namespace: nsOf(claim),
    name: claim.metadata.name,
    uid: claim.metadata.uid ?? '',
    resourceVersion: claim.metadata.resourceVersion ?? '',
    reason,
    message: messageFor(reason, a.sts, a),
    statefulSet: a.setName,
    statefulSetExists: Boolean(a.sts),
    statefulSetGuessed: a.guessed,
    template: a.template,
    ordinal: a.ordinal,
    evidence: a.evidence,
    capacity: claimCapacity(claim),
    storageClass: claim.spec.storageClassName ?? pv?.spec.storageClassName ?? '',
    volume: claim.spec.volumeName || null,
    claim: claim.metadata.name,
    phase: claim.status?.phase ?? '',
    createdAt: claim.metadata.creationTimestamp ?? null,
    age: age(claim.metadata.creationTimestamp, c.now),
    reclaimPolicy: policyUnknown ? 'unknown' : (pv?.spec.persistentVolumeReclaimPolicy ?? null),
    volumeSource: volumeSource(pv),
    retention: retentionFor(reason, a.sts, a),
    reattach: reattachFor(reason, a.sts, a),
    confirmed: !c.unknown.pods,
    undetermined,
  };
}

/** The existing sets (sorted by name) whose name is one reading of `<template>-<set>-<n>` in this claim name. */
function setsNamedIn(claimName: string, c: NsContext): StatefulSet[] {
  const out: StatefulSet[] = [];
  for (const s of claimNameSplits(claimName)) {
    const sts = c.setsByName.get(s.statefulSet);
    if (sts) out.push(sts);
  }
  return out.sort((a, b) => cmp(a.metadata.name, b.metadata.name));
}

/** Decides one claim. */
function classifyClaim(claim: PersistentVolumeClaim, c: NsContext, index: () => SplitIndex): Classified {
  const ns = nsOf(claim);
  const name = claim.metadata.name;
  const users = (c.users.get(`${ns}/${name}`) ?? []).map((p) => p.metadata.name).sort();
  if (users.length) return keep(claim, 'inUse', `mounted by pod ${users.join(', ')}`);

  const owners = claim.metadata.ownerReferences ?? [];
  const foreign = owners.find((o) => o.kind !== 'StatefulSet' && o.kind !== 'Pod');
  if (foreign) return keep(claim, 'managedElsewhere', `owned by ${foreign.kind} ${foreign.name}`);
  let ownerPodGone: string | undefined;
  const podOwners = owners.filter((x) => x.kind === 'Pod');
  if (podOwners.length && c.unknown.pods) {
    return keep(claim, 'undecided', `owned by pod ${podOwners.map((o) => o.name).join(', ')}, and the pods could not be read`);
  }
  for (const o of podOwners) {
    const pod = c.podsByUid.get(o.uid);
    if (pod) return keep(claim, 'ownedByPod', `owned by pod ${pod.metadata.name}, which still exists; it goes with the pod`);
    ownerPodGone = o.name;
  }

  if (c.unknown.sets) {
    // Without the sets, a claim of a StatefulSet cannot be told from an orphan (in range or not).
    const setLike = owners.some((o) => o.kind === 'StatefulSet') || ownerPodGone !== undefined ||
      (claimNameSplits(name).length > 0 && Object.keys(claim.metadata.labels ?? {}).length > 0);
    if (!setLike) return keep(claim, 'notStatefulSet', 'neither owned by nor named and labelled like a StatefulSet claim');
    return keep(claim, 'undecided', 'looks like a StatefulSet claim, and the StatefulSets could not be read');
  }
  const base = { candidates: [] as string[], ownerSetGone: false, ownerPodGone, guessed: false };
  let a: Attribution | undefined;

  const ownerSet = owners.find((o) => o.kind === 'StatefulSet');
  if (ownerSet) {
    const sts = c.setsByUid.get(ownerSet.uid) ?? c.setsByName.get(ownerSet.name);
    const setName = sts?.metadata.name ?? ownerSet.name;
    const parsed = parseClaimName(name, setName);
    a = { ...base, sts, setName, template: parsed?.template ?? null, ordinal: parsed?.ordinal ?? null, evidence: 'ownerReference', ownerSetGone: !sts };
    if (sts && !isTerminating(sts) && (!parsed || inRange(sts, parsed.ordinal))) {
      return keep(claim, 'inRange', parsed ? `claim of ${setName} ordinal ${parsed.ordinal}` : `owned by StatefulSet ${setName}`);
    }
  } else {
    // Existing sets whose `<template>-<set>-<n>` pattern the name fits.
    const podOwnerSet = ownerPodGone ? ORDINAL_SUFFIX.exec(ownerPodGone)?.[1] : undefined;
    const fits = setsNamedIn(name, c)
      .map((sts) => ({ sts, parsed: parseClaimName(name, sts.metadata.name) }))
      .filter((x): x is { sts: StatefulSet; parsed: { template: string; ordinal: number } } => Boolean(x.parsed));
    const matching = fits.filter((x) => {
      const want = expectedClaimLabels(x.sts, x.parsed.template);
      return want !== undefined && labelsInclude(claim.metadata.labels, want);
    });
    if (matching.length) {
      const live = matching.find((x) => !isTerminating(x.sts) && inRange(x.sts, x.parsed.ordinal));
      if (live) return keep(claim, 'inRange', `claim of ${live.sts.metadata.name} ordinal ${live.parsed.ordinal}`);
      const pick = matching.find((x) => x.sts.metadata.name === podOwnerSet) ?? matching[0]!;
      a = { ...base, sts: pick.sts, setName: pick.sts.metadata.name, template: pick.parsed.template, ordinal: pick.parsed.ordinal, evidence: 'nameAndLabels' };
    } else if (fits.length) {
      const f = fits[0]!;
      const want = expectedClaimLabels(f.sts, f.parsed.template);
      const detail = want
        ? `named like ${f.sts.metadata.name}'s template ${f.parsed.template} but lacks its labels ${Object.entries(want)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}`
        : `named like ${f.sts.metadata.name}'s claims but ${f.sts.metadata.name} has no template ${f.parsed.template}`;
      return keep(claim, 'lookAlike', detail);
    } else {
      // A set that is gone: the name fits the pattern and the claim carries the labels the
      // controller stamps (a bare claim someone created by hand has none).
      const splits = claimNameSplits(name);
      const exact = podOwnerSet ? splits.find((s) => s.statefulSet === podOwnerSet) : undefined;
      if (!exact && (!splits.length || Object.keys(claim.metadata.labels ?? {}).length === 0)) {
        return keep(claim, 'notStatefulSet', 'neither owned by nor named and labelled like a StatefulSet claim');
      }
      const s = exact ?? guessSplit(claim, splits, index());
      a = {
        ...base,
        sts: undefined,
        setName: s.statefulSet,
        template: s.template,
        ordinal: s.ordinal,
        evidence: exact ? 'ownerReference' : 'nameAndLabels',
        guessed: !exact,
        candidates: splits.map((x) => x.statefulSet),
      };
    }
  }

  let reason: OrphanReason;
  if (!a.sts) reason = 'SetDeleted';
  else if (isTerminating(a.sts)) reason = 'SetDeleting';
  else if (a.ordinal !== null && a.ordinal < ordinalRange(a.sts).start) reason = 'BelowStartOrdinal';
  else reason = 'ScaledDown';
  return { orphan: claimFinding(claim, reason, a, c), candidates: a.candidates };
}

function releasedVolumeFinding(pv: PersistentVolume, c: NsContext, reasonText: string): { finding: OrphanFinding; candidates: string[] } {
  const ref = pv.spec.claimRef!;
  const ns = ref.namespace ?? '';
  const claimName = ref.name ?? '';
  const owner = setsNamedIn(claimName, c).map((s) => ({ s, p: parseClaimName(claimName, s.metadata.name) })).find((x) => x.p && (x.s.spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === x.p!.template));
  const splits = claimNameSplits(claimName);
  const guess = owner ? undefined : splits[0];
  const status = pv.status as VolumeStatus | undefined;
  const since = status?.lastPhaseTransitionTime ?? pv.metadata.creationTimestamp;
  return {
    finding: {
      kind: 'PersistentVolume',
      namespace: ns,
      name: pv.metadata.name,
      uid: pv.metadata.uid ?? '',
      resourceVersion: pv.metadata.resourceVersion ?? '',
      reason: 'ReleasedVolume',
      message: reasonText,
      statefulSet: owner?.s.metadata.name ?? guess?.statefulSet ?? null,
      statefulSetExists: Boolean(owner),
      statefulSetGuessed: Boolean(guess),
      template: owner?.p?.template ?? guess?.template ?? null,
      ordinal: owner?.p?.ordinal ?? guess?.ordinal ?? null,
      evidence: 'claimRef',
      capacity: pv.spec.capacity?.storage ?? '',
      storageClass: pv.spec.storageClassName ?? '',
      volume: pv.metadata.name,
      claim: claimName,
      phase: pv.status?.phase ?? '',
      createdAt: since ?? null,
      age: age(since, c.now),
      reclaimPolicy: pv.spec.persistentVolumeReclaimPolicy ?? null,
      volumeSource: volumeSource(pv),
      retention: null,
      reattach: {
        onScaleUp: false,
        note: `a new claim ${claimName} does not bind it: spec.claimRef still holds the deleted claim; clear it to reuse the data`,
      },
      confirmed: true,
      undetermined: [],
    },
    candidates: owner ? [owner.s.metadata.name] : splits.map((s) => s.statefulSet),
  };
}

function ageMs(ts: string | null, now: number): number {
  const t = ts ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? 0 : now - t;
}

const KIND_ORDER: Record<OrphanKind, number> = { PersistentVolumeClaim: 0, PersistentVolume: 1 };

export function compareFindings(a: OrphanFinding, b: OrphanFinding): number {
  return (
    cmp(a.namespace, b.namespace) ||
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    cmp(a.statefulSet ?? '', b.statefulSet ?? '') ||
    cmp(a.template ?? '', b.template ?? '') ||
    (a.ordinal ?? -1) - (b.ordinal ?? -1) ||
    cmp(a.name, b.name)
  );
}

/** Finds the orphaned claims and Released volumes in scope, sorted (namespace, kind, set, template, ordinal, name). */
export function detectOrphans(input: OrphanInput, filter: OrphanFilter = {}): OrphanResult {
  const ctx = buildContext(input);
  const inScope = (ns: string) => input.namespace === undefined || ns === input.namespace;
  const claims = input.claims.filter((c) => inScope(nsOf(c))).sort((a, b) => cmp(nsOf(a), nsOf(b)) || cmp(a.metadata.name, b.metadata.name));
  const byNs = new Map<string, PersistentVolumeClaim[]>();
  for (const c of claims) {
    const list = byNs.get(nsOf(c));
    if (list) list.push(c);
    else byNs.set(nsOf(c), [c]);
  }
  const indexes = new Map<string, SplitIndex>();
  const indexOf = (ns: string) => () => {
    let idx = indexes.get(ns);
    if (!idx) indexes.set(ns, (idx = splitIndex(byNs.get(ns) ?? [])));
    return idx;
  };
  const listed = new Set<OrphanFinding>();

  const findings: OrphanFinding[] = [];
  const kept: KeptClaim[] = [];
  const claimOrphans = new Map<string, OrphanFinding>();
  const stsMatches = (candidates: string[], f: OrphanFinding) =>
    filter.statefulSet === undefined || f.statefulSet === filter.statefulSet || (f.statefulSetGuessed && candidates.includes(filter.statefulSet));
  const oldEnough = (f: OrphanFinding) => filter.olderThanMs === undefined || ageMs(f.createdAt, input.now) >= filter.olderThanMs;

  for (const claim of claims) {
    const r = classifyClaim(claim, ctx.get(nsOf(claim))!, indexOf(nsOf(claim)));
    if ('kept' in r) {
      kept.push(r.kept);
      continue;
    }
    claimOrphans.set(`${nsOf(claim)}/${claim.metadata.name}`, r.orphan);
    if (filter.selector && !selectorMatches(filter.selector, claim.metadata.labels)) continue;
    if (!stsMatches(r.candidates, r.orphan) || !oldEnough(r.orphan)) continue;
    findings.push(r.orphan);
    listed.add(r.orphan);
  }

  const claimsByKey = new Map<string, PersistentVolumeClaim>(claims.map((c) => [`${nsOf(c)}/${c.metadata.name}`, c]));
  let releasedVolumes = 0;
  for (const pv of input.volumes ?? []) {
    const ref = pv.spec.claimRef;
    if (pv.status?.phase !== 'Released' || !ref?.name || !inScope(ref.namespace ?? '')) continue;
    const key = `${ref.namespace ?? ''}/${ref.name}`;
    const current = claimsByKey.get(key);
    const gone = !current || (ref.uid !== undefined && current.metadata.uid !== ref.uid);
    const orphanClaim = !gone ? claimOrphans.get(key) : undefined;
    if (!gone && !orphanClaim) continue;
    const c = ctx.get(ref.namespace ?? '') ?? {
      sets: [],
      setsByUid: new Map(),
      setsByName: new Map(),
      podsByUid: new Map(),
      users: ctx.users,
      volumes: ctx.volumes,
      now: input.now,
      unknown: unknownOf(input),
    };
    const text = gone
      ? current
        ? `Released: claim ${key} was deleted (a newer claim of that name is another object)`
        : `Released: claim ${key} is gone`
      : `Released: its claim ${key} is itself orphaned`;
    const { finding, candidates } = releasedVolumeFinding(pv, c, text);
    if (orphanClaim && !orphanClaim.confirmed) {
      // Its claim is only a candidate orphan (the pods could not be read): so is the volume.
      finding.confirmed = false;
      finding.undetermined = [...orphanClaim.undetermined.filter((u) => u === 'inUse')];
    }
    if (filter.selector) {
      const viaClaim = orphanClaim !== undefined && listed.has(orphanClaim);
      if (!viaClaim && !selectorMatches(filter.selector, pv.metadata.labels)) continue;
    }
    if (!stsMatches(candidates, finding) || !oldEnough(finding)) continue;
    findings.push(finding);
    releasedVolumes++;
  }

  findings.sort(compareFindings);
  kept.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  const count = (w: KeptClaim['why']) => kept.filter((k) => k.why === w).length;
  return {
    findings,
    kept,
    summary: {
      claimsChecked: claims.length,
      inUse: count('inUse'),
      inRange: count('inRange'),
      lookAlike: count('lookAlike'),
      orphanedClaims: findings.length - releasedVolumes,
      releasedVolumes,
      undecided: count('undecided'),
      unconfirmed: findings.filter((f) => !f.confirmed).length,
    },
  };
}
