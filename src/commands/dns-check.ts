/**
 * `kubectl sts dns-check NAME`: static checks of the governing Service (API only), then live
 * lookups run inside the pods (exec: nslookup, else getent hosts, else dig +short), judged
 * against each pod's IP and the Ready set. Exit 1 when any check fails.
 */
import type { Argv } from 'yargs';
import { defineCommand, type CommandResult, type GlobalArgs } from './command.js';
import { durationFlag } from './flags.js';
import type { Deps } from '../deps.js';
import type { Kube } from '../kube/index.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import type { EndpointSlice, Pod, Service, StatefulSet } from '../core/types.js';
import { formatDuration } from '../core/duration.js';
import { selectorToString } from '../core/labels.js';
import { podsOfSet, selectorText, staticChecks, type DnsCheck } from '../core/dns.js';
import { clusterDomainFromResolvConf, parseLookup, type DnsTool } from '../core/dns-parse.js';
import { exitCodeFromMessage, isMissingExecutable } from '../core/exec-result.js';
import {
  batchCommand,
  batches,
  buildPlan,
  canProbe,
  evaluateLookup,
  lookupCommand,
  parseBatchOutput,
  probePods,
  toolsFor,
  type Lookup,
  type LookupOutcome,
  type ProbeMode,
} from '../core/dns-plan.js';
import { renderStructured } from '../render/output.js';
import { renderDnsTable, summarize, type DnsCheckOutput, type DnsCheckRow } from '../render/dns.js';

export interface DnsCheckArgs {
  name: string;
  from?: string | undefined;
  allPairs: boolean;
  clusterDomain?: string | undefined;
  concurrency: number;
  execTimeout: string;
  container?: string | undefined;
  debugImage?: string | undefined;
}

/** Lookups of one probe pod run in one exec, at most this many at a time. */
const BATCH_SIZE = 8;

/** Prefix of the ephemeral containers dns-check adds with --debug-image. */
export const DEBUG_CONTAINER_PREFIX = 'ksts-dns-';

interface EphemeralPod extends Pod {
  spec: Pod['spec'] & { ephemeralContainers?: { name: string; image?: string }[] };
  status?: Pod['status'] & { ephemeralContainerStatuses?: { name: string; state?: { running?: object; terminated?: { reason?: string } ; waiting?: { reason?: string; message?: string } } }[] };
}

function defaultContainer(pod: Pod, flag: string | undefined): string {
  if (flag) return flag;
  return pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec.containers[0]?.name ?? '';
}

export function validateArgs(args: DnsCheckArgs & GlobalArgs): { mode: ProbeMode; timeoutMs: number } {
  if (args.allNamespaces) throw new UsageError('dns-check works on one StatefulSet: -A/--all-namespaces is not supported', ['Use -n NAMESPACE.']);
  if (args.from && args.allPairs) throw new UsageError('--from and --all-pairs cannot be used together');
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new UsageError(`--concurrency must be a whole number >= 1, not ${args.concurrency}`);
  const timeoutMs = durationFlag('exec-timeout', args.execTimeout);
  if (args.clusterDomain !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(args.clusterDomain.replace(/\.$/, ''))) {
    throw new UsageError(`--cluster-domain "${args.clusterDomain}" is not a DNS domain (e.g. cluster.local)`);
  }
  const mode: ProbeMode = args.from ? { kind: 'from', pod: args.from } : args.allPairs ? { kind: 'all-pairs' } : { kind: 'default' };
  return { mode, timeoutMs };
}

/** Runs the lookups in pods: per pod and container, tools are tried in order and remembered. */
class LookupRunner {
  private readonly present = new Map<string, Promise<boolean>>();
  private readonly debug = new Map<string, Promise<string>>();
  private readonly noShell = new Set<string>();
  constructor(
    private readonly kube: Kube,
    private readonly ns: string,
    private readonly timeoutMs: number,
    private readonly containerOf: (pod: string) => string,
    private readonly debugImage: string | undefined,
    private readonly ensureDebug: (pod: string) => Promise<string>,
  ) {}

  /** Runs `tool`; undefined when the container has no such program. */
  private async attempt(pod: string, container: string, tool: DnsTool, l: Lookup) {
    const key = `${pod}/${container}/${tool}`;
    const known = this.present.get(key);
    if (known && !(await known)) return undefined;
    let settle: (v: boolean) => void = () => {};
    if (!known) this.present.set(key, new Promise<boolean>((r) => (settle = r)));
    try {
      const r = await this.kube.exec({ namespace: this.ns, pod, container, command: lookupCommand(tool, l.type, l.name), timeoutMs: this.timeoutMs });
      const missing = isMissingExecutable(r);
      settle(!missing);
      return missing ? undefined : r;
    } catch (e) {
      settle(true);
      throw e;
    }
  }

  private async chain(pod: string, container: string, l: Lookup): Promise<LookupOutcome | undefined> {
    for (const tool of toolsFor(l.type)) {
      const r = await this.attempt(pod, container, tool, l);
      if (!r) continue;
      if (r.timedOut) return { lookup: l, tool, container, unavailable: `${tool} gave no answer within ${formatDuration(this.timeoutMs)}` };
      const exitCode = r.failure ? exitCodeFromMessage(r.failure) : r.exitCode;
      if (exitCode === undefined) return { lookup: l, tool, container, unavailable: `${tool} could not run: ${r.failure}` };
      const answer = parseLookup(tool, r.stdout, r.stderr, exitCode);
      if (answer.status === 'error' && /does not support/.test(answer.detail ?? '')) continue;
      return { lookup: l, tool, container, answer };
    }
    return undefined;
  }

  /**
   * Runs a batch of lookups of one probe pod in one exec (sh loop); falls back to one exec per
   * lookup when the container has no sh, the framing is broken, or a lookup needs another tool.
   */
  async runBatch(ls: Lookup[]): Promise<LookupOutcome[]> {
    const probe = ls[0]!.probe;
    const container = this.containerOf(probe);
    const one = async () => {
      const out: LookupOutcome[] = [];
      for (const l of ls) out.push(await this.run(l));
      return out;
    };
    if (ls.length < 2 || this.noShell.has(`${probe}/${container}`)) return one();
    let r;
    try {
      r = await this.kube.exec({ namespace: this.ns, pod: probe, container, command: batchCommand(ls), timeoutMs: this.timeoutMs * ls.length });
    } catch {
      return one();
    }
    if (isMissingExecutable(r)) {
      this.noShell.add(`${probe}/${container}`);
      return one();
    }
    if (r.timedOut) {
      return ls.map((l) => ({ lookup: l, container, unavailable: `no answer within ${formatDuration(this.timeoutMs * ls.length)} for ${ls.length} lookups` }));
    }
    const blocks = parseBatchOutput(r.stdout, ls.length);
    if (!blocks) return one();
    const out: LookupOutcome[] = [];
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]!;
      const b = blocks[i]!;
      if (b.tool === 'none') {
        out.push(await this.run(l));
        continue;
      }
      const answer = parseLookup(b.tool, b.output, '', b.exitCode);
      if (answer.status === 'error' && /does not support/.test(answer.detail ?? '')) out.push(await this.run(l));
      else out.push({ lookup: l, tool: b.tool, container, answer });
    }
    return out;
  }

  async run(l: Lookup): Promise<LookupOutcome> {
    const container = this.containerOf(l.probe);
    try {
      const first = await this.chain(l.probe, container, l);
      if (first) return first;
      const tools = toolsFor(l.type).join(', ');
      if (!this.debugImage) return { lookup: l, container, unavailable: `no resolver tool (${tools}) in container ${container} of ${l.probe}` };
      let pending = this.debug.get(l.probe);
      if (!pending) {
        pending = this.ensureDebug(l.probe);
        this.debug.set(l.probe, pending);
      }
      const dbg = await pending;
      const second = await this.chain(l.probe, dbg, l);
      if (second) return { ...second, debug: true };
      return { lookup: l, container: dbg, unavailable: `no resolver tool (${tools}) in the debug image ${this.debugImage} either` };
    } catch (e) {
      return { lookup: l, container, unavailable: e instanceof Error ? e.message : String(e) };
    }
  }
}

/** Adds (or reuses) an ephemeral debug container running `image` in the pod, as `kubectl debug` does, and waits until it runs. */
async function ensureDebugContainer(kube: Kube, ns: string, podName: string, image: string, target: string, timeoutMs: number, deps: Deps): Promise<string> {
  const { Resources, resourcePath, observe } = await import('../kube/index.js');
  const path = resourcePath(Resources.pods, { namespace: ns, name: podName });
  const pod = await kube.client.get<EphemeralPod>(path);
  const running = (p: EphemeralPod, name: string) => p.status?.ephemeralContainerStatuses?.find((s) => s.name === name)?.state;
  let name = (pod.spec.ephemeralContainers ?? []).find((c) => c.name.startsWith(DEBUG_CONTAINER_PREFIX) && c.image === image && running(pod, c.name)?.running)?.name;
  if (!name) {
    name = `${DEBUG_CONTAINER_PREFIX}${Math.random().toString(36).slice(2, 7)}`;
    const spec = { name, image, command: ['sleep', '3600'], stdin: false, tty: false, targetContainerName: target, terminationMessagePolicy: 'File' };
    await kube.client.patch(`${path}/ephemeralcontainers`, { spec: { ephemeralContainers: [spec] } }, 'strategic');
    deps.log(`added ephemeral container ${name} (${image}) to pod ${podName} for the lookups; ephemeral containers stay until the pod is deleted`);
  }
  const wanted = name;
  await observe(
    kube.client,
    { pods: { path: resourcePath(Resources.pods, { namespace: ns }), query: { fieldSelector: `metadata.name=${podName}` } } },
    (snap) => {
      const p = snap.pods.get(`${ns}/${podName}`) as EphemeralPod | undefined;
      const st = p && running(p, wanted);
      if (st?.running) return true;
      if (st?.terminated) throw new CliError(`debug container ${wanted} in pod ${podName} terminated (${st.terminated.reason ?? 'unknown reason'})`);
      if (st?.waiting?.reason && /ErrImagePull|ImagePullBackOff|InvalidImageName/.test(st.waiting.reason)) {
        throw new CliError(`debug container ${wanted} in pod ${podName} cannot start: ${st.waiting.reason} ${st.waiting.message ?? ''}`.trim());
      }
      return undefined;
    },
    { timeoutMs: Math.max(timeoutMs, 120_000), signal: deps.signal },
  );
  return name;
}

function liveRow(c: DnsCheck, o: LookupOutcome): DnsCheckRow {
  const row: DnsCheckRow = { ...c, kind: 'live', probe: o.lookup.probe, query: o.lookup.name, type: o.lookup.type };
  if (o.tool) row.tool = o.tool;
  if (o.container) row.container = o.container;
  if (o.answer?.addresses.length) row.addresses = o.answer.addresses;
  if (o.answer?.srv.length) row.srv = o.answer.srv;
  return row;
}

export async function runDnsCheck(args: DnsCheckArgs & GlobalArgs, deps: Deps): Promise<CommandResult> {
  const { mode, timeoutMs } = validateArgs(args);
  const kube = await deps.kube();
  const { Resources, resourcePath, mapBounded } = await import('../kube/index.js');
  const ns = args.namespace ?? kube.namespace;
  const spinner = await deps.spinner();
  spinner.start(`checking DNS of statefulset ${args.name}`);
  try {
    const sts = await kube.client.getNamed<StatefulSet>(resourcePath(Resources.statefulsets, { namespace: ns, name: args.name }));
    sts.metadata.namespace ??= ns;
    const svcName = sts.spec.serviceName || undefined;
    const [service, podList, slices] = await Promise.all([
      svcName ? kube.client.tryGet<Service>(resourcePath(Resources.services, { namespace: ns, name: svcName })) : Promise.resolve(undefined),
      kube.client.list<Pod>(resourcePath(Resources.pods, { namespace: ns }), { labelSelector: selectorToString(sts.spec.selector) }),
      svcName
        ? kube.client.list<EndpointSlice>(resourcePath(Resources.endpointslices, { namespace: ns }), { labelSelector: `kubernetes.io/service-name=${svcName}` })
        : Promise.resolve({ items: [] as EndpointSlice[], resourceVersion: '' }),
    ]);
    const pods = podsOfSet(sts, podList.items);
    let selectedPods: Pod[] = [];
    if (service?.spec.selector && Object.keys(service.spec.selector).length) {
      selectedPods = (await kube.client.list<Pod>(resourcePath(Resources.pods, { namespace: ns }), { labelSelector: selectorText(service.spec.selector) })).items;
    }
    const serviceNames = svcName && !service ? (await kube.client.list<Service>(resourcePath(Resources.services, { namespace: ns }))).items.map((s) => s.metadata.name) : [];
    const rows: DnsCheckRow[] = staticChecks({ sts, service, pods, selectedPods, endpointSlices: slices.items, serviceNames }).map((c) => ({ ...c, kind: 'static' as const }));

    let zone: string | null = null;
    let probes: string[] = [];
    if (svcName) {
      // Probe pods and their containers.
      const podsByName = new Map(pods.map((p) => [p.metadata.name, p]));
      if (mode.kind === 'from') {
        const p = podsByName.get(mode.pod) ?? (await kube.client.getNamed<Pod>(resourcePath(Resources.pods, { namespace: ns, name: mode.pod })));
        if (!canProbe(p)) throw new CliError(`pod ${mode.pod} is ${p.status?.phase ?? 'not running'}: lookups need a Running pod`, ExitCode.Problems, ['Pick another pod with --from.']);
        podsByName.set(p.metadata.name, p);
      }
      probes = probePods(pods, mode);
      const containerOf = (pod: string) => defaultContainer(podsByName.get(pod)!, args.container);
      if (!probes.length) {
        rows.push({
          kind: 'live',
          check: 'lookups',
          status: 'warn',
          subject: `StatefulSet/${sts.metadata.name}`,
          reason: 'no Ready, Running pod to run lookups from: live checks skipped',
          fix: `make a pod Ready, or pass --from POD (any running pod in ${ns} with nslookup)`,
        });
      } else {
        if (args.clusterDomain) {
          zone = args.clusterDomain.replace(/\.$/, '').toLowerCase();
        } else {
          spinner.update(`reading /etc/resolv.conf in ${probes[0]}`);
          let resolv: { stdout: string; stderr: string; exitCode: number; failure?: string } | undefined;
          try {
            resolv = await kube.exec({ namespace: ns, pod: probes[0]!, container: containerOf(probes[0]!), command: ['cat', '/etc/resolv.conf'], timeoutMs });
          } catch (e) {
            resolv = { stdout: '', stderr: (e as Error).message, exitCode: -1 };
          }
          zone = (resolv.exitCode === 0 && clusterDomainFromResolvConf(resolv.stdout, ns)) || null;
          if (!zone) {
            zone = 'cluster.local';
            rows.push({
              kind: 'live',
              check: 'cluster-domain',
              status: 'warn',
              subject: `Pod/${probes[0]}`,
              reason: `could not read the cluster domain from /etc/resolv.conf (${resolv.failure ?? (resolv.stderr.trim() || 'no <ns>.svc.<zone> search entry')}); assumed cluster.local`,
              fix: 'pass --cluster-domain',
            });
          }
        }
        const plan = buildPlan({ sts, service, pods, namespace: ns, zone, mode });
        const runner = new LookupRunner(kube, ns, timeoutMs, containerOf, args.debugImage, (pod) =>
          ensureDebugContainer(kube, ns, pod, args.debugImage!, containerOf(pod), timeoutMs, deps),
        );
        let done = 0;
        spinner.update(`0/${plan.length} lookups`);
        const chunks = batches(plan, BATCH_SIZE);
        const outcomes = (
          await mapBounded(chunks, args.concurrency, async (chunk) => {
            const o = await runner.runBatch(chunk);
            done += chunk.length;
            spinner.update(`${done}/${plan.length} lookups`);
            return o;
          })
        ).flat();
        const foreignPods = selectedPods.filter((p) => !pods.some((q) => q.metadata.uid === p.metadata.uid));
        for (const o of outcomes) rows.push(liveRow(evaluateLookup(o, { sts, service, pods, foreignPods }), o));
      }
    }

    const out: DnsCheckOutput = {
      statefulSet: sts.metadata.name,
      namespace: ns,
      service: svcName ?? null,
      clusterDomain: zone,
      probes,
      summary: summarize(rows),
      checks: rows,
    };
    spinner.stop();
    const exitCode = out.summary.fail ? ExitCode.Problems : ExitCode.Ok;
    if (args.output === 'json' || args.output === 'yaml') return { output: renderStructured(out, args.output), exitCode };
    return { output: renderDnsTable(out, deps.color, args.output === 'wide'), exitCode };
  } catch (e) {
    spinner.stop();
    throw e;
  }
}

export const dnsCheckCommand = defineCommand<DnsCheckArgs>({
  command: 'dns-check <name>',
  describe: "Check that every pod of a StatefulSet resolves by its stable DNS name: the governing Service, then lookups from inside the pods",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'StatefulSet name' })
      .option('from', { type: 'string', describe: 'Run every lookup from this pod (any running pod in the namespace)' })
      .option('all-pairs', { type: 'boolean', default: false, describe: 'Every Ready pod looks up every pod (default: itself and the next ordinal)' })
      .option('cluster-domain', { type: 'string', describe: "Cluster DNS zone (default: from the probe pod's /etc/resolv.conf search list)" })
      .option('concurrency', { type: 'number', default: 8, describe: 'Lookups (execs) in flight at once' })
      .option('exec-timeout', { type: 'string', default: '20s', describe: 'Time allowed for one lookup exec (e.g. 10s)' })
      .option('container', { alias: 'c', type: 'string', describe: 'Container to run lookups in (default: the default container)' })
      .option('debug-image', {
        type: 'string',
        describe: 'When a container has no nslookup/getent/dig, add an ephemeral debug container with this image (e.g. busybox) and look up from it',
      })
      .example('$0 dns-check web', 'Static checks, then each Ready pod resolves itself and the next ordinal')
      .example('$0 dns-check web --from client-0', 'Every pod of web resolved from client-0')
      .example('$0 dns-check web --all-pairs -o json', 'Every Ready pod resolves every pod; JSON result')
      .example('$0 dns-check web --debug-image busybox:1.36', 'Pods without a resolver tool look up from an ephemeral busybox container') as unknown as Argv<DnsCheckArgs>,
  run: runDnsCheck,
});
