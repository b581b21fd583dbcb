/** Types shared by finalize.ts and finalize-finalizers.ts (kept apart so neither imports the other's module). */
export type ClaimState = 'exists' | 'terminating' | 'gone' | 'unknown';
export type ObjectKind = 'PersistentVolume' | 'PersistentVolumeClaim';

export interface PodUse {
  namespace: string;
  name: string;
  /** spec.nodeName; undefined while not scheduled. */
  node?: string;
  phase: string;
  terminating: boolean;
  /** The pod is scheduled to a node that no longer exists (it cannot be running anything). */
  nodeGone: boolean;
  /** Whether the pod may still read or write the volume (running, pending, or terminating). */
  holds: boolean;
}
