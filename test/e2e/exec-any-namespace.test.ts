/**
 * Exec in a namespace created after the cluster is up, the way a user does it: plain
 * `kubectl create ns`, then at once a StatefulSet and its headless Service — no ClusterExec made by
 * hand. The cluster's namespace reconciler (scripts/cluster/ns-exec.sh) gives the namespace its
 * KWOK ClusterExec and only then its default ServiceAccount, so no pod can exist there (the API
 * server admits none without that ServiceAccount) before exec works in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, clusterKind, getJson, kubectl, plugin, waitFor, webWithoutClaims } from './harness.js';
import type { DnsCheckOutput } from '../../src/render/dns.js';

const suffix = `${process.pid % 10000}${Date.now().toString(36).slice(-4)}`;
/** A name a user might pick, and one that YAML would read as a number if written unquoted. */
const shop = `shop-${suffix}`;
const digits = `${Date.now()}`.slice(-9);
const made: string[] = [];

/** web.yaml without claims (DNS does not care; the pods schedule without PVs). */
const web = (replicas: number) => webWithoutClaims(replicas);

async function readyReplicas(ns: string, n: number): Promise<void> {
  await waitFor(async () => (await getJson(['-n', ns, 'sts', 'web'])).status?.readyReplicas === n, 120_000, `${n} Ready web pods in ${ns}`);
}

// KWOK-specific (exec runs locally through KWOK ClusterExecs). Skipped on E2E_CLUSTER=kind.
describe.skipIf(clusterKind !== 'kwok')('exec in a namespace created after the cluster is up', () => {
  beforeAll(async () => {
    for (const ns of [shop, digits]) {
      await kubectl(['create', 'namespace', ns]);
      made.push(ns);
    }
    // At once, without waiting for anything: the StatefulSet controller retries until the
    // namespace's ServiceAccount (and so its ClusterExec) exists.
    await apply(web(3), shop);
    await apply(web(1), digits);
    await readyReplicas(shop, 3);
    await readyReplicas(digits, 1);
  });

  afterAll(async () => {
    for (const ns of made) await kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
  });

  it('stored the namespace\'s ClusterExec before its default ServiceAccount (no pod could exist before exec works)', async () => {
    for (const ns of [shop, digits]) {
      const ce = await getJson(['clusterexec', `ns-${ns}`]);
      expect(ce.spec.selector.matchNamespaces).toEqual([ns]);
      expect(ce.spec.execs[0].local.envs).toEqual([{ name: 'KSTS_POD_NAMESPACE', value: ns }]);
      const sa = await getJson(['-n', ns, 'serviceaccount', 'default']);
      // Both live in the cluster's one etcd, whose revision is every object's resourceVersion at
      // creation: the ClusterExec's is the older write.
      // (A cluster started by an older cluster:up still runs the serviceaccount-controller, which
      // wins this race: npm run cluster:down && npm run cluster:up.)
      expect(
        Number(ce.metadata.resourceVersion),
        `ClusterExec ns-${ns} must be stored before ServiceAccount ${ns}/default (cluster started by an older cluster:up? npm run cluster:down && npm run cluster:up)`,
      ).toBeLessThan(Number(sa.metadata.resourceVersion));
    }
  });

  it('kubectl exec runs in the pods and tells the pod-side wrappers their namespace', async () => {
    const r = await kubectl(['-n', shop, 'exec', 'web-2', '--', 'printenv', 'KSTS_POD_NAMESPACE']);
    expect(r.stdout.trim()).toBe(shop);
    const resolv = await kubectl(['-n', shop, 'exec', 'web-0', '--', 'cat', '/etc/resolv.conf']);
    expect(resolv.stdout).toContain(`search ${shop}.svc.cluster.local svc.cluster.local cluster.local`);
    const d = await kubectl(['-n', digits, 'exec', 'web-0', '--', 'printenv', 'KSTS_POD_NAMESPACE']);
    expect(d.stdout.trim()).toBe(digits);
  });

  it('kubectl sts dns-check web -n <new namespace> runs its lookups in the pods and passes (exit 0)', async () => {
    await waitFor(
      async () => {
        const l = await getJson<{ items: any[] }>(['-n', shop, 'endpointslices', '-l', 'kubernetes.io/service-name=nginx']);
        return l.items.flatMap((s) => s.endpoints ?? []).filter((e: any) => e.hostname && e.conditions?.ready).length === 3;
      },
      60_000,
      `3 ready endpoints of nginx in ${shop}`,
    );
    const r = await plugin(['dns-check', 'web', '-n', shop, '-o', 'json']);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout) as DnsCheckOutput;
    const live = out.checks.filter((c) => c.kind === 'live');
    expect(live.length).toBeGreaterThanOrEqual(12);
    expect(live.every((c) => c.status === 'ok' && c.tool === 'nslookup'), JSON.stringify(live.filter((c) => c.status !== 'ok'))).toBe(true);
    expect(out.summary.fail).toBe(0);
    const pods = await getJson<{ items: any[] }>(['-n', shop, 'pods', '-l', 'app=nginx']);
    const ipOf = Object.fromEntries(pods.items.map((p) => [p.metadata.name, p.status.podIP]));
    expect(live.find((c) => c.subject === `web-0 -> web-1.nginx.${shop}.svc.cluster.local`)!.addresses).toEqual([ipOf['web-1']]);
    // The table form too, as a user reads it.
    const t = await plugin(['dns-check', 'web', '-n', shop]);
    expect(t.exitCode, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/\d+ checks: \d+ ok, 0 warnings, 0 failed/);
  });

  it('removes the namespace\'s ClusterExec once the namespace is gone', async () => {
    await kubectl(['delete', 'namespace', digits, '--wait=true', '--timeout=90s']);
    await waitFor(async () => (await kubectl(['get', 'clusterexec', `ns-${digits}`], { allowFail: true })).exitCode !== 0, 30_000, `ClusterExec ns-${digits} removed`);
  });
});
