/** The shapes of `kubectl sts doctor`'s findings, shared by the checks, the engine and the renderer. */

/** error: the set is broken or will be; warning: a risk or a stalled change; info: a fact worth knowing (not a problem). */
export type Severity = 'error' | 'warning' | 'info';
export type Category = 'rollout' | 'availability' | 'storage' | 'network' | 'datastore';

export interface DoctorFinding {
  category: Category;
  /** Stable id of the kind of finding ("pod-unschedulable", "pdb-missing", ...). */
  check: string;
  severity: Severity;
  /** What it is about: "Pod/web-2", "PersistentVolumeClaim/www-web-3", "StatefulSet/web". */
  subject: string;
  message: string;
  /** The facts the finding rests on, one line each (conditions, container states, events, objects). */
  evidence: string[];
  /** What to run or change to fix it. */
  fix: string;
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
export const CATEGORY_ORDER: Record<Category, number> = { rollout: 0, availability: 1, storage: 2, network: 3, datastore: 4 };

export function isProblem(f: Pick<DoctorFinding, 'severity'>): boolean {
  return f.severity !== 'info';
}
