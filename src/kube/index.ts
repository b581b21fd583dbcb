/**
 * The Kubernetes access layer's public face. Everything exported here as a value is light (no
 * client-node): commands may import it statically. The client itself is built by create.ts,
 * which loadKube() (load.ts) loads on first use through deps.kube().
 */
import type { ConnectionFlags } from './config.js';
import type { KubeClient } from './client.js';
import type { ExecFn } from './exec.js';

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
  /** The environment to read KUBECONFIG and HOME from (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Ctrl-C: aborts every request, watch and exec of this client. */
  signal?: AbortSignal | undefined;
}

export type { KubeClient, DryRun, PatchType, Query, ListResult, WatchEvent, DeletePreconditions } from './client.js';
export type { ExecFn, ExecRequest, ExecResult } from './exec.js';
export { Resources, resourcePath, describePath } from './resources.js';
export { observe, WaitTimeoutError, type Snapshot, type Source } from './observe.js';
export { mapBounded } from './concurrency.js';
export { readOptional, newWarnings, type Warnings } from './optional.js';
export { retryability, backoffDelay, withRetry, OutageNotice, realClock, type Clock } from './retry.js';
