/**
 * The Kubernetes access layer, built once per invocation from the global flags. Commands get a
 * `Kube` through their deps (lazily: loading this module pulls in client-node) and never build
 * clients themselves.
 */
import { loadConfig, type ConnectionFlags } from './config.js';
import { KubeClient } from './client.js';
import { makeExec, type ExecFn } from './exec.js';

export interface Kube {
  client: KubeClient;
  exec: ExecFn;
  /** The namespace in effect: -n, else the context's, else "default". */
  namespace: string;
  contextName: string;
  server: string;
}

export interface KubeFlags extends ConnectionFlags {
  requestTimeoutMs?: number;
  verbosity?: number;
}

export function createKube(flags: KubeFlags, log: (line: string) => void): Kube {
  const cfg = loadConfig(flags);
  const client = new KubeClient({
    kc: cfg.kc,
    server: cfg.server,
    context: cfg.contextName,
    timeoutMs: flags.requestTimeoutMs ?? 0,
    verbosity: flags.verbosity ?? 0,
    log,
  });
  return {
    client,
    exec: makeExec(cfg.kc, cfg.server, cfg.contextName),
    namespace: cfg.namespace,
    contextName: cfg.contextName,
    server: cfg.server,
  };
}

export { KubeClient } from './client.js';
export type { DryRun, PatchType, Query, ListResult, WatchEvent } from './client.js';
export { Resources, resourcePath } from './resources.js';
export { observe, WaitTimeoutError } from './observe.js';
export { patchWithRetry } from './update.js';
export { mapBounded, type ExecFn, type ExecRequest, type ExecResult } from './exec.js';
