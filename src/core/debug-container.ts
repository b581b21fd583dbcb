/**
 * The ephemeral debug container dns-check adds with --debug-image (as `kubectl debug` does) to a
 * pod without a resolver tool: which one already runs, and the patch that adds one. Pure.
 */
import type { Pod } from './types.js';
import type { Planned } from './plan.js';

/** Prefix of the ephemeral containers dns-check adds with --debug-image. */
export const DEBUG_CONTAINER_PREFIX = 'ksts-dns-';

export interface EphemeralPod extends Pod {
  spec: Pod['spec'] & { ephemeralContainers?: { name: string; image?: string }[] };
  status?: Pod['status'] & { ephemeralContainerStatuses?: { name: string; state?: { running?: object; terminated?: { reason?: string }; waiting?: { reason?: string; message?: string } } }[] };
}

export function debugContainerState(pod: EphemeralPod, name: string) {
  return pod.status?.ephemeralContainerStatuses?.find((s) => s.name === name)?.state;
}

/** A debug container of ours running `image` in the pod, if one runs already (it is reused). */
export function runningDebugContainer(pod: EphemeralPod, image: string): string | undefined {
  return (pod.spec.ephemeralContainers ?? []).find((c) => c.name.startsWith(DEBUG_CONTAINER_PREFIX) && c.image === image && debugContainerState(pod, c.name)?.running)?.name;
}

/**
 * The ephemeralcontainers patch adding `name` (running `image`, sleeping an hour, sharing the
 * process namespace of `target`), with the pod's resourceVersion as its precondition — or none,
 * when one of ours with that image already runs (planned again after a conflict: another run may
 * have added one meanwhile).
 */
export function debugContainerAdd(pod: EphemeralPod, image: string, target: string, name: string): Planned<{ name: string; body: Record<string, unknown> }> {
  const running = runningDebugContainer(pod, image);
  if (running) return { none: `debug container ${running} (${image}) already runs in pod ${pod.metadata.name}` };
  const spec = { name, image, command: ['sleep', '3600'], stdin: false, tty: false, targetContainerName: target, terminationMessagePolicy: 'File' };
  return { write: { name, body: { ...(pod.metadata.resourceVersion ? { metadata: { resourceVersion: pod.metadata.resourceVersion } } : {}), spec: { ephemeralContainers: [spec] } } } };
}
