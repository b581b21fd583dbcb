/**
 * Parsers for what DNS lookup tools print inside a container: bind9 nslookup (dnsutils), BusyBox
 * nslookup (the pre-1.28 libc-based one and the 1.28+ one that Alpine ships on musl), `getent
 * hosts` and dig (full and +short). Pure. The exit code is only a tie-breaker: BusyBox nslookup
 * exits 1 on some Alpine releases even when the name resolved, and dig +short exits 0 on NXDOMAIN.
 */

export type DnsTool = 'nslookup' | 'getent' | 'dig';

/** Which program printed the output, as far as its format tells. */
export type OutputFlavor = 'bind-nslookup' | 'busybox-nslookup' | 'busybox-legacy-nslookup' | 'getent' | 'dig' | 'dig-short' | 'unknown';

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  /** Target host, lower case, without the trailing dot. */
  target: string;
}

export interface LookupAnswer {
  /** answer: at least one record; notfound: NXDOMAIN or no record of the type; error: the lookup itself failed. */
  status: 'answer' | 'notfound' | 'error';
  flavor: OutputFlavor;
  /** A/AAAA answers, in the order printed, without duplicates. */
  addresses: string[];
  srv: SrvRecord[];
  /** Short explanation for notfound/error ("NXDOMAIN", "no answer", "connection timed out", ...). */
  detail?: string;
}

/** A name as DNS compares it: lower case, no trailing dot. */
export function normalizeName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-f:]*:[0-9a-f:.]*$/i;

export function isIp(s: string): boolean {
  return IPV4.test(s) || (IPV6.test(s) && s.includes(':'));
}

function uniq<T>(xs: T[], key: (x: T) => string = String): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function result(flavor: OutputFlavor, addresses: string[], srv: SrvRecord[], failure: { notfound?: string; error?: string }): LookupAnswer {
  const a = uniq(addresses);
  const s = uniq(srv, (r) => `${r.priority} ${r.weight} ${r.port} ${r.target}`);
  if (a.length || s.length) return { status: 'answer', flavor, addresses: a, srv: s };
  if (failure.error) return { status: 'error', flavor, addresses: [], srv: [], detail: failure.error };
  return { status: 'notfound', flavor, addresses: [], srv: [], detail: failure.notfound ?? 'no answer' };
}

/** Lookup-level failures both nslookup flavors and dig print (timeouts, SERVFAIL, REFUSED). */
function transportFailure(text: string): string | undefined {
  if (/connection refused|network unreachable/i.test(text)) return text.match(/[^\n]*(?:connection refused|network unreachable)[^\n]*/i)![0].replace(/^;;\s*/, '').trim();
  if (/connection timed out|no servers could be reached|timed out/i.test(text)) return 'connection timed out; no DNS server answered';
  if (/SERVFAIL/.test(text)) return 'SERVFAIL';
  if (/REFUSED/.test(text)) return 'REFUSED';
  return undefined;
}

const SRV_LINE = /^(\S+)\s+service\s*=\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s*$/;

function srvFrom(m: RegExpMatchArray): SrvRecord {
  return { priority: Number(m[2]), weight: Number(m[3]), port: Number(m[4]), target: normalizeName(m[5]!) };
}

/** Which nslookup printed this. */
export function nslookupFlavor(text: string): OutputFlavor {
  // BusyBox < 1.28 numbers its addresses ("Address 1: 10.0.0.1 name") and says "can't resolve".
  if (/^Address \d+:/m.test(text) || /^nslookup: can't resolve/m.test(text)) return 'busybox-legacy-nslookup';
  // bind9 writes the server as "10.0.0.10#53"; BusyBox 1.28+ as "10.0.0.10:53".
  if (/^Address:\s+\S+#\d+\s*$/m.test(text)) return 'bind-nslookup';
  if (/^Address:\s+\S+:53\s*$/m.test(text) || /^\*\*\* Can't find /m.test(text)) return 'busybox-nslookup';
  if (/^Server:/m.test(text) || /^\*\* server can't find/m.test(text)) return 'bind-nslookup';
  return 'unknown';
}

/**
 * Any nslookup: bind9, BusyBox 1.28+ (Alpine/musl, with its "** server can't find
 * <name>.<search domain>: NXDOMAIN" noise for every search domain) and BusyBox < 1.28. Answers
 * are the Address lines after a "Name:" line (those before it describe the server) and the
 * "service = " lines of SRV answers.
 */
export function parseNslookup(stdout: string, stderr = '', exitCode = 0): LookupAnswer {
  const text = `${stdout}\n${stderr}`;
  const flavor = nslookupFlavor(text);
  const addresses: string[] = [];
  const srv: SrvRecord[] = [];
  let inAnswer = false;
  let nx: string | undefined;
  let noAnswer = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^Name:\s*\S/.test(line)) {
      inAnswer = true;
      continue;
    }
    const addr = /^Address(?:\s+\d+)?:\s*(\S+)/.exec(line);
    if (addr && inAnswer) {
      const ip = addr[1]!.replace(/#\d+$/, '');
      if (isIp(ip)) addresses.push(ip);
      continue;
    }
    const s = SRV_LINE.exec(line.trim());
    if (s) {
      srv.push(srvFrom(s));
      continue;
    }
    // "nslookup: can't resolve '(null)'" is BusyBox failing to name the server: noise, not an answer.
    if (/^nslookup: can't resolve '\(null\)'/.test(line)) continue;
    if (/^nslookup: can't resolve/.test(line)) nx = 'name does not resolve';
    const sf = /^\*\* server can't find ([^:]+): (\S+)/.exec(line);
    if (sf) nx = sf[2] === 'NXDOMAIN' ? 'NXDOMAIN' : (nx ?? sf[2]);
    if (/^\*\*\* Can't find .*: No answer/.test(line)) noAnswer = true;
  }
  if (addresses.length || srv.length) return result(flavor, addresses, srv, {});
  if (nx === 'NXDOMAIN' || nx === 'name does not resolve') return result(flavor, [], [], { notfound: nx });
  const failure = transportFailure(text) ?? (nx && nx !== 'NXDOMAIN' ? nx : undefined);
  if (failure) return result(flavor, [], [], { error: failure });
  if (noAnswer) return result(flavor, [], [], { notfound: 'no answer' });
  if (/^Usage: nslookup/m.test(text) || /invalid option|unrecognized option/i.test(text)) {
    return result(flavor, [], [], { error: 'this nslookup does not support the query (BusyBox before 1.28 has no -type)' });
  }
  if (exitCode !== 0) return result(flavor, [], [], { error: firstLine(stderr) ?? firstLine(stdout) ?? `exit code ${exitCode}` });
  return result(flavor, [], [], { notfound: 'no answer' });
}

function firstLine(s: string): string | undefined {
  return s.split('\n').map((l) => l.trim()).find(Boolean);
}

/** `getent hosts NAME`: "IP  name [aliases]" lines; exit 2 means the name was not found. */
export function parseGetentHosts(stdout: string, stderr = '', exitCode = 0): LookupAnswer {
  const addresses: string[] = [];
  for (const line of stdout.split('\n')) {
    const ip = line.trim().split(/\s+/)[0];
    if (ip && isIp(ip)) addresses.push(ip);
  }
  if (addresses.length) return result('getent', addresses, [], {});
  if (exitCode === 2 || exitCode === 0) return result('getent', [], [], { notfound: 'name not found' });
  return result('getent', [], [], { error: firstLine(stderr) ?? `getent exited ${exitCode}` });
}

/** dig, full output (with its ";; ->>HEADER<<-" status) or +short (one record a line). */
export function parseDig(stdout: string, stderr = '', exitCode = 0): LookupAnswer {
  const text = `${stdout}\n${stderr}`;
  const full = /^;; ->>HEADER<<-/m.test(stdout) || /^; <<>> DiG/m.test(stdout);
  const addresses: string[] = [];
  const srv: SrvRecord[] = [];
  if (full) {
    let section = '';
    let status: string | undefined;
    for (const raw of stdout.split('\n')) {
      const line = raw.trim();
      const st = /status: ([A-Z]+)/.exec(line);
      if (st) status = st[1];
      const sec = /^;; ([A-Z]+) SECTION:/.exec(line);
      if (sec) {
        section = sec[1]!;
        continue;
      }
      if (!line || line.startsWith(';')) {
        if (!line) section = section === 'ANSWER' ? '' : section;
        continue;
      }
      if (section !== 'ANSWER') continue;
      const f = line.split(/\s+/);
      // name ttl class type rdata...
      const type = f[3];
      if ((type === 'A' || type === 'AAAA') && f[4]) addresses.push(f[4]);
      if (type === 'SRV' && f.length >= 8) srv.push({ priority: Number(f[4]), weight: Number(f[5]), port: Number(f[6]), target: normalizeName(f[7]!) });
    }
    if (status && status !== 'NOERROR' && !addresses.length && !srv.length) {
      return status === 'NXDOMAIN' ? result('dig', [], [], { notfound: 'NXDOMAIN' }) : result('dig', [], [], { error: status });
    }
    const failure = !addresses.length && !srv.length && !status ? transportFailure(text) : undefined;
    return result('dig', addresses, srv, failure ? { error: failure } : { notfound: 'no answer' });
  }
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith(';')) continue;
    const f = line.split(/\s+/);
    if (f.length === 1 && isIp(f[0]!)) addresses.push(f[0]!);
    else if (f.length === 4 && f.slice(0, 3).every((n) => /^\d+$/.test(n))) {
      srv.push({ priority: Number(f[0]), weight: Number(f[1]), port: Number(f[2]), target: normalizeName(f[3]!) });
    }
  }
  const failure = transportFailure(text) ?? (exitCode !== 0 ? (firstLine(stderr) ?? `dig exited ${exitCode}`) : undefined);
  // +short prints nothing for NXDOMAIN and for "no record of this type" alike.
  return result('dig-short', addresses, srv, failure && !addresses.length && !srv.length ? { error: failure } : { notfound: 'no record' });
}

/** Parses the output of `tool` as run by dns-check. */
export function parseLookup(tool: DnsTool, stdout: string, stderr: string, exitCode: number): LookupAnswer {
  switch (tool) {
    case 'nslookup':
      return parseNslookup(stdout, stderr, exitCode);
    case 'getent':
      return parseGetentHosts(stdout, stderr, exitCode);
    case 'dig':
      return parseDig(stdout, stderr, exitCode);
  }
}

/** The cluster domain from a pod's resolv.conf search list ("<ns>.svc.<zone> svc.<zone> <zone>"). */
export function clusterDomainFromResolvConf(text: string, namespace: string): string | undefined {
  const search = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(search|domain)\s/.test(l))
    .flatMap((l) => l.split(/\s+/).slice(1))
    .map(normalizeName);
  const nsPrefix = `${namespace.toLowerCase()}.svc.`;
  const own = search.find((d) => d.startsWith(nsPrefix));
  if (own) return own.slice(nsPrefix.length);
  const svc = search.find((d) => d.startsWith('svc.'));
  return svc ? svc.slice(4) : undefined;
}
