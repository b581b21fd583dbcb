/**
 * Runs a command in a pod's container over the API (the pods/exec websocket, as `kubectl exec`
 * does) and collects its output and exit code. Also a bounded-concurrency runner for many pods.
 */
import { canICommand } from '../core/rbac.js';
import { Readable, Writable } from 'node:stream';
import { Exec } from '@kubernetes/client-node/dist/exec.js';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeApiError } from '../errors.js';
import { httpError, transportError } from './errors.js';
import { resourcePath, Resources } from './resources.js';

export interface ExecRequest {
  namespace: string;
  pod: string;
  /** Defaults to the pod's first container, as kubectl does. */
  container?: string | undefined;
  command: string[];
  /** Written to the command's stdin, which is then closed. */
  stdin?: string;
  timeoutMs?: number;
  /** Stops the exec (closes its stream) and rejects with the abort reason; the client's Ctrl-C signal always does. */
  signal?: AbortSignal | undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** The command's exit code; -1 when the command could not be started (see `failure`). */
  exitCode: number;
  /** Set when the runtime could not run the command at all (e.g. executable not found), or on timeout. */
  failure?: string;
  timedOut?: boolean;
}

/** The signature every consumer of exec depends on; tests inject a fake. */
export type ExecFn = (req: ExecRequest) => Promise<ExecResult>;

import { exitCodeFromStatus } from '../core/exec-result.js';

export { exitCodeFromStatus };

function collector(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
}

/** Asks the API server whether the caller may `verb` the pods/exec subresource of a pod: true/false, undefined when it cannot tell. */
export type ExecAccessCheck = (verb: 'get' | 'create', namespace: string, pod: string) => Promise<boolean | undefined>;

/**
 * The 403 of a refused pods/exec upgrade. The websocket answer carries no body, and exec over a
 * websocket needs "get" (the upgrade is a GET) and, from Kubernetes 1.35 (feature gate
 * AuthorizePodWebsocketUpgradeCreatePermission, on by default), "create" too; so the denied ones
 * are asked with SelfSubjectAccessReviews when `check` is given.
 */
export const EXEC_VERBS = 'exec through the API is a websocket upgrade, which needs "get" on pods/exec, and "create" too on Kubernetes 1.35 and later';
export async function execForbidden(facts: { server: string; context: string }, namespace: string, pod: string, check: ExecAccessCheck | undefined): Promise<KubeApiError> {
  const verbs = ['get', 'create'] as const;
  const allowed = check ? await Promise.all(verbs.map((v) => check(v, namespace, pod).catch(() => undefined))) : [undefined, undefined];
  let denied: string[] = verbs.filter((_, i) => allowed[i] === false);
  if (!denied.length) denied = [...verbs];
  const lines = denied.map((v) => canICommand(v, 'pods/exec', ` -n ${namespace}`));
  return new KubeApiError(
    `forbidden: you may not ${denied.join(' and ')} pods/exec "${pod}" in namespace "${namespace}" (context "${facts.context}"): ${EXEC_VERBS}`,
    {
      status: 403,
      reason: 'Forbidden',
      hints: [
        `Missing RBAC permission: verb ${denied.map((v) => `"${v}"`).join(' and ')} on "pods/exec". Check with ${lines.map((l) => `\`${l}\``).join(' and ')},`,
        'and ask a cluster admin for a Role that grants get and create on pods/exec.',
      ],
    },
  );
}

export function makeExec(kc: KubeConfig, server: string, context: string, check?: ExecAccessCheck, interrupt?: AbortSignal): ExecFn {
  const exec = new Exec(kc);
  return async (req) => {
    const signals = [req.signal, interrupt].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    if (signal?.aborted) throw signal.reason;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stdin = req.stdin !== undefined ? Readable.from([Buffer.from(req.stdin)]) : null;
    const path = resourcePath(Resources.pods, { namespace: req.namespace, name: req.pod, subresource: 'exec' });
    const facts = { method: 'POST', path, server, context };
    return await new Promise<ExecResult>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      let ws: { close(): void } | undefined;
      const onAbort = () => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        ws?.close();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (r: Omit<ExecResult, 'stdout' | 'stderr'>) => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
        // Let the last frames land in the collectors before we read them.
        setImmediate(() => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...r }));
      };
      if (req.timeoutMs) {
        timer = setTimeout(() => {
          ws?.close();
          finish({ exitCode: -1, timedOut: true, failure: `no answer within ${req.timeoutMs}ms` });
        }, req.timeoutMs);
      }
      exec
        .exec(req.namespace, req.pod, req.container ?? '', req.command, collector(out), collector(err), stdin, false, (status) =>
          finish(exitCodeFromStatus(status as Parameters<typeof exitCodeFromStatus>[0])),
        )
        .then((socket) => {
          ws = socket;
          if (signal?.aborted) socket.close();
          socket.on('close', () => finish({ exitCode: -1, failure: 'the exec stream closed without an exit status' }));
        })
        .catch((e: unknown) => {
          if (done) return;
          done = true;
          signal?.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          const m = /Unexpected server response: (\d+)/.exec(String((e as { message?: string })?.message ?? e));
          if (m) {
            const code = Number(m[1]);
            if (code === 403) {
              execForbidden(facts, req.namespace, req.pod, check).then(reject, reject);
              return;
            }
            reject(httpError(facts, code, code === 400 ? { message: `pod ${req.pod} is not running or has no container ${req.container ?? ''}`.trim() } : undefined));
          } else {
            reject(transportError(facts, (e as { error?: unknown })?.error ?? e, req.timeoutMs));
          }
        });
    });
  };
}

export { mapBounded } from './concurrency.js';
