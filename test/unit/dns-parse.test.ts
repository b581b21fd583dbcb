import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterDomainFromResolvConf, nslookupFlavor, parseDig, parseGetentHosts, parseLookup, parseNslookup } from '../../src/core/dns-parse.js';

const dir = path.resolve(import.meta.dirname, '../fixtures/dns');
const fx = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

describe('parseNslookup on real outputs', () => {
  const cases: { file: string; exit?: number; flavor: string; status: string; addresses?: string[]; srvTargets?: string[]; detail?: string }[] = [
    // seeds
    { file: 'seed000-bind-nslookup-srv-nginx-default.txt', flavor: 'bind-nslookup', status: 'answer', srvTargets: ['web-1.ub.default.svc.cluster.local', 'web-0.ub.default.svc.cluster.local'] },
    { file: 'seed002-busybox-legacy-nslookup-satefulset-0.txt', flavor: 'busybox-legacy-nslookup', status: 'answer', addresses: ['172.16.5.117'] },
    { file: 'seed002-busybox-legacy-nslookup-satefulset-1.txt', flavor: 'busybox-legacy-nslookup', status: 'answer', addresses: ['172.16.4.12'] },
    // bind9 9.18 nslookup against the e2e CoreDNS (generated here)
    { file: 'bind9.18-nslookup-a-pod-web-0.txt', flavor: 'bind-nslookup', status: 'answer', addresses: ['10.0.0.1'] },
    { file: 'bind9.18-nslookup-a-headless-service.txt', flavor: 'bind-nslookup', status: 'answer', addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] },
    {
      file: 'bind9.18-nslookup-srv-web.txt',
      flavor: 'bind-nslookup',
      status: 'answer',
      srvTargets: ['web-0.nginx.dnsman.svc.cluster.local', 'web-1.nginx.dnsman.svc.cluster.local', 'web-2.nginx.dnsman.svc.cluster.local'],
    },
    { file: 'bind9.18-nslookup-a-nxdomain.txt', exit: 1, flavor: 'bind-nslookup', status: 'notfound', detail: 'NXDOMAIN' },
    { file: 'bind9.18-nslookup-srv-nxdomain.txt', exit: 1, flavor: 'bind-nslookup', status: 'notfound', detail: 'NXDOMAIN' },
    { file: 'bind9.18-nslookup-timeout.txt', exit: 1, flavor: 'unknown', status: 'error', detail: 'communications error to 127.0.0.1#1: connection refused' },
    // public BusyBox / Alpine outputs
    { file: 'busybox-1.28-nslookup-kubernetes-default.txt', flavor: 'busybox-legacy-nslookup', status: 'answer', addresses: ['10.96.0.1'] },
    { file: 'busybox-legacy-nslookup-cant-resolve.txt', exit: 1, flavor: 'busybox-legacy-nslookup', status: 'notfound' },
    { file: 'busybox-1.31.1-nslookup-kubernetes-default-nxdomain.txt', exit: 1, flavor: 'busybox-nslookup', status: 'notfound', detail: 'NXDOMAIN' },
    { file: 'busybox-nslookup-fqdn-kubernetes-default.txt', flavor: 'busybox-nslookup', status: 'answer', addresses: ['10.0.0.1'] },
    // the answer is there although search-domain noise follows and some Alpine releases exit 1
    { file: 'busybox-1.34.1-nslookup-search-noise-answer.txt', exit: 1, flavor: 'busybox-nslookup', status: 'answer', addresses: ['10.233.36.216'] },
    { file: 'busybox-1.34.1-nslookup-search-noise-nxdomain.txt', exit: 1, flavor: 'busybox-nslookup', status: 'notfound', detail: 'NXDOMAIN' },
    { file: 'alpine-3.11-nslookup-search-all-nxdomain.txt', exit: 1, flavor: 'busybox-nslookup', status: 'notfound', detail: 'NXDOMAIN' },
  ];
  for (const c of cases) {
    it(c.file, () => {
      const text = fx(c.file);
      expect(nslookupFlavor(text)).toBe(c.flavor);
      const r = parseNslookup(text, '', c.exit ?? 0);
      expect(r.status).toBe(c.status);
      expect(r.addresses).toEqual(c.addresses ?? []);
      expect(r.srv.map((s) => s.target)).toEqual(c.srvTargets ?? []);
      if (c.detail) expect(r.detail).toBe(c.detail);
    });
  }

  it('reads the SRV fields of the seed answer', () => {
    const r = parseNslookup(fx('seed000-bind-nslookup-srv-nginx-default.txt'));
    expect(r.srv[0]).toEqual({ priority: 10, weight: 50, port: 0, target: 'web-1.ub.default.svc.cluster.local' });
  });

  it('does not take the server address for an answer', () => {
    const r = parseNslookup('Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n** server can\'t find x.y: NXDOMAIN\n', '', 1);
    expect(r).toMatchObject({ status: 'notfound', addresses: [], detail: 'NXDOMAIN' });
  });

  it('reports a timeout as an error, not as notfound', () => {
    const r = parseNslookup(';; connection timed out; no servers could be reached\n\n', '', 1);
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(/timed out/);
  });

  it('treats BusyBox usage text (no -type support) as an unsupported query', () => {
    const r = parseNslookup('', 'BusyBox v1.27.2 multi-call binary.\n\nUsage: nslookup [HOST] [SERVER]\n', 1);
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(/does not support/);
  });
});

describe('parseDig', () => {
  it('reads the full output of the seed (DiG 9.9.4)', () => {
    const r = parseDig(fx('seed002-dig-a-satefulset-0.txt'));
    expect(r).toMatchObject({ status: 'answer', flavor: 'dig', addresses: ['172.16.5.117'] });
  });
  it('reads NXDOMAIN from the header of a full output', () => {
    const out = fx('seed002-dig-a-satefulset-0.txt').replace('status: NOERROR', 'status: NXDOMAIN').replace(/;; ANSWER SECTION:\n.*\n/, '');
    expect(parseDig(out)).toMatchObject({ status: 'notfound', detail: 'NXDOMAIN' });
  });
  it('reads the full output of DiG 9.18 against the e2e CoreDNS', () => {
    expect(parseDig(fx('dig9.18-full-a-pod-web-1.txt'))).toMatchObject({ status: 'answer', addresses: ['10.0.0.2'] });
  });
  it('reads real +short outputs (A, SRV, empty for NXDOMAIN)', () => {
    expect(parseDig(fx('dig9.18-short-a-headless-service.txt')).addresses).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(parseDig(fx('dig9.18-short-srv-web.txt')).srv.map((r) => `${r.port} ${r.target}`)).toEqual([
      '80 web-0.nginx.dnsman.svc.cluster.local',
      '80 web-1.nginx.dnsman.svc.cluster.local',
      '80 web-2.nginx.dnsman.svc.cluster.local',
    ]);
    expect(parseDig(fx('dig9.18-short-a-nxdomain.txt')).status).toBe('notfound');
  });
  it('reads +short A and SRV lines', () => {
    expect(parseDig('10.0.0.5\n10.0.0.6\n')).toMatchObject({ status: 'answer', flavor: 'dig-short', addresses: ['10.0.0.5', '10.0.0.6'] });
    expect(parseDig('0 50 80 web-0.nginx.ns.svc.cluster.local.\n').srv).toEqual([{ priority: 0, weight: 50, port: 80, target: 'web-0.nginx.ns.svc.cluster.local' }]);
  });
  it('treats empty +short output as no record and a timeout as an error', () => {
    expect(parseDig('').status).toBe('notfound');
    expect(parseDig(';; connection timed out; no servers could be reached\n', '', 9).status).toBe('error');
  });
});

describe('parseGetentHosts', () => {
  it('reads a real glibc answer', () => {
    expect(parseGetentHosts(fx('getent-hosts-localhost-debian12.txt'))).toMatchObject({ status: 'answer', addresses: ['127.0.0.1'] });
  });
  it('treats exit 2 with no output as not found', () => {
    expect(parseGetentHosts(fx('getent-hosts-not-found-debian12.txt'), '', 2).status).toBe('notfound');
  });
  it('dispatches by tool', () => {
    expect(parseLookup('getent', '10.1.2.3      web-0.nginx\n', '', 0).addresses).toEqual(['10.1.2.3']);
  });
});

describe('clusterDomainFromResolvConf', () => {
  it('takes the zone from the <ns>.svc.<zone> search entry', () => {
    const conf = 'search shop.svc.cluster.local svc.cluster.local cluster.local c.proj.internal\nnameserver 10.96.0.10\noptions ndots:5\n';
    expect(clusterDomainFromResolvConf(conf, 'shop')).toBe('cluster.local');
  });
  it('handles a custom zone and falls back to svc.<zone>', () => {
    expect(clusterDomainFromResolvConf('search other.svc.k8s.example svc.k8s.example k8s.example\n', 'shop')).toBe('k8s.example');
  });
  it('answers undefined without a Kubernetes search list', () => {
    expect(clusterDomainFromResolvConf('nameserver 8.8.8.8\n', 'shop')).toBeUndefined();
  });
});
