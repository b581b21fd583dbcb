/**
 * Builds the API access for one invocation from the global flags. This is the heavy entry of
 * the access layer (client-node, undici, ws): only loadKube() reaches it, lazily.
 */
import { loadConfig } from './config.js';
import { KubeClient } from './client.js';
import { makeExec } from './exec.js';
import type { Kube, KubeFlags } from './index.js';

export function createKube(flags: KubeFlags, log: (line: string) => void): Kube {
  const cfg = loadConfig(flags, flags.env ?? process.env);
  const client = new KubeClient({
    kc: cfg.kc,
    server: cfg.server,
    context: cfg.contextName,
    timeoutMs: flags.requestTimeoutMs ?? 0,
    verbosity: flags.verbosity ?? 0,
    log,
    signal: flags.signal,
  });
  return {
    client,
    exec: makeExec(cfg.kc, cfg.server, cfg.contextName, flags.signal),
    namespace: cfg.namespace,
    contextName: cfg.contextName,
    server: cfg.server,
  };
}
