/**
 * `kubectl sts dns-check` on the real control plane, with lookups answered by the real CoreDNS
 * (KWOK runs pod execs locally through scripts/cluster/pod-bin's nslookup/dig wrappers).
 * A healthy `web` set passes; each broken variant fails with its own reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, createBoundPVs, createNamespace, fixture, getJson, kubectl, plugin, waitFor, clusterKind, webWithoutClaims } from './harness.js';
import type { DnsCheckOutput } from '../../src/render/dns.js';


/** web.yaml without claims (DNS does not care; the pods schedule without PVs). */
async function readyPods(ns: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      const l = await getJson<{ items: any[] }>(['-n', ns, 'pods', '-l', 'app=nginx']);
      return l.items.filter((p) => p.status?.podIP && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length === n;
    },
    120_000,
    `${n} Ready pods in ${ns}`,
  );
}

async function slicesList(ns: string, svc: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      const l = await getJson<{ items: any[] }>(['-n', ns, 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`]);
      return l.items.flatMap((s) => s.endpoints ?? []).filter((e: any) => e.hostname && e.conditions?.ready).length === n;
    },
    60_000,
    `${n} ready endpoints of ${svc} in ${ns}`,
  );
}

async function check(ns: string, extra: string[] = []) {
  const r = await plugin(['-n', ns, 'dns-check', 'web', '-o', 'json', ...extra]);
  let out: DnsCheckOutput | undefined;
  try {
    out = JSON.parse(r.stdout) as DnsCheckOutput;
  } catch {
    throw new Error(`dns-check did not print JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
  }
  return { ...r, out };
}

const spaces: { ns: string; cleanup: () => Promise<void> }[] = [];
async function ns(prefix: string): Promise<string> {
  const s = await createNamespace(prefix);
  spaces.push(s);
  return s.ns;
}

// KWOK-specific: fake shells / in-pod DNS wrappers / fake nodes. Skipped on E2E_CLUSTER=kind.
describe.skipIf(clusterKind !== 'kwok')('dns-check', () => {
  let healthy = '';
  let notHeadless = '';
  let selectorMiss = '';
  let noService = '';
  let notReady = '';
  let unnamedPort = '';

  beforeAll(async () => {
    const made = await Promise.all(['dns-ok', 'dns-hl', 'dns-sel', 'dns-nosvc', 'dns-nr', 'dns-port'].map((p) => ns(p)));
    [healthy, notHeadless, selectorMiss, noService, notReady, unnamedPort] = made as [string, string, string, string, string, string];
    await Promise.all([
      (async () => {
        await createBoundPVs(healthy, ['www-web-0', 'www-web-1', 'www-web-2']);
        await apply(fixture('web.yaml'), healthy);
        await readyPods(healthy, 3);
        await slicesList(healthy, 'nginx', 3);
      })(),
      (async () => {
        await apply(
          webWithoutClaims(2, (s) => {
            delete s.spec.clusterIP;
            return s;
          }),
          notHeadless,
        );
        await readyPods(notHeadless, 2);
      })(),
      (async () => {
        await apply(
          webWithoutClaims(2, (s) => {
            s.spec.selector = { app: 'nginx', tier: 'db' };
            return s;
          }),
          selectorMiss,
        );
        await readyPods(selectorMiss, 2);
        await kubectl(['-n', selectorMiss, 'label', 'pod', 'web-0', 'tier=db']);
        await slicesList(selectorMiss, 'nginx', 1);
      })(),
      (async () => {
        await apply(webWithoutClaims(2, () => undefined), noService);
        await readyPods(noService, 2);
      })(),
      (async () => {
        await apply(webWithoutClaims(2), notReady);
        await readyPods(notReady, 2);
        await slicesList(notReady, 'nginx', 2);
        await kubectl([
          '-n',
          notReady,
          'patch',
          'pod',
          'web-1',
          '--subresource=status',
          '--type=merge',
          '-p',
          '{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"ContainersReady","status":"False"}]}}',
        ]);
        await slicesList(notReady, 'nginx', 1);
      })(),
      (async () => {
        await apply(
          webWithoutClaims(2, (s) => {
            s.spec.ports = [{ port: 80 }];
            return s;
          }),
          unnamedPort,
        );
        await readyPods(unnamedPort, 2);
        await slicesList(unnamedPort, 'nginx', 2);
      })(),
    ]);
  });

  afterAll(async () => {
    await Promise.all(spaces.map((s) => s.cleanup()));
  });

  it('passes a healthy web set: every pod resolves from inside the pods (exit 0)', async () => {
    const r = await check(healthy);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.out.summary.fail).toBe(0);
    expect(r.out.clusterDomain).toBe('cluster.local');
    expect(r.out.probes).toEqual(['web-0', 'web-1', 'web-2']);
    const live = r.out.checks.filter((c) => c.kind === 'live');
    expect(live).toHaveLength(12);
    expect(live.every((c) => c.status === 'ok' && c.tool === 'nslookup')).toBe(true);
    const pods = await getJson<{ items: any[] }>(['-n', healthy, 'pods', '-l', 'app=nginx']);
    const ipOf = Object.fromEntries(pods.items.map((p) => [p.metadata.name, p.status.podIP]));
    const w01 = live.find((c) => c.subject === `web-0 -> web-1.nginx.${healthy}.svc.cluster.local`)!;
    expect(w01.addresses).toEqual([ipOf['web-1']]);
    const srv = live.find((c) => c.type === 'SRV')!;
    expect(srv.query).toBe(`_web._tcp.nginx.${healthy}.svc.cluster.local`);
    expect(srv.srv!.map((s) => s.target).sort()).toEqual([0, 1, 2].map((i) => `web-${i}.nginx.${healthy}.svc.cluster.local`));
  });

  it('prints one row per check with ✓ and a summary (table), and --all-pairs checks every pair', async () => {
    const r = await plugin(['-n', healthy, 'dns-check', 'web']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓\s+service-headless\s+Service\/nginx\s+headless \(clusterIP: None\)/);
    expect(r.stdout).toMatch(/20 checks: 20 ok, 0 warnings, 0 failed/);
    const all = await check(healthy, ['--all-pairs', '--concurrency', '4']);
    expect(all.exitCode).toBe(0);
    expect(all.out.checks.filter((c) => c.check === 'lookup-pod')).toHaveLength(9);
  });

  it('fails a Service that is not headless', async () => {
    const r = await check(notHeadless);
    expect(r.exitCode).toBe(1);
    const c = r.out.checks.find((x) => x.check === 'service-headless')!;
    expect(c.status).toBe('fail');
    expect(c.reason).toMatch(/^Service nginx has clusterIP \d+\.\d+\.\d+\.\d+: a StatefulSet's governing Service must be headless/);
    expect(c.fix).toMatch(/clusterIP: None/);
    // live: the Service name answers the cluster IP; CoreDNS still answers the pod names (other
    // DNS providers do not), which is a warning that names the Service
    expect(r.out.checks.find((x) => x.check === 'lookup-service')!.reason).toMatch(/the cluster IP, not the pods/);
    const pod = r.out.checks.find((x) => x.check === 'lookup-pod')!;
    expect(pod.status).toBe('warn');
    expect(pod.reason).toMatch(/Service nginx is not headless/);
  });

  it('fails a selector that misses a pod', async () => {
    const r = await check(selectorMiss);
    expect(r.exitCode).toBe(1);
    const c = r.out.checks.find((x) => x.check === 'service-selector')!;
    expect(c.status).toBe('fail');
    expect(c.reason).toMatch(/selector app=nginx,tier=db misses web-1: tier=db \(pod has no tier\)/);
    expect(r.out.checks.find((x) => x.subject === `web-0 -> web-1.nginx.${selectorMiss}.svc.cluster.local`)).toMatchObject({ status: 'fail' });
  });

  it('fails a missing Service', async () => {
    const r = await check(noService);
    expect(r.exitCode).toBe(1);
    const c = r.out.checks.find((x) => x.check === 'service-exists')!;
    expect(c).toMatchObject({ status: 'fail', subject: 'Service/nginx' });
    expect(c.reason).toMatch(new RegExp(`Service nginx not found in namespace ${noService}`));
  });

  it('fails a not-ready pod without publishNotReadyAddresses', async () => {
    const r = await check(notReady);
    expect(r.exitCode).toBe(1);
    const c = r.out.checks.find((x) => x.check === 'publish-not-ready')!;
    expect(c.status).toBe('fail');
    expect(c.reason).toMatch(/^web-1 is not Ready and Service nginx does not set publishNotReadyAddresses/);
    const live = r.out.checks.find((x) => x.subject === `web-0 -> web-1.nginx.${notReady}.svc.cluster.local`)!;
    expect(live.status).toBe('fail');
    expect(live.reason).toMatch(/NXDOMAIN/);
    expect(r.out.probes).toEqual(['web-0']);
  });

  it('fails an unnamed port (no SRV records)', async () => {
    const r = await check(unnamedPort);
    expect(r.exitCode).toBe(1);
    const c = r.out.checks.find((x) => x.check === 'service-ports')!;
    expect(c.status).toBe('fail');
    expect(c.reason).toMatch(/port 80\/TCP has no name: SRV records/);
    expect(r.out.checks.some((x) => x.type === 'SRV')).toBe(false);
    // everything else about the set is fine
    expect(r.out.checks.filter((x) => x.status === 'fail')).toHaveLength(1);
  });

  it('--from a pod and an unknown set name', async () => {
    const r = await check(healthy, ['--from', 'web-2', '--cluster-domain', 'cluster.local']);
    expect(r.exitCode).toBe(0);
    expect(r.out.probes).toEqual(['web-2']);
    const missing = await plugin(['-n', healthy, 'dns-check', 'wbe']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/web/);
  });
});
