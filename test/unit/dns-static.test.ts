import { describe, expect, it } from 'vitest';
import { staticChecks, whyNoRecord, podsOfSet, type StaticInput } from '../../src/core/dns.js';
import { pod, pods, service, slice, sts } from '../fixtures/dns/objects.js';

function healthy(): StaticInput {
  const ps = pods();
  return { sts: sts(), service: service(), pods: ps, selectedPods: ps, endpointSlices: [slice(ps)] };
}

const failing = (input: StaticInput) => staticChecks(input).filter((c) => c.status === 'fail');
const byCheck = (input: StaticInput, check: string) => staticChecks(input).filter((c) => c.check === check);

describe('staticChecks', () => {
  it('passes a healthy set with one ok row per check', () => {
    const checks = staticChecks(healthy());
    expect(checks.every((c) => c.status === 'ok')).toBe(true);
    expect(checks.map((c) => c.check)).toEqual([
      'service-name',
      'service-exists',
      'service-headless',
      'service-selector',
      'service-ports',
      'publish-not-ready',
      'pod-hostname',
      'endpointslice',
    ]);
  });

  it('fails when spec.serviceName is not set, and stops there', () => {
    const checks = staticChecks({ ...healthy(), sts: sts({ serviceName: undefined }) });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ check: 'service-name', status: 'fail', subject: 'StatefulSet/web' });
    expect(checks[0]!.fix).toMatch(/--cascade=orphan/);
  });

  it('fails when the Service does not exist, naming similar ones', () => {
    const f = failing({ ...healthy(), service: undefined, endpointSlices: [], serviceNames: ['nginx-headless', 'redis'] });
    expect(f[0]).toMatchObject({ check: 'service-exists', subject: 'Service/nginx' });
    expect(f[0]!.reason).toMatch(/not found in namespace shop \(similar: nginx-headless\)/);
    expect(f[0]!.fix).toMatch(/clusterIP: None/);
  });

  it('fails a Service that is not headless with the clusterIP and the fix', () => {
    const [c] = byCheck({ ...healthy(), service: service({ clusterIP: '10.96.3.4' }) }, 'service-headless');
    expect(c).toMatchObject({ status: 'fail', subject: 'Service/nginx' });
    expect(c!.reason).toMatch(/clusterIP 10\.96\.3\.4: a StatefulSet's governing Service must be headless/);
    expect(c!.fix).toMatch(/recreate the Service with clusterIP: None/);
  });

  it('fails a selector that misses a pod, naming the pod and the label', () => {
    const ps = [pod(0), pod(1), pod(2, { labels: { app: 'nginx-old' } })];
    const input: StaticInput = { ...healthy(), pods: ps, selectedPods: ps.slice(0, 2), endpointSlices: [slice(ps.slice(0, 2))] };
    const [c] = byCheck(input, 'service-selector');
    expect(c).toMatchObject({ status: 'fail' });
    expect(c!.reason).toMatch(/selector app=nginx misses web-2: app=nginx \(pod has app=nginx-old\)/);
  });

  it('warns about foreign pods the selector also selects', () => {
    const foreign = pod(0, { name: 'other-0', owner: 'other' });
    const input: StaticInput = { ...healthy(), selectedPods: [...pods(), foreign] };
    const [c] = byCheck(input, 'service-selector');
    expect(c).toMatchObject({ status: 'warn' });
    expect(c!.reason).toMatch(/also selects 1 pod\(s\) not of web: other-0/);
  });

  it('fails a Service without a selector', () => {
    const [c] = byCheck({ ...healthy(), service: service({ selector: undefined }) }, 'service-selector');
    expect(c).toMatchObject({ status: 'fail' });
    expect(c!.reason).toMatch(/no selector/);
  });

  it('fails an unnamed port (no SRV records)', () => {
    const [c] = byCheck({ ...healthy(), service: service({ ports: [{ port: 80, protocol: 'TCP' }] }) }, 'service-ports');
    expect(c).toMatchObject({ status: 'fail' });
    expect(c!.reason).toMatch(/port 80\/TCP has no name: SRV records \(_<name>\._tcp\.nginx\.shop\.svc\.<zone>\)/);
    expect(c!.fix).toMatch(/name: web/);
  });

  it('fails a not-ready pod without publishNotReadyAddresses, and passes it with the flag', () => {
    const ps = [pod(0), pod(1, { ready: false }), pod(2)];
    const input: StaticInput = { ...healthy(), pods: ps, selectedPods: ps, endpointSlices: [slice(ps)] };
    const [c] = byCheck(input, 'publish-not-ready');
    expect(c).toMatchObject({ status: 'fail' });
    expect(c!.reason).toMatch(/web-1 is not Ready and Service nginx does not set publishNotReadyAddresses/);
    const withFlag = { ...input, service: service({ publishNotReadyAddresses: true }), endpointSlices: [slice(ps, { publishNotReady: true })] };
    expect(failing(withFlag)).toEqual([]);
  });

  it('fails a pod whose subdomain is not the Service', () => {
    const ps = [pod(0), pod(1, { subdomain: 'old' }), pod(2)];
    const c = byCheck({ ...healthy(), pods: ps, selectedPods: ps }, 'pod-hostname');
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ status: 'fail', subject: 'Pod/web-1' });
  });

  it('fails when an EndpointSlice lacks a ready pod or its hostname', () => {
    const ps = pods();
    const missing = byCheck({ ...healthy(), endpointSlices: [slice(ps.slice(0, 2))] }, 'endpointslice');
    expect(missing[0]!.reason).toMatch(/no EndpointSlice of nginx lists web-2 \(10\.0\.0\.12\)/);
    const noHost = byCheck({ ...healthy(), endpointSlices: [slice(ps, { hostname: (p) => (p.metadata.name === 'web-0' ? undefined : p.metadata.name) })] }, 'endpointslice');
    expect(noHost[0]!.reason).toMatch(/endpoint for web-0 in nginx-abcde has hostname <none>/);
  });

  it('warns when the set has no pods', () => {
    const c = byCheck({ ...healthy(), pods: [], selectedPods: [], endpointSlices: [] }, 'pods');
    expect(c[0]).toMatchObject({ status: 'warn' });
  });
});

describe('whyNoRecord', () => {
  it('names the first cause', () => {
    const base = { sts: sts(), service: service() };
    expect(whyNoRecord(pod(0), base)).toBeUndefined();
    expect(whyNoRecord(pod(0), { ...base, service: undefined })).toBe('Service nginx does not exist');
    expect(whyNoRecord(pod(0, { ready: false }), base)).toMatch(/not Ready/);
    expect(whyNoRecord(pod(0, { ready: false }), { ...base, service: service({ publishNotReadyAddresses: true }) })).toBeUndefined();
  });
});

describe('podsOfSet', () => {
  it('keeps the pods the set controls, in ordinal order', () => {
    const got = podsOfSet(sts(), [pod(10), pod(2), pod(0, { name: 'other-0', owner: 'other' }), pod(1)]);
    expect(got.map((p) => p.metadata.name)).toEqual(['web-1', 'web-2', 'web-10']);
  });
});
