/**
 * The reads of `kubectl sts doctor`, all in one place: one paginated LIST per resource type for
 * the whole scope (every set shares them), never a request per set. The events are listed only
 * when a set has a pod or claim that looks unwell (their reasons are evidence), the
 * ControllerRevisions only when a set waits below its partition (how long it has not moved). The StatefulSets
 * are required; every other read that is forbidden is skipped with a warning (the checks that
 * need it are then reported as not checked).
 */
import type { Kube } from '../kube/index.js';
import { newWarnings, readOptional, type Warnings } from '../kube/optional.js';
import { CliError, ExitCode, KubeApiError, isForbidden } from '../errors.js';
import type { StatefulSet } from '../core/types.js';
import { needsEvents, type DoctorInput } from '../core/doctor.js';
import { waitsBelowPartition } from '../core/doctor-rollout.js';

/** The element type of one of DoctorInput's lists. */
type Item<K extends keyof DoctorInput> = NonNullable<DoctorInput[K]> extends (infer T)[] ? T : never;

export type DoctorData = Omit<DoctorInput, 'now' | 'stuckAfterMs' | 'extra'> & {
  /** Reads that were forbidden and checks skipped for them: the answer is partial. */
  warnings: Warnings;
  /** Forbidden reads that only cost evidence (events): said, but the answer stays complete. */
  notes: Warnings;
};

const NARROW = 'to check one namespace you may read, use -n NAMESPACE';

/** Lists everything `doctor` looks at in `namespace` (undefined: all namespaces), or only set `name` there. */
export async function readScope(kube: Kube, namespace: string | undefined, name: string | undefined): Promise<DoctorData> {
  const { Resources, resourcePath } = await import('../kube/resources.js');
  const warnings = newWarnings();
  const allNs = namespace === undefined ? ` (${NARROW})` : '';
  const setsRead: Promise<StatefulSet[]> = name
    ? kube.client.getNamed<StatefulSet>(resourcePath(Resources.statefulsets, { namespace, name })).then((s) => [s])
    : kube.client
        .list<StatefulSet>(resourcePath(Resources.statefulsets, { namespace }))
        .then((l) => l.items)
        .catch((e: unknown) => {
          if (isForbidden(e) && namespace === undefined) {
            const k = e as KubeApiError;
            throw new CliError(k.message, ExitCode.Problems, [...k.hints, `Listing StatefulSets across all namespaces is not allowed for you: ${NARROW}.`]);
          }
          throw e;
        });
  const opt = <T>(r: Parameters<typeof resourcePath>[0], skipped: string, cluster = false) =>
    readOptional(() => kube.client.list<T>(resourcePath(r, cluster ? {} : { namespace })).then((l) => l.items), warnings, skipped);
  const [statefulSets, pods, claims, volumes, nodes, pdbs, storageClasses, services, endpointSlices] = await Promise.all([
    setsRead,
    opt<Item<'pods'>>(Resources.pods, `pod checks skipped (stuck pods, rollout progress, placement)${allNs}`),
    opt<Item<'claims'>>(Resources.persistentvolumeclaims, `claim checks skipped (orphaned and Pending claims)${allNs}`),
    opt<Item<'volumes'>>(Resources.persistentvolumes, 'volume checks skipped (PersistentVolumes are cluster-scoped): stuck volumes and the volumes a Pending claim could bind are unknown', true),
    opt<Item<'nodes'>>(Resources.nodes, 'node checks skipped (Nodes are cluster-scoped): zones and local-volume node affinity are unknown', true),
    opt<Item<'pdbs'>>(Resources.poddisruptionbudgets, `PodDisruptionBudget checks skipped${allNs}`),
    opt<Item<'storageClasses'>>(Resources.storageclasses, 'StorageClass checks skipped (cluster-scoped): why a claim is Pending may be unknown', true),
    opt<Item<'services'>>(Resources.services, `Service checks skipped (static DNS checks)${allNs}`),
    opt<Item<'endpointSlices'>>(Resources.endpointslices, `EndpointSlice checks skipped (which pods have DNS records)${allNs}`),
  ]);
  for (const s of statefulSets) s.metadata.namespace ??= namespace;
  // Nothing at all in the namespace: a typo in -n must not read as "healthy" (asked only then).
  if (namespace !== undefined && !statefulSets.length && !pods?.length && !claims?.length && (await kube.client.namespaceMissing(namespace))) {
    warnings.lines.push(`nothing was checked: ${kube.client.missingNamespaceText(namespace)}`);
  }
  let events: Item<'events'>[] | undefined;
  const notes = newWarnings();
  let revisions: Item<'revisions'>[] | undefined;
  await Promise.all([
    needsEvents({ statefulSets, pods, claims }) &&
      readOptional(() => kube.client.list<Item<'events'>>(resourcePath(Resources.events, { namespace })).then((l) => l.items), notes, 'events not read (findings come without the reasons events give)').then((e) => (events = e)),
    statefulSets.some(waitsBelowPartition) &&
      readOptional(() => kube.client.list<Item<'revisions'>>(resourcePath(Resources.controllerrevisions, { namespace })).then((l) => l.items), notes, 'ControllerRevisions not read (how long a held rollout has not moved is left out)').then((r) => (revisions = r)),
  ]);
  return { namespace, statefulSets, pods, claims, volumes, nodes, pdbs, storageClasses, services, endpointSlices, events, revisions, warnings, notes };
}
