/**
 * Fleet mode on two real control planes: the suite's cluster and a second one it brings up
 * (`<cluster>-fleet`, same line, stopped afterwards). One kubeconfig holds four contexts: both
 * clusters, a context whose server does not answer, and a ServiceAccount with no rights on the
 * first cluster. Each read command runs once across them: one table with a CONTEXT column, json
 * grouped by context, the dead and the forbidden context reported as such without stopping the
 * others, and the worst exit code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import { apply, createNamespace, kubeconfig, kubeLine, kubectl, plugin, root, waitFor, clusterKind } from './harness.js';
import { createScopedIdentity, type ScopedIdentity } from './rbac.js';

const primary = process.env.KSTS_CLUSTER_NAME ?? (kubeLine === 'old' ? 'kubectl-sts-old' : 'kubectl-sts');
const second = `${primary}-fleet`;
const clusterEnv = { ...process.env, KSTS_CLUSTER_NAME: second, KSTS_KUBE_LINE: kubeLine };

let ns = '';
let cleanup: () => Promise<void> = async () => {};
let kubeconfig2 = '';
let merged = '';
let tenant: ScopedIdentity | undefined;
let ctx1 = '';
let ctx2 = '';

async function kubectl2(args: string[], input?: string): Promise<string> {
  const r = await execa('kubectl', ['--kubeconfig', kubeconfig2, ...args], { reject: false, ...(input !== undefined ? { input } : { stdin: 'ignore' as const }), timeout: 120_000 });
  if (r.exitCode !== 0) throw new Error(`kubectl (second cluster) ${args.join(' ')}: ${String(r.stderr)}`);
  return String(r.stdout);
}

type Kc = { clusters: any[]; contexts: any[]; users: any[]; 'current-context'?: string };
const read = (f: string) => load(fs.readFileSync(f, 'utf8')) as Kc;

function web(o: { claimClass?: string }) {
  const labels = { app: 'web' };
  const sts: Record<string, any> = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      serviceName: 'web',
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: 'app', image: 'registry.k8s.io/nginx-slim:0.8' }],
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }],
        },
      },
    },
  };
  if (o.claimClass) sts.spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: o.claimClass, resources: { requests: { storage: '1Gi' } } } }];
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'web', port: 80 }] } },
    sts,
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
  ]
    .map((d) => dump(d))
    .join('---\n');
}

describe.skipIf(clusterKind !== 'kwok')('fleet mode (two real control planes)', () => {
  beforeAll(async () => {
    const up = await execa('bash', [path.join(root, 'scripts/cluster/up.sh')], { env: clusterEnv, reject: false, timeout: 600_000 });
    expect(up.exitCode, String(up.stderr)).toBe(0);
    kubeconfig2 = String(up.stdout).trim().split('\n').pop()!;
    ({ ns, cleanup } = await createNamespace('fleet'));
    // Cluster 1: web's claims ask for a class nothing provides (a finding). Cluster 2: web is healthy.
    await apply(web({ claimClass: `ksts-none-${ns}` }), ns);
    await kubectl2(['create', 'namespace', ns]);
    await waitFor(async () => (await execa('kubectl', ['--kubeconfig', kubeconfig2, '-n', ns, 'get', 'sa', 'default'], { reject: false })).exitCode === 0, 30_000, 'the second cluster\'s ServiceAccount');
    await kubectl2(['-n', ns, 'apply', '-f', '-'], web({}));
    await kubectl2(['-n', ns, 'rollout', 'status', 'sts/web', '--timeout=120s']);
    await waitFor(async () => (await kubectl2(['-n', ns, 'get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptionsAllowed}'])) === '1', 60_000, 'the budget status');
    tenant = await createScopedIdentity(ns, { name: 'fleet-nobody' });

    // One kubeconfig: both clusters, a dead server, and the rightless tenant of cluster 1.
    const k1 = read(kubeconfig);
    const k2 = read(kubeconfig2);
    const kt = read(tenant.kubeconfig);
    ctx1 = k1['current-context']!;
    ctx2 = k2['current-context']!;
    const rename = (k: Kc, name: string) => ({
      clusters: k.clusters.map((c) => ({ ...c, name: `${name}-cluster` })),
      users: k.users.map((u) => ({ ...u, name: `${name}-user` })),
      contexts: k.contexts.filter((c) => c.name === k['current-context']).map((c) => ({ name, context: { ...c.context, cluster: `${name}-cluster`, user: `${name}-user` } })),
    });
    const parts = [rename(k1, ctx1), rename(k2, ctx2), rename(kt, 'tenant')];
    const dead = { clusters: [{ name: 'dead-cluster', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }], users: [{ name: 'dead-user', user: { token: 'x' } }], contexts: [{ name: 'dead', context: { cluster: 'dead-cluster', user: 'dead-user' } }] };
    const all = [...parts.slice(0, 2), dead, parts[2]!];
    merged = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-fleet-')), 'kubeconfig');
    fs.writeFileSync(
      merged,
      dump({ apiVersion: 'v1', kind: 'Config', 'current-context': ctx1, clusters: all.flatMap((p) => p.clusters), users: all.flatMap((p) => p.users), contexts: all.flatMap((p) => p.contexts) }),
      { mode: 0o600 },
    );
  }, 600_000);

  afterAll(async () => {
    await tenant?.cleanup();
    await cleanup();
    if (merged) fs.rmSync(path.dirname(merged), { recursive: true, force: true });
    await execa('bash', [path.join(root, 'scripts/cluster/down.sh')], { env: clusterEnv, reject: false, timeout: 120_000 });
  }, 180_000);

  const fleet = (args: string[]) => plugin(args, { env: { KUBECONFIG: merged } });

  it('doctor across both clusters: one table with a CONTEXT column; the dead and the forbidden context said, the others checked; exit 3 (the worst)', async () => {
    const r = await fleet(['doctor', '-n', ns, '--context', `${ctx1},${ctx2},dead,tenant`]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(3);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^CONTEXT\s+STATEFULSET\s+READY\s+STATUS$/);
    expect(r.stdout).toMatch(new RegExp(`^${ctx1}\\s+web\\s+0/2\\s+\\d+ errors?`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${ctx2}\\s+web\\s+2/2\\s+healthy$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`=== context ${ctx1}: exit 1\\n(.*\\n)*.*storage/claim-pending`));
    expect(r.stdout).toMatch(/=== context dead: could not be checked \(exit 3\): the API server https:\/\/127\.0\.0\.1:1 \(context "dead"\) refused the connection/);
    expect(r.stdout).toMatch(/=== context tenant: could not be checked \(exit 1\): .*forbidden.*statefulsets/);
  });

  it('-o json groups by context; the healthy cluster alone exits 0, with the finding one exits 1', async () => {
    const r = await fleet(['doctor', '-n', ns, '--context', `${ctx1},${ctx2}`, '-o', 'json']);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ kind: 'FleetReport', apiVersion: 'kubectl-sts/v1' });
    expect(doc.contexts.map((c: any) => [c.context, c.exitCode, c.result.kind])).toEqual([
      [ctx1, 1, 'DoctorReport'],
      [ctx2, 0, 'DoctorReport'],
    ]);
    expect(doc.contexts[1].result.statefulSets[0]).toMatchObject({ name: 'web', healthy: true });
    const healthy = await fleet(['doctor', 'web', '-n', ns, '--context', `${ctx2},${ctx2}`]);
    expect(healthy.exitCode, healthy.stdout).toBe(0);
  });

  it('--all-contexts: every context of the kubeconfig; the other read commands take the same flags', async () => {
    const all = await fleet(['doctor', '-n', ns, '--all-contexts', '-o', 'json']);
    expect(JSON.parse(all.stdout).contexts.map((c: any) => c.context)).toEqual([ctx1, ctx2, 'dead', 'tenant']);
    expect(all.exitCode).toBe(3);

    const status = await fleet(['rollout', 'status', 'web', '-n', ns, '--context', `${ctx1},${ctx2}`]);
    expect(status.stdout).toMatch(/^CONTEXT\s+ORDINAL\s+POD\s+REVISION/m);
    expect(status.stdout).toMatch(new RegExp(`^${ctx2}\\s+1\\s+web-1\\s+`, 'm'));
    const dns = await fleet(['dns-check', 'web', '-n', ns, '--static-only', '--context', `${ctx1},${ctx2}`]);
    expect(dns.stdout).toMatch(new RegExp(`^${ctx2}\\s+✓\\s+service-headless\\s+Service/web`, 'm'));
    const orphans = await fleet(['pvc-orphans', '-n', ns, '--context', `${ctx1},${ctx2},dead`, '-o', 'json']);
    expect(orphans.exitCode).toBe(3);
    expect(JSON.parse(orphans.stdout).contexts.map((c: any) => [c.context, c.exitCode])).toEqual([
      [ctx1, 0],
      [ctx2, 0],
      ['dead', 3],
    ]);
    const fin = await fleet(['finalize-localpv', '--context', `${ctx1},${ctx2}`]);
    expect(fin.stdout).toMatch(new RegExp(`=== context ${ctx2}: exit 0\\n`));

    // Changes and live lookups stay single-cluster.
    const refused = await fleet(['dns-check', 'web', '-n', ns, '--context', `${ctx1},${ctx2}`]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/fleet mode .* only reads: dns-check needs --static-only/);
    expect((await fleet(['pvc-orphans', '--delete', '--context', `${ctx1},${ctx2}`])).exitCode).toBe(2);
  });
});
