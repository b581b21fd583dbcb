/**
 * Storage facts for `doctor`: why a claim is Pending (the StorageClass and binding rules of the
 * PV controller and the volume-binding scheduler plugin), which nodes a volume's node affinity
 * admits, and storage quantities. Pure.
 *
 * Binding rules used (kube-controller-manager PV controller, v1.31-1.36): a claim binds to an
 * Available volume of the same storageClassName ("" matches "" only), the same volumeMode, with at
 * least the requested capacity and every requested access mode, whose claimRef is empty or names
 * this claim. A class with volumeBindingMode WaitForFirstConsumer binds (or provisions) only once
 * a pod using the claim is scheduled, and then only to a volume whose node affinity admits that
 * node. `kubernetes.io/no-provisioner` classes never provision: only pre-made volumes bind.
 */
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from './types.js';

export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  m: 1e-3,
};

/** A resource quantity ("1Gi", "500M", "1.5Gi", "1e3") in base units; undefined when unreadable. */
export function quantityValue(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  const m = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m))?$/.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * SUFFIX[m[3] ?? '']!;
}

type Requirement = { key: string; operator: string; values?: string[] };

function requirementHolds(r: Requirement, value: string | undefined): boolean {
  const has = value !== undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const a = Number(value);
      const b = Number(values[0]);
      if (!has || !Number.isInteger(a) || !Number.isInteger(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** Whether a volume's required node affinity admits the node (no affinity: every node). Terms are ORed, expressions ANDed. */
export function volumeAdmitsNode(pv: PersistentVolume, node: Node): boolean {
  const terms = pv.spec.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  const labels = node.metadata.labels ?? {};
  return terms.some((t) => {
    const exprs = (t.matchExpressions ?? []) as Requirement[];
    const fields = ((t as { matchFields?: Requirement[] }).matchFields ?? []) as Requirement[];
    if (!exprs.length && !fields.length) return false;
    return exprs.every((e) => requirementHolds(e, labels[e.key])) && fields.every((f) => requirementHolds(f, f.key === 'metadata.name' ? node.metadata.name : undefined));
  });
}

/** The class a claim asks for: its storageClassName, else (field unset, not "") the default class, else "". */
export function claimClass(pvc: PersistentVolumeClaim, classes: StorageClass[] | undefined): { name: string; defaulted: boolean } {
  if (pvc.spec.storageClassName !== undefined && pvc.spec.storageClassName !== null) return { name: pvc.spec.storageClassName, defaulted: false };
  const def = (classes ?? []).find((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  return { name: def?.metadata.name ?? '', defaulted: Boolean(def) };
}

export type VolumeMismatch = 'class' | 'phase' | 'claimed' | 'capacity' | 'accessModes' | 'volumeMode' | 'terminating';

/** Why a volume cannot bind the claim (undefined: it can). */
export function volumeMismatch(pv: PersistentVolume, pvc: PersistentVolumeClaim, className: string): VolumeMismatch | undefined {
  if ((pv.spec.storageClassName ?? '') !== className) return 'class';
  if (pv.metadata.deletionTimestamp) return 'terminating';
  const ref = pv.spec.claimRef;
  const forThis = ref?.name === pvc.metadata.name && (ref.namespace ?? '') === (pvc.metadata.namespace ?? '');
  if (ref?.name && !forThis) return 'claimed';
  if (pv.status?.phase !== 'Available' && !(forThis && pv.status?.phase === 'Bound')) return 'phase';
  const want = quantityValue(pvc.spec.resources?.requests?.storage);
  const have = quantityValue(pv.spec.capacity?.storage);
  if (want !== undefined && (have === undefined || have < want)) return 'capacity';
  const modes = pv.spec.accessModes ?? [];
  if ((pvc.spec.accessModes ?? []).some((m) => !modes.includes(m))) return 'accessModes';
  const pvMode = (pv.spec as { volumeMode?: string }).volumeMode ?? 'Filesystem';
  const pvcMode = (pvc.spec as { volumeMode?: string }).volumeMode ?? 'Filesystem';
  if (pvMode !== pvcMode) return 'volumeMode';
  return undefined;
}

export type PendingCause =
  /** The class names an object that does not exist, and no volume has that class. */
  | 'class-missing'
  /** No class asked and no default class: only volumes without a class can bind, and none fits. */
  | 'no-class'
  /** WaitForFirstConsumer: binding waits until a pod using the claim is scheduled. */
  | 'wait-for-consumer'
  /** No pre-made volume fits and nothing provisions one (no-provisioner class or none at all). */
  | 'no-matching-pv'
  /** Volumes fit, but the node affinity of each admits no node of the cluster. */
  | 'pv-node-affinity'
  /** A provisioner should create the volume and has not (yet). */
  | 'provisioning'
  /** Nothing above explains it. */
  | 'unknown';

export interface PendingExplanation {
  cause: PendingCause;
  className: string;
  text: string;
  evidence: string[];
  fix: string;
}

export interface PendingContext {
  classes: StorageClass[] | undefined;
  volumes: PersistentVolume[] | undefined;
  nodes: Node[] | undefined;
  /** Pods that mount the claim (for WaitForFirstConsumer). */
  users: Pod[];
}

function describeNeed(pvc: PersistentVolumeClaim, className: string): string {
  const size = pvc.spec.resources?.requests?.storage ?? 'any size';
  const modes = (pvc.spec.accessModes ?? []).join(',') || 'any access mode';
  return `storageClassName "${className}", ${size} or more, ${modes}`;
}

/**
 * Why a Pending claim is not bound, from the classes, volumes and nodes (each undefined when it
 * could not be read: the explanation then says what it could not check).
 */
export function explainPendingClaim(pvc: PersistentVolumeClaim, ctx: PendingContext): PendingExplanation {
  const ns = pvc.metadata.namespace ?? '';
  const name = pvc.metadata.name;
  const { name: className, defaulted } = claimClass(pvc, ctx.classes);
  const sc = ctx.classes?.find((c) => c.metadata.name === className);
  const need = describeNeed(pvc, className);
  const evidence: string[] = [`claim ${ns}/${name} asks for ${need}${defaulted ? ' (the default class)' : ''}`];
  if (sc) evidence.push(`StorageClass ${className}: provisioner ${sc.provisioner}, volumeBindingMode ${sc.volumeBindingMode ?? 'Immediate'}`);
  const all = ctx.volumes ?? [];
  const sameClass = all.filter((v) => (v.spec.storageClassName ?? '') === className);
  const fitting = sameClass.filter((v) => volumeMismatch(v, pvc, className) === undefined);
  const waitsForConsumer = sc?.volumeBindingMode === 'WaitForFirstConsumer';
  const scheduled = ctx.users.filter((p) => p.spec.nodeName);
  const pvFix = `create a PersistentVolume with ${need} (the existing ones: kubectl get pv -o wide)`;
  if (ctx.volumes === undefined) evidence.push('the PersistentVolumes could not be read: which volumes could bind it is unknown');
  else if (sameClass.length && !fitting.length) {
    const why = sameClass.map((v) => `${v.metadata.name} (${volumeMismatch(v, pvc, className)})`).slice(0, 5);
    evidence.push(`volumes of class "${className}" that do not fit: ${why.join(', ')}${sameClass.length > 5 ? ` and ${sameClass.length - 5} more` : ''}`);
  }

  if (fitting.length && ctx.nodes) {
    const admitted = fitting.filter((v) => ctx.nodes!.some((n) => volumeAdmitsNode(v, n)));
    if (!admitted.length) {
      const v = fitting[0]!;
      const terms = JSON.stringify(v.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []);
      return {
        cause: 'pv-node-affinity',
        className,
        text: `the volume${fitting.length === 1 ? '' : 's'} that fit (${fitting.map((x) => x.metadata.name).join(', ')}) ${fitting.length === 1 ? 'is' : 'are'} pinned by node affinity to no existing node: no pod using the claim can be scheduled`,
        evidence: [...evidence, `node affinity of ${v.metadata.name}: ${terms}`, `nodes: ${ctx.nodes.map((n) => n.metadata.name).join(', ') || '<none>'}`],
        fix: `recreate ${v.metadata.name} with a nodeAffinity naming a node that holds its disk (kubectl get nodes -L kubernetes.io/hostname), or bring that node back`,
      };
    }
  }
  if (ctx.classes !== undefined && className !== '' && !sc && ctx.volumes !== undefined && !sameClass.length) {
    const names = ctx.classes.map((c) => c.metadata.name);
    return {
      cause: 'class-missing',
      className,
      text: `StorageClass "${className}" does not exist and no PersistentVolume has that class: nothing can provision or bind the claim`,
      evidence: [...evidence, `StorageClasses: ${names.join(', ') || '<none>'}`],
      fix: `create StorageClass ${className}, or a PersistentVolume with ${need}; a claim's class cannot be changed: to use another class, delete claim ${name} (kubectl -n ${ns} delete pvc ${name}) and fix the set's volumeClaimTemplates (recreate the set with --cascade=orphan)`,
    };
  }
  if (ctx.classes !== undefined && className === '' && !fitting.length && ctx.volumes !== undefined) {
    return {
      cause: 'no-class',
      className,
      text: 'the claim names no StorageClass and the cluster has no default one: only a volume without a class can bind it, and none fits',
      evidence,
      fix: `mark a StorageClass as the default (kubectl annotate storageclass NAME ${DEFAULT_CLASS_ANNOTATION}=true), or ${pvFix.replace(/^create/, 'create')}`,
    };
  }
  if (waitsForConsumer && !scheduled.length) {
    const pods = ctx.users.map((p) => p.metadata.name);
    return {
      cause: 'wait-for-consumer',
      className,
      text: `StorageClass ${className} binds on first consumer (WaitForFirstConsumer) and no pod using the claim is scheduled${pods.length ? ` (${pods.join(', ')} not scheduled)` : ' (no pod uses it)'}${ctx.volumes !== undefined && sc?.provisioner === NO_PROVISIONER && !fitting.length ? '; and no pre-made volume fits, so it cannot bind even then' : ''}`,
      evidence,
      fix:
        ctx.volumes !== undefined && sc?.provisioner === NO_PROVISIONER && !fitting.length
          ? pvFix
          : pods.length
            ? `make pod ${pods[0]} schedulable (see its finding; kubectl -n ${ns} describe pod ${pods[0]})`
            : `nothing to do until a pod uses it; if it is left over, see kubectl sts pvc-orphans -n ${ns}`,
    };
  }
  if (ctx.volumes !== undefined && !fitting.length && (!sc || sc.provisioner === NO_PROVISIONER)) {
    return {
      cause: 'no-matching-pv',
      className,
      text: `no PersistentVolume matches (${need}) and ${sc ? `StorageClass ${className} does not provision (${NO_PROVISIONER})` : `no StorageClass "${className}" exists to provision one`}`,
      evidence,
      fix: pvFix,
    };
  }
  if (sc && sc.provisioner !== NO_PROVISIONER && !fitting.length) {
    return {
      cause: 'provisioning',
      className,
      text: `waiting for provisioner ${sc.provisioner} to create a volume (StorageClass ${className})`,
      evidence,
      fix: `check the provisioner's events and logs (kubectl -n ${ns} describe pvc ${name}); is ${sc.provisioner} installed and running?`,
    };
  }
  return {
    cause: 'unknown',
    className,
    text: fitting.length ? `volume${fitting.length === 1 ? '' : 's'} ${fitting.map((v) => v.metadata.name).join(', ')} fit${fitting.length === 1 ? 's' : ''} but the claim is not bound yet` : 'the cause could not be told from the objects read',
    evidence,
    fix: `kubectl -n ${ns} describe pvc ${name} (its events name the cause)`,
  };
}
