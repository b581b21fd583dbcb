import { describe, expect, it } from 'vitest';
import { isMissingExecutable } from '../../src/core/exec-result.js';
import { BATCH_SCRIPT, batchCommand, batches, buildPlan, evaluateLookup, lookupCommand, parseBatchOutput, toolsFor, type EvalContext, type Lookup } from '../../src/core/dns-plan.js';
import type { LookupAnswer } from '../../src/core/dns-parse.js';
import { NS, pod, pods, service, sts } from '../fixtures/dns/objects.js';

const ZONE = 'cluster.local';
const plan = (mode: Parameters<typeof buildPlan>[0]['mode'], ps = pods(), svc = service()) =>
  buildPlan({ sts: sts(), service: svc, pods: ps, namespace: NS, zone: ZONE, mode });
const brief = (ls: Lookup[]) => ls.map((l) => `${l.probe} ${l.type} ${l.name}`);

describe('buildPlan', () => {
  it('default: each Ready pod looks up itself and the next ordinal (wrapping), the Service and SRV per named port', () => {
    expect(brief(plan({ kind: 'default' }))).toEqual([
      'web-0 A web-0.nginx.shop.svc.cluster.local',
      'web-0 A web-1.nginx.shop.svc.cluster.local',
      'web-0 A nginx.shop.svc.cluster.local',
      'web-0 SRV _web._tcp.nginx.shop.svc.cluster.local',
      'web-1 A web-1.nginx.shop.svc.cluster.local',
      'web-1 A web-2.nginx.shop.svc.cluster.local',
      'web-1 A nginx.shop.svc.cluster.local',
      'web-1 SRV _web._tcp.nginx.shop.svc.cluster.local',
      'web-2 A web-2.nginx.shop.svc.cluster.local',
      'web-2 A web-0.nginx.shop.svc.cluster.local',
      'web-2 A nginx.shop.svc.cluster.local',
      'web-2 SRV _web._tcp.nginx.shop.svc.cluster.local',
    ]);
  });

  it('default: a not-ready pod is not a probe but is still looked up by its predecessor', () => {
    const ps = [pod(0), pod(1, { ready: false }), pod(2)];
    const l = plan({ kind: 'default' }, ps).filter((x) => x.kind === 'pod');
    expect(l.map((x) => `${x.probe}>${x.target}`)).toEqual(['web-0>web-0', 'web-0>web-1', 'web-2>web-2', 'web-2>web-0']);
  });

  it('--from: one probe looks up every pod', () => {
    const l = plan({ kind: 'from', pod: 'client' });
    expect(new Set(l.map((x) => x.probe))).toEqual(new Set(['client']));
    expect(l.filter((x) => x.kind === 'pod').map((x) => x.target)).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it('--all-pairs: n x n pod lookups', () => {
    expect(plan({ kind: 'all-pairs' }).filter((x) => x.kind === 'pod')).toHaveLength(9);
  });

  it('a single pod looks up only itself; unnamed ports get no SRV lookup', () => {
    const l = plan({ kind: 'default' }, [pod(0)], service({ ports: [{ port: 80 }, { name: 'metrics', port: 9100, protocol: 'TCP' }] }));
    expect(brief(l)).toEqual(['web-0 A web-0.nginx.shop.svc.cluster.local', 'web-0 A nginx.shop.svc.cluster.local', 'web-0 SRV _metrics._tcp.nginx.shop.svc.cluster.local']);
  });

  it('no serviceName: nothing to look up', () => {
    expect(buildPlan({ sts: sts({ serviceName: undefined }), service: undefined, pods: pods(), namespace: NS, zone: ZONE, mode: { kind: 'default' } })).toEqual([]);
  });
});

describe('commands and tools', () => {
  it('builds each tool command with a trailing dot', () => {
    expect(lookupCommand('nslookup', 'A', 'web-0.nginx.shop.svc.cluster.local')).toEqual(['nslookup', 'web-0.nginx.shop.svc.cluster.local.']);
    expect(lookupCommand('nslookup', 'SRV', '_web._tcp.x')).toEqual(['nslookup', '-type=srv', '_web._tcp.x.']);
    expect(lookupCommand('getent', 'A', 'x')).toEqual(['getent', 'hosts', 'x.']);
    expect(lookupCommand('dig', 'SRV', 'x')).toEqual(['dig', '+short', 'x.', 'SRV']);
    expect(toolsFor('A')).toEqual(['nslookup', 'getent', 'dig']);
    expect(toolsFor('SRV')).toEqual(['nslookup', 'dig']);
  });
  it('recognises a missing executable', () => {
    const containerd = 'failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "nslookup": executable file not found in $PATH: unknown';
    expect(isMissingExecutable({ stderr: '', exitCode: -1, failure: containerd })).toBe(true);
    expect(isMissingExecutable({ stderr: 'sh: nslookup: not found', exitCode: 127 })).toBe(true);
    expect(isMissingExecutable({ stderr: '', exitCode: 1 })).toBe(false);
  });
});

describe('evaluateLookup', () => {
  const ctx = (over: Partial<EvalContext> = {}): EvalContext => ({ sts: sts(), service: service(), pods: pods(), foreignPods: [], ...over });
  const ans = (a: Partial<LookupAnswer>): LookupAnswer => ({ status: 'answer', flavor: 'bind-nslookup', addresses: [], srv: [], ...a });
  const podLookup: Lookup = { probe: 'web-0', kind: 'pod', type: 'A', name: 'web-1.nginx.shop.svc.cluster.local', target: 'web-1' };
  const svcLookup: Lookup = { probe: 'web-0', kind: 'service', type: 'A', name: 'nginx.shop.svc.cluster.local' };
  const srvLookup: Lookup = { probe: 'web-0', kind: 'srv', type: 'SRV', name: '_web._tcp.nginx.shop.svc.cluster.local', port: { name: 'web', port: 80, protocol: 'TCP' } };
  const srv = (n: number, port = 80) => ({ priority: 0, weight: 33, port, target: `web-${n}.nginx.shop.svc.cluster.local` });

  it('pod record: ok when it answers the pod IP', () => {
    const c = evaluateLookup({ lookup: podLookup, tool: 'nslookup', answer: ans({ addresses: ['10.0.0.11'] }) }, ctx());
    expect(c).toMatchObject({ status: 'ok', check: 'lookup-pod', subject: 'web-0 -> web-1.nginx.shop.svc.cluster.local' });
    expect(c.reason).toMatch(/10\.0\.0\.11 = web-1's pod IP \(nslookup\)/);
  });
  it('pod record: fail on a wrong IP and on NXDOMAIN, with the cause', () => {
    expect(evaluateLookup({ lookup: podLookup, tool: 'nslookup', answer: ans({ addresses: ['10.9.9.9'] }) }, ctx()).reason).toMatch(/but web-1's pod IP is 10\.0\.0\.11/);
    const nx = evaluateLookup({ lookup: podLookup, tool: 'nslookup', answer: ans({ status: 'notfound', detail: 'NXDOMAIN' }) }, ctx({ pods: [pod(0), pod(1, { ready: false }), pod(2)] }));
    expect(nx.status).toBe('fail');
    expect(nx.reason).toMatch(/does not resolve \(nslookup\) \(NXDOMAIN\): web-1 is not Ready and Service nginx does not set publishNotReadyAddresses/);
    expect(nx.fix).toBe('see the publish-not-ready check above');
    const unexplained = evaluateLookup({ lookup: podLookup, tool: 'nslookup', answer: ans({ status: 'notfound', detail: 'NXDOMAIN' }) }, ctx());
    expect(unexplained.reason).toMatch(/is published in the EndpointSlices/);
  });
  it('pod record of a non-headless Service that the DNS server answers anyway: a warning naming the Service', () => {
    const c = evaluateLookup({ lookup: podLookup, tool: 'nslookup', answer: ans({ addresses: ['10.0.0.11'] }) }, ctx({ service: service({ clusterIP: '10.96.3.4' }) }));
    expect(c.status).toBe('warn');
    expect(c.reason).toMatch(/Service nginx is not headless/);
  });
  it('service: ok with exactly the ready pods; fail for a cluster IP or a missing pod; warn for foreign IPs', () => {
    const all = ['10.0.0.10', '10.0.0.11', '10.0.0.12'];
    expect(evaluateLookup({ lookup: svcLookup, tool: 'dig', answer: ans({ addresses: all }) }, ctx()).status).toBe('ok');
    const cip = evaluateLookup({ lookup: svcLookup, tool: 'dig', answer: ans({ addresses: ['10.96.3.4'] }) }, ctx({ service: service({ clusterIP: '10.96.3.4' }) }));
    expect(cip).toMatchObject({ status: 'fail' });
    expect(cip.reason).toMatch(/the cluster IP, not the pods: Service nginx is not headless/);
    expect(evaluateLookup({ lookup: svcLookup, tool: 'dig', answer: ans({ addresses: all.slice(0, 2) }) }, ctx()).reason).toMatch(/missing web-2 \(10\.0\.0\.12\)/);
    const foreign = pod(0, { name: 'other-0', owner: 'other', ip: '10.0.0.99' });
    const w = evaluateLookup({ lookup: svcLookup, tool: 'dig', answer: ans({ addresses: [...all, '10.0.0.99'] }) }, ctx({ foreignPods: [foreign] }));
    expect(w).toMatchObject({ status: 'warn' });
    expect(w.reason).toMatch(/10\.0\.0\.99 \(other-0\)/);
  });
  it('SRV: ok with one target per ready pod; fail when one is missing or the port differs', () => {
    expect(evaluateLookup({ lookup: srvLookup, tool: 'nslookup', answer: ans({ srv: [srv(0), srv(1), srv(2)] }) }, ctx()).status).toBe('ok');
    expect(evaluateLookup({ lookup: srvLookup, tool: 'nslookup', answer: ans({ srv: [srv(0), srv(1)] }) }, ctx()).reason).toMatch(/missing web-2\.nginx/);
    expect(evaluateLookup({ lookup: srvLookup, tool: 'nslookup', answer: ans({ srv: [srv(0, 81), srv(1, 81), srv(2, 81)] }) }, ctx()).status).toBe('fail');
    expect(evaluateLookup({ lookup: srvLookup, tool: 'nslookup', answer: ans({ status: 'notfound', detail: 'NXDOMAIN' }) }, ctx()).status).toBe('fail');
  });
  it('errors fail; no tool is "not run" (never a pass) and suggests --debug-image', () => {
    expect(evaluateLookup({ lookup: podLookup, tool: 'nslookup', answer: ans({ status: 'error', detail: 'SERVFAIL' }) }, ctx()).status).toBe('fail');
    const detail = 'no resolver tool (nslookup, getent, dig) in container nginx of web-0';
    const w = evaluateLookup({ lookup: podLookup, unavailable: detail, problem: { cause: 'binary-missing', pod: 'web-0', detail } }, ctx());
    expect(w).toMatchObject({ status: 'not-run', cause: 'binary-missing', causeLabel: 'program not installed in the image' });
    expect(w.reason).toBe(`not run: ${detail}`);
    expect(w.fix).toMatch(/--debug-image busybox/);
    expect(w.fix).not.toMatch(/exec-timeout/);
    // with --debug-image already given, the hint is about that image
    const d = evaluateLookup({ lookup: podLookup, problem: { cause: 'binary-missing', pod: 'web-0', detail } }, { ...ctx(), debugImage: 'distroless' });
    expect(d.fix).toMatch(/the debug image distroless has no nslookup/);
  });
  it('a lookup that did not run is "not run" with a hint chosen by its cause', () => {
    const hint = (problem: Parameters<typeof evaluateLookup>[0]['problem']) => evaluateLookup({ lookup: podLookup, problem }, { ...ctx(), execTimeout: '5s' });
    const forbidden = hint({ cause: 'forbidden', pod: 'web-0', detail: 'forbidden: you may not create pods/exec "web-0"', verb: 'create', resource: 'pods/exec', canI: ['kubectl auth can-i create pods --subresource=exec -n shop'] });
    expect(forbidden).toMatchObject({ status: 'not-run', cause: 'forbidden', causeLabel: 'exec forbidden (pods/exec create) in namespace shop' });
    expect(forbidden.fix).toMatch(/`kubectl auth can-i create pods --subresource=exec -n shop`/);
    expect(forbidden.fix).toMatch(/kubectl sts dns-check web -n shop --static-only/);
    const timeout = hint({ cause: 'timeout', pod: 'web-0', detail: 'nslookup in pod web-0 gave no answer within 5s' });
    expect(timeout.fix).toMatch(/rerun with a longer --exec-timeout \(now 5s\)/);
    const refused = hint({ cause: 'refused', pod: 'web-0', detail: 'no exec found' });
    expect(refused.fix).toMatch(/kubectl exec -n shop web-0 -- true/);
    const notRunning = hint({ cause: 'pod-not-running', pod: 'web-0', detail: 'pod web-0 is Pending, not Running' });
    expect(notRunning.fix).toMatch(/wait until web-0 is Running.*--from POD/);
    const gone = hint({ cause: 'container-missing', pod: 'web-0', detail: 'pod web-0 has no container dns' });
    expect(gone.fix).toMatch(/-c CONTAINER/);
    for (const c of [forbidden, refused, notRunning, gone]) expect(c.fix).not.toMatch(/exec-timeout/);
  });
});

describe('batches', () => {
  it('groups by probe pod in chunks, keeping plan order', () => {
    const l = plan({ kind: 'all-pairs' });
    const b = batches(l, 4);
    expect(b.map((x) => `${x[0]!.probe}:${x.length}`)).toEqual(['web-0:4', 'web-0:1', 'web-1:4', 'web-1:1', 'web-2:4', 'web-2:1']);
    expect(b.flat()).toEqual(l);
  });
  it('builds the sh command with TYPE:NAME. arguments', () => {
    const cmd = batchCommand(plan({ kind: 'default' }).slice(2, 4));
    expect(cmd.slice(0, 2)).toEqual(['sh', '-c']);
    expect(cmd[2]).toBe(BATCH_SCRIPT);
    expect(cmd.slice(3)).toEqual(['sh', 'A:nginx.shop.svc.cluster.local.', 'SRV:_web._tcp.nginx.shop.svc.cluster.local.']);
  });
  it('splits framed output into blocks, and refuses incomplete framing', () => {
    const out = '@@ksts-begin\n@@ksts-tool nslookup\nName:\tx\nAddress: 10.0.0.1\n@@ksts-end 0\n@@ksts-begin\n@@ksts-tool none\n@@ksts-end 0\n';
    expect(parseBatchOutput(out, 2)).toEqual([
      { tool: 'nslookup', output: 'Name:\tx\nAddress: 10.0.0.1', exitCode: 0 },
      { tool: 'none', output: '', exitCode: 0 },
    ]);
    expect(parseBatchOutput(out, 3)).toBeUndefined();
    expect(parseBatchOutput('@@ksts-begin\n@@ksts-tool nslookup\nName:\tx\n', 1)).toBeUndefined();
  });
});
