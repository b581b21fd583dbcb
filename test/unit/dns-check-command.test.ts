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
import { httpError } from '../../src/kube/errors.js';
import { execForbidden } from '../../src/kube/exec.js';

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
  /** Fails an exec before it runs: an Error is thrown (as src/kube/exec.ts throws), a result is returned. */
  fail?: (req: ExecRequest) => Error | ExecResult | undefined | Promise<Error | ExecResult | undefined>;
  /** Lists of these paths are forbidden (403). */
  forbiddenLists?: string[];
  /** The first N ephemeral-container patches fail with 409 (the pod changed since it was read). */
  patchConflicts?: number;
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
  const patches: { path: string; body: unknown; dryRun?: string }[] = [];
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
      if (w.forbiddenLists?.some((f) => p.endsWith(f))) throw httpError({ method: 'GET', path: p, server: 'https://fake', context: 'test' }, 403, undefined);
      if (p.endsWith('/pods')) {
        if (q.fieldSelector) return { items: w.pods.filter((x) => `metadata.name=${x.metadata.name}` === q.fieldSelector) as T[], resourceVersion: '1' };
        const [k, v] = (q.labelSelector ?? '').split('=');
        return { items: w.pods.filter((x) => x.metadata.labels?.[k!] === v) as T[], resourceVersion: '1' };
      }
      if (p.endsWith('/endpointslices')) {
        const svc = w.service;
        const ready = w.pods.filter((x) => svc && Object.entries(svc.spec.selector ?? {}).every(([a, b]) => x.metadata.labels?.[a] === b));
        return { items: (svc ? [slice(ready.filter((x) => svc.spec.publishNotReadyAddresses || x.status?.conditions?.[0]?.status === 'True'))] : []) as T[], resourceVersion: '1' };
      }
      if (p.endsWith('/services')) return { items: [{ metadata: { name: 'nginx-headless' } }] as T[], resourceVersion: '1' };
      return { items: [], resourceVersion: '1' };
    },
    async patch<T>(p: string, body: unknown, _type?: string, dryRun = 'none'): Promise<T> {
      patches.push({ path: p, body, dryRun });
      const name = /\/pods\/([^/]+)\/ephemeralcontainers$/.exec(p)![1]!;
      const target = w.pods.find((x) => x.metadata.name === name)! as Pod & { spec: { ephemeralContainers?: unknown[] }; status: { ephemeralContainerStatuses?: unknown[] } };
      if (w.patchConflicts && w.patchConflicts-- > 0) throw new KubeApiError('conflict', { status: 409 });
      if (dryRun === 'server') return structuredClone(target) as T;
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
    const injected = await w.fail?.(req);
    if (injected instanceof Error) throw injected;
    if (injected) return injected;
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

  it('a container without a resolver tool: the lookups did not run (exit 4), and --debug-image when given runs them', async () => {
    const w = healthyWorld();
    w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['cat']]));
    const none = await run(w);
    expect(none.exitCode).toBe(4);
    expect(none.out!.complete).toBe(false);
    const warn = none.out!.checks.find((c) => c.kind === 'live')!;
    expect(warn).toMatchObject({ status: 'not-run', cause: 'binary-missing' });
    expect(warn.reason).toMatch(/no resolver tool \(nslookup, getent, dig\) in container nginx of web-0/);
    expect(warn.fix).toMatch(/--debug-image/);
    expect(warn.fix).not.toMatch(/--exec-timeout/);

    w.pods.forEach((p, i) => (p.metadata.resourceVersion = `${100 + i}`));
    const dbg = await run(healthyWorld() && w, { debugImage: 'busybox:1.36', yes: true });
    expect(dbg.exitCode).toBe(0);
    expect(dbg.patches).toHaveLength(3);
    expect(dbg.patches[0]!.path).toBe(`/api/v1/namespaces/${NS}/pods/web-0/ephemeralcontainers`);
    expect(dbg.patches[0]!.body).toMatchObject({ spec: { ephemeralContainers: [{ image: 'busybox:1.36', command: ['sleep', '3600'], targetContainerName: 'nginx' }] } });
    const live = dbg.out!.checks.filter((c) => c.kind === 'live');
    expect(live.every((c) => c.status === 'ok' && c.container?.startsWith('ksts-dns-'))).toBe(true);
    expect(dbg.deps.logs.join('\n')).toMatch(/added ephemeral container ksts-dns-\w+ \(busybox:1\.36\) to pod web-0/);
    // Sent with the resourceVersion of the pod it was planned on.
    expect(dbg.patches[0]!.body).toMatchObject({ metadata: { resourceVersion: expect.any(String) } });
  });

  describe('--debug-image goes through the confirmation gate, --dry-run and preconditions', () => {
    const toolless = () => {
      const w = healthyWorld();
      w.pods.forEach((p, i) => (p.metadata.resourceVersion = `${100 + i}`));
      w.tools = Object.fromEntries(w.pods.map((p) => [`${p.metadata.name}/nginx`, ['cat']]));
      return w;
    };
    it('without a terminal and without --yes: refuses with the common message, adds nothing', async () => {
      const w = toolless();
      const f = fakeKube(w);
      const err = (await runDnsCheck(args({ debugImage: 'busybox:1.36' }), fakeDeps(f.kube)).catch((e: unknown) => e)) as Error & { hints: string[] };
      expect(err.message).toMatch(/^refusing to add an ephemeral debug container \(busybox:1\.36\) to pod web-\d .* without confirmation: there is no terminal to ask on$/);
      expect(err.hints.join('\n')).toContain('Ephemeral containers cannot be removed');
      expect(err.hints.at(-1)).toContain('Nothing was changed. Pass -y/--yes');
      expect(f.patches).toEqual([]);
    });
    it('--dry-run=client: nothing sent; those lookups are not run and say so (exit 4)', async () => {
      const r = await run(toolless(), { debugImage: 'busybox:1.36', dryRun: 'client' });
      expect(r.patches).toEqual([]);
      expect(r.exitCode).toBe(4);
      expect(r.out!.checks.find((c) => c.kind === 'live')!.reason).toMatch(/dry run \(client\): would add ephemeral container ksts-dns-\w+ \(busybox:1\.36\)/);
    });
    it('--dry-run=server: the adds are sent with dryRun, nothing persisted; exit 4', async () => {
      const r = await run(toolless(), { debugImage: 'busybox:1.36', dryRun: 'server' });
      expect(r.patches.length).toBeGreaterThan(0);
      expect(r.patches.every((p) => p.dryRun === 'server')).toBe(true);
      expect(r.exitCode).toBe(4);
      expect(r.out!.checks.find((c) => c.kind === 'live')!.reason).toMatch(/the API server accepted adding/);
    });
    it('a conflict (the pod changed since it was read) re-reads the pod and sends the add again', async () => {
      const w = toolless();
      w.patchConflicts = 1;
      const r = await run(w, { debugImage: 'busybox:1.36', yes: true });
      expect(r.exitCode).toBe(0);
      expect(r.patches.length).toBe(4); // 3 pods + the one retried after the 409
    });
    it('--yes / --dry-run without --debug-image are usage errors', async () => {
      await expect(run(healthyWorld(), { yes: true })).rejects.toBeInstanceOf(UsageError);
      await expect(run(healthyWorld(), { dryRun: 'server' })).rejects.toBeInstanceOf(UsageError);
    });
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

describe('dns-check: a check that could not check does not pass', () => {
  const FACTS = (pod: string) => ({ method: 'POST', path: `/api/v1/namespaces/${NS}/pods/${pod}/exec`, server: 'https://fake', context: 'sa-reader' });
  // A Role with create but not get on pods/exec, as the SelfSubjectAccessReview answers it.
  const forbidden = (req: ExecRequest) => execForbidden(FACTS(req.pod), NS, req.pod, async (verb) => verb === 'create');

  it('exec forbidden in every pod: every live check "not run", the verdict names the cause, exit 4', async () => {
    const w = { ...healthyWorld(), fail: forbidden };
    const r = await run(w);
    expect(r.exitCode).toBe(4);
    expect(r.out!.complete).toBe(false);
    expect(r.out!.summary).toEqual({ total: 21, passed: 8, warnings: 0, failed: 0, notRun: 13, ok: 8, warn: 0, fail: 0 });
    expect(r.out!.notRunCauses).toEqual([
      { cause: 'forbidden', label: `exec forbidden (pods/exec get) in namespace ${NS}`, checks: 13, fix: expect.stringContaining(`\`kubectl auth can-i get pods --subresource=exec -n ${NS}\``) },
    ]);
    expect(r.out!.checks.filter((c) => c.kind === 'live').every((c) => c.status === 'not-run' && c.cause === 'forbidden')).toBe(true);
    // one refused exec per probe pod, then nothing more is tried there
    expect(r.execs.map((e) => `${e.pod} ${e.command[0]}`)).toEqual(['web-0 cat', 'web-1 cat', 'web-2 cat']);
    expect(r.out!.warnings).toEqual([`13 live checks not run: exec forbidden (pods/exec get) in namespace ${NS} (forbidden: you may not get pods/exec "web-0" in namespace "${NS}" (context "sa-reader"): exec through the API is a websocket upgrade, which needs "get" on pods/exec, and "create" too on Kubernetes 1.35 and later)`]);
    expect(r.deps.logs).toEqual(r.out!.warnings.map((l) => `warning: ${l}`));

    const t = await run(w, { output: 'table' });
    expect(t.exitCode).toBe(4);
    expect(t.output).toContain(`21 checks: 8 ok, 0 warnings, 0 failed, 13 not run: exec forbidden (pods/exec get) in namespace ${NS}\n`);
    expect(t.output).toContain('Could not check: 13 checks could not run; this is not a pass.');
    expect(t.output).toMatch(/kubectl auth can-i get pods --subresource=exec -n dnsman.*kubectl sts dns-check web -n dnsman --static-only/);
    expect(t.output).not.toMatch(/exec-timeout/);
    expect(t.output).toMatch(/\?\s+lookup-pod\s+web-0 -> web-0\.nginx\.dnsman\.svc\.cluster\.local\s+not run: forbidden: you may not get pods\/exec "web-0"/);
  });

  it('--static-only: no exec at all, the static checks decide (exit 0 when healthy, 1 when not)', async () => {
    const r = await run({ ...healthyWorld(), fail: forbidden }, { staticOnly: true });
    expect(r.exitCode).toBe(0);
    expect(r.execs).toEqual([]);
    expect(r.out).toMatchObject({ staticOnly: true, complete: true, probes: [], clusterDomain: null, warnings: [] });
    expect(r.out!.summary).toMatchObject({ total: 8, passed: 8, notRun: 0 });
    const t = await run(healthyWorld(), { staticOnly: true, output: 'table' });
    expect(t.output).toMatch(/^StatefulSet dnsman\/web, Service nginx, static checks only \(--static-only\)\n/);
    expect(t.output).toMatch(/8 checks: 8 ok, 0 warnings, 0 failed\n$/);
    const bad = healthyWorld();
    bad.pods[1] = pod(1, { ns: NS, ip: '10.0.0.2', ready: false });
    expect((await run(bad, { staticOnly: true })).exitCode).toBe(1);
    await expect(run(healthyWorld(), { staticOnly: true, from: 'web-0' })).rejects.toThrow(/--static-only runs no lookups: --from/);
    await expect(run(healthyWorld(), { staticOnly: true, debugImage: 'busybox' })).rejects.toBeInstanceOf(UsageError);
  });

  it('a failure wins over "not run": exit 1, and the verdict still says what did not run', async () => {
    const w = { ...healthyWorld(), fail: forbidden };
    w.pods[1] = pod(1, { ns: NS, ip: '10.0.0.2', ready: false });
    const r = await run(w, { output: 'table' });
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/1 failed, \d+ not run: exec forbidden/);
    expect(r.output).toContain('Incomplete as well');
  });

  it('KWOK with no exec handler for the pods: "refused", with the kubectl exec line to try, not a longer timeout', async () => {
    const r = await run({
      ...healthyWorld(),
      fail: (req) => ({ stdout: '', stderr: '', exitCode: -1, failure: `Internal error occurred: error executing command in container: no exec found for container "nginx" in pod "${NS}/${req.pod}"` }),
    });
    expect(r.exitCode).toBe(4);
    expect(r.out!.notRunCauses).toEqual([expect.objectContaining({ cause: 'refused', label: 'exec refused by the API server, kubelet or container runtime', checks: 13 })]);
    expect(r.out!.notRunCauses[0]!.fix).toMatch(/kubectl exec -n dnsman web-0 -- true/);
    expect(r.out!.notRunCauses[0]!.fix).not.toMatch(/exec-timeout/);
  });

  it('timeouts: "not run: no answer in time", and only then the --exec-timeout hint', async () => {
    const r = await run({ ...healthyWorld(), fail: (req) => (req.command[0] === 'sh' ? { stdout: '', stderr: '', exitCode: -1, timedOut: true, failure: 'no answer within 80000ms' } : undefined) }, { execTimeout: '20s' });
    expect(r.exitCode).toBe(4);
    expect(r.out!.notRunCauses).toEqual([expect.objectContaining({ cause: 'timeout', label: 'no answer in time', checks: 12 })]);
    expect(r.out!.notRunCauses[0]!.fix).toMatch(/rerun with a longer --exec-timeout \(now 20s\)/);
    expect(r.out!.checks.find((c) => c.kind === 'live' && c.status === 'not-run')!.reason).toBe('not run: pod web-0 gave no answer within 1m20s for 4 lookups');
  });

  it('one pod refuses, the others answer: only its lookups are not run (exit 4), the rest are judged', async () => {
    const r = await run({ ...healthyWorld(), fail: (req) => (req.pod === 'web-1' ? httpError(FACTS('web-1'), 500, { message: 'error dialing backend: EOF' }) : undefined) });
    expect(r.exitCode).toBe(4);
    const live = r.out!.checks.filter((c) => c.kind === 'live');
    expect(live.filter((c) => c.status === 'not-run').map((c) => c.probe)).toEqual(['web-1', 'web-1', 'web-1', 'web-1']);
    expect(live.filter((c) => c.status === 'ok')).toHaveLength(8);
    expect(r.out!.clusterDomain).toBe('cluster.local');
  });

  it('a container that does not exist (-c): "container missing", naming the containers', async () => {
    const r = await run({ ...healthyWorld(), fail: (req) => httpError(FACTS(req.pod), 400, { message: `pod ${req.pod} is not running or has no container ${req.container}` }) }, { container: 'dns' });
    expect(r.exitCode).toBe(4);
    expect(r.out!.notRunCauses).toEqual([expect.objectContaining({ cause: 'container-missing' })]);
    expect(r.out!.checks.find((c) => c.status === 'not-run')!.reason).toBe('not run: pod web-0 has no container dns (its containers: nginx)');
  });

  it('--from a pod that is not running: the lookups are not run (exit 4), the static checks still decide', async () => {
    const w = healthyWorld();
    const client = pod(0, { ns: NS, ip: '10.0.0.9' });
    client.metadata.name = 'client-0';
    client.metadata.ownerReferences = [];
    client.status!.phase = 'Pending';
    w.pods.push(client);
    const r = await run(w, { from: 'client-0' });
    expect(r.exitCode).toBe(4);
    expect(r.execs).toEqual([]);
    const c = r.out!.checks.find((x) => x.kind === 'live')!;
    expect(c).toMatchObject({ check: 'lookups', status: 'not-run', cause: 'pod-not-running', reason: 'not run: pod client-0 is Pending: lookups need a Running pod' });
    expect(c.fix).toMatch(/--from POD/);
  });

  it('no Ready pod to look up from: not run (exit 4), not a pass', async () => {
    const w = healthyWorld();
    w.service = service({ ns: NS, publishNotReadyAddresses: true });
    w.pods = w.pods.map((_, i) => pod(i, { ns: NS, ip: `10.0.0.${i + 1}`, ready: false }));
    const r = await run(w);
    expect(r.exitCode).toBe(4);
    expect(r.out!.checks.find((c) => c.check === 'lookups')).toMatchObject({ status: 'not-run', cause: 'pod-not-running' });
    expect(r.out!.notRunCauses[0]!.label).toBe('no Ready pod to run lookups from');
  });

  it('EndpointSlices not readable (namespace Role without them): that check is skipped with a warning, the rest runs, exit 4', async () => {
    const r = await run({ ...healthyWorld(), forbiddenLists: ['/endpointslices'] });
    expect(r.exitCode).toBe(4);
    expect(r.out!.checks.find((c) => c.check === 'endpointslice')).toMatchObject({ status: 'not-run', cause: 'forbidden' });
    expect(r.out!.checks.filter((c) => c.kind === 'live').every((c) => c.status === 'ok')).toBe(true);
    expect(r.out!.warnings).toEqual([`endpointslice check not run (EndpointSlices of Service nginx): forbidden: you may not list endpointslices.discovery.k8s.io in namespace "${NS}" (context "test")`]);
    expect(r.deps.logs).toEqual([`warning: ${r.out!.warnings[0]}`]);
  });

  it('a healthy run carries complete: true, an empty warnings list and no not-run causes', async () => {
    const r = await run(healthyWorld());
    expect(r.out).toMatchObject({ complete: true, warnings: [], notRunCauses: [], staticOnly: false });
    expect(r.out!.summary).toMatchObject({ total: 20, passed: 20, notRun: 0 });
    expect(r.deps.logs).toEqual([]);
  });
});

// Keep the type import used (KubeObject documents what the fake returns).
export type { KubeObject };
