/**
 * The environment's proxy, by the rules kubectl follows (Go's ProxyFromEnvironment, used by
 * client-go when a cluster has no proxy-url): the pure rules, loadConfig applying them, and a
 * request that really goes through an HTTP CONNECT proxy to a server only the proxy can reach.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envProxy, noProxyMatches } from '../../src/kube/proxy-env.js';
import { loadConfig } from '../../src/kube/config.js';
import { createKube } from '../../src/kube/create.js';
import { KubeApiError } from '../../src/errors.js';

describe('envProxy (Go ProxyFromEnvironment rules)', () => {
  const P = { HTTPS_PROXY: 'http://proxy.corp:3128' };
  it.each([
    ['https server, HTTPS_PROXY', 'https://api.example.com:6443', P, 'http://proxy.corp:3128'],
    ['lower-case https_proxy', 'https://api.example.com', { https_proxy: 'http://p:1' }, 'http://p:1'],
    ['upper-case wins', 'https://api.example.com', { HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' }, 'http://up:1'],
    ['no scheme means http://', 'https://api.example.com', { HTTPS_PROXY: 'proxy.corp:3128' }, 'http://proxy.corp:3128'],
    ['socks5 kept', 'https://api.example.com', { HTTPS_PROXY: 'socks5://s:1080' }, 'socks5://s:1080'],
    ['http server takes HTTP_PROXY, not HTTPS_PROXY', 'http://api.example.com', P, undefined],
    ['http server, HTTP_PROXY', 'http://api.example.com', { HTTP_PROXY: 'http://hp:8080' }, 'http://hp:8080'],
    ['localhost is never proxied', 'https://localhost:6443', P, undefined],
    ['127.0.0.1 is never proxied', 'https://127.0.0.1:6443', P, undefined],
    ['::1 is never proxied', 'https://[::1]:6443', P, undefined],
    ['NO_PROXY=* turns it off', 'https://api.example.com', { ...P, NO_PROXY: '*' }, undefined],
    ['NO_PROXY domain matches the host', 'https://example.com', { ...P, NO_PROXY: 'example.com' }, undefined],
    ['NO_PROXY domain matches subdomains', 'https://api.example.com', { ...P, NO_PROXY: 'example.com' }, undefined],
    ['NO_PROXY domain does not match a longer name', 'https://notexample.com', { ...P, NO_PROXY: 'example.com' }, 'http://proxy.corp:3128'],
    ['NO_PROXY .domain: subdomains only', 'https://example.com', { ...P, NO_PROXY: '.example.com' }, 'http://proxy.corp:3128'],
    ['NO_PROXY *.domain: subdomains', 'https://a.example.com', { ...P, NO_PROXY: '*.example.com' }, undefined],
    ['NO_PROXY CIDR', 'https://10.1.2.3:6443', { ...P, NO_PROXY: 'foo, 10.0.0.0/8' }, undefined],
    ['NO_PROXY CIDR, other network', 'https://192.168.1.2:6443', { ...P, NO_PROXY: '10.0.0.0/8' }, 'http://proxy.corp:3128'],
    ['NO_PROXY IP', 'https://192.168.1.2:6443', { ...P, NO_PROXY: '192.168.1.2' }, undefined],
    ['NO_PROXY host:port, same port', 'https://api.example.com:6443', { ...P, NO_PROXY: 'api.example.com:6443' }, undefined],
    ['NO_PROXY host:port, other port', 'https://api.example.com:443', { ...P, NO_PROXY: 'api.example.com:6443' }, 'http://proxy.corp:3128'],
    ['NO_PROXY with spaces and case', 'https://API.Example.com', { ...P, no_proxy: ' other.org , EXAMPLE.COM ' }, undefined],
    ['NO_PROXY IPv6 CIDR', 'https://[fd00::5]:6443', { ...P, NO_PROXY: 'fd00::/8' }, undefined],
  ])('%s', (_name, server, env, want) => {
    expect(envProxy(server, env as Record<string, string>)?.url).toBe(want);
  });

  it('names the variable it came from', () => {
    expect(envProxy('https://a.example', { https_proxy: 'http://p:1' })).toEqual({ url: 'http://p:1', from: 'https_proxy' });
  });

  it('noProxyMatches ignores empty entries and malformed CIDRs', () => {
    expect(noProxyMatches(',,', 'a.example', '443')).toBe(false);
    expect(noProxyMatches('10.0.0.0/99', '10.1.1.1', '443')).toBe(false);
  });
});

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-proxy-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function kubeconfig(server: string, extra = ''): string {
  const f = path.join(dir, `kc-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(
    f,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true${extra}}}]`,
      'users: [{name: u, user: {token: t0ken}}]',
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]',
      'current-context: x',
    ].join('\n'),
  );
  return f;
}

describe('loadConfig and the environment proxy', () => {
  it('a cluster without proxy-url takes HTTPS_PROXY, in the result and in the config client-node gets', () => {
    const r = loadConfig({ kubeconfig: kubeconfig('https://api.example.com:6443') }, { HTTPS_PROXY: 'http://proxy.corp:3128' });
    expect(r.cluster.proxyUrl).toBe('http://proxy.corp:3128');
    expect(r.config.clusters[0]!.proxyUrl).toBe('http://proxy.corp:3128');
    expect(r.proxy).toEqual({ url: 'http://proxy.corp:3128', from: 'HTTPS_PROXY' });
  });

  it("the kubeconfig's proxy-url wins over the environment; NO_PROXY leaves it direct", () => {
    const own = loadConfig({ kubeconfig: kubeconfig('https://api.example.com', ', proxy-url: "http://own:1"') }, { HTTPS_PROXY: 'http://env:1' });
    expect(own.cluster.proxyUrl).toBe('http://own:1');
    expect(own.proxy?.from).toBe('proxy-url of cluster "c"');
    const direct = loadConfig({ kubeconfig: kubeconfig('https://api.example.com') }, { HTTPS_PROXY: 'http://env:1', NO_PROXY: '.example.com' });
    expect(direct.cluster.proxyUrl).toBeUndefined();
    expect(direct.proxy).toBeUndefined();
  });
});

describe('a request through the HTTP_PROXY of the environment', () => {
  let api: http.Server;
  let proxy: http.Server;
  const tunnels: string[] = [];
  const sockets = new Set<{ destroy(): void }>();
  beforeAll(async () => {
    api = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ gitVersion: 'v1.36.3', auth: req.headers.authorization }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const apiPort = (api.address() as AddressInfo).port;
    // A proxy that alone knows the host "kube.test": CONNECT tunnels, and absolute-form requests.
    proxy = http.createServer((req, res) => {
      const u = new URL(req.url!);
      tunnels.push(`GET ${u.host}`);
      const up = http.request({ host: '127.0.0.1', port: apiPort, path: u.pathname + u.search, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    proxy.on('connect', (req, client, head) => {
      tunnels.push(`CONNECT ${req.url}`);
      const [host, port] = req.url!.split(':');
      if (host !== 'kube.test') return client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      const up = net.connect(Number(port), '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      sockets.add(up).add(client);
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    proxy.closeAllConnections();
    api.closeAllConnections();
    await Promise.all([new Promise<void>((r) => proxy.close(() => r())), new Promise<void>((r) => api.close(() => r()))]);
  });

  it('reaches a server only the proxy can reach, with the credentials intact', async () => {
    const apiPort = (api.address() as AddressInfo).port;
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const kube = createKube({ kubeconfig: kubeconfig(`http://kube.test:${apiPort}`), env: { HTTP_PROXY: proxyUrl } }, () => {});
    const v = await kube.client.get<{ gitVersion: string; auth: string }>('/version');
    expect(v).toEqual({ gitVersion: 'v1.36.3', auth: 'Bearer t0ken' });
    expect(tunnels.some((t) => t.includes('kube.test'))).toBe(true);
  });

  it('a proxy that is down is named in the error, with NO_PROXY as the way around it', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const kube = createKube({ kubeconfig: kubeconfig('http://kube.test:6443'), env: { HTTP_PROXY: `http://127.0.0.1:${port}` } }, () => {});
    const e = await kube.client.get('/version').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toBe(`the proxy http://127.0.0.1:${port} refused the connection (on the way to the API server http://kube.test:6443 (context "x"))`);
    expect((e as KubeApiError).hints.join('\n')).toContain(`The connection goes through the proxy http://127.0.0.1:${port} (HTTP_PROXY). Add the server's host to NO_PROXY`);
  });
});
