/**
 * `kubectl sts doctor` on the real control plane: each finding kind is provoked with real
 * objects and the real controllers and scheduler (KWOK runs the pods), then looked for in the
 * report with its fix. Sets: `fine` (spread over the three kwok nodes, a budget, a headless
 * Service: healthy, exit 0), `unsched` (a nodeSelector no node matches: unschedulable, and
 * OrderedReady blocks the next ordinal), `pending` (a claim of a class with no StorageClass and no
 * PersistentVolume), `onenode` (every replica pinned to kwok-node-1, no budget), `stuck` (its
 * volume deleted while bound: Terminating on kubernetes.io/pv-protection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { dump } from 'js-yaml';
import path from 'node:path';
import { apply, createBoundPVs, createNamespace, fixture, kubectl, kubeconfig, plugin, pluginBinary, root, waitFor, clusterKind } from './harness.js';
import fs from 'node:fs';
import type { DoctorOutput } from '../../src/render/doctor.js';
import { createScopedIdentity, readmeRules } from './rbac.js';

let ns = '';
let cleanup: () => Promise<void> = async () => {};
let stuckPv = '';

function set(name: string, o: { replicas: number; nodeSelector?: Record<string, string>; spread?: boolean; claimClass?: string }) {
  const labels = { app: name };
  const spec: Record<string, any> = { containers: [{ name: 'app', image: 'registry.k8s.io/nginx-slim:0.8', ports: [{ name: 'web', containerPort: 80 }] }] };
  if (o.nodeSelector) spec.nodeSelector = o.nodeSelector;
  if (o.spread) spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }];

  const sts: Record<string, any> = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: { replicas: o.replicas, serviceName: name, selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
  };
  if (o.claimClass) {
    sts.spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: o.claimClass, resources: { requests: { storage: '1Gi' } } } }];
  }
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'web', port: 80 }] } };
  return `${dump(svc)}---\n${dump(sts)}`;
}

async function doctor(args: string[]): Promise<{ out: DoctorOutput; exitCode: number; stderr: string }> {
  const r = await plugin(['doctor', ...args, '-o', 'json']);
  expect(r.stdout, r.stderr).toMatch(/^\{/);
  return { out: JSON.parse(r.stdout) as DoctorOutput, exitCode: r.exitCode, stderr: r.stderr };
}

const findingsOf = (out: DoctorOutput, name: string) => out.statefulSets.find((s) => s.name === name)?.findings ?? [];

describe.skipIf(clusterKind !== 'kwok')('doctor (real control plane)', () => {
  beforeAll(async () => {
    ({ ns, cleanup } = await createNamespace('doctor'));
    stuckPv = (await createBoundPVs(ns, ['data-stuck-0'], { storageClass: `ksts-doctor-${ns}` }))[0]!;
    await apply(
      [
        set('fine', { replicas: 3, spread: true }),
        set('unsched', { replicas: 2, nodeSelector: { 'ksts-doctor': 'no-such-node' } }),
        set('pending', { replicas: 1, claimClass: `ksts-none-${ns}` }),
        set('onenode', { replicas: 3, nodeSelector: { 'kubernetes.io/hostname': 'kwok-node-1' } }),
        set('stuck', { replicas: 1, claimClass: `ksts-doctor-${ns}` }),
        dump({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'fine' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'fine' } } } }),
      ].join('---\n'),
      ns,
    );
    await kubectl(['-n', ns, 'rollout', 'status', 'sts/fine', '--timeout=120s']);
    await kubectl(['-n', ns, 'rollout', 'status', 'sts/onenode', '--timeout=120s']);
    await kubectl(['-n', ns, 'rollout', 'status', 'sts/stuck', '--timeout=120s']);
    // The volume of stuck-0 is deleted while its claim is bound and mounted: it hangs Terminating.
    await kubectl(['delete', 'pv', stuckPv, '--wait=false']);
    await waitFor(async () => (await kubectl(['get', 'pv', stuckPv, '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout !== '', 30_000, 'the PV to be Terminating');
    await waitFor(async () => (await kubectl(['-n', ns, 'get', 'pod', 'unsched-0', '-o', 'jsonpath={.status.conditions[0].reason}'], { allowFail: true })).stdout === 'Unschedulable', 60_000, 'unsched-0 Unschedulable');
    await waitFor(async () => (await kubectl(['-n', ns, 'get', 'pod', 'pending-0', '-o', 'jsonpath={.status.conditions[0].reason}'], { allowFail: true })).stdout === 'Unschedulable', 60_000, 'pending-0 Unschedulable');
    await waitFor(async () => (await kubectl(['get', 'pdb', '-n', ns, 'fine', '-o', 'jsonpath={.status.disruptionsAllowed}'])).stdout === '1', 60_000, 'the budget status');
  }, 240_000);
  afterAll(async () => {
    // The stuck volume goes once its claim and pod are gone with the namespace.
    await cleanup();
  });

  it('-n naming a namespace that does not exist is "nothing was checked" (exit 4), not healthy', async () => {
    const r = await plugin(['doctor', '-n', `${ns}-typo`]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`Namespace "${ns}-typo" does not exist`);
  });

  it('a healthy set: exit 0, nothing but the retention note, from one LIST per resource type', async () => {
    const r = await plugin(['doctor', 'fine', '-n', ns, '-v', '1']);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^fine\s+3\/3\s+healthy$/m);
    expect(r.stdout).toMatch(/1 StatefulSet checked: 1 healthy, 0 with findings \(0 errors, 0 warnings\)/);
    // GET of the set, then statefulsets' neighbours: pods, claims, volumes, nodes, budgets, classes, services, endpointslices (no events: nothing unwell).
    expect(r.stderr).toMatch(/doctor: 9 API requests for 1 StatefulSets/);
  });

  it('the scope: every finding kind, each with its fix, in one report (exit 1)', async () => {
    const { out, exitCode, stderr } = await doctor(['-n', ns, '-v', '1']);
    expect(exitCode).toBe(1);
    // One LIST per resource type for all five sets (nine), and the events, since some pods are unwell.
    expect(stderr).toMatch(/doctor: 10 API requests for 5 StatefulSets/);
    expect(out).toMatchObject({ kind: 'DoctorReport', apiVersion: 'kubectl-sts/v1', namespace: ns, statefulSet: null, complete: true });
    expect(out.statefulSets.map((s) => s.name)).toEqual(['fine', 'onenode', 'pending', 'stuck', 'unsched']);
    expect(out.statefulSets.find((s) => s.name === 'fine')?.healthy).toBe(true);

    const unsched = findingsOf(out, 'unsched');
    expect(unsched.find((f) => f.check === 'pod-unschedulable')).toMatchObject({ severity: 'error', subject: 'Pod/unsched-0' });
    expect(unsched.find((f) => f.check === 'pod-unschedulable')!.message).toMatch(/not scheduled: 0\/3 nodes are available/);
    expect(unsched.find((f) => f.check === 'pod-unschedulable')!.fix).toMatch(/nodeSelector/);
    expect(unsched.find((f) => f.check === 'pod-unschedulable')!.evidence.join('\n')).toMatch(/event Warning FailedScheduling/);
    expect(unsched.find((f) => f.check === 'rollout-blocked')!.message).toMatch(/unsched-1 is not created: OrderedReady creates the next pod only after unsched-0/);

    const pending = findingsOf(out, 'pending');
    const claim = pending.find((f) => f.check === 'claim-pending')!;
    expect(claim).toMatchObject({ severity: 'error', subject: 'PersistentVolumeClaim/data-pending-0' });
    expect(claim.message).toMatch(new RegExp(`StorageClass "ksts-none-${ns}" does not exist and no PersistentVolume has that class`));
    expect(claim.fix).toMatch(new RegExp(`create StorageClass ksts-none-${ns}, or a PersistentVolume with storageClassName "ksts-none-${ns}", 1Gi or more, ReadWriteOnce`));
    expect(pending.find((f) => f.check === 'pod-pending-claim')?.subject).toBe('Pod/pending-0');

    const onenode = findingsOf(out, 'onenode');
    expect(onenode.find((f) => f.check === 'single-node')!.message).toMatch(/all 3 scheduled pods run on node kwok-node-1/);
    expect(onenode.find((f) => f.check === 'single-node')!.fix).toMatch(/topologySpreadConstraints/);
    expect(onenode.find((f) => f.check === 'pdb-missing')!.fix).toBe(`kubectl -n ${ns} create poddisruptionbudget onenode --selector=app=onenode --max-unavailable=1`);

    const stuck = findingsOf(out, 'stuck').find((f) => f.check === 'volume-terminating')!;
    expect(stuck).toMatchObject({ severity: 'error', subject: `PersistentVolume/${stuckPv}` });
    expect(stuck.message).toMatch(new RegExp(`blocked by pod ${ns}/stuck-0`));
    expect(stuck.fix).toMatch(new RegExp(`kubectl sts finalize-localpv ${stuckPv}$`));
    expect(stuck.evidence.join('\n')).toMatch(/finalizers: kubernetes\.io\/pv-protection/);
  });

  it('the table says each finding with its evidence and fix; -A covers the namespace too', async () => {
    const r = await plugin(['doctor', '-n', ns]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^unsched\s+0\/2\s+\d+ errors?/m);
    expect(r.stdout).toMatch(/ERROR {2}rollout\/pod-unschedulable {2}Pod\/unsched-0\n {4}unsched-0 not Ready for .*\n( {4}evidence: .*\n)+ {4}fix: /);
    expect(r.stdout).toMatch(new RegExp(`fix: kubectl -n ${ns} create poddisruptionbudget onenode`));
    const all = await doctor(['-A']);
    expect(all.out.namespace).toBeNull();
    expect(all.out.statefulSets.filter((s) => s.namespace === ns).map((s) => s.name)).toEqual(['fine', 'onenode', 'pending', 'stuck', 'unsched']);
  });

  it('-w re-evaluates: a fix made while it watches shows up in the next round', async () => {
    const child = execa(pluginBinary, ['doctor', 'onenode', '-n', ns, '-w', '--interval', '1s'], { reject: false, env: { KUBECONFIG: kubeconfig, NO_COLOR: '1' }, stdin: 'ignore' });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => /pdb-missing/.test(out), 30_000, 'the first round');
      await apply(dump({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'onenode' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'onenode' } } } }), ns);
      const seen = out.length;
      await waitFor(async () => /Every 1s: kubectl sts doctor onenode/.test(out.slice(seen)) && !/pdb-missing/.test(out.slice(out.lastIndexOf('Every 1s')))  , 30_000, 'a round without pdb-missing');
      expect(out.slice(out.lastIndexOf('Every 1s'))).toMatch(/single-node/);
    } finally {
      child.kill('SIGINT');
    }
    const r = await child;
    expect(r.exitCode).toBe(130);
  });
  it('--live adds the lookups from inside the pods: a Service selector that misses the pods fails them', async () => {
    const ok = await doctor(['fine', '-n', ns, '--live']);
    expect(ok.exitCode, JSON.stringify(ok.out.statefulSets[0]?.findings)).toBe(0);
    await kubectl(['-n', ns, 'patch', 'svc', 'onenode', '--type=merge', '-p', '{"spec":{"selector":{"app":"onenode","tier":"none"}}}']);
    const { out, exitCode } = await doctor(['onenode', '-n', ns, '--live']);
    expect(exitCode).toBe(1);
    const live = findingsOf(out, 'onenode').find((f) => f.check === 'dns-live-lookup-pod')!;
    expect(live).toMatchObject({ category: 'network', severity: 'error' });
    expect(live.evidence.join('\n')).toMatch(/onenode-0 -> onenode-\d\.onenode\..*does not resolve/);
    expect(findingsOf(out, 'onenode').some((f) => f.check === 'dns-service-selector')).toBe(true);
  });

  it('a MongoDB set is detected from its image and its replica set asked (mongo-status findings)', async () => {
    await apply(fixture('mongo.yaml'), ns);
    await kubectl(['-n', ns, 'rollout', 'status', 'sts/mongo', '--timeout=120s']);
    // mongo-0's shell answers with a recorded rs.status() of a replica set with no primary.
    const marker = `doctor-${Date.now()}`;
    const envs = [
      { name: 'KSTS_POD_NAMESPACE', value: ns },
      { name: 'KSTS_EXEC_REV', value: marker },
      { name: 'KSTS_MONGO_FIXTURE', value: path.join(root, 'test/fixtures/mongo/e2e/no-primary.json') },
    ];
    await apply(dump({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Exec', metadata: { name: 'mongo-0' }, spec: { execs: [{ local: { workDir: '/tmp', envs } }] } }), ns);
    await waitFor(async () => (await kubectl(['-n', ns, 'exec', 'mongo-0', '-c', 'mongo', '--', 'printenv', 'KSTS_EXEC_REV'], { allowFail: true })).stdout.trim() === marker, 30_000, 'KWOK to use the Exec');
    const { out, exitCode } = await doctor(['mongo', '-n', ns]);
    expect(exitCode).toBe(1);
    const f = findingsOf(out, 'mongo').find((x) => x.check === 'mongo-no-primary')!;
    expect(f, JSON.stringify(findingsOf(out, 'mongo'))).toMatchObject({ category: 'datastore', severity: 'error', subject: 'StatefulSet/mongo' });
    expect(f.message).toMatch(/replica set rs0 has no PRIMARY as seen from pod mongo-0/);
    expect(f.evidence[0]).toMatch(/replica set rs0, as seen by mongo-0/);
    // A set that does not run mongod is not asked.
    expect(findingsOf(out, 'fine').some((x) => x.category === 'datastore')).toBe(false);
  });
  it("least privilege: README's namespace Role alone checks what it may read and exits 4 (never 0); with the ClusterRole, 0", async () => {
    const rules = readmeRules(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));
    const role = rules.get('kubectl-sts-doctor-read')!.rules;
    const cluster = rules.get('kubectl-sts-doctor-cluster-read')!.rules;
    const tenant = await createScopedIdentity(ns, { name: 'doctor-tenant', rules: role });
    const full = await createScopedIdentity(ns, { name: 'doctor-full', rules: role, clusterRules: cluster });
    try {
      const r = await plugin(['doctor', 'fine', '-n', ns, '-o', 'json'], { env: tenant.env });
      expect(r.exitCode, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/^warning: volume checks skipped \(PersistentVolumes are cluster-scoped\).*forbidden/m);
      expect(r.stderr).toMatch(/^warning: node checks skipped/m);
      expect(r.stderr).toMatch(/^warning: StorageClass checks skipped/m);
      const out = JSON.parse(r.stdout) as DoctorOutput;
      expect(out.complete).toBe(false);
      expect(out.statefulSets[0]).toMatchObject({ name: 'fine', healthy: false });
      expect(out.statefulSets[0]!.unchecked).toContain('availability: the nodes could not be read (zones not checked)');
      const table = await plugin(['doctor', 'fine', '-n', ns], { env: tenant.env });
      expect(table.stdout).toMatch(/^fine\s+3\/3\s+not fully checked$/m);
      expect(table.stdout).toMatch(/PARTIAL: .*not a clean bill of health/);
      const ok = await plugin(['doctor', 'fine', '-n', ns], { env: full.env });
      expect(ok.exitCode, `${ok.stdout}\n${ok.stderr}`).toBe(0);
      expect(ok.stderr).toBe('');
    } finally {
      await tenant.cleanup();
      await full.cleanup();
    }
  });
  it('a rolling update stuck on a pod that cannot be scheduled: the forced rollback it proposes works', async () => {
    await kubectl(['-n', ns, 'patch', 'sts', 'onenode', '--type=merge', '-p', '{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/hostname":"no-such-node"}}}}}']);
    const reason = () => kubectl(['-n', ns, 'get', 'pod', 'onenode-2', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}'], { allowFail: true });
    await waitFor(async () => (await reason()).stdout === 'Unschedulable', 60_000, 'onenode-2 recreated and Unschedulable');
    const { out } = await doctor(['onenode', '-n', ns]);
    const blocked = findingsOf(out, 'onenode').find((f) => f.check === 'rollout-blocked')!;
    expect(blocked.message).toMatch(/the rolling update to \S+ is stuck: onenode-2 \(update revision\) never became Ready/);
    expect(blocked.fix).toBe(`forced rollback: kubectl sts rollout undo onenode -n ${ns} --force (restores the previous template, then deletes onenode-2)`);
    const undo = await plugin(['rollout', 'undo', 'onenode', '-n', ns, '--force', '--yes']);
    expect(undo.exitCode, undo.stderr).toBe(0);
    await kubectl(['-n', ns, 'rollout', 'status', 'sts/onenode', '--timeout=60s']);
    const after = await doctor(['onenode', '-n', ns]);
    expect(findingsOf(after.out, 'onenode').filter((f) => f.category === 'rollout')).toEqual([]);
  });
  it('a held rollout (kubectl sts rollout hold): paused at the partition, how long nothing has moved, and the step that goes on', async () => {
    const hold = await plugin(['rollout', 'hold', 'fine', '-n', ns, '--image', 'app=registry.k8s.io/nginx-slim:0.9']);
    expect(hold.exitCode, hold.stderr).toBe(0);
    await waitFor(async () => (await kubectl(['-n', ns, 'get', 'sts', 'fine', '-o', 'jsonpath={.status.updateRevision}/{.status.currentRevision}'])).stdout.split('/').every(Boolean), 30_000, 'the update revision');
    const r = await plugin(['doctor', 'fine', '-n', ns, '-o', 'json', '-v', '1']);
    expect(r.exitCode).toBe(1);
    const held = findingsOf(JSON.parse(r.stdout) as DoctorOutput, 'fine').find((f) => f.check === 'partition-held')!;
    expect(held.message).toMatch(/is paused at partition 3, with no progress for \d+s: 0 of 3 pods updated/);
    expect(held.fix).toBe(`go on: kubectl sts rollout fine -n ${ns} --step (or --auto); or drop the change: kubectl sts rollout undo fine -n ${ns}`);
    // The ControllerRevisions are listed once, only because a set waits below its partition.
    expect(r.stderr).toMatch(/doctor: 10 API requests for 1 StatefulSets/);
  });
});
