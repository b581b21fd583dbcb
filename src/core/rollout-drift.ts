/**
 * A second writer during a step: what changed in the set between the object this run patched and
 * the one read now (template, replicas, partition, strategy), and the pod that betrays a template
 * change (a revision that is neither the current nor the update revision). Pure.
 */
import type { Pod, StatefulSet } from './types.js';
import { setFacts } from './rollout.js';

const REVISION_LABEL = 'controller-revision-hash';

/** A pod on a revision this run does not know: the template may have changed since `sts` was read. */
export function unknownRevision(sts: StatefulSet, pods: Pod[], known: ReadonlySet<string>): string | undefined {
  const f = setFacts(sts);
  for (const p of pods) {
    const rev = p.metadata.labels?.[REVISION_LABEL];
    if (rev && rev !== f.updateRevision && rev !== f.currentRevision && !known.has(rev)) return rev;
  }
  return undefined;
}

/**
 * The revisions the pods run when a wait starts (its first LIST, right after this run's PATCH).
 * They are history, not a second writer: after earlier staged rollouts a pod may still run a
 * revision that is neither the current nor the update one. Only a revision that appears later
 * makes the wait re-read the set.
 */
export function revisionsOf(pods: Pod[]): string[] {
  const out = new Set<string>();
  for (const p of pods) {
    const rev = p.metadata.labels?.[REVISION_LABEL];
    if (rev) out.add(rev);
  }
  return [...out];
}

/** What someone else changed, one phrase each ("template (generation 4 -> 5)", "replicas 5 -> 3"); empty: nothing. */
export function setDrift(ours: StatefulSet, now: StatefulSet): string[] {
  const a = setFacts(ours);
  const b = setFacts(now);
  const out: string[] = [];
  if (now.metadata.uid && ours.metadata.uid && now.metadata.uid !== ours.metadata.uid) return ['deleted and created again'];
  if (b.deleting && !a.deleting) out.push('being deleted');
  if (JSON.stringify(ours.spec.template) !== JSON.stringify(now.spec.template)) out.push(`template (generation ${a.generation} -> ${b.generation})`);
  if (a.replicas !== b.replicas) out.push(`replicas ${a.replicas} -> ${b.replicas}`);
  if (a.strategy !== b.strategy) out.push(`updateStrategy ${a.strategy} -> ${b.strategy}`);
  else if (a.partition !== b.partition) out.push(`partition ${a.partition} -> ${b.partition}`);
  return out;
}
