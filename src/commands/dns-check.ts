/**
 * `kubectl sts dns-check NAME`: static checks of the governing Service (API only), then live
 * lookups run inside the pods (exec: nslookup, else getent hosts, else dig +short), judged
 * against each pod's IP and the Ready set. Exit 1 when any check fails; else exit 4 when any
 * check that was asked for could not run (exec forbidden, refused, timed out, no resolver tool,
 * no running pod) or a read was skipped; 0 only when everything was checked and passed.
 * --static-only asks for the static checks alone (no exec).
 */
import type { Argv } from 'yargs';
import { defineCommand, type CommandResult, type GlobalArgs } from './command.js';
import { durationFlag, parseDryRun } from './flags.js';
import { confirmChange, writeOne } from './change.js';
import { DEBUG_CONTAINER_PREFIX, debugContainerAdd, debugContainerState, runningDebugContainer, type EphemeralPod } from '../core/debug-container.js';
import type { Deps } from '../deps.js';
import type { DryRun as DryRunMode, Kube } from '../kube/index.js';
import { CliError, InterruptedError, UsageError, checkExitCode } from '../errors.js';
import type { EndpointSlice, Pod, Service, StatefulSet } from '../core/types.js';
import { formatDuration } from '../core/duration.js';
import { selectorToString } from '../core/labels.js';
import { podsOfSet, selectorText, staticChecks, type DnsCheck } from '../core/dns.js';
import { clusterDomainFromResolvConf, parseLookup, type DnsTool } from '../core/dns-parse.js';
import { exitCodeFromMessage } from '../core/exec-result.js';
import { blocksPod, classifyExecError, classifyExecResult, type ErrorLike, type ExecProblem, type ExecTarget } from '../core/exec-cause.js';
import type { ExecResult } from '../kube/exec.js';
import {
  batchCommand,
  batches,
  buildPlan,
  canProbe,
  evaluateLookup,
  lookupCommand,
  notRunCheck,
  parseBatchOutput,
  probePods,
  toolsFor,
  type Lookup,
  type LookupOutcome,
  type ProbeMode,
} from '../core/dns-plan.js';
import { renderStructured } from '../render/output.js';
import { notRunCauses, renderDnsTable, summarize, type DnsCheckOutput, type DnsCheckRow } from '../render/dns.js';

export interface DnsCheckArgs {
  name: string;
  from?: string | undefined;
  allPairs: boolean;
  clusterDomain?: string | undefined;
  concurrency: number;
  execTimeout: string;
  container?: string | undefined;
  debugImage?: string | undefined;
  staticOnly?: boolean | undefined;
  /** With --debug-image: do not ask before adding an ephemeral container. */
  yes?: boolean | undefined;
  /** With --debug-image: client (add nothing) or server (the API server validates the add; nothing persisted). */
  dryRun?: string | undefined;
}

/** The debug container was not added (dry run): its pod's lookups are not run, and say why. */
class DebugNotAdded extends Error {}

/** Lookups of one probe pod run in one exec, at most this many at a time. */
const BATCH_SIZE = 8;


function defaultContainer(pod: Pod, flag: string | undefined): string {
  if (flag) return flag;
  return pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec.containers[0]?.name ?? '';
}

export function validateArgs(args: DnsCheckArgs & GlobalArgs): { mode: ProbeMode; timeoutMs: number; debugDryRun: DryRunMode } {
  if (args.allNamespaces) throw new UsageError('dns-check works on one StatefulSet: -A/--all-namespaces is not supported', ['Use -n NAMESPACE.']);
  if (args.from && args.allPairs) throw new UsageError('--from and --all-pairs cannot be used together');
  if (args.staticOnly) {
    const live = [args.from !== undefined && '--from', args.allPairs && '--all-pairs', args.debugImage !== undefined && '--debug-image', args.clusterDomain !== undefined && '--cluster-domain'].filter(Boolean);
    if (live.length) throw new UsageError(`--static-only runs no lookups: ${live.join(', ')} cannot be used with it`);
  }
  if (!Number.isInteger(args.concurrency) || args.concurrency < 1) throw new UsageError(`--concurrency must be a whole number >= 1, not ${args.concurrency}`);
  const timeoutMs = durationFlag('exec-timeout', args.execTimeout);
  const debugDryRun = parseDryRun(args.dryRun);
  if ((args.yes || debugDryRun !== 'none') && args.debugImage === undefined) {
    throw new UsageError(`${args.yes ? '--yes' : '--dry-run'} only applies with --debug-image (the one change dns-check can make)`);
  }
  if (args.clusterDomain !== undefined && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(args.clusterDomain.replace(/\.$/, ''))) {
    throw new UsageError(`--cluster-domain "${args.clusterDomain}" is not a DNS domain (e.g. cluster.local)`);
  }
  const mode: ProbeMode = args.from ? { kind: 'from', pod: args.from } : args.allPairs ? { kind: 'all-pairs' } : { kind: 'default' };
  return { mode, timeoutMs, debugDryRun };
}

type Attempt = { missing: true } | { r: ExecResult } | { problem: ExecProblem };

/**
 * Runs the lookups in pods: per pod and container, tools are tried in order and remembered. A
 * pod where exec cannot run at all (forbidden, refused, container or pod not running) is
 * remembered too, and nothing more is tried there: its lookups are "not run" with that cause.
 */
class LookupRunner {
  private readonly present = new Map<string, Promise<boolean>>();
  private readonly debug = new Map<string, Promise<string>>();
  private readonly noShell = new Set<string>();
  /** Pods where exec cannot run, with the reason. */
  readonly blocked = new Map<string, ExecProblem>();
  constructor(
    private readonly kube: Kube,
    private readonly ns: string,
    private readonly timeoutMs: number,
    private readonly containerOf: (pod: string) => string,
    private readonly targetOf: (pod: string, container: string, program: string | undefined) => ExecTarget,
    private readonly debugImage: string | undefined,
    private readonly ensureDebug: (pod: string) => Promise<string>,
  ) {}

  /** Runs a command in a pod; `problem` when it did not run (the result, when there is one, too). */
  async tryExec(pod: string, container: string, command: string[], timeoutMs: number): Promise<{ r?: ExecResult; problem?: ExecProblem }> {
    const blocked = this.blocked.get(pod);
    if (blocked) return { problem: blocked };
    const target = this.targetOf(pod, container, command[0] === 'sh' ? 'sh' : command[0]);
    let r: ExecResult;
    try {
      r = await this.kube.exec({ namespace: this.ns, pod, container, command, timeoutMs });
    } catch (e) {
      const problem = classifyExecError(e as ErrorLike, target);
      if (blocksPod(problem) && !this.blocked.has(pod)) this.blocked.set(pod, problem);
      return { problem };
    }
    const problem = classifyExecResult(r, target);
    if (problem && blocksPod(problem) && !this.blocked.has(pod)) this.blocked.set(pod, problem);
    return problem ? { r, problem } : { r };
  }

  /** Runs `tool`; `missing` when the container has no such program. */
  private async attempt(pod: string, container: string, tool: DnsTool, l: Lookup): Promise<Attempt> {
    const key = `${pod}/${container}/${tool}`;
    const known = this.present.get(key);
    if (known && !(await known)) return { missing: true };
    let settle: (v: boolean) => void = () => {};
    if (!known) this.present.set(key, new Promise<boolean>((r) => (settle = r)));
    const { r, problem } = await this.tryExec(pod, container, lookupCommand(tool, l.type, l.name), this.timeoutMs);
    const missing = problem?.cause === 'binary-missing';
    settle(!missing);
    if (missing) return { missing: true };
    if (problem) return { problem };
    return { r: r! };
  }

  private async chain(pod: string, container: string, l: Lookup): Promise<LookupOutcome | undefined> {
    for (const tool of toolsFor(l.type)) {
      const a = await this.attempt(pod, container, tool, l);
      if ('missing' in a) continue;
      if ('problem' in a) {
        const problem = a.problem.cause === 'timeout' ? { ...a.problem, detail: `${tool} in pod ${pod} gave no answer within ${formatDuration(this.timeoutMs)}` } : a.problem;
        return { lookup: l, tool, container, problem, unavailable: problem.detail };
      }
      const r = a.r;
      const exitCode = r.failure ? exitCodeFromMessage(r.failure) : r.exitCode;
      if (exitCode === undefined) {
        const problem: ExecProblem = { cause: 'refused', pod, detail: `${tool} could not run in pod ${pod}: ${r.failure}` };
        return { lookup: l, tool, container, problem, unavailable: problem.detail };
      }
      const answer = parseLookup(tool, r.stdout, r.stderr, exitCode);
      if (answer.status === 'error' && /does not support/.test(answer.detail ?? '')) continue;
      return { lookup: l, tool, container, answer };
    }
    return undefined;
  }

  private notRun(ls: Lookup[], container: string, problem: ExecProblem): LookupOutcome[] {
    return ls.map((l) => ({ lookup: l, container, problem, unavailable: problem.detail }));
  }

  /**
   * Runs a batch of lookups of one probe pod in one exec (sh loop); falls back to one exec per
   * lookup when the container has no sh, the framing is broken, or a lookup needs another tool.
   */
  async runBatch(ls: Lookup[]): Promise<LookupOutcome[]> {
    const probe = ls[0]!.probe;
    const container = this.containerOf(probe);
    const blocked = this.blocked.get(probe);
    if (blocked) return this.notRun(ls, container, blocked);
    const one = async () => {
      const out: LookupOutcome[] = [];
      for (const l of ls) out.push(await this.run(l));
      return out;
    };
    if (ls.length < 2 || this.noShell.has(`${probe}/${container}`)) return one();
    const timeoutMs = this.timeoutMs * ls.length;
    const { r, problem } = await this.tryExec(probe, container, batchCommand(ls), timeoutMs);
    if (problem?.cause === 'binary-missing') {
      this.noShell.add(`${probe}/${container}`);
      return one();
    }
    if (problem?.cause === 'timeout') {
      return this.notRun(ls, container, { ...problem, detail: `pod ${probe} gave no answer within ${formatDuration(timeoutMs)} for ${ls.length} lookups` });
    }
    if (problem && blocksPod(problem)) return this.notRun(ls, container, problem);
    if (!r) return one();
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
    const blocked = this.blocked.get(l.probe);
    if (blocked) return { lookup: l, container, problem: blocked, unavailable: blocked.detail };
    const tools = toolsFor(l.type).join(', ');
    const first = await this.chain(l.probe, container, l);
    if (first) return first;
    if (!this.debugImage) {
      const problem: ExecProblem = { cause: 'binary-missing', pod: l.probe, detail: `no resolver tool (${tools}) in container ${container} of ${l.probe}` };
      return { lookup: l, container, problem, unavailable: problem.detail };
    }
    let dbg: string;
    try {
      let pending = this.debug.get(l.probe);
      if (!pending) {
        pending = this.ensureDebug(l.probe);
        this.debug.set(l.probe, pending);
      }
      dbg = await pending;
    } catch (e) {
      if (e instanceof DebugNotAdded) {
        const problem: ExecProblem = { cause: 'binary-missing', pod: l.probe, detail: `no resolver tool (${tools}) in container ${container} of ${l.probe}; ${e.message}` };
        return { lookup: l, container, problem, unavailable: problem.detail };
      }
      if (e instanceof CliError) throw e; // the confirmation gate refused or was declined: the whole run stops, nothing was added
      const problem = classifyExecError(e as ErrorLike, this.targetOf(l.probe, container, undefined));
      const detail = problem.cause === 'forbidden' ? problem.detail : `no debug container (${this.debugImage}) in pod ${l.probe}: ${(e as Error).message}`;
      return { lookup: l, container, problem: { ...problem, detail }, unavailable: detail };
    }
    const second = await this.chain(l.probe, dbg, l);
    if (second) return { ...second, debug: true };
    const problem: ExecProblem = { cause: 'binary-missing', pod: l.probe, detail: `no resolver tool (${tools}) in the debug image ${this.debugImage} either` };
    return { lookup: l, container: dbg, problem, unavailable: problem.detail };
  }
}

/**
 * Adds (or reuses) an ephemeral debug container running `image` in the pod, as `kubectl debug`
 * does, and waits until it runs. A change to a running pod that cannot be undone (ephemeral
 * containers stay until the pod is deleted), so it goes through the mutation pipeline: planned
 * (core debugContainerAdd) on the pod just read, the confirmation gate (`gate`, asked once per
 * run) before the first add, --dry-run, the pod's resourceVersion as precondition, and on a
 * conflict the pod read and the plan made again (another run may have added one meanwhile).
 */
async function ensureDebugContainer(kube: Kube, ns: string, podName: string, image: string, target: string, timeoutMs: number, deps: Deps, o: { gate: (pod: string) => Promise<void>; dryRun: DryRunMode }): Promise<string> {
  const { Resources, resourcePath, observe } = await import('../kube/index.js');
  const path = resourcePath(Resources.pods, { namespace: ns, name: podName });
  const running = debugContainerState;
  const candidate = `${DEBUG_CONTAINER_PREFIX}${Math.random().toString(36).slice(2, 7)}`;
  const write = {
    read: () => kube.client.get<EphemeralPod>(path),
    plan: (pod: EphemeralPod) => debugContainerAdd(pod, image, target, candidate),
    send: (w: { name: string; body: Record<string, unknown> }, mode: 'none' | 'server') => kube.client.patch(`${path}/ephemeralcontainers`, w.body, 'strategic', mode),
  };
  const pod = await write.read();
  const first = write.plan(pod);
  if ('write' in first) await o.gate(podName);
  const r = await writeOne(write, o.dryRun, pod);
  let name: string;
  if (r.result === 'none' || r.result === 'refused') {
    name = runningDebugContainer(r.state!, image)!;
  } else if (r.result === 'planned') {
    throw new DebugNotAdded(`dry run (client): would add ephemeral container ${r.write.name} (${image}); not added, so these lookups did not run`);
  } else if (r.result === 'accepted') {
    throw new DebugNotAdded(`dry run (server): the API server accepted adding ephemeral container ${r.write.name} (${image}); not added, so these lookups did not run`);
  } else {
    name = r.write.name;
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
  const { mode, timeoutMs, debugDryRun } = validateArgs(args);
  const kube = await deps.kube();
  const { Resources, resourcePath, mapBounded, readOptional, newWarnings } = await import('../kube/index.js');
  const ns = args.namespace ?? kube.namespace;
  const warnings = newWarnings();
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
        ? readOptional(
            () => kube.client.list<EndpointSlice>(resourcePath(Resources.endpointslices, { namespace: ns }), { labelSelector: `kubernetes.io/service-name=${svcName}` }),
            warnings,
            `endpointslice check not run (EndpointSlices of Service ${svcName})`,
          )
        : Promise.resolve({ items: [] as EndpointSlice[], resourceVersion: '' }),
    ]);
    const pods = podsOfSet(sts, podList.items);
    let selectedPods: Pod[] = [];
    if (service?.spec.selector && Object.keys(service.spec.selector).length) {
      selectedPods = (await kube.client.list<Pod>(resourcePath(Resources.pods, { namespace: ns }), { labelSelector: selectorText(service.spec.selector) })).items;
    }
    const serviceNames =
      svcName && !service
        ? ((await readOptional(() => kube.client.list<Service>(resourcePath(Resources.services, { namespace: ns })), warnings, 'similar Service names not looked up'))?.items.map(
            (s) => s.metadata.name,
          ) ?? [])
        : [];
    const rows: DnsCheckRow[] = staticChecks({ sts, service, pods, selectedPods, endpointSlices: slices?.items, serviceNames }).map((c) => ({ ...c, kind: 'static' as const }));

    let zone: string | null = null;
    let probes: string[] = [];
    const evalCtx = { sts, debugImage: args.debugImage, execTimeout: args.execTimeout };
    if (svcName && !args.staticOnly) {
      // Probe pods and their containers.
      const podsByName = new Map(pods.map((p) => [p.metadata.name, p]));
      let fromDown: ExecProblem | undefined;
      if (mode.kind === 'from') {
        const p = podsByName.get(mode.pod) ?? (await kube.client.getNamed<Pod>(resourcePath(Resources.pods, { namespace: ns, name: mode.pod })));
        if (!canProbe(p)) {
          fromDown = { cause: 'pod-not-running', pod: mode.pod, detail: `pod ${mode.pod} is ${p.metadata.deletionTimestamp ? 'terminating' : (p.status?.phase ?? 'not running')}: lookups need a Running pod` };
        }
        podsByName.set(p.metadata.name, p);
      }
      probes = probePods(pods, mode);
      const containerOf = (pod: string) => defaultContainer(podsByName.get(pod)!, args.container);
      const targetOf = (pod: string, container: string, program: string | undefined): ExecTarget => {
        const p = podsByName.get(pod);
        return {
          namespace: ns,
          pod,
          container,
          program,
          phase: p?.status?.phase,
          // A debug container added during this run is not in the pod as read: do not call it missing.
          containers: p && !container.startsWith(DEBUG_CONTAINER_PREFIX) ? [...p.spec.containers.map((c) => c.name), ...((p as EphemeralPod).spec.ephemeralContainers ?? []).map((c) => c.name)] : undefined,
          terminating: Boolean(p?.metadata.deletionTimestamp),
        };
      };
      if (fromDown) {
        rows.push({ ...notRunCheck('lookups', `Pod/${mode.kind === 'from' ? mode.pod : ''}`, fromDown, evalCtx), kind: 'live' });
      } else if (!probes.length) {
        const problem: ExecProblem = { cause: 'pod-not-running', pod: `${sts.metadata.name}-0`, detail: `no Ready, Running pod of ${sts.metadata.name} to run lookups from` };
        rows.push({
          ...notRunCheck('lookups', `StatefulSet/${sts.metadata.name}`, problem, evalCtx),
          kind: 'live',
          causeLabel: 'no Ready pod to run lookups from',
          fix: `make a pod Ready, or pass --from POD (any running pod in ${ns} with nslookup); for the static checks alone: kubectl sts dns-check ${sts.metadata.name} -n ${ns} --static-only`,
        });
      } else {
        // One question per run, asked when the first pod turns out to need a debug container.
        let asked: Promise<void> | undefined;
        const gate = (pod: string) =>
          (asked ??= confirmChange(deps, {
            action: `add an ephemeral debug container (${args.debugImage}) to pod ${pod} and to any other pod of ${sts.metadata.name} without a resolver tool`,
            lines: [
              `Pod ${ns}/${pod} has none of nslookup, getent, dig in container ${containerOf(pod)}.`,
              `dns-check would add an ephemeral container running ${args.debugImage} (sleep 3600) to it, and to every other pod of ${sts.metadata.name} in the same state, to run the lookups from.`,
              'Ephemeral containers cannot be removed: they stay in the pod spec until the pod is deleted (the pod itself is not restarted).',
            ],
            yes: args.yes,
            dryRun: debugDryRun,
          }));
        const runner = new LookupRunner(kube, ns, timeoutMs, containerOf, targetOf, args.debugImage, (pod) =>
          ensureDebugContainer(kube, ns, pod, args.debugImage!, containerOf(pod), timeoutMs, deps, { gate, dryRun: debugDryRun }),
        );
        if (args.clusterDomain) {
          zone = args.clusterDomain.replace(/\.$/, '').toLowerCase();
        } else {
          // The zone from the first probe pod whose /etc/resolv.conf can be read.
          let why = '';
          let down: ExecProblem | undefined;
          for (const probe of probes) {
            spinner.update(`reading /etc/resolv.conf in ${probe}`);
            const { r, problem } = await runner.tryExec(probe, containerOf(probe), ['cat', '/etc/resolv.conf'], timeoutMs);
            if (problem && blocksPod(problem)) {
              down ??= problem;
              continue;
            }
            zone = (r?.exitCode === 0 && clusterDomainFromResolvConf(r.stdout, ns)) || null;
            why = problem?.detail ?? r?.failure ?? (r?.stderr.trim() || 'no <ns>.svc.<zone> search entry');
            break;
          }
          if (!zone) {
            zone = 'cluster.local';
            if (down && !why) {
              rows.push({ ...notRunCheck('cluster-domain', `Pod/${down.pod}`, down, evalCtx), kind: 'live' });
            } else {
              rows.push({
                kind: 'live',
                check: 'cluster-domain',
                status: 'warn',
                subject: `Pod/${probes[0]}`,
                reason: `could not read the cluster domain from /etc/resolv.conf (${why}); assumed cluster.local`,
                fix: 'pass --cluster-domain',
              });
            }
          }
        }
        const plan = buildPlan({ sts, service, pods, namespace: ns, zone, mode });
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
        // Ctrl-C: the lookups still in flight were cut short; reporting them (as timeouts or
        // refusals) would be wrong, so the run stops here and says how far it got.
        if (deps.signal.aborted) {
          throw new InterruptedError(`during the lookups in the pods (${done} of ${plan.length} had finished); no verdict is given for an interrupted check`, [
            args.debugImage ? 'Ephemeral debug containers already added stay in their pods (they cannot be removed); nothing else was changed.' : 'dns-check changes nothing.',
          ]);
        }
        const foreignPods = selectedPods.filter((p) => !pods.some((q) => q.metadata.uid === p.metadata.uid));
        for (const o of outcomes) rows.push(liveRow(evaluateLookup(o, { sts, service, pods, foreignPods, debugImage: args.debugImage, execTimeout: args.execTimeout }), o));
      }
    }

    const summary = summarize(rows);
    const causes = notRunCauses(rows);
    // One warning line per skipped read (recorded by readOptional) and per cause of live checks not run.
    const lines = [...warnings.lines];
    for (const g of notRunCauses(rows.filter((r) => r.kind === 'live'))) {
      const first = rows.find((r) => r.kind === 'live' && r.status === 'not-run' && r.causeLabel === g.label);
      const detail = first?.reason.replace(/^not run: /, '');
      lines.push(`${g.checks} live check${g.checks === 1 ? '' : 's'} not run: ${g.label}${detail && detail !== g.label ? ` (${detail})` : ''}`);
    }
    const complete = summary.notRun === 0 && lines.length === 0;
    const out: DnsCheckOutput = {
      statefulSet: sts.metadata.name,
      namespace: ns,
      service: svcName ?? null,
      clusterDomain: zone,
      probes,
      staticOnly: Boolean(args.staticOnly),
      complete,
      summary,
      notRunCauses: causes,
      warnings: lines,
      checks: rows,
    };
    spinner.stop();
    for (const l of lines) deps.log(`warning: ${l}`);
    const exitCode = checkExitCode(summary.failed > 0, !complete);
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
      .option('static-only', { type: 'boolean', default: false, describe: 'Only the checks made through the API (Service, selector, ports, EndpointSlices): no exec, no lookups' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'With --debug-image: add the debug containers without asking' })
      .option('dry-run', { type: 'string', describe: 'With --debug-image: client (add nothing) or server (the API server validates the add; nothing persisted); those lookups do not run' })
      .option('debug-image', {
        type: 'string',
        describe: 'When a container has no nslookup/getent/dig, add an ephemeral debug container with this image (e.g. busybox) and look up from it',
      })
      .example('$0 dns-check web', 'Static checks, then each Ready pod resolves itself and the next ordinal')
      .example('$0 dns-check web --from client-0', 'Every pod of web resolved from client-0')
      .example('$0 dns-check web --all-pairs -o json', 'Every Ready pod resolves every pod; JSON result')
      .example('$0 dns-check web --static-only', 'The Service, selector, ports and EndpointSlices only (needs no pods/exec permission)')
      .example('$0 dns-check web --debug-image busybox:1.36', 'Pods without a resolver tool look up from an ephemeral busybox container') as unknown as Argv<DnsCheckArgs>,
  run: runDnsCheck,
});
