/**
 * The live part of dns-check, pure: which lookups to run from which probe pod, the command line
 * for each resolver tool, and the verdict on each answer against the pods' IPs and Ready set.
 *
 * Probes: by default each Ready pod looks up itself and the next ordinal (the last wraps to the
 * first); --from POD looks up every pod from one pod; --all-pairs: every Ready pod, every pod.
 * Each probe also looks up the Service name and, per named port, the SRV name
 * `_<port>._<proto>.<service>.<ns>.svc.<zone>`.
 */
import type { Pod, Service, ServicePort, StatefulSet } from './types.js';
import { isPodReady } from './pods.js';
import { mapSelectorMatches } from './labels.js';
import { isHeadless, noRecordCause, shouldBePublished, whyNoRecord, type DnsCheck } from './dns.js';
import { normalizeName, type DnsTool, type LookupAnswer } from './dns-parse.js';
import { causeHint, causeLabel, type ExecProblem } from './exec-cause.js';

export type ProbeMode = { kind: 'default' } | { kind: 'from'; pod: string } | { kind: 'all-pairs' };

export interface Lookup {
  /** Pod the lookup runs in. */
  probe: string;
  kind: 'pod' | 'service' | 'srv';
  type: 'A' | 'SRV';
  /** Fully qualified, without the trailing dot. */
  name: string;
  /** kind pod: the pod whose record this is. */
  target?: string;
  /** kind srv: the Service port. */
  port?: ServicePort;
}

export interface PlanInput {
  sts: StatefulSet;
  service: Service | undefined;
  /** The set's pods in ordinal order. */
  pods: Pod[];
  namespace: string;
  zone: string;
  mode: ProbeMode;
}

export function podFqdn(pod: string, service: string, ns: string, zone: string): string {
  return `${pod}.${service}.${ns}.svc.${zone}`.toLowerCase();
}

export function serviceFqdn(service: string, ns: string, zone: string): string {
  return `${service}.${ns}.svc.${zone}`.toLowerCase();
}

export function srvName(port: ServicePort, service: string, ns: string, zone: string): string {
  return `_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${serviceFqdn(service, ns, zone)}`;
}

/** Whether a pod can run lookups: Running with an IP (Ready for the default and all-pairs modes). */
export function canProbe(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
}

/** Probe pods for the mode (names), in ordinal order. --from is validated by the caller. */
export function probePods(pods: Pod[], mode: ProbeMode): string[] {
  if (mode.kind === 'from') return [mode.pod];
  return pods.filter((p) => canProbe(p) && isPodReady(p)).map((p) => p.metadata.name);
}

export function buildPlan(input: PlanInput): Lookup[] {
  const { pods, namespace: ns, zone, mode } = input;
  const svc = input.sts.spec.serviceName;
  if (!svc) return [];
  const names = pods.map((p) => p.metadata.name);
  const lookups: Lookup[] = [];
  for (const probe of probePods(pods, mode)) {
    let targets: string[];
    if (mode.kind === 'default') {
      const i = names.indexOf(probe);
      targets = [probe];
      if (names.length > 1) targets.push(names[(i + 1) % names.length]!);
    } else {
      targets = names;
    }
    for (const t of targets) lookups.push({ probe, kind: 'pod', type: 'A', name: podFqdn(t, svc, ns, zone), target: t });
    lookups.push({ probe, kind: 'service', type: 'A', name: serviceFqdn(svc, ns, zone) });
    for (const port of input.service?.spec.ports ?? []) {
      if (!port.name) continue;
      lookups.push({ probe, kind: 'srv', type: 'SRV', name: srvName(port, svc, ns, zone), port });
    }
  }
  return lookups;
}

/** Tools to try for a lookup, in order (getent cannot ask for SRV). */
export function toolsFor(type: 'A' | 'SRV'): DnsTool[] {
  return type === 'SRV' ? ['nslookup', 'dig'] : ['nslookup', 'getent', 'dig'];
}

/** The command line for a lookup with a tool. The trailing dot keeps the search list out of it. */
export function lookupCommand(tool: DnsTool, type: 'A' | 'SRV', name: string): string[] {
  const fqdn = `${name}.`;
  switch (tool) {
    case 'nslookup':
      return type === 'SRV' ? ['nslookup', '-type=srv', fqdn] : ['nslookup', fqdn];
    case 'getent':
      return ['getent', 'hosts', fqdn];
    case 'dig':
      return ['dig', '+short', fqdn, type];
  }
}


/** What a lookup returned, as the command collected it. */
export interface LookupOutcome {
  lookup: Lookup;
  /** The tool that answered; undefined when no tool could run. */
  tool?: DnsTool | undefined;
  /** The container the lookup ran in (an ephemeral debug container's name, or the chosen container). */
  container?: string | undefined;
  answer?: LookupAnswer | undefined;
  /** Whether the lookup ran in an ephemeral debug container added for it. */
  debug?: boolean;
  /** Why there is no answer to judge: no resolver tool, exec failure, timeout. */
  unavailable?: string | undefined;
  /** The same, classified by cause (decides the hint). */
  problem?: ExecProblem | undefined;
}

export interface EvalContext {
  sts: StatefulSet;
  service: Service | undefined;
  pods: Pod[];
  /** Pods of other owners that the Service selects (their IPs are known extras). */
  foreignPods: Pod[];
  /** --debug-image, when given (changes the hint for a missing resolver tool). */
  debugImage?: string | undefined;
  /** --exec-timeout as given, for the timeout hint. */
  execTimeout?: string | undefined;
}

/** A check that could not run because of `p`: status not-run, with the cause and the hint for that cause. */
export function notRunCheck(check: string, subject: string, p: ExecProblem, ctx: Pick<EvalContext, 'sts' | 'debugImage' | 'execTimeout'>): DnsCheck {
  const ns = ctx.sts.metadata.namespace ?? 'default';
  const set = ctx.sts.metadata.name;
  const hint = causeHint(p, ns, {
    staticOnly: `kubectl sts dns-check ${set} -n ${ns} --static-only`,
    timeoutFlag: `--exec-timeout (now ${ctx.execTimeout ?? '20s'})`,
    missingBinary: ctx.debugImage
      ? `the debug image ${ctx.debugImage} has no nslookup, getent or dig either: pass an image that has one (e.g. --debug-image busybox:1.36)`
      : `the image has no nslookup, getent or dig: rerun with --debug-image busybox:1.36 to look up from an ephemeral debug container, or --from a pod whose image has nslookup`,
    otherPod: `--from POD`,
    otherContainer: `-c CONTAINER`,
  });
  const label = causeLabel(p, ns);
  return { check, status: 'not-run', subject, reason: `not run: ${p.detail}`, fix: hint, cause: p.cause, causeLabel: label };
}

function arrow(l: Lookup): string {
  return `${l.probe} -> ${l.type === 'SRV' ? 'SRV ' : ''}${l.name}`;
}

const COREDNS_FIX = `check CoreDNS: kubectl -n kube-system get pods -l k8s-app=kube-dns, and its logs`;

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** The verdict on one lookup. */
export function evaluateLookup(o: LookupOutcome, ctx: EvalContext): DnsCheck {
  const l = o.lookup;
  const subject = arrow(l);
  const check = `lookup-${l.kind}`;
  const via = o.tool ? ` (${o.tool}${o.debug && o.container ? ` in debug container ${o.container}` : ''})` : '';
  if (!o.answer) {
    const p: ExecProblem = o.problem ?? { cause: 'refused', pod: l.probe, detail: o.unavailable ?? `no answer from ${l.probe}` };
    return notRunCheck(check, subject, p, ctx);
  }
  const a = o.answer;
  if (a.status === 'error') {
    return { check, status: 'fail', subject, reason: `lookup failed${via}: ${a.detail ?? 'error'}`, fix: COREDNS_FIX };
  }
  const svc = ctx.service;
  const svcName = ctx.sts.spec.serviceName ?? '';
  if (l.kind === 'pod') {
    const pod = ctx.pods.find((p) => p.metadata.name === l.target);
    const ip = pod?.status?.podIP;
    const expected = pod ? shouldBePublished(pod, svc) && whyNoRecord(pod, ctx) === undefined : false;
    const why = pod ? whyNoRecord(pod, ctx) : `${l.target} does not exist`;
    if (a.status === 'notfound') {
      if (!expected) {
        const cause = pod ? noRecordCause(pod, ctx) : undefined;
        return {
          check,
          status: 'fail',
          subject,
          reason: `does not resolve${via} (${a.detail}): ${why ?? 'no record is published for it'}`,
          fix: cause ? `see the ${cause.check} check above` : `check that ${l.target} exists and runs`,
        };
      }
      return {
        check,
        status: 'fail',
        subject,
        reason: `does not resolve${via} (${a.detail}), though ${l.target} is published in the EndpointSlices with IP ${ip}`,
        fix: `${COREDNS_FIX}; is its kubernetes plugin serving the zone of ${l.name}? (else pass --cluster-domain)`,
      };
    }
    if (ip && sameSet(a.addresses, [ip])) {
      const good = `${a.addresses.join(', ')} = ${l.target}'s pod IP${via}`;
      if (expected) return { check, status: 'ok', subject, reason: good };
      if (svc && !isHeadless(svc)) {
        return {
          check,
          status: 'warn',
          subject,
          reason: `${good}, but Service ${svcName} is not headless: the Kubernetes DNS spec gives per-pod names only to headless Services; this DNS server answers anyway, others (kube-dns) do not`,
          fix: `recreate Service ${svcName} with clusterIP: None`,
        };
      }
      return { check, status: 'warn', subject, reason: `${good}, although ${why} (cached or stale record?)`, fix: `re-run in a few seconds` };
    }
    if (ip && a.addresses.includes(ip)) {
      return { check, status: 'warn', subject, reason: `answers ${a.addresses.join(', ')}${via}: ${l.target}'s pod IP ${ip} and others`, fix: `another pod claims the same hostname and subdomain: check 'kubectl get pods -o wide' for duplicates` };
    }
    return {
      check,
      status: 'fail',
      subject,
      reason: `answers ${a.addresses.join(', ') || '(no address)'}${via}, but ${l.target}'s pod IP is ${ip ?? '<none>'}`,
      fix: svc && !isHeadless(svc) ? `make Service ${svcName} headless (clusterIP: None)` : `stale record: re-run in a few seconds; if it stays, ${COREDNS_FIX}`,
    };
  }

  const published = ctx.pods.filter((p) => shouldBePublished(p, svc) && (!svc || mapSelectorMatches(svc.spec.selector, p.metadata.labels)));
  if (l.kind === 'service') {
    if (svc && !isHeadless(svc)) {
      const answersCluster = svc.spec.clusterIP !== undefined && a.addresses.includes(svc.spec.clusterIP);
      return {
        check,
        status: 'fail',
        subject,
        reason: `answers ${a.addresses.join(', ') || `nothing (${a.detail})`}${via}${answersCluster ? ', the cluster IP, not the pods' : ''}: Service ${svcName} is not headless`,
        fix: `recreate Service ${svcName} with clusterIP: None`,
      };
    }
    const want = published.map((p) => p.status!.podIP!);
    if (a.status === 'notfound') {
      if (!want.length) return { check, status: 'ok', subject, reason: `no record${via} (${a.detail}), as expected: no pod is published` };
      return { check, status: 'fail', subject, reason: `does not resolve${via} (${a.detail}); expected ${want.join(', ')}`, fix: svc ? COREDNS_FIX : `create Service ${svcName}` };
    }
    const missing = published.filter((p) => !a.addresses.includes(p.status!.podIP!));
    const foreignIps = new Map(ctx.foreignPods.filter((p) => p.status?.podIP).map((p) => [p.status!.podIP!, p.metadata.name]));
    const extra = a.addresses.filter((x) => !want.includes(x));
    if (missing.length) {
      return {
        check,
        status: 'fail',
        subject,
        reason: `answers ${a.addresses.join(', ')}${via}; missing ${missing.map((p) => `${p.metadata.name} (${p.status!.podIP})`).join(', ')}`,
        fix: `stale answer or the pods are not in the EndpointSlices: re-run in a few seconds, then see the checks above`,
      };
    }
    if (extra.length) {
      return {
        check,
        status: 'warn',
        subject,
        reason: `answers the ${want.length} pod IP(s)${via} and also ${extra.map((x) => (foreignIps.has(x) ? `${x} (${foreignIps.get(x)})` : x)).join(', ')}, not of ${ctx.sts.metadata.name}`,
        fix: `narrow Service ${svcName}'s selector to ${ctx.sts.metadata.name}'s pods`,
      };
    }
    return { check, status: 'ok', subject, reason: `${a.addresses.length} address(es)${via}, exactly the published pods of ${ctx.sts.metadata.name}` };
  }

  // SRV
  const ns = ctx.sts.metadata.namespace ?? 'default';
  const zone = l.name.split(`.${ns}.svc.`)[1] ?? '';
  const wantTargets = published.map((p) => podFqdn(p.metadata.name, svcName, ns, zone));
  if (a.status === 'notfound') {
    if (!wantTargets.length) return { check, status: 'ok', subject, reason: `no record${via} (${a.detail}), as expected: no pod is published` };
    return { check, status: 'fail', subject, reason: `no SRV record${via} (${a.detail}); expected ${wantTargets.length} target(s)`, fix: svc && !isHeadless(svc) ? `make Service ${svcName} headless` : COREDNS_FIX };
  }
  const got = a.srv.map((r) => normalizeName(r.target));
  const missing = wantTargets.filter((t) => !got.includes(t));
  const wrongPort = a.srv.filter((r) => l.port && r.port !== l.port.port);
  if (missing.length) {
    return { check, status: 'fail', subject, reason: `SRV answers ${got.length} target(s)${via}; missing ${missing.join(', ')}`, fix: `stale answer or those pods have no records: see the checks above` };
  }
  if (wrongPort.length) {
    return { check, status: 'fail', subject, reason: `SRV answers port ${wrongPort[0]!.port}${via}, Service port ${l.port?.name} is ${l.port?.port}`, fix: COREDNS_FIX };
  }
  const extra = got.filter((t) => !wantTargets.includes(t));
  if (extra.length) {
    return { check, status: 'warn', subject, reason: `SRV also answers ${extra.join(', ')}${via}, not published pods of ${ctx.sts.metadata.name}`, fix: `narrow Service ${svcName}'s selector to ${ctx.sts.metadata.name}'s pods` };
  }
  return { check, status: 'ok', subject, reason: `${got.length} target(s) on port ${l.port?.port}${via}, one per published pod` };
}

/**
 * Several lookups in one exec: a POSIX sh loop that picks the first resolver tool present
 * (nslookup, else getent hosts / dig +short for A; nslookup, else dig +short for SRV) and frames
 * each lookup's output with markers. One exec per batch instead of one per lookup is what makes
 * a large set fast; images without `sh` fall back to one exec per lookup.
 */
export const BATCH_SCRIPT = [
  'for q do',
  '  t=${q%%:*}; n=${q#*:}',
  '  echo "@@ksts-begin"',
  '  if [ "$t" = SRV ]; then',
  '    if command -v nslookup >/dev/null 2>&1; then echo "@@ksts-tool nslookup"; nslookup -type=srv "$n" 2>&1',
  '    elif command -v dig >/dev/null 2>&1; then echo "@@ksts-tool dig"; dig +short "$n" SRV 2>&1',
  '    else echo "@@ksts-tool none"; fi',
  '  else',
  '    if command -v nslookup >/dev/null 2>&1; then echo "@@ksts-tool nslookup"; nslookup "$n" 2>&1',
  '    elif command -v getent >/dev/null 2>&1; then echo "@@ksts-tool getent"; getent hosts "$n" 2>&1',
  '    elif command -v dig >/dev/null 2>&1; then echo "@@ksts-tool dig"; dig +short "$n" A 2>&1',
  '    else echo "@@ksts-tool none"; fi',
  '  fi',
  '  echo "@@ksts-end $?"',
  'done',
].join('\n');

/** The exec command for a batch of lookups (all from the same probe pod). */
export function batchCommand(lookups: Lookup[]): string[] {
  return ['sh', '-c', BATCH_SCRIPT, 'sh', ...lookups.map((l) => `${l.type}:${l.name}.`)];
}

export interface BatchBlock {
  tool: DnsTool | 'none';
  output: string;
  exitCode: number;
}

/** Splits a batch's stdout into one block per lookup; undefined when the framing is not complete. */
export function parseBatchOutput(stdout: string, count: number): BatchBlock[] | undefined {
  const blocks: BatchBlock[] = [];
  let cur: { tool?: string; lines: string[] } | undefined;
  for (const line of stdout.split('\n')) {
    if (line === '@@ksts-begin') {
      cur = { lines: [] };
      continue;
    }
    if (!cur) continue;
    const t = /^@@ksts-tool (\w+)$/.exec(line);
    if (t && cur.tool === undefined) {
      cur.tool = t[1]!;
      continue;
    }
    const e = /^@@ksts-end (\d+)$/.exec(line);
    if (e) {
      const tool = cur.tool;
      if (tool !== 'nslookup' && tool !== 'getent' && tool !== 'dig' && tool !== 'none') return undefined;
      blocks.push({ tool, output: cur.lines.join('\n'), exitCode: Number(e[1]) });
      cur = undefined;
      continue;
    }
    cur.lines.push(line);
  }
  return blocks.length === count ? blocks : undefined;
}

/** Groups lookups by probe pod, in chunks of at most `size`, keeping plan order inside each. */
export function batches(lookups: Lookup[], size: number): Lookup[][] {
  const byProbe = new Map<string, Lookup[]>();
  for (const l of lookups) {
    const list = byProbe.get(l.probe);
    if (list) list.push(l);
    else byProbe.set(l.probe, [l]);
  }
  const out: Lookup[][] = [];
  for (const list of byProbe.values()) for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
