/**
 * Seed 004 on the real control plane: a local PV pinned to a node, its claim and a pod on that
 * node; the PV is deleted and hangs on kubernetes.io/pv-protection. What the controllers do by
 * themselves afterwards was observed on kube-controller-manager v1.36 and is asserted as such.
 * Every cluster-scoped object (Nodes, PVs) is named after the test namespace and labelled
 * ksts-test-ns=<ns>; the shared kwok-node-0..2 are never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { apply, createNamespace, kubectl, plugin, waitFor, clusterKind } from './harness.js';
import type { FinalizeOutput } from '../../src/render/finalize.js';

let ns = '';
let cleanup: () => Promise<void> = async () => {};
let sel = '';
let node1 = '';
let node2 = '';
let pv1 = '';
let pv2 = '';

async function tryJson(args: string[]): Promise<any | undefined> {
  const r = await kubectl(['get', ...args, '-o', 'json'], { allowFail: true });
  return r.exitCode === 0 ? JSON.parse(r.stdout) : undefined;
}

function nodeDoc(name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name, 'ksts-test-ns': ns, type: 'kwok' },
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
    },
    // Keep every other test's pods off this node: it is deleted below.
    spec: { taints: [{ key: 'ksts-test-ns', value: ns, effect: 'NoSchedule' }] },
  };
}

function localPvDoc(name: string, node: string, claim: string) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { 'ksts-test-ns': ns } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      // No StorageClass object of this name: binding is immediate (the seed's class waits for a consumer).
      storageClassName: 'ksts-finalize',
      local: { path: `/tmp/kubectl-sts-pv/${name}` },
      claimRef: { namespace: ns, name: claim },
      nodeAffinity: {
        required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] },
      },
    },
  };
}

function claimDoc(name: string, volume: string) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns, labels: { 'ksts-test-ns': ns } },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'ksts-finalize', volumeName: volume, resources: { requests: { storage: '1Gi' } } },
  };
}

async function run(args: string[]) {
  return plugin(['finalize-localpv', ...args]);
}

async function json(args: string[]): Promise<{ out: FinalizeOutput; exitCode: number }> {
  const r = await run([...args, '-o', 'json']);
  return { out: JSON.parse(r.stdout) as FinalizeOutput, exitCode: r.exitCode };
}

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('fin'));
  sel = `ksts-test-ns=${ns}`;
  node1 = `ksts-${ns}-n1`;
  node2 = `ksts-${ns}-n2`;
  pv1 = `${ns}-local-1`;
  pv2 = `${ns}-local-2`;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app-1', namespace: ns, labels: { 'ksts-test-ns': ns } },
    spec: {
      nodeName: node1,
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'c', image: 'nginx:latest', volumeMounts: [{ name: 'data', mountPath: '/usr/test-pod' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-1' } }],
    },
  };
  const docs = [nodeDoc(node1), nodeDoc(node2), localPvDoc(pv1, node1, 'data-1'), localPvDoc(pv2, node2, 'data-2'), claimDoc('data-1', pv1), claimDoc('data-2', pv2), pod];
  await apply(docs.map((d) => dump(d)).join('---\n'));
  await waitFor(
    async () => {
      const p = await tryJson(['-n', ns, 'pod', 'app-1']);
      const c1 = await tryJson(['-n', ns, 'pvc', 'data-1']);
      const c2 = await tryJson(['-n', ns, 'pvc', 'data-2']);
      return p?.status?.phase === 'Running' && c1?.status?.phase === 'Bound' && c2?.status?.phase === 'Bound';
    },
    60_000,
    'pod app-1 Running and both claims Bound',
  );
});

afterAll(async () => {
  if (!ns) return;
  await kubectl(['delete', 'node', '-l', `ksts-test-ns=${ns}`, '--wait=false'], { allowFail: true });
  await cleanup();
});

// KWOK-specific: fake shells / in-pod DNS wrappers / fake nodes. Skipped on E2E_CLUSTER=kind.
describe.skipIf(clusterKind !== 'kwok')('kubectl sts finalize-localpv (seed 004 on a real control plane)', () => {
  it('a deleted local PV whose claim a running pod uses stays Terminating on kubernetes.io/pv-protection', async () => {
    await kubectl(['delete', 'pv', pv1, '--wait=false']);
    await new Promise((r) => setTimeout(r, 3000));
    const pv = await tryJson(['pv', pv1]);
    expect(pv.metadata.deletionTimestamp).toBeTruthy();
    expect(pv.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    expect(pv.status.phase).toBe('Bound');
  });

  it('diagnoses it as blocked by that pod on its node, exit 1', async () => {
    const table = await run(['-l', sel]);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(new RegExp(`^${pv1}\\s+local\\s+\\S+\\s+kubernetes.io/pv-protection\\s+${ns}/data-1 \\(exists\\)\\s+${node1}\\s+blocked by pod ${ns}/app-1$`, 'm'));
    expect(table.stdout).toContain(`  verdict: blocked by pod ${ns}/app-1 (Running on node ${node1})`);

    const { out, exitCode } = await json(['-l', sel]);
    expect(exitCode).toBe(1);
    expect(out.persistentVolumes).toHaveLength(1);
    const d = out.persistentVolumes[0]!;
    expect(d).toMatchObject({
      name: pv1,
      volumeType: 'local',
      path: `/tmp/kubectl-sts-pv/${pv1}`,
      phase: 'Bound',
      verdict: 'blocked-by-pod',
      blockingPods: [`${ns}/app-1`],
      claim: { namespace: ns, name: 'data-1', state: 'exists', phase: 'Bound' },
      node: { name: node1, exists: true },
    });
    expect(d.pods).toEqual([{ namespace: ns, name: 'app-1', node: node1, phase: 'Running', terminating: false, nodeGone: false, holds: true }]);
    expect(d.finalizers.map((f) => [f.name, f.removedBy])).toEqual([['kubernetes.io/pv-protection', 'the pv-protection controller (kube-controller-manager)']]);
    expect(out.remaining).toBe(1);
  });

  it('refuses to finalize it without --force, even with --yes; --all-safe never takes it', async () => {
    const named = await run([pv1, '--yes']);
    expect(named.exitCode).toBe(1);
    expect(named.stdout).toContain(`persistentvolume/${pv1} refused: blocked by pod ${ns}/app-1 (Running on node ${node1}); stop the pod first, or pass --force`);

    const sweep = await json(['--all-safe', '--yes', '-l', sel]);
    expect(sweep.exitCode).toBe(1);
    expect(sweep.out.actions).toEqual([]);

    const pv = await tryJson(['pv', pv1]);
    expect(pv.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
  });

  it('--force --dry-run=server prints the risk and the pod, and changes nothing', async () => {
    const r = await run([pv1, '--force', '--dry-run=server']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`risk: pod ${ns}/app-1 (Running on node ${node1}) may still be writing to this volume`);
    expect(r.stdout).toMatch(/^-  finalizers:\n-    - kubernetes.io\/pv-protection$/m);
    expect(r.stdout).toContain(`persistentvolume/${pv1} would-finalize: the server accepted removing kubernetes.io/pv-protection (dry run)`);
    const pv = await tryJson(['pv', pv1]);
    expect(pv.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
  });

  it('--claims: the claim deleted under the running pod is blocked by it too', async () => {
    await kubectl(['-n', ns, 'delete', 'pvc', 'data-1', '--wait=false']);
    await waitFor(async () => Boolean((await tryJson(['-n', ns, 'pvc', 'data-1']))?.metadata?.deletionTimestamp), 30_000, 'data-1 Terminating');
    const { out, exitCode } = await json(['--claims', '-n', ns, '-l', sel]);
    expect(exitCode).toBe(1);
    expect(out.persistentVolumes[0]!.claim).toMatchObject({ name: 'data-1', state: 'terminating' });
    expect(out.persistentVolumeClaims).toHaveLength(1);
    expect(out.persistentVolumeClaims![0]).toMatchObject({
      name: 'data-1',
      namespace: ns,
      verdict: 'blocked-by-pod',
      blockingPods: [`${ns}/app-1`],
      volume: pv1,
    });
    expect(out.persistentVolumeClaims![0]!.finalizers[0]).toMatchObject({ name: 'kubernetes.io/pvc-protection', now: `pod ${ns}/app-1 uses it` });
  });

  it('--claims -n with a namespace that does not exist: the claims are reported not checked, naming it', async () => {
    const { out, exitCode } = await json(['--claims', '-n', `${ns}-typo`, '-l', sel]);
    // The stuck PV (cluster-scoped) is still found: problems found outrank "could not check" (1, not 4).
    expect(exitCode).toBe(1);
    expect(out.persistentVolumes.map((v) => v.name)).toEqual([pv1]);
    expect(out.complete).toBe(false);
    expect(out.warnings.join('\n')).toContain(`Namespace "${ns}-typo" does not exist`);
  });

  it('once the pod is gone the controllers clear the claim and the PV by themselves', async () => {
    await kubectl(['-n', ns, 'delete', 'pod', 'app-1', '--wait=false']);
    // Observed: pvc-protection drops the claim, the PV controller marks the PV Released and
    // pv-protection lets it go - within seconds, nobody patching anything.
    await waitFor(async () => (await tryJson(['-n', ns, 'pvc', 'data-1'])) === undefined, 60_000, 'claim data-1 deleted by its controller');
    await waitFor(async () => (await tryJson(['pv', pv1])) === undefined, 60_000, `PV ${pv1} deleted by its controller`);
    const r = await run([...['-l', sel], '--claims', '-n', ns]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('is stuck Terminating');
    expect(r.stdout).toMatch(/^No PersistentVolume/);
  });

  it('a bound local PV whose node is deleted: waiting for pv-protection, then node gone, finalized with --yes', async () => {
    await kubectl(['delete', 'pv', pv2, '--wait=false']);
    await waitFor(async () => Boolean((await tryJson(['pv', pv2]))?.metadata?.deletionTimestamp), 30_000, `${pv2} Terminating`);
    const waiting = await json([pv2]);
    expect(waiting.exitCode).toBe(1);
    expect(waiting.out.persistentVolumes[0]).toMatchObject({
      verdict: 'waiting-for-controller',
      waitingFor: ['the pv-protection controller (kube-controller-manager)'],
      claim: { name: 'data-2', state: 'exists' },
      node: { name: node2, exists: true },
    });
    expect(waiting.out.persistentVolumes[0]!.action).toContain(`kubectl delete pvc -n ${ns} data-2`);
    // Without a terminal and without --yes, nothing is changed.
    expect(waiting.out.actions[0]).toMatchObject({ result: 'not-confirmed' });
    expect((await tryJson(['pv', pv2])).metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);

    await kubectl(['delete', 'node', node2]);
    const gone = await json(['-l', sel]);
    expect(gone.out.persistentVolumes[0]).toMatchObject({ name: pv2, verdict: 'node-gone', node: { name: node2, exists: false } });
    // --all-safe leaves a node-gone volume alone: it must be named.
    const sweep = await json(['--all-safe', '--yes', '-l', sel]);
    expect(sweep.out.actions).toEqual([]);

    const done = await run([pv2, '--yes']);
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toContain(`risk: claim ${ns}/data-2 is still bound to it and becomes Lost`);
    expect(done.stdout).toContain(`persistentvolume/${pv2} finalized: removed kubernetes.io/pv-protection`);
    expect(done.stdout).toContain(`the data is still at /tmp/kubectl-sts-pv/${pv2} on node ${node2}`);
    await waitFor(async () => (await tryJson(['pv', pv2])) === undefined, 30_000, `${pv2} deleted`);
    // Observed: the claim whose volume vanished turns Lost (and keeps its pvc-protection finalizer).
    await waitFor(async () => (await tryJson(['-n', ns, 'pvc', 'data-2']))?.status?.phase === 'Lost', 60_000, 'data-2 Lost');
  });
});
