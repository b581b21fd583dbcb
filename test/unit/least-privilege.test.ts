/**
 * Issue #12, parts 2 and 3, for pvc-orphans, finalize-localpv and rollout: what a namespace-scoped
 * identity gets. Forbidden reads are skipped with a warning, every decision that does not depend
 * on them is kept, those that do are marked (unconfirmed / unknown), and a partial answer exits 4
 * (or 1 when problems were found), never 0. Writes check their verbs before the first change.
 */
import { describe, expect, it } from 'vitest';
import { recordingDeps } from '../helpers/fake-deps.js';
import { detectOrphans } from '../../src/core/orphans.js';
import { planDeletion } from '../../src/core/orphans-delete.js';
import { diagnoseClaim, diagnoseVolume, planFinalize, type FinalizeInputs } from '../../src/core/finalize.js';
import { findingsFooter, renderDeletionTable, renderFindingsTable, type PvcOrphansOutput } from '../../src/render/orphans.js';
import { renderDetails, renderVolumeTable, type FinalizeOutput } from '../../src/render/finalize.js';
import { palette } from '../../src/render/color.js';
import { httpError } from '../../src/kube/errors.js';
import { requireAccess } from '../../src/kube/access.js';
import { Resources } from '../../src/kube/resources.js';
import { CliError, ExitCode, KubeApiError } from '../../src/errors.js';
import { pvcOrphansCommand, type PvcOrphansArgs } from '../../src/commands/pvc-orphans.js';
import { runFinalize, type FinalizeArgs } from '../../src/commands/finalize-localpv.js';
import { runHistory } from '../../src/commands/rollout-revisions.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import type { Kube, KubeClient } from '../../src/kube/index.js';
import type { ControllerRevision, KubeObject, Node, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/core/types.js';
import { NOW, boundPv, ownerPod, pod, pv, pvc, sts } from '../fixtures/orphans/build.js';

const c = palette(false);

function forbidden(method: string, path: string, query?: Record<string, string | number | boolean | undefined>): KubeApiError {
  return httpError({ method, path, query, server: 'https://k', context: 'tenant' }, 403, {
    message: `forbidden by the test (${method} ${path})`,
    reason: 'Forbidden',
  });
}

/** Seed 002's shape: web scaled 3 -> 2 in namespace ns; www-web-2 is left behind, bound to a Retain volume. */
function orphanWorld() {
  const web = sts('web', { replicas: 2, templates: { www: undefined }, selector: { app: 'nginx' } });
  const claims = [0, 1, 2].map((n) => pvc(`www-web-${n}`, { labels: { app: 'nginx' } }));
  return {
    sets: [web],
    claims,
    pods: [pod('web-0', ['www-web-0']), pod('web-1', ['www-web-1'])],
    pvs: [...claims.map((cl) => boundPv(cl)), pv('pv-old', { phase: 'Released', claim: { name: 'www-web-9', uid: 'gone' } })],
  };
}

describe('detectOrphans with parts unreadable', () => {
  it('pods unreadable: orphans become unconfirmed candidates; claims of the set in range stay kept', () => {
    const w = orphanWorld();
    const r = detectOrphans({ statefulSets: w.sets, claims: w.claims, pods: undefined, volumes: w.pvs, namespace: 'ns', now: NOW });
    const claimFinding = r.findings.find((f) => f.name === 'www-web-2')!;
    expect(claimFinding.confirmed).toBe(false);
    expect(claimFinding.undetermined).toContain('inUse');
    expect(claimFinding.reason).toBe('ScaledDown');
    // www-web-0/1 are in range: kept without the pods.
    expect(r.kept.filter((k) => k.why === 'inRange').map((k) => k.name)).toEqual(['www-web-0', 'www-web-1']);
    // A Released volume whose claim is gone does not depend on the pods.
    expect(r.findings.find((f) => f.name === 'pv-old')?.confirmed).toBe(true);
    expect(r.summary.unconfirmed).toBe(1);
  });

  it('pods unreadable: a claim owned by a pod is undecided (the pod may still exist)', () => {
    const cl = pvc('scratch-job-0', { labels: { app: 'x' } });
    cl.metadata.ownerReferences = [ownerPod('job-0')];
    const r = detectOrphans({ statefulSets: [], claims: [cl], pods: undefined, volumes: [], namespace: 'ns', now: NOW });
    expect(r.findings).toEqual([]);
    expect(r.kept[0]).toMatchObject({ why: 'undecided' });
    expect(r.summary.undecided).toBe(1);
  });

  it('volumes unreadable: reclaim policy "unknown", never guessed; no Released-volume findings', () => {
    const w = orphanWorld();
    const r = detectOrphans({ statefulSets: w.sets, claims: w.claims, pods: w.pods, volumes: undefined, namespace: 'ns', now: NOW });
    expect(r.findings.map((f) => f.name)).toEqual(['www-web-2']);
    expect(r.findings[0]).toMatchObject({ confirmed: true, reclaimPolicy: 'unknown', volumeSource: null, undetermined: ['reclaimPolicy'] });
  });

  it('StatefulSets unreadable: set-like claims are undecided (not guessed as SetDeleted); bare claims are not StatefulSet claims', () => {
    const w = orphanWorld();
    const bare = pvc('scratch', {});
    const r = detectOrphans({ statefulSets: undefined, claims: [...w.claims, bare], pods: w.pods, volumes: w.pvs, namespace: 'ns', now: NOW });
    expect(r.findings.filter((f) => f.kind === 'PersistentVolumeClaim')).toEqual([]);
    expect(r.kept.find((k) => k.name === 'www-web-2')).toMatchObject({ why: 'undecided' });
    expect(r.kept.find((k) => k.name === 'scratch')).toMatchObject({ why: 'notStatefulSet' });
    expect(r.summary.undecided).toBe(1);
    // Its claim is gone: decidable without the sets.
    expect(r.findings.map((f) => f.name)).toEqual(['pv-old']);
  });

  it('planDeletion never deletes an unconfirmed candidate, and says the reclaim policy is unknown', () => {
    const w = orphanWorld();
    const noPods = detectOrphans({ statefulSets: w.sets, claims: w.claims, pods: undefined, volumes: w.pvs, namespace: 'ns', now: NOW });
    const plan = planDeletion(noPods.findings, w.pvs, true);
    expect(plan.targets.map((t) => t.name)).toEqual(['pv-old']);
    expect(plan.unconfirmed.map((f) => f.name)).toEqual(['www-web-2']);
    const noPvs = detectOrphans({ statefulSets: w.sets, claims: w.claims, pods: w.pods, volumes: undefined, namespace: 'ns', now: NOW });
    const plan2 = planDeletion(noPvs.findings, undefined, true);
    expect(plan2.targets.map((t) => t.name)).toEqual(['www-web-2']);
    expect(plan2.targets[0]!.leavesBehind).toContain('reclaim policy, and so whether its data is deleted, is unknown');
  });
});

describe('pvc-orphans rendering of a partial result', () => {
  const w = orphanWorld();
  const r = detectOrphans({ statefulSets: w.sets, claims: w.claims, pods: undefined, volumes: undefined, namespace: 'ns', now: NOW });
  const out: PvcOrphansOutput = {
    kind: 'PvcOrphanReport',
    namespace: 'ns',
    filters: { statefulSet: null, selector: null, olderThan: null },
    complete: false,
    warnings: ['x'],
    summary: r.summary,
    findings: r.findings,
  };

  it('the table marks unconfirmed findings and unknown reclaim policies', () => {
    const t = renderFindingsTable(r.findings, { wide: false, allNamespaces: false });
    expect(t).toMatch(/pvc\/www-web-2\s+web\s+2\s+ScaledDown \(unconfirmed\)\s+1Gi\s+pv-www-web-2\s+unknown\s+at 3 replicas/);
  });

  it('the footer says PARTIAL plainly and offers no delete command when nothing is confirmed', () => {
    const f = findingsFooter(out, 'kubectl sts pvc-orphans -n ns --delete', ['pods could not be read', 'PersistentVolumes could not be read']);
    expect(f).toContain('PARTIAL: pods could not be read; PersistentVolumes could not be read (see the warnings). This is not a clean bill of health.');
    expect(f).toContain('1 finding (unconfirmed) could not be checked against the pods: --delete removes none of them.');
    expect(f).not.toContain('Delete them with');
    // Nothing is known to be in use when the pods could not be read: no "0 in use by pods".
    expect(f).toContain('Found 1 candidate orphaned claim in namespace ns (3 claims checked; which are in use by pods could not be checked).');
  });

  it('no findings in what could be read is not "No orphaned ..." but a partial answer', () => {
    const f = findingsFooter({ ...out, findings: [] }, 'x', ['StatefulSets could not be read']);
    expect(f).toMatch(/^No orphaned StatefulSet claims found in what could be read in namespace ns/);
    expect(f).toContain('PARTIAL: StatefulSets could not be read');
  });

  it('the deletion report lists the candidates it did not delete', () => {
    const t = renderDeletionTable(
      { dryRun: 'none', includePvs: false, results: [], notIncluded: [], unconfirmed: [{ kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'www-web-2' }] },
      { allNamespaces: false, color: c, gaps: ['pods could not be read'] },
    );
    expect(t).toContain('1 candidate not deleted: whether a pod mounts it could not be checked (pvc/www-web-2).');
    expect(t).toContain('PARTIAL: pods could not be read');
  });
});

// ------------------------------------------------------------------ pvc-orphans run()

function orphansKube(world: ReturnType<typeof orphanWorld>, deny: (method: string, path: string) => boolean, o: { ssarDenied?: string[] } = {}) {
  const calls: string[] = [];
  const inNs = (path: string, items: KubeObject[]) => {
    const m = /\/namespaces\/([^/]+)\//.exec(path);
    return m ? items.filter((i) => i.metadata.namespace === decodeURIComponent(m[1]!)) : items;
  };
  const client = {
    requestCount: 0,
    server: 'https://k',
    context: 'tenant',
    async list(path: string) {
      calls.push(`list ${path}`);
      if (deny('GET', path)) throw forbidden('GET', path);
      const items = path.endsWith('/statefulsets')
        ? world.sets
        : path.endsWith('/persistentvolumeclaims')
          ? world.claims
          : path.endsWith('/pods')
            ? world.pods
            : path.endsWith('/persistentvolumes')
              ? world.pvs
              : undefined;
      if (!items) throw new Error(`unexpected list ${path}`);
      return { items: structuredClone(inNs(path, items)), resourceVersion: '1' };
    },
    async delete(path: string) {
      calls.push(`delete ${path}`);
      if (deny('DELETE', path)) throw forbidden('DELETE', path);
      return {};
    },
    async create(path: string, body: { spec: { resourceAttributes: { verb: string; resource: string; namespace?: string } } }) {
      calls.push(`create ${path}`);
      const a = body.spec.resourceAttributes;
      return { status: { allowed: !(o.ssarDenied ?? []).includes(`${a.verb} ${a.resource}`) } };
    },
  };
  const kube = { client, namespace: 'ns', contextName: 'tenant', server: 'https://k' } as unknown as Kube;
  return { kube, calls };
}

function orphanArgs(extra: Partial<PvcOrphansArgs & GlobalArgs> = {}): PvcOrphansArgs & GlobalArgs {
  return { allNamespaces: false, output: 'table', requestTimeout: '0', color: false, verbose: 0, delete: false, includePvs: false, yes: false, wait: false, timeout: '1m', ...extra };
}

describe('pvc-orphans with a namespace-scoped identity', () => {
  const pvsDenied = (_m: string, p: string) => p === '/api/v1/persistentvolumes';

  it('PersistentVolumes forbidden: the claims are still checked, one warning on stderr and in json, exit 1 for a confirmed orphan', async () => {
    const { kube } = orphansKube(orphanWorld(), pvsDenied);
    const d = recordingDeps(kube, { now: NOW });
    const r = await pvcOrphansCommand.run!(orphanArgs({ output: 'json' }), d.deps);
    const out = JSON.parse(r.output) as PvcOrphansOutput;
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(out.complete).toBe(false);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/^volume checks skipped \(PersistentVolumes are cluster-scoped\).*forbidden: you may not list persistentvolumes \(cluster-scoped\)/);
    expect(d.logged).toEqual([`warning: ${out.warnings[0]}`]);
    expect(out.findings.map((f) => [f.name, f.reclaimPolicy, f.confirmed])).toEqual([['www-web-2', 'unknown', true]]);
  });

  it('PersistentVolumes forbidden and nothing orphaned: exit 4 (could not check), and the table says PARTIAL', async () => {
    const w = orphanWorld();
    w.claims = w.claims.slice(0, 2);
    const { kube } = orphansKube(w, pvsDenied);
    const r = await pvcOrphansCommand.run!(orphanArgs(), recordingDeps(kube, { now: NOW }).deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    expect(r.output).toContain('PARTIAL: PersistentVolumes could not be read');
  });

  it('the same with every read allowed: exit 0, complete, no warnings (the contract holds both ways)', async () => {
    const w = orphanWorld();
    w.claims = w.claims.slice(0, 2);
    w.pvs = w.pvs.filter((p) => p.status?.phase !== 'Released');
    const { kube } = orphansKube(w, () => false);
    const d = recordingDeps(kube, { now: NOW });
    const r = await pvcOrphansCommand.run!(orphanArgs({ output: 'json' }), d.deps);
    expect(r.exitCode).toBe(ExitCode.Ok);
    expect(JSON.parse(r.output)).toMatchObject({ complete: true, warnings: [] });
    expect(d.logged).toEqual([]);
  });

  it('pods forbidden: candidates only, exit 4 (not 1: nothing is confirmed), --delete deletes none of them', async () => {
    const podsDenied = (_m: string, p: string) => p.endsWith('/pods');
    const w = orphanWorld();
    w.pvs = w.pvs.filter((p) => p.status?.phase !== 'Released');
    const { kube, calls } = orphansKube(w, podsDenied);
    const r = await pvcOrphansCommand.run!(orphanArgs(), recordingDeps(kube, { now: NOW }).deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    expect(r.output).toContain('ScaledDown (unconfirmed)');
    const del = await pvcOrphansCommand.run!(orphanArgs({ delete: true, yes: true }), recordingDeps(kube, { now: NOW }).deps);
    expect(calls.filter((x) => x.startsWith('delete'))).toEqual([]);
    expect(del.exitCode).toBe(ExitCode.Problems);
    expect(del.output).toContain('1 candidate not deleted');
  });

  it('-A with a forbidden cluster-wide list of claims: the mapper message and a hint to use -n', async () => {
    const { kube } = orphansKube(orphanWorld(), (_m, p) => !p.includes('/namespaces/'));
    const err = await pvcOrphansCommand.run!(orphanArgs({ allNamespaces: true }), recordingDeps(kube, { now: NOW }).deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toContain('forbidden: you may not list persistentvolumeclaims across all namespaces');
    expect((err as CliError).hints.join('\n')).toContain('use -n NAMESPACE');
  });

  it('-A with claims allowed cluster-wide but pods not: warns with the -n suggestion, exit 4', async () => {
    const w = orphanWorld();
    w.pvs = [];
    const { kube } = orphansKube(w, (_m, p) => p === '/api/v1/pods');
    const d = recordingDeps(kube, { now: NOW });
    const r = await pvcOrphansCommand.run!(orphanArgs({ allNamespaces: true }), d.deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    expect(d.logged[0]).toContain('(to check one namespace you may read, use -n NAMESPACE)');
  });

  it('--delete without the delete verb: stops before the first delete with verb, resource and namespace', async () => {
    const w = orphanWorld();
    const { kube, calls } = orphansKube(w, () => false, { ssarDenied: ['delete persistentvolumeclaims'] });
    const err = await pvcOrphansCommand.run!(orphanArgs({ delete: true, yes: true }), recordingDeps(kube, { now: NOW }).deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).exitCode).toBe(ExitCode.Problems);
    expect((err as KubeApiError).message).toContain('forbidden: you may not delete persistentvolumeclaims "www-web-2" in namespace "ns"');
    expect((err as KubeApiError).hints.join(' ')).toContain('kubectl auth can-i delete persistentvolumeclaims -n ns');
    expect(calls.filter((x) => x.startsWith('delete'))).toEqual([]);
  });

  it('--delete --include-pvs without delete on persistentvolumes: no claim is deleted either', async () => {
    const { kube, calls } = orphansKube(orphanWorld(), () => false, { ssarDenied: ['delete persistentvolumes'] });
    const err = await pvcOrphansCommand.run!(orphanArgs({ delete: true, yes: true, includePvs: true }), recordingDeps(kube, { now: NOW }).deps).catch((e: unknown) => e);
    expect((err as Error).message).toContain('forbidden: you may not delete persistentvolumes');
    expect(calls.filter((x) => x.startsWith('delete'))).toEqual([]);
  });
});

// ------------------------------------------------------------------ finalize-localpv

const TS = '2024-05-10T11:55:00Z';

function localPv(name: string, o: { node?: string; claim?: { ns: string; name: string; uid?: string }; phase?: string } = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '7', deletionTimestamp: TS, finalizers: ['kubernetes.io/pv-protection'] },
    spec: {
      capacity: { storage: '1Gi' },
      local: { path: `/mnt/${name}` },
      persistentVolumeReclaimPolicy: 'Retain',
      ...(o.claim ? { claimRef: { namespace: o.claim.ns, name: o.claim.name, ...(o.claim.uid ? { uid: o.claim.uid } : {}) } } : {}),
      ...(o.node
        ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } }
        : {}),
    },
    status: { phase: o.phase ?? 'Released' },
  } as PersistentVolume;
}

function stuckClaim(ns: string, name: string, volume?: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: '3', deletionTimestamp: TS, finalizers: ['kubernetes.io/pvc-protection'] },
    spec: { ...(volume ? { volumeName: volume } : {}) },
    status: { phase: 'Bound' },
  } as PersistentVolumeClaim;
}

const node = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } }) as Node;
const mounting = (ns: string, name: string, claim: string, nodeName: string): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: `uid-${name}` }, spec: { nodeName, volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] }, status: { phase: 'Running' } }) as Pod;

describe('finalize diagnosis with parts unreadable', () => {
  const base: FinalizeInputs = { pvs: [], pvcs: [], pods: [], nodes: [node('n1')] };

  it('claims of its namespace unreadable: verdict unknown (not safe), the claim state unknown', () => {
    const v = localPv('pv-a', { node: 'n1', claim: { ns: 'other', name: 'data-0' } });
    const d = diagnoseVolume(v, { ...base, pvs: [v], claimsReadIn: ['ns'], podsReadIn: ['ns'] }, NOW);
    expect(d.verdict).toBe('unknown');
    expect(d.claim).toMatchObject({ state: 'unknown' });
    expect(d.reason).toMatch(/^could not check: claim other\/data-0 \(the claims in namespace other could not be read\); which pods mount claim other\/data-0/);
    expect(d.finalizers[0]!.pending).toBe(true);
  });

  it('the same volume with everything readable is safe: the unknown above is the gap, not the volume', () => {
    const v = localPv('pv-a', { node: 'n1', claim: { ns: 'other', name: 'data-0' } });
    expect(diagnoseVolume(v, { ...base, pvs: [v] }, NOW).verdict).toBe('safe');
  });

  it('nodes unreadable and a node-pinned volume nobody mounts: unknown (node gone or not cannot be told)', () => {
    const v = localPv('pv-b', { node: 'n-gone', claim: { ns: 'ns', name: 'gone-0' } });
    const d = diagnoseVolume(v, { ...base, pvs: [v], nodes: [], nodesUnread: true }, NOW);
    expect(d.verdict).toBe('unknown');
    expect(d.node).toEqual({ name: 'n-gone', exists: null });
    expect(renderVolumeTable([d], c)).toMatch(/n-gone \(unknown\)\s+unknown \(could not check\)/);
    expect(renderDetails(d, c)).toContain('could not check: whether node n-gone still exists (the nodes could not be read)');
  });

  it('nodes unreadable but a running pod mounts it: still blocked by that pod (known), with the node marked unchecked', () => {
    const cl = pvc('data-0', {});
    cl.metadata.namespace = 'ns';
    cl.spec.volumeName = 'pv-c';
    const v = localPv('pv-c', { node: 'n1', claim: { ns: 'ns', name: 'data-0', uid: cl.metadata.uid! }, phase: 'Bound' });
    const d = diagnoseVolume(v, { ...base, pvs: [v], pvcs: [cl], pods: [mounting('ns', 'web-0', 'data-0', 'n1')], nodes: [], nodesUnread: true }, NOW);
    expect(d.verdict).toBe('blocked-by-pod');
    expect(d.undetermined).toContain('whether the nodes of its pods still exist (the nodes could not be read)');
  });

  it('a claim (--claims -n) with its volume unreadable: the verdict rests on its pods and is kept', () => {
    const cl = stuckClaim('ns', 'data-1', 'pv-x');
    const d = diagnoseClaim(cl, { ...base, pvcs: [cl], pvsUnread: true }, NOW);
    expect(d.verdict).toBe('safe');
    expect(d.undetermined).toEqual(['volume pv-x: its node and data location (the PersistentVolumes could not be read)']);
  });

  it('a claim whose namespace pods are unreadable is unknown; planFinalize refuses it by name without --force', () => {
    const cl = stuckClaim('ns', 'data-1');
    const d = diagnoseClaim(cl, { ...base, pvcs: [cl], podsReadIn: [] }, NOW);
    expect(d.verdict).toBe('unknown');
    const named = new Set(['persistentvolumeclaim/ns/data-1']);
    expect(planFinalize([d], { named, allSafe: false, force: false })[0]).toMatchObject({ decision: 'refuse' });
    expect(planFinalize([d], { named: new Set(), allSafe: true, force: false })).toEqual([]);
    expect(planFinalize([d], { named, allSafe: false, force: true })[0]).toMatchObject({ decision: 'finalize', why: 'named, --force' });
  });
});

function finalizeKube(state: FinalizeInputs, deny: (path: string) => boolean, o: { ssarDenied?: string[] } = {}) {
  const lists: string[] = [];
  const patches: string[] = [];
  const inNs = (path: string, items: KubeObject[]) => {
    const m = /\/namespaces\/([^/]+)\//.exec(path);
    return m ? items.filter((i) => i.metadata.namespace === decodeURIComponent(m[1]!)) : items;
  };
  const client = {
    requestCount: 0,
    server: 'https://k',
    context: 'tenant',
    list: async (path: string) => {
      lists.push(path);
      if (deny(path)) throw forbidden('GET', path);
      const items = path.endsWith('/persistentvolumes')
        ? state.pvs
        : path.endsWith('/persistentvolumeclaims')
          ? state.pvcs
          : path.endsWith('/pods')
            ? state.pods
            : path.endsWith('/nodes')
              ? state.nodes
              : undefined;
      if (!items) throw new Error(`unexpected LIST ${path}`);
      return { items: structuredClone(inNs(path, items)), resourceVersion: '1' };
    },
    patch: async (path: string) => {
      patches.push(path);
      return {};
    },
    async create(_path: string, body: { spec: { resourceAttributes: { verb: string; resource: string } } }) {
      const a = body.spec.resourceAttributes;
      return { status: { allowed: !(o.ssarDenied ?? []).includes(`${a.verb} ${a.resource}`) } };
    },
  };
  const kube = { client, namespace: 'ns', contextName: 'tenant', server: 'https://k' } as unknown as Kube;
  return { kube, lists, patches };
}

function finArgs(over: Partial<FinalizeArgs & GlobalArgs> = {}): FinalizeArgs & GlobalArgs {
  return { names: [], allSafe: false, force: false, claims: false, allTypes: false, yes: false, dryRun: 'none', allNamespaces: false, output: 'table', requestTimeout: '0', color: false, verbose: 0, ...over };
}

describe('finalize-localpv with a namespace-scoped identity', () => {
  const tenant = (p: string) => !p.includes('/namespaces/ns/');

  it('--claims -n ns: reads the claims and pods of ns only, diagnoses the stuck claim, warns about the volumes, exit 1 (stuck)', async () => {
    const state: FinalizeInputs = { pvs: [], pvcs: [stuckClaim('ns', 'data-1', 'pv-x'), stuckClaim('other', 'x-0')], pods: [], nodes: [] };
    const f = finalizeKube(state, tenant);
    const d = recordingDeps(f.kube, { now: NOW });
    const r = await runFinalize(finArgs({ claims: true, output: 'json' }), d.deps);
    const out = JSON.parse(r.output) as FinalizeOutput;
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(out.persistentVolumeClaims!.map((x) => [x.name, x.verdict])).toEqual([['data-1', 'safe']]);
    expect(out.complete).toBe(false);
    expect(out.warnings.map((w) => w.split(':')[0])).toEqual(['PersistentVolume checks skipped (PersistentVolumes are cluster-scoped)', 'node checks skipped (nodes are cluster-scoped)']);
    expect(d.logged).toEqual(out.warnings.map((w) => `warning: ${w}`));
    expect(f.lists).toContain('/api/v1/namespaces/ns/persistentvolumeclaims');
    expect(f.lists).not.toContain('/api/v1/namespaces/other/persistentvolumeclaims');
  });

  it('--claims -n ns with nothing stuck there, volumes unreadable: exit 4 and PARTIAL, never a clean 0', async () => {
    const f = finalizeKube({ pvs: [], pvcs: [], pods: [], nodes: [] }, tenant);
    const r = await runFinalize(finArgs({ claims: true }), recordingDeps(f.kube, { now: NOW }).deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    expect(r.output).toContain('The PersistentVolumes could not be read: stuck volumes were not looked for.');
    expect(r.output).toContain('PARTIAL: PersistentVolumes could not be read');
  });

  it('PV diagnose with PVs readable (ClusterRole) but nodes not: a node-pinned stuck PV is unknown, exit 1', async () => {
    const v = localPv('pv-b', { node: 'n1', claim: { ns: 'ns', name: 'gone-0' } });
    const f = finalizeKube({ pvs: [v], pvcs: [], pods: [], nodes: [node('n1')] }, (p) => p === '/api/v1/nodes' || tenant(p) && p !== '/api/v1/persistentvolumes');
    const r = await runFinalize(finArgs({ output: 'json' }), recordingDeps(f.kube, { now: NOW }).deps);
    const out = JSON.parse(r.output) as FinalizeOutput;
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(out.persistentVolumes[0]).toMatchObject({ verdict: 'unknown', node: { name: 'n1', exists: null } });
    expect(out.complete).toBe(false);
  });

  it('nothing stuck: the nodes are not read at all, so their absence makes nothing partial (exit 0)', async () => {
    const f = finalizeKube({ pvs: [], pvcs: [], pods: [], nodes: [] }, (p) => p === '/api/v1/nodes');
    const r = await runFinalize(finArgs(), recordingDeps(f.kube, { now: NOW }).deps);
    expect(r.exitCode).toBe(ExitCode.Ok);
    expect(f.lists).toEqual(['/api/v1/persistentvolumes']);
  });

  it('finalizing without the patch verb: the forbidden message before any patch, exit 1', async () => {
    const v = localPv('pv-safe', { claim: { ns: 'ns', name: 'gone-0' } });
    const f = finalizeKube({ pvs: [v], pvcs: [], pods: [], nodes: [] }, () => false, { ssarDenied: ['patch persistentvolumes'] });
    const err = await runFinalize(finArgs({ names: ['pv-safe'], yes: true }), recordingDeps(f.kube, { now: NOW }).deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).message).toContain('forbidden: you may not patch persistentvolumes "pv-safe"');
    expect((err as KubeApiError).exitCode).toBe(ExitCode.Problems);
    expect(f.patches).toEqual([]);
  });
});

// ------------------------------------------------------------------ shared pieces

describe('requireAccess (SelfSubjectAccessReview before a change)', () => {
  const client = (answer: (attrs: Record<string, string>) => unknown) =>
    ({
      server: 'https://k',
      context: 'tenant',
      create: async (_p: string, body: { spec: { resourceAttributes: Record<string, string> } }) => answer(body.spec.resourceAttributes),
    }) as unknown as KubeClient;

  it('denied: the same forbidden error a write would give, naming verb, resource and namespace', async () => {
    const err = await requireAccess(client((a) => ({ status: { allowed: a.verb !== 'patch' } })), [
      { verb: 'list', resource: Resources.pods, namespace: 'app' },
      { verb: 'patch', resource: Resources.statefulsets, namespace: 'app', name: 'web' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(403);
    expect((err as KubeApiError).message).toMatch(/^forbidden: you may not patch statefulsets\.apps "web" in namespace "app" \(context "tenant"\)/);
    expect((err as KubeApiError).message).toContain('nothing was changed');
    expect((err as KubeApiError).hints[0]).toContain('kubectl auth can-i patch statefulsets.apps -n app');
  });

  it('allowed, or the review itself fails: no error (the write\'s own 403 still guards)', async () => {
    await expect(requireAccess(client(() => ({ status: { allowed: true } })), [{ verb: 'delete', resource: Resources.pods, namespace: 'a', name: 'p' }])).resolves.toBeUndefined();
    await expect(
      requireAccess(
        client(() => {
          throw new Error('404');
        }),
        [{ verb: 'delete', resource: Resources.pods, namespace: 'a' }],
      ),
    ).resolves.toBeUndefined();
  });

  it('one review per verb, resource and namespace however many objects', async () => {
    let n = 0;
    await requireAccess(
      client(() => (n++, { status: { allowed: true } })),
      ['a', 'b', 'c'].map((name) => ({ verb: 'delete' as const, resource: Resources.persistentvolumeclaims, namespace: 'x', name })),
    );
    expect(n).toBe(1);
  });
});

describe('forbidden messages of cluster-scoped lists', () => {
  it('say "cluster-scoped", not "across all namespaces", and suggest no -A', () => {
    const e = forbidden('GET', '/api/v1/persistentvolumes');
    expect(e.message).toMatch(/^forbidden: you may not list persistentvolumes \(cluster-scoped\)/);
    expect(e.hints[0]).toContain('kubectl auth can-i list persistentvolumes`');
    expect(forbidden('GET', '/api/v1/pods').message).toContain('list pods across all namespaces');
  });
});

describe('rollout history without the pods', () => {
  it('lists the revisions, pod counts "unknown", warning on stderr and in json, exit 4', async () => {
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace: 'ns', uid: 'uid-web', generation: 1 },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, serviceName: 'web', template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } } },
      status: { currentRevision: 'web-1', updateRevision: 'web-1', observedGeneration: 1, replicas: 1 },
    } as unknown as StatefulSet;
    const rev = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'web-1', namespace: 'ns', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-web', controller: true }] },
      revision: 1,
      data: { spec: { template: set.spec.template } },
    } as unknown as ControllerRevision;
    const client = {
      requestCount: 0,
      server: 'https://k',
      context: 'tenant',
      getNamed: async () => structuredClone(set),
      list: async (path: string, q?: unknown) => {
        if (path.endsWith('/pods')) throw forbidden('GET', path, q as never);
        return { items: [structuredClone(rev)], resourceVersion: '1' };
      },
    };
    const kube = { client, namespace: 'ns', contextName: 'tenant', server: 'https://k' } as unknown as Kube;
    const d = recordingDeps(kube, { now: NOW });
    const base = { name: 'web', allNamespaces: false, requestTimeout: '0', color: false, verbose: 0 };
    const r = await runHistory({ ...base, output: 'json' }, d.deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    const out = JSON.parse(r.output);
    expect(out).toMatchObject({ complete: false, revisions: [{ revision: 1, pods: null }] });
    expect(out.warnings[0]).toMatch(/^pod checks skipped: which pods run which revision is unknown: forbidden: you may not list pods in namespace "ns"/);
    expect(d.logged).toEqual([`warning: ${out.warnings[0]}`]);
    const t = await runHistory({ ...base, output: 'table' }, recordingDeps(kube, { now: NOW }).deps);
    expect(t.output).toMatch(/^1\s+web-1\s+current,update\s+unknown\s+/m);
    expect(t.output).toContain('PARTIAL: the pods could not be read');
  });
});

describe('pvc-orphans -o name with the pods unreadable', () => {
  it('prints no unconfirmed candidate (scripts delete what it prints); exit 4', async () => {
    const w = orphanWorld();
    w.pvs = w.pvs.filter((p) => p.status?.phase !== 'Released');
    const { kube } = orphansKube(w, (_m, p) => p.endsWith('/pods'));
    const r = await pvcOrphansCommand.run!(orphanArgs({ output: 'name' }), recordingDeps(kube, { now: NOW }).deps);
    expect(r.output).toBe('');
    expect(r.exitCode).toBe(ExitCode.Incomplete);
  });
});

describe('rollout status without the pods', () => {
  it("the set's facts and the controller's counts, labelled: state unknown, PARTIAL, warning, exit 4", async () => {
    const { runStatus } = await import('../../src/commands/rollout-status.js');
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace: 'ns', uid: 'uid-web', generation: 2 },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, serviceName: 'web', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i:2' }] } } },
      status: { currentRevision: 'web-1', updateRevision: 'web-2', observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 1, currentReplicas: 2 },
    } as unknown as StatefulSet;
    const client = {
      requestCount: 0,
      server: 'https://k',
      context: 'tenant',
      getNamed: async () => structuredClone(set),
      list: async (path: string, q?: unknown) => {
        throw forbidden('GET', path, q as never);
      },
    };
    const kube = { client, namespace: 'ns', contextName: 'tenant', server: 'https://k' } as unknown as Kube;
    const base = { name: 'web', watch: false, timeout: '0', allNamespaces: false, requestTimeout: '0', color: false, verbose: 0 };
    const d = recordingDeps(kube, { now: NOW });
    const r = await runStatus({ ...base, output: 'json' }, d.deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    const out = JSON.parse(r.output);
    expect(out).toMatchObject({ state: 'unknown', complete: false, pods: [], counts: { updated: 1, ready: 3, current: 2 } });
    expect(out.warnings).toHaveLength(1);
    expect(d.logged).toEqual([`warning: ${out.warnings[0]}`]);
    const t = await runStatus({ ...base, output: 'table' }, recordingDeps(kube, { now: NOW }).deps);
    expect(t.exitCode).toBe(ExitCode.Incomplete);
    expect(t.output).toContain("  Pods:         unknown (could not be read); the controller's status says 1 updated, 3 ready, 2 current");
    expect(t.output).toContain('PARTIAL: the pods could not be read');
    expect(t.output).not.toContain('complete');
  });
});
