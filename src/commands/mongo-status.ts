/**
 * `kubectl sts mongo-status NAME`: MongoDB replica-set health for a StatefulSet. Execs the
 * MongoDB shell (mongosh, else the legacy mongo shell) in a Ready pod — or in every pod with
 * --each — to read rs.status() and rs.conf(), and reports members and problems. The password
 * (from a Secret) is sent over the exec's stdin, never on a command line.
 */
import type { Argv } from 'yargs';
import { defineCommand, type CommandResult, type GlobalArgs } from './command.js';
import { durationFlag } from './flags.js';
import type { Deps } from '../deps.js';
import type { ExecFn, ExecResult, Kube } from '../kube/index.js';
import { CliError, ExitCode, UsageError, checkExitCode } from '../errors.js';
import type { Pod, Secret, StatefulSet } from '../core/types.js';
import { isPodReady } from '../core/pods.js';
import { blocksPod, classifyExecError, classifyExecResult, type ErrorLike, type ExecProblem, type ExecTarget } from '../core/exec-cause.js';
import { isTerminating } from '../core/pods.js';
import { selectorToString } from '../core/labels.js';
import {
  analyzeMongo,
  setPods,
  viewFromFailure,
  viewFromProbe,
  type MongoReport,
  type MongoView,
  type ViewContext,
} from '../core/mongo.js';
import { parseProbeOutput } from '../core/mongo-parse.js';
import { PROBE_MARKER, probeCommand, probeStdin, type MongoShell, type ProbeOptions } from '../core/mongo-script.js';
import { mongoStatusOutput, renderMongoStatus } from '../render/mongo.js';
import { renderStructured } from '../render/output.js';
import { refreshLoop } from './refresh.js';

export interface MongoStatusArgs {
  name: string;
  pod?: string | undefined;
  each: boolean;
  container?: string | undefined;
  username?: string | undefined;
  passwordFromSecret?: string | undefined;
  authDb: string;
  tls: boolean;
  tlsCaFile?: string | undefined;
  watch: boolean;
  interval: string;
  maxLag: string;
  timeout: string;
}

const STS_PATH = (ns: string, name: string) => `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/statefulsets/${encodeURIComponent(name)}`;
const PODS_PATH = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
const SECRET_PATH = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`;

/** The container running mongod: -c, else the default-container annotation, one named mongo/mongod/mongodb, one whose command runs mongod, one with a mongo image, else the first. */
export function pickContainer(pod: Pod, wanted?: string): string {
  const cs = pod.spec.containers;
  if (wanted) {
    if (!cs.some((c) => c.name === wanted)) {
      throw new UsageError(`pod ${pod.metadata.name} has no container "${wanted}"`, [`its containers: ${cs.map((c) => c.name).join(', ')}`]);
    }
    return wanted;
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && cs.some((c) => c.name === annotated)) return annotated;
  const byName = cs.find((c) => ['mongo', 'mongod', 'mongodb'].includes(c.name));
  if (byName) return byName.name;
  const byCommand = cs.find((c) => [...(c.command ?? []), ...(c.args ?? [])].some((a) => /(^|\/)mongod$/.test(a)));
  if (byCommand) return byCommand.name;
  const byImage = cs.find((c) => /(^|\/)(mongo|mongodb[\w-]*)(:|@|$)/.test(c.image ?? '') && !/sidecar/i.test(c.image ?? ''));
  if (byImage) return byImage.name;
  return cs[0]?.name ?? '';
}

/** The password from --password-from-secret NAME[/KEY] (and the username the Secret holds, if any). */
async function readSecret(kube: Kube, ns: string, ref: string): Promise<{ password: string; username?: string }> {
  const [name, key] = ref.split('/', 2) as [string, string | undefined];
  if (!name) throw new UsageError('--password-from-secret needs NAME or NAME/KEY');
  const secret = await kube.client.getNamed<Secret>(SECRET_PATH(ns, name));
  const data = secret.data ?? {};
  const keys = Object.keys(data).sort();
  const decode = (k: string) => Buffer.from(data[k]!, 'base64').toString('utf8').replace(/\r?\n$/, '');
  let pick = key;
  if (!pick) {
    const passwordKeys = keys.filter((k) => /password/i.test(k));
    if (keys.length === 1) pick = keys[0];
    else if (keys.includes('password')) pick = 'password';
    else if (passwordKeys.length === 1) pick = passwordKeys[0];
  }
  if (!pick || !(pick in data)) {
    throw new CliError(
      key ? `secret ${ns}/${name} has no key "${key}"` : `secret ${ns}/${name} has several keys; say which holds the password`,
      ExitCode.Problems,
      [`its keys: ${keys.join(', ') || '<none>'}`, `use --password-from-secret ${name}/KEY`],
    );
  }
  const out: { password: string; username?: string } = { password: decode(pick) };
  const userKey = keys.find((k) => k === 'username' || k === 'user');
  if (userKey) out.username = decode(userKey);
  return out;
}

interface ProbeTarget {
  pod: Pod;
  container: string;
}

function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

/** Asks one pod: mongosh first, the legacy mongo shell when mongosh is not installed. */
export async function probePod(
  exec: ExecFn,
  ns: string,
  target: ProbeTarget,
  o: ProbeOptions & { password?: string | undefined; timeoutMs: number },
): Promise<MongoView> {
  const ctx: ViewContext = { pod: target.pod.metadata.name, container: target.container, username: o.username, authDb: o.authDb ?? 'admin' };
  const pod = target.pod;
  const where = (program: string): ExecTarget => ({
    namespace: ns,
    pod: ctx.pod,
    container: target.container,
    program,
    phase: pod.status?.phase,
    containers: pod.spec.containers.map((c) => c.name),
    terminating: isTerminating(pod),
  });
  const notAsked = (problem: ExecProblem): MongoView => ({ pod: ctx.pod, container: target.container, notAsked: problem });
  /** Runs a command; a problem (other than the program missing) when it did not run. */
  const run = async (command: string[], stdin: string | undefined): Promise<{ r: ExecResult; missing: boolean } | { problem: ExecProblem }> => {
    let r: ExecResult;
    try {
      r = await exec({ namespace: ns, pod: ctx.pod, container: target.container, command, ...(stdin !== undefined ? { stdin } : {}), timeoutMs: o.timeoutMs });
    } catch (e) {
      return { problem: classifyExecError(e as ErrorLike, where(command[0]!)) };
    }
    const problem = classifyExecResult({ ...r, stderr: redact(r.stderr, o.password), failure: r.failure !== undefined ? redact(r.failure, o.password) : undefined }, where(command[0]!));
    if (problem?.cause === 'binary-missing') return { r, missing: true };
    if (problem && (blocksPod(problem) || problem.cause === 'timeout')) {
      if (problem.cause === 'timeout') problem.detail = `${command[0]} in pod ${ctx.pod} (container ${target.container}) gave no answer within ${o.timeoutMs / 1000}s`;
      return { problem };
    }
    return { r, missing: false };
  };
  const stdin = probeStdin(o.password);
  let shells: MongoShell[] = ['mongosh', 'mongo'];
  if (stdin !== undefined) {
    // With a password on stdin, find the shell first with a plain `--version`: when an executable is
    // missing, some exec paths drop the connection while stdin is still being sent, hiding the reason.
    const found: MongoShell[] = [];
    for (const shell of shells) {
      const v = await run([shell, '--version'], undefined);
      if ('problem' in v) return notAsked(v.problem);
      if (!v.missing) {
        found.push(shell);
        break;
      }
    }
    shells = found;
  }
  for (const shell of shells) {
    const command = probeCommand(shell, o);
    const res = await run(command, stdin);
    // Runtimes echo the command line in their errors: keep the script out of messages.
    const script = command[command.length - 1]!;
    if ('problem' in res) return notAsked({ ...res.problem, detail: res.problem.detail.split(script).join('<probe script>') });
    if (res.missing) continue;
    const r = res.r;
    const stdout = redact(r.stdout, o.password);
    const stderr = redact(r.stderr, o.password);
    const failure = r.failure !== undefined ? redact(r.failure.split(script).join('<probe script>'), o.password) : undefined;
    let out;
    try {
      out = parseProbeOutput(stdout, PROBE_MARKER);
    } catch (e) {
      return { pod: ctx.pod, shell, error: { kind: 'query-failed', message: `pod ${ctx.pod}: ${(e as Error).message}` } };
    }
    if (out) return viewFromProbe(out, ctx, shell);
    return viewFromFailure(stderr, failure, r.exitCode, ctx, shell);
  }
  return notAsked({
    cause: 'binary-missing',
    pod: ctx.pod,
    detail: `neither mongosh nor the legacy mongo shell is installed in container ${target.container} of pod ${ctx.pod}`,
  });
}

export interface Plan {
  kube: Kube;
  ns: string;
  maxLagMs: number;
  timeoutMs: number;
  probe: ProbeOptions & { password?: string | undefined };
}

/** Whether exec can be tried in the pod at all, else why not. */
function podDown(pod: Pod): ExecProblem | undefined {
  const name = pod.metadata.name;
  if (isTerminating(pod)) return { cause: 'pod-not-running', pod: name, detail: `pod ${name} is terminating` };
  if (pod.status?.phase !== 'Running') return { cause: 'pod-not-running', pod: name, detail: `pod ${name} is ${pod.status?.phase ?? 'not running'}, not Running` };
  return undefined;
}

/** Causes that concern one pod only: in the default mode the next Ready pod is asked instead. */
const TRY_NEXT = new Set(['refused', 'container-missing', 'pod-not-running']);

/** One round: read the set and its pods, ask the chosen pod(s), analyze. */
async function collect(plan: Plan, args: MongoStatusArgs): Promise<MongoReport> {
  const { kube, ns } = plan;
  const sts = await kube.client.getNamed<StatefulSet>(STS_PATH(ns, args.name));
  const selector = selectorToString(sts.spec.selector);
  const list = await kube.client.list<Pod>(PODS_PATH(ns), selector ? { labelSelector: selector } : {});
  return askSet(plan, sts, list.items, args);
}

/**
 * Asks the set's pod(s) for rs.status() and analyzes the answers, from the set and pods already
 * read (`doctor` passes what its shared LISTs returned).
 */
export async function askSet(plan: Plan, sts: StatefulSet, allPods: Pod[], args: Pick<MongoStatusArgs, 'pod' | 'each' | 'container'>): Promise<MongoReport> {
  const { kube, ns } = plan;
  const list = { items: allPods };
  const pods = setPods(sts, list.items);
  const mode = args.pod ? 'pod' : args.each ? 'each' : 'one';
  const ask = (pod: Pod) => {
    const down = podDown(pod);
    const container = pickContainer(pod, args.container);
    if (down) return Promise.resolve<MongoView>({ pod: pod.metadata.name, container, notAsked: down });
    return probePod(kube.exec, ns, { pod, container }, { ...plan.probe, timeoutMs: plan.timeoutMs });
  };
  const views: MongoView[] = [];
  let nobody: { label: string; reason: string; fix: string } | undefined;
  const setName = `statefulset ${ns}/${sts.metadata.name}`;
  if (args.pod) {
    const p = pods.find((x) => x.metadata.name === args.pod);
    if (!p) {
      throw new CliError(`pod ${args.pod} is not a pod of ${setName}`, ExitCode.Problems, [`its pods: ${pods.map((x) => x.metadata.name).join(', ') || '<none>'}`]);
    }
    views.push(await ask(p));
  } else if (args.each) {
    // Every pod of the set is asked for its own view; a pod that is not running is listed as not asked.
    for (const p of pods) views.push(await ask(p));
  } else {
    for (const p of pods.filter(isPodReady)) {
      const v = await ask(p);
      views.push(v);
      if (!v.notAsked || !TRY_NEXT.has(v.notAsked.cause)) break;
    }
  }
  if (!pods.length) {
    nobody = { label: 'the set has no pods', reason: `${setName} has no pods to ask`, fix: `scale it up (kubectl scale sts ${sts.metadata.name} -n ${ns} --replicas=N) or check 'kubectl describe sts ${sts.metadata.name} -n ${ns}'` };
  } else if (!views.length) {
    const notReady = pods.map((p) => p.metadata.name).join(', ');
    nobody = { label: 'no Ready pod', reason: `${setName} has no Ready pod to ask (${notReady} not Ready)`, fix: `wait until a pod is Ready, or name one with --pod (its pods: ${notReady})` };
  }
  return analyzeMongo({ sts, pods: list.items, namespace: ns, views, maxLagMs: plan.maxLagMs, mode, nobody });
}

/** One line per pod not asked, for stderr and the json/yaml `warnings`. */
export function mongoWarnings(report: MongoReport): string[] {
  return report.notAsked.map((n) => (n.pod ? `pod ${n.pod} not asked: ${n.reason}` : `nobody asked: ${n.reason}`));
}

function format(report: MongoReport, args: MongoStatusArgs & GlobalArgs, deps: Deps): string {
  if (args.output === 'json' || args.output === 'yaml') return renderStructured(mongoStatusOutput(report), args.output);
  if (args.output === 'name') return `${report.members.map((m) => m.pod ? `pod/${m.pod}` : '').filter(Boolean).join('\n')}\n`;
  return renderMongoStatus(report, { wide: args.output === 'wide', color: deps.color });
}


export const mongoStatusCommand = defineCommand<MongoStatusArgs>({
  command: 'mongo-status <name>',
  describe: 'MongoDB replica-set health for a StatefulSet, member by member (runs mongosh in a pod)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'StatefulSet running mongod --replSet' })
      .option('pod', { type: 'string', describe: 'Pod to ask (default: the first Ready pod)' })
      .option('each', { type: 'boolean', default: false, describe: "Ask every Running pod for its own view (finds split brain)" })
      .option('container', { alias: 'c', type: 'string', describe: 'Container running mongod (default: the one named mongo/mongod or running mongod)' })
      .option('username', { type: 'string', describe: 'Authenticate as this user (default: the Secret\'s "username" key, if any)' })
      .option('password-from-secret', { type: 'string', describe: 'Secret NAME[/KEY] holding the password; sent over stdin, never on a command line' })
      .option('auth-db', { type: 'string', default: 'admin', describe: 'Authentication database' })
      .option('tls', { type: 'boolean', default: false, describe: 'Connect to mongod with TLS (passes --tls to the shell)' })
      .option('tls-ca-file', { type: 'string', describe: 'CA file inside the container (passes --tlsCAFile; implies --tls)' })
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'Refresh in place until interrupted' })
      .option('interval', { type: 'string', default: '5s', describe: 'Refresh interval for --watch' })
      .option('max-lag', { type: 'string', default: '10s', describe: 'Report members further behind the primary than this (delayed members: beyond their delay)' })
      .option('timeout', { type: 'string', default: '30s', describe: 'Time to wait for the shell in each pod' })
      .example('kubectl sts mongo-status mongo', 'Members of the replica set run by StatefulSet mongo, and what is wrong')
      .example('kubectl sts mongo-status mongo --each', "Ask every pod for its view (e.g. two primaries after a partition)")
      .example('kubectl sts mongo-status mongo --username admin --password-from-secret mongo-auth/password', 'Log in first')
      .example('kubectl sts mongo-status mongo -o json', 'Members and findings as JSON') as unknown as Argv<MongoStatusArgs>,
  run: async (args: MongoStatusArgs & GlobalArgs, deps: Deps): Promise<CommandResult> => {
    if (args.allNamespaces) throw new UsageError('mongo-status works on one StatefulSet: use -n NAMESPACE, not -A');
    if (args.each && args.pod) throw new UsageError('--each and --pod are exclusive: --each asks every pod');
    if (args.username !== undefined && !args.passwordFromSecret) {
      throw new UsageError('--username needs --password-from-secret NAME[/KEY] (the password is read from a Secret, never from the command line)');
    }
    const maxLagMs = durationFlag('max-lag', args.maxLag);
    const timeoutMs = durationFlag('timeout', args.timeout);
    const intervalMs = durationFlag('interval', args.interval);
    const kube = await deps.kube();
    const ns = args.namespace ?? kube.namespace;
    const probe: Plan['probe'] = { authDb: args.authDb, tls: args.tls || Boolean(args.tlsCaFile) };
    if (args.tlsCaFile) probe.tlsCaFile = args.tlsCaFile;
    if (args.passwordFromSecret) {
      const s = await readSecret(kube, ns, args.passwordFromSecret);
      const username = args.username ?? s.username;
      if (!username) {
        throw new UsageError(`--password-from-secret ${args.passwordFromSecret}: say which user logs in with --username (the Secret has no "username" key)`);
      }
      probe.username = username;
      probe.password = s.password;
    }
    const plan: Plan = { kube, ns, maxLagMs, timeoutMs, probe };
    const exitOf = (r: MongoReport) => checkExitCode(r.findings.length > 0, !r.complete);

    if (!args.watch) {
      const spinner = await deps.spinner();
      spinner.start(`asking ${args.each ? 'every pod' : args.pod ?? 'a Ready pod'} of ${args.name} for rs.status()`);
      let report: MongoReport;
      try {
        report = await collect(plan, args);
      } finally {
        spinner.stop();
      }
      for (const w of mongoWarnings(report)) deps.log(`warning: ${w}`);
      return { output: format(report, args, deps), exitCode: exitOf(report) };
    }
    const exitCode = await refreshLoop(deps, {
      intervalMs,
      structured: args.output === 'json' || args.output === 'yaml',
      header: (stamp) => `Every ${args.interval}: kubectl sts mongo-status ${args.name}   ${stamp}`,
      round: async () => {
        const report = await collect(plan, args);
        return { body: format(report, args, deps), exitCode: exitOf(report) };
      },
    });
    return { output: '', exitCode };
  },
});
