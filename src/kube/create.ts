/**
 * Builds the API access for one invocation from the global flags. This is the entry of the
 * access layer bundle (kube.cjs): only loadKube() reaches it, lazily. client-node is reached
 * only through dynamic imports (exec, and the kubeconfigs auth.ts cannot serve alone).
 */
import { reviewAccess } from './access.js';
import { makeAuthenticator } from './auth.js';
import { loadConfig } from './config.js';

export { listContexts } from './config.js';
import { KubeClient } from './client.js';
import type { ExecFn } from './exec.js';
import type { Kube, KubeFlags } from './index.js';

export function createKube(flags: KubeFlags, log: (line: string) => void): Kube {
  const cfg = loadConfig(flags, flags.env ?? process.env);
  const client = new KubeClient({
    auth: makeAuthenticator(cfg.cluster, cfg.user, cfg.config),
    server: cfg.server,
    context: cfg.contextName,
    timeoutMs: flags.requestTimeoutMs ?? 0,
    verbosity: flags.verbosity ?? 0,
    log,
    signal: flags.signal,
    proxy: cfg.proxy,
  });
  // Which pods/exec verb a refused exec lacks, asked once per pod (SelfSubjectAccessReview, allowed to every authenticated user by default).
  const asked = new Map<string, Promise<boolean | undefined>>();
  const canExec = (verb: 'get' | 'create', namespace: string, pod: string): Promise<boolean | undefined> => {
    const key = `${verb} ${namespace}/${pod}`;
    let p = asked.get(key);
    if (!p) {
      p = reviewAccess(client, { namespace, verb, resource: 'pods', subresource: 'exec', name: pod }).then((r) => r.allowed);
      asked.set(key, p);
    }
    return p;
  };
  // The exec layer (client-node's Exec, ws) is loaded on the first exec: most commands never exec.
  let execFn: Promise<ExecFn> | undefined;
  const exec: ExecFn = async (req) => {
    execFn ??= Promise.all([import('./exec.js'), import('./auth-plugins.js')]).then(([m, p]) =>
      m.makeExec(p.toKubeConfig(cfg.config), cfg.server, cfg.contextName, canExec, flags.signal),
    );
    return (await execFn)(req);
  };
  return {
    client,
    exec,
    namespace: cfg.namespace,
    contextName: cfg.contextName,
    server: cfg.server,
  };
}
