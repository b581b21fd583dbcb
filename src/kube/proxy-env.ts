/**
 * The proxy kubectl would use for a server from the environment, by the rules of Go's
 * ProxyFromEnvironment (golang.org/x/net/http/httpproxy), which client-go applies when a cluster
 * has no proxy-url:
 *   - HTTPS_PROXY (else https_proxy) for an https server, HTTP_PROXY (else http_proxy) for http;
 *     a value without a scheme means http:// (`proxy:3128`);
 *   - never for localhost or a loopback address;
 *   - NO_PROXY (else no_proxy), comma-separated: `*` (nothing is proxied), an IP or CIDR
 *     (`10.0.0.0/8`), a host with its subdomains (`example.com`), only the subdomains
 *     (`.example.com`, `*.example.com`), each optionally with `:port`.
 * Pure: the environment is a parameter.
 */
import { BlockList, isIP } from 'node:net';

export interface EnvProxy {
  url: string;
  /** The variable it came from, for messages. */
  from: string;
}

type Env = Record<string, string | undefined>;

function envAny(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/** Go's parseProxy: a value that does not parse with a scheme and host is tried with http://. */
function proxyUrl(value: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  try {
    const u = new URL(withScheme);
    return u.host ? withScheme : undefined;
  } catch {
    return undefined;
  }
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Splits `host:port`, `[v6]:port`, or a bare host (a bare IPv6 address has no port). */
function splitHostPort(entry: string): { host: string; port: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1]!, port: v6[2] ?? '' };
  if (isIP(entry) === 6) return { host: entry, port: '' };
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? { host: m[1]!, port: m[2]! } : { host: entry, port: '' };
}

function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  const v6 = ip.toLowerCase();
  return v6 === '::1' || v6 === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(v6);
}

/** Whether NO_PROXY exempts host:port. */
export function noProxyMatches(noProxy: string, host: string, port: string): boolean {
  const h = stripBrackets(host.toLowerCase());
  const ipType = isIP(h);
  for (const raw of noProxy.split(',')) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return true;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(p);
    if (cidr) {
      const type = isIP(cidr[1]!);
      if (type && ipType === type) {
        const list = new BlockList();
        try {
          list.addSubnet(cidr[1]!, Number(cidr[2]), type === 4 ? 'ipv4' : 'ipv6');
          if (list.check(h, ipType === 4 ? 'ipv4' : 'ipv6')) return true;
        } catch {
          /* a malformed entry matches nothing, as in Go */
        }
      }
      continue;
    }
    const { host: entryHost, port: entryPort } = splitHostPort(p);
    if (!entryHost) continue;
    const portOk = entryPort === '' || entryPort === port;
    if (isIP(entryHost)) {
      if (ipType && sameIp(entryHost, h) && portOk) return true;
      continue;
    }
    let d = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost;
    const matchHost = !d.startsWith('.');
    if (matchHost) d = `.${d}`;
    if ((h.endsWith(d) || (matchHost && h === d.slice(1))) && portOk) return true;
  }
  return false;
}

function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  const type = isIP(a);
  if (!type || type !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, type === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, type === 4 ? 'ipv4' : 'ipv6');
}

/** The proxy for `server` from `env`, or undefined when the connection goes direct. */
export function envProxy(server: string, env: Env): EnvProxy | undefined {
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.replace(/:$/, '');
  const set = scheme === 'https' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : scheme === 'http' ? envAny(env, 'HTTP_PROXY', 'http_proxy') : undefined;
  if (!set) return undefined;
  const url = proxyUrl(set.value);
  if (!url) return undefined;
  const host = stripBrackets(u.hostname.toLowerCase());
  if (host === 'localhost' || (isIP(host) && isLoopback(host))) return undefined;
  const port = u.port || (scheme === 'https' ? '443' : '80');
  const noProxy = envAny(env, 'NO_PROXY', 'no_proxy')?.value ?? '';
  if (noProxyMatches(noProxy, host, port)) return undefined;
  return { url, from: set.name };
}
