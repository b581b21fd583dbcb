/**
 * Why a command could not be run in a pod, by cause, so that a check that could not check says
 * so (and never passes) and its hint fits the cause: exec forbidden by RBAC, exec refused by the
 * API server, kubelet or runtime, the container missing or not running, the program missing from
 * the image, no answer in time, the pod not running. Pure: reads the error or the exec result
 * (src/kube/exec.ts, src/core/exec-result.ts) and the pod facts the caller already has.
 */
import { canICommand } from './rbac.js';
import { exitCodeFromMessage, isMissingExecutable } from './exec-result.js';

export type ExecCause =
  /** RBAC denied the exec (403 on pods/exec create), or another request the probe needs. */
  | 'forbidden'
  /** The API server, kubelet or runtime refused to run anything (no exec handler, 5xx, stream broken). */
  | 'refused'
  /** The container does not exist in the pod, or is not running. */
  | 'container-missing'
  /** The program (nslookup, mongosh, ...) is not in the image. */
  | 'binary-missing'
  /** No answer within the exec timeout. */
  | 'timeout'
  /** The pod is not Running (Pending, Succeeded, Failed, deleted, terminating). */
  | 'pod-not-running';

export interface ExecProblem {
  cause: ExecCause;
  /** The pod the problem is about. */
  pod: string;
  /** What happened, for a person, naming the pod (and container/program when known). */
  detail: string;
  /** forbidden: the denied verb(s) and resource ("create", "get and create"; "pods/exec"). */
  verb?: string;
  resource?: string;
  /** forbidden: the `kubectl auth can-i ...` lines that check the permission. */
  canI?: string[];
}

/** What the caller knows about the exec target. */
export interface ExecTarget {
  namespace: string;
  pod: string;
  container?: string | undefined;
  /** The program run (first word of the command), for binary-missing. */
  program?: string | undefined;
  /** pod.status.phase when known. */
  phase?: string | undefined;
  /** Names of the pod's containers when known. */
  containers?: string[] | undefined;
  /** Whether the pod is being deleted. */
  terminating?: boolean | undefined;
}

/** An error thrown by the exec layer (a KubeApiError, or anything with a message). */
export interface ErrorLike {
  message?: string;
  status?: number | undefined;
  hints?: string[] | undefined;
}

const KWOK_NO_EXEC = /no exec found for container|exec target not found for container|not set local exec/i;
const CONTAINER_GONE = /container not found|is not valid for pod|cannot exec in a stopped state|container [^ ]+ is not running|no such container|container is not created or running|has no container/i;
const REFUSED = /unable to upgrade connection|error dialing backend|proxy error|connection refused|no route to host|i\/o timeout|the exec stream closed|failed to start|OCI runtime exec failed|bad handshake/i;

function where(t: ExecTarget): string {
  return `pod ${t.pod}${t.container ? ` (container ${t.container})` : ''}`;
}

/** Whether the target pod is known not to be able to run anything. */
function podDown(t: ExecTarget): ExecProblem | undefined {
  if (t.terminating) return { cause: 'pod-not-running', pod: t.pod, detail: `pod ${t.pod} is terminating` };
  if (t.phase && t.phase !== 'Running') return { cause: 'pod-not-running', pod: t.pod, detail: `pod ${t.pod} is ${t.phase}, not Running` };
  return undefined;
}

function containerGone(t: ExecTarget, text: string): ExecProblem {
  if (t.container && t.containers && !t.containers.includes(t.container)) {
    return { cause: 'container-missing', pod: t.pod, detail: `pod ${t.pod} has no container ${t.container} (its containers: ${t.containers.join(', ') || '<none>'})` };
  }
  return { cause: 'container-missing', pod: t.pod, detail: `container ${t.container ?? '<default>'} of pod ${t.pod} is not running: ${text}` };
}

/** Classifies an error thrown by the exec call (it never ran the command). */
export function classifyExecError(err: ErrorLike, t: ExecTarget): ExecProblem {
  const msg = err.message ?? String(err);
  if (err.status === 403) {
    const m = /you may not (\S+(?: and \S+)?) (\S+)/.exec(msg);
    const canI = (err.hints ?? []).flatMap((h) => [...h.matchAll(/`(kubectl auth can-i [^`]+)`/g)].map((x) => x[1]!));
    const verb = m?.[1] ?? 'create';
    const resource = m?.[2] ?? 'pods/exec';
    return {
      cause: 'forbidden',
      pod: t.pod,
      detail: msg,
      verb,
      resource,
      canI: canI.length ? canI : verb.split(' and ').map((v) => canICommand(v, resource, ` -n ${t.namespace}`)),
    };
  }
  if (err.status === 404) return { cause: 'pod-not-running', pod: t.pod, detail: `pod ${t.pod} no longer exists (${msg})` };
  const down = podDown(t);
  if (err.status === 400) return down ?? containerGone(t, msg);
  if (down) return down;
  if (CONTAINER_GONE.test(msg)) return containerGone(t, msg);
  return { cause: 'refused', pod: t.pod, detail: `exec into ${where(t)} was refused: ${msg}` };
}

/** The result of an exec that returned, in the shape src/kube/exec.ts gives it. */
export interface ExecOutcomeLike {
  stdout?: string;
  stderr: string;
  exitCode: number;
  failure?: string | undefined;
  timedOut?: boolean | undefined;
}

/**
 * Classifies an exec that returned: undefined when the command ran and exited with a code of its
 * own (its output is the caller's to read), else why it did not run.
 */
export function classifyExecResult(r: ExecOutcomeLike, t: ExecTarget): ExecProblem | undefined {
  if (r.timedOut) {
    return { cause: 'timeout', pod: t.pod, detail: `${t.program ?? 'the command'} in ${where(t)} gave no answer in time${r.failure ? ` (${r.failure})` : ''}` };
  }
  if (r.exitCode === 0) return undefined;
  const text = `${r.failure ?? ''}\n${r.stderr}`.trim();
  if (r.failure !== undefined && KWOK_NO_EXEC.test(r.failure)) {
    return { cause: 'refused', pod: t.pod, detail: `the node's runtime refused the exec into ${where(t)}: ${r.failure}` };
  }
  if (isMissingExecutable(r)) {
    return { cause: 'binary-missing', pod: t.pod, detail: `${t.program ?? 'the program'} is not installed in ${where(t)}` };
  }
  if (r.failure !== undefined && CONTAINER_GONE.test(r.failure)) return containerGone(t, r.failure);
  if (r.exitCode >= 0) return undefined;
  if (r.failure !== undefined && exitCodeFromMessage(r.failure) !== undefined) return undefined;
  const down = podDown(t);
  if (down) return down;
  if (REFUSED.test(text) || r.failure !== undefined) {
    return { cause: 'refused', pod: t.pod, detail: `exec into ${where(t)} did not run ${t.program ?? 'the command'}: ${r.failure ?? text}` };
  }
  return undefined;
}

/** Causes after which nothing else should be tried in the same pod (the exec itself cannot run there). */
export function blocksPod(p: ExecProblem): boolean {
  return p.cause === 'forbidden' || p.cause === 'refused' || p.cause === 'container-missing' || p.cause === 'pod-not-running';
}

/** A short label for a verdict line: "exec forbidden (pods/exec create) in namespace ns". */
export function causeLabel(p: Pick<ExecProblem, 'cause' | 'verb' | 'resource'>, namespace: string): string {
  switch (p.cause) {
    case 'forbidden':
      return `${p.resource === 'pods/exec' || !p.resource ? 'exec' : p.resource} forbidden (${p.resource ?? 'pods/exec'} ${p.verb ?? 'create'}) in namespace ${namespace}`;
    case 'refused':
      return 'exec refused by the API server, kubelet or container runtime';
    case 'container-missing':
      return 'container missing or not running';
    case 'binary-missing':
      return 'program not installed in the image';
    case 'timeout':
      return 'no answer in time';
    case 'pod-not-running':
      return 'pod not running';
  }
}

export interface HintOptions {
  /** The command line to rerun for the part that needs no exec (e.g. "kubectl sts dns-check web -n ns --static-only"). */
  staticOnly?: string | undefined;
  /** The flag that raises the time allowed ("--exec-timeout 20s"). */
  timeoutFlag?: string | undefined;
  /** What to install or use when the program is missing (cause-specific advice of the command). */
  missingBinary?: string | undefined;
  /** How to pick another pod ("--from POD", "--pod POD"). */
  otherPod?: string | undefined;
  /** How to pick another container ("-c CONTAINER"). */
  otherContainer?: string | undefined;
}

/** What to do about a problem, by cause. */
export function causeHint(p: ExecProblem, namespace: string, o: HintOptions = {}): string {
  const staticPart = o.staticOnly ? `; for the checks that need no exec alone: ${o.staticOnly}` : '';
  switch (p.cause) {
    case 'forbidden':
      return `missing RBAC permission: verb ${(p.verb ?? 'create').split(' and ').map((v) => `"${v}"`).join(' and ')} on "${p.resource ?? 'pods/exec'}" in namespace ${namespace}; check with ${(p.canI ?? [canICommand('create', 'pods/exec', ` -n ${namespace}`)]).map((l) => `\`${l}\``).join(' and ')} and ask a cluster admin for a Role that grants ${p.resource === 'pods/exec' || !p.resource ? 'get and create on pods/exec' : 'it'}${staticPart}`;
    case 'refused':
      return `the exec did not reach the container: check that \`kubectl exec -n ${namespace} ${p.pod} -- true\` works (node and kubelet healthy, runtime allows exec)${staticPart}`;
    case 'container-missing':
      return `check the pod's containers (kubectl get pod ${p.pod} -n ${namespace} -o jsonpath='{.status.containerStatuses}')${o.otherContainer ? `, or pick another with ${o.otherContainer}` : ''}`;
    case 'binary-missing':
      return o.missingBinary ?? `the image has no such program${o.otherContainer ? `; pick another container with ${o.otherContainer}` : ''}`;
    case 'timeout':
      return `rerun with a longer ${o.timeoutFlag ?? 'timeout'}, or check that ${p.pod} is responsive`;
    case 'pod-not-running':
      return `wait until ${p.pod} is Running (kubectl get pod ${p.pod} -n ${namespace})${o.otherPod ? `, or pick a running pod with ${o.otherPod}` : ''}`;
  }
}
