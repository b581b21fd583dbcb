/**
 * `run` of dns-check against a fake Kube whose exec answers with outputs recorded from the real
 * bind9 nslookup/dig against CoreDNS (test/fixtures/dns/bind9.18-*, namespace dnsman, pod IPs
 * 10.0.0.1-3), plus missing-tool and debug-container paths.
 */
import fs from 'node:fs';
import path from 'node:path';
import { recordingDeps } from '../helpers/fake-deps.js';
import { describe, expect, it } from 'vitest';
import { runDnsCheck, type DnsCheckArgs } from '../../src/commands/dns-check.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import type { Deps } from '../../src/deps.js';
import type { Kube, ExecRequest, ExecResult } from '../../src/kube/index.js';
import { KubeApiError, UsageError } from '../../src/errors.js';
import type { DnsCheckOutput } from '../../src/render/dns.js';
import type { KubeObject, Pod, Service, StatefulSet } from '../../src/core/types.js';
import { pod, service, slice, sts } from '../fixtures/dns/objects.js';

const NS = 'dnsman';
const dir = path.resolve(import.meta.dirname, '../fixtures/dns');
const fx = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
const RESOLV = `search ${NS}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`;
const NX = (name: string) => `Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n** server can't find ${name}: NXDOMAIN\n\n`;

interface World {
  sts: StatefulSet;
  service?: Service | undefined;
  pods: Pod[];
  /** Programs present per container ("web-0/nginx" -> set); default: all three. */
  tools?: Record<string, string[]>;
  /** Overrides answers by joined command line. */
  answers?: Record<string, Partial<ExecResult>>;
}

function healthyWorld(): World {
  const pods = [0, 1, 2].map((i) => pod(i, { ns: NS, ip: `10.0.0.${i + 1}` }));
  return { sts: sts({ ns: NS }), service: service({ ns: NS }), pods };
}

/** Real recorded outputs for the lookups of the healthy world. */
function recorded(cmd: string[]): Partial<ExecResult> | undefined {
  const line = cmd.join(' ');
  const byLine: Record<string, string> = {
    [`nslookup web-0.nginx.${NS}.svc.cluster.local.`]: 'bind9.18-nslookup-a-pod-web-0.txt',
    [`nslookup nginx.${NS}.svc.cluster.local.`]: 'bind9.18-nslookup-a-headless-service.txt',
    [`nslookup -type=srv _web._tcp.nginx.${NS}.svc.cluster.local.`]: 'bind9.18-nslookup-srv-web.txt',
    [`dig +short nginx.${NS}.svc.cluster.local. A`]: 'dig9.18-short-a-headless-service.txt',
    [`dig +short _web._tcp.nginx.${NS}.svc.cluster.local. SRV`]: 'dig9.18-short-srv-web.txt',
  };
  if (byLine[line]) return { stdout: fx(byLine[line]!), exitCode: 0 };
  // web-1 and web-2: the recorded web-0 answer with that pod's name and IP.
  const m = /^nslookup web-(\d)\.nginx\.dnsman\.svc\.cluster\.local\.$/.exec(line);
  if (m) return { stdout: fx('bind9.18-nslookup-a-pod-web-0.txt').replace(/web-0/g, `web-${m[1]}`).replace('10.0.0.1', `10.0.0.${Number(m[1]) + 1}`), exitCode: 0 };
  const d = /^dig \+short web-(\d)\.nginx\.dnsman\.svc\.cluster\.local\. A$/.exec(line);
  if (d) return { stdout: `10.0.0.${Number(d[1]) + 1}\n`, exitCode: 0 };
  if (line === `getent hosts nginx.${NS}.svc.cluster.local.`) return { stdout: [1, 2, 3].map((i) => `10.0.0.${i}        nginx.${NS}.svc.cluster.local.\n`).join(''), exitCode: 0 };
  const g = /^getent hosts (web-(\d)\.nginx\.dnsman\.svc\.cluster\.local\.)$/.exec(line);
  if (g) return { stdout: `10.0.0.${Number(g[2]) + 1}      ${g[1]}\n`, exitCode: 0 };
  return undefined;
}

function fakeKube(w: World) {
  const execs: ExecRequest[] = [];
  const batches: string[][] = [];
  const patches: { path: string; body: unknown }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const podsByName = () => new Map(w.pods.map((p) => [p.metadata.name, p]));
  const client = {
    async getNamed<T>(p: string): Promise<T> {
      if (p.endsWith(`/statefulsets/${w.sts.metadata.name}`)) return structuredClone(w.sts) as T;
      const podName = /\/pods\/([^/]+)$/.exec(p)?.[1];
      if (podName && podsByName().has(podName)) return structuredClone(podsByName().get(podName)) as T;
      throw new KubeApiError(`not found: ${p}`, { status: 404 });
    },
    async get<T>(p: string): Promise<T> {
      return client.getNamed<T>(p);
    },
    async tryGet<T>(p: string): Promise<T | undefined> {
      if (p.includes('/services/')) return (w.service ? structuredClone(w.service) : undefined) as T | undefined;
      return undefined;
    },
    async list<T>(p: string, q: Record<string, string> = {}): Promise<{ items: T[]; resourceVersion: string }> {
      if (p.endsWith('/pods')) {
        if (q.fieldSelector) return { items: w.pods.filter((x) => `metadata.name=${x.metadata.name}` === q.fieldSelector) as T[], resourceVersion: '1' };
        const [k, v] = (q.labelSelector ?? '').split('=');
        return { items: w.pods.filter((x) => x.metadata.labels?.[k!] === v) as T[], resourceVersion: '1' };
      }
      if (p.endsWith('/endpointslices')) {
        const svc = w.service;
        const ready = w.pods.filter((x) => svc && Object.entries(svc.spec.selector ?? {}).every(([a, b]) => x.metadata.labels?.[a] === b));
        return { items: (svc ? [slice(ready.filter((x) => x.status?.conditions?.[0]?.status === 'True'))] : []) as T[], resourceVersion: '1' };
      }
      if (p.endsWith('/services')) return { items: [{ metadata: { name: 'nginx-headless' } }] as T[], resourceVersion: '1' };
      return { items: [], resourceVersion: '1' };
    },
    async patch<T>(p: string, body: unknown): Promise<T> {
      patches.push({ path: p, body });
      const name = /\/pods\/([^/]+)\/ephemeralcontainers$/.exec(p)![1]!;
      const target = w.pods.find((x) => x.metadata.name === name)! as Pod & { spec: { ephemeralContainers?: unknown[] }; status: { ephemeralContainerStatuses?: unknown[] } };
      const ec = (body as { spec: { ephemeralContainers: { name: string; image: string }[] } }).spec.ephemeralContainers;
      target.spec.ephemeralContainers = ec;
      target.status.ephemeralContainerStatuses = ec.map((c) => ({ name: c.name, state: { running: {} } }));
      return target as T;
    },
    async *watch<T>(_p: string, _rv: string, _q: unknown, signal?: AbortSignal): AsyncGenerator<{ type: 'ADDED'; object: T }> {
      await new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true }));
    },
  };
  const exec = async (req: ExecRequest): Promise<ExecResult> => {
    execs.push(req);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    const program = req.command[0]!;
    const key = `${req.pod}/${req.container}`;
    const present = w.tools?.[key] ?? (req.container?.startsWith('ksts-dns-') ? ['nslookup', 'cat'] : ['sh', 'nslookup', 'getent', 'dig', 'cat']);
    if (!present.includes(program)) {
      return { stdout: '', stderr: '', exitCode: -1, failure: `error executing command in container: exec: "${program}": executable file not found in $PATH` };
    }
    if (program === 'sh') {
      // The batch script: for each TYPE:NAME argument, the first tool present, framed by markers.
      batches.push(req.command.slice(4));
      let stdout = '';
      for (const q of req.command.slice(4)) {
        const [type, name] = [q.slice(0, q.indexOf(':')), q.slice(q.indexOf(':') + 1)];
        const order = type === 'SRV' ? ['nslookup', 'dig'] : ['nslookup', 'getent', 'dig'];
        const tool = order.find((t) => present.includes(t));
        stdout += '@@ksts-begin\n';
        if (!tool) {
          stdout += '@@ksts-tool none\n@@ksts-end 0\n';
          continue;
        }
        const cmd = tool === 'nslookup' ? (type === 'SRV' ? ['nslookup', '-type=srv', name] : ['nslookup', name]) : tool === 'getent' ? ['getent', 'hosts', name] : ['dig', '+short', name, type];
        const r = answer(cmd);
        stdout += `@@ksts-tool ${tool}\n${r.stdout}${r.stdout.endsWith('\n') || !r.stdout ? '' : '\n'}@@ksts-end ${r.exitCode === -1 ? 1 : r.exitCode}\n`;
      }
      return { stdout, stderr: '', exitCode: 0 };
    }
    return answer(req.command);
  };
  const answer = (command: string[]): ExecResult => {
    const program = command[0]!;
    const line = command.join(' ');
    const over = w.answers?.[line];
    if (over) return { stdout: '', stderr: '', exitCode: 0, ...over };
    if (line === 'cat /etc/resolv.conf') return { stdout: RESOLV, stderr: '', exitCode: 0 };
    const rec = recorded(command);
    if (rec) return { stdout: '', stderr: '', exitCode: 0, ...rec };
    const name = command.find((c) => c.endsWith('.'))!.replace(/\.$/, '');
    if (program === 'nslookup') return { stdout: NX(name), stderr: '', exitCode: 1 };
    if (program === 'getent') return { stdout: '', stderr: '', exitCode: 2 };
    return { stdout: '', stderr: '', exitCode: 0 };
  };
  const kube = { client, exec, namespace: NS, contextName: 'test', server: 'https://fake' } as unknown as Kube;
  return { kube, execs, batches, patches, stats: () => ({ maxInFlight }) };
}

function fakeDeps(kube: Kube): Deps & { logs: string[] } {
  const r = recordingDeps(kube);
  return { ...r.deps, logs: r.logged };
}

function args(over: Partial<DnsCheckArgs & GlobalArgs> = {}): DnsCheckArgs & GlobalArgs {
  return {
    name: 'web',
    allPairs: false,
    concurrency: 8,
    execTimeout: '20s',
    namespace: NS,
    allNamespaces: false,
    output: 'json',
    requestTimeout: '0',
    color: false,
    verbose: 0,
    ...over,
  };
}

async function run(w: World, over: Partial<DnsCheckArgs & GlobalArgs> = {}) {
  const f = fakeKube(w);
  const deps = fakeDeps(f.kube);
  const r = await runDnsCheck(args(over), deps);
  const out = over.output === 'table' || over.output === 'wide' ? undefined : (JSON.parse(r.output) as DnsCheckOutput);
  return { ...r, out, ...f, deps };
}

describe('dns-check run', () => {
  it('passes a healthy set on recorded bind9 nslookup outputs (exit 0)', async () => {
    const r = await run(healthyWorld());
    expect(r.exitCode).toBe(0);
    expect(r.out!.summary.fail).toBe(0);
    expect(r.out!.clusterDomain).toBe('cluster.local');
    expect(r.out!.probes).toEqual(['web-0', 'web-1', 'web-2']);
    const live = r.out!.checks.filter((c) => c.kind === 'live');
    expect(live).toHaveLength(12);
    expect(live.every((c) => c.status === 'ok' && c.tool === 'nslookup')).toBe(true);
    expect(live.find((c) => c.type === 'SRV')!.srv).toHaveLength(3);
    // one resolv.conf read, then one exec per probe pod running its 4 lookups
    expect(r.execs.map((e) => e.command[0])).toEqual(['cat', 'sh', 'sh', 'sh']);
    expect(r.batches[0]).toEqual([
      `A:web-0.nginx.${NS}.svc.cluster.local.`,
      `A:web-1.nginx.${NS}.svc.cluster.local.`,
      `A:nginx.${NS}.svc.cluster.local.`,
      `SRV:_web._tcp.nginx.${NS}.svc.cluster.local.`,
    ]);
    expect(r.execs.every((e) => e.container === 'nginx' && e.namespace === NS)).toBe(true);
  });

  it('without sh in the image: one exec per lookup, same verdicts', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['nslookup', 'cat']]));
    const r = await run(w);
    expect(r.exitCode).toBe(0);
    expect(r.out!.checks.filter((c) => c.kind === 'live').every((c) => c.status === 'ok')).toBe(true);
    expect(r.execs.filter((e) => e.command[0] === 'sh')).toHaveLength(3);
    expect(r.execs.filter((e) => e.command[0] === 'nslookup')).toHaveLength(12);
  });

  it('in a batch, picks getent for A and dig for SRV when nslookup is missing', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['sh', 'getent', 'dig', 'cat']]));
    const r = await run(w);
    expect(r.exitCode).toBe(0);
    const live = r.out!.checks.filter((c) => c.kind === 'live');
    expect(live.filter((c) => c.type === 'A').every((c) => c.tool === 'getent')).toBe(true);
    expect(live.filter((c) => c.type === 'SRV').every((c) => c.tool === 'dig' && c.status === 'ok')).toBe(true);
    expect(r.execs.map((e) => e.command[0])).toEqual(['cat', 'sh', 'sh', 'sh']);
  });

  it('runs the lookups concurrently up to --concurrency', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['nslookup', 'cat']]));
    expect((await run(w, { concurrency: 2 })).stats().maxInFlight).toBe(2);
    expect((await run(w, { concurrency: 1 })).stats().maxInFlight).toBe(1);
    // batches: one exec per probe pod, three pods, so three in flight at most
    const all = await run(healthyWorld(), { concurrency: 8, allPairs: true });
    expect(all.stats().maxInFlight).toBe(3);
    expect(all.execs.filter((e) => e.command[0] === 'sh')).toHaveLength(3);
  });

  it('renders one row per check with marks, and the summary', async () => {
    const r = await run(healthyWorld(), { output: 'table' });
    expect(r.output).toMatch(/^StatefulSet dnsman\/web, Service nginx, zone cluster\.local, lookups from 3 pod\(s\)\n/);
    expect(r.output).toMatch(/✓\s+service-headless\s+Service\/nginx\s+headless \(clusterIP: None\)/);
    expect(r.output).toMatch(/✓\s+lookup-pod\s+web-0 -> web-1\.nginx\.dnsman\.svc\.cluster\.local\s+10\.0\.0\.2 = web-1's pod IP \(nslookup\)/);
    expect(r.output).toMatch(/20 checks: 20 ok, 0 warnings, 0 failed\n$/);
  });

  it('fails a not-ready pod without publishNotReadyAddresses, statically and live (exit 1)', async () => {
    const w = healthyWorld();
    w.pods[1] = pod(1, { ns: NS, ip: '10.0.0.2', ready: false });
    const r = await run(w, { output: 'table' });
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/✗\s+publish-not-ready\s+Service\/nginx\s+web-1 is not Ready/);
  });

  it('falls back from nslookup to getent, and to dig for SRV', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['getent', 'dig', 'cat']]));
    const r = await run(w);
    expect(r.exitCode).toBe(0);
    const live = r.out!.checks.filter((c) => c.kind === 'live');
    expect(new Set(live.filter((c) => c.type === 'A').map((c) => c.tool))).toEqual(new Set(['getent']));
    expect(new Set(live.filter((c) => c.type === 'SRV').map((c) => c.tool))).toEqual(new Set(['dig']));
    // nslookup is tried once per pod, then remembered as missing
    expect(r.execs.filter((e) => e.command[0] === 'nslookup' && e.pod === 'web-0')).toHaveLength(1);
  });

  it('says so when a container has no resolver tool (warning, exit 0), and uses --debug-image when given', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['cat']]));
    const none = await run(w);
    expect(none.exitCode).toBe(0);
    const warn = none.out!.checks.find((c) => c.kind === 'live')!;
    expect(warn).toMatchObject({ status: 'warn' });
    expect(warn.reason).toMatch(/no resolver tool \(nslookup, getent, dig\) in container nginx of web-0/);
    expect(warn.fix).toMatch(/--debug-image/);

    const dbg = await run(healthyWorld() && w, { debugImage: 'busybox:1.36' });
    expect(dbg.exitCode).toBe(0);
    expect(dbg.patches).toHaveLength(3);
    expect(dbg.patches[0]!.path).toBe(`/api/v1/namespaces/${NS}/pods/web-0/ephemeralcontainers`);
    expect(dbg.patches[0]!.body).toMatchObject({ spec: { ephemeralContainers: [{ image: 'busybox:1.36', command: ['sleep', '3600'], targetContainerName: 'nginx' }] } });
    const live = dbg.out!.checks.filter((c) => c.kind === 'live');
    expect(live.every((c) => c.status === 'ok' && c.container?.startsWith('ksts-dns-'))).toBe(true);
    expect(dbg.deps.logs.join('\n')).toMatch(/added ephemeral container ksts-dns-\w+ \(busybox:1\.36\) to pod web-0/);
  });

  it('reads the exit code KWOK reports as a failure message and still parses the output', async () => {
    const w = healthyWorld();
    w.answers = {
      [`nslookup web-1.nginx.${NS}.svc.cluster.local.`]: { stdout: fx('bind9.18-nslookup-a-nxdomain.txt').replace(/web-7/g, 'web-1'), exitCode: -1, failure: 'error executing command in container: cmd wait: nslookup ...: exit status 1' },
    };
    const r = await run(w);
    expect(r.exitCode).toBe(1);
    const c = r.out!.checks.find((x) => x.subject === `web-0 -> web-1.nginx.${NS}.svc.cluster.local`)!;
    expect(c.status).toBe('fail');
    expect(c.reason).toMatch(/does not resolve \(nslookup\) \(NXDOMAIN\)/);
  });

  it('fails on a missing Service with its reason and the similar name', async () => {
    const r = await run({ ...healthyWorld(), service: undefined });
    expect(r.exitCode).toBe(1);
    const c = r.out!.checks.find((x) => x.check === 'service-exists')!;
    expect(c.reason).toMatch(/Service nginx not found in namespace dnsman \(similar: nginx-headless\)/);
  });

  it('uses --cluster-domain without reading resolv.conf; --from runs everything from one pod', async () => {
    const r = await run(healthyWorld(), { clusterDomain: 'cluster.local', from: 'web-2' });
    expect(r.execs.some((e) => e.command[0] === 'cat')).toBe(false);
    expect(new Set(r.execs.map((e) => e.pod))).toEqual(new Set(['web-2']));
    expect(r.out!.probes).toEqual(['web-2']);
  });

  it('warns and assumes cluster.local when resolv.conf cannot be read', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['nslookup']]));
    const r = await run(w);
    expect(r.out!.checks.find((c) => c.check === 'cluster-domain')).toMatchObject({ status: 'warn' });
    expect(r.out!.clusterDomain).toBe('cluster.local');
  });

  it('rejects bad flags with usage errors', async () => {
    await expect(run(healthyWorld(), { from: 'web-0', allPairs: true })).rejects.toBeInstanceOf(UsageError);
    await expect(run(healthyWorld(), { concurrency: 0 })).rejects.toThrow(/--concurrency/);
    await expect(run(healthyWorld(), { execTimeout: '10' })).rejects.toThrow(/--exec-timeout/);
    await expect(run(healthyWorld(), { allNamespaces: true })).rejects.toBeInstanceOf(UsageError);
  });

  it('fails a Service that is not headless on the recorded cluster-IP answer', async () => {
    const w = healthyWorld();
    w.service = service({ ns: NS, clusterIP: '10.96.3.4' });
    w.answers = { [`nslookup nginx.${NS}.svc.cluster.local.`]: { stdout: 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\nName:\tnginx.dnsman.svc.cluster.local\nAddress: 10.96.3.4\n' } };
    const r = await run(w);
    expect(r.exitCode).toBe(1);
    expect(r.out!.checks.find((c) => c.check === 'service-headless')!.reason).toMatch(/clusterIP 10\.96\.3\.4/);
    expect(r.out!.checks.find((c) => c.check === 'lookup-service')!.reason).toMatch(/the cluster IP, not the pods/);
  });
});

// Keep the type import used (KubeObject documents what the fake returns).
export type { KubeObject };
