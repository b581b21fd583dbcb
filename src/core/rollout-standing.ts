/**
 * Where a rollout stands when it stops early (Ctrl-C, or the API server gone past --timeout):
 * the partition as last known, which pods this run saw updated, the pod being replaced, and a
 * partition change whose outcome is unknown. Pure; the rollout command fills it in as it goes.
 */
export interface RolloutStanding {
  name: string;
  namespace: string;
  /** The partition when the command started. */
  from: number;
  /** The partition this run last set (or found), as far as it knows. */
  partition: number;
  /** Pods this run saw updated and Ready, in order. */
  updated: string[];
  /** The pod the controller was replacing when the run stopped. */
  pending?: string | undefined;
  /** A partition change was sent and its answer never came: it may or may not have been applied. */
  inFlight?: boolean | undefined;
}

/** One sentence: "partition of web is 3 (was 5); web-4, web-3 updated and Ready; nothing else was changed". */
export function standingText(s: RolloutStanding): string {
  const parts: string[] = [];
  if (s.inFlight) {
    parts.push(
      `a change of the partition of ${s.name} (from ${s.partition}) was sent but not confirmed: it may or may not have been applied (see kubectl sts rollout status ${s.name} -n ${s.namespace})`,
    );
  } else if (s.partition === s.from) {
    parts.push(`partition of ${s.name} is still ${s.partition}`);
  } else {
    parts.push(`partition of ${s.name} is ${s.partition} (was ${s.from})`);
  }
  if (s.updated.length) parts.push(`${s.updated.join(', ')} updated and Ready`);
  if (s.pending) parts.push(`${s.pending} was not yet (the StatefulSet controller goes on replacing it)`);
  parts.push(s.partition === s.from && !s.inFlight ? 'nothing was changed' : 'nothing else was changed');
  return parts.join('; ');
}
