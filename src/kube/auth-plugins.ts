/**
 * client-node, for what only it provides: exec credential plugins, auth-providers (oidc, azure,
 * gcp, a provider's token file), proxy-url (http and socks proxies), and the pods/exec websocket
 * (exec.ts). Loaded on first use: a plain kubeconfig never evaluates it (see auth.ts).
 */
import fs from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { Authenticate } from './auth.js';
import type { Kubeconfig } from './config.js';

const made = new WeakMap<Kubeconfig, KubeConfig>();

/**
 * A client-node KubeConfig holding exactly the entries read by config.ts, its current context the
 * one in use; one per `config`, so requests and execs share it: client-node keeps an exec
 * credential plugin's token in its KubeConfig, and a second one would run the plugin again.
 */
export function toKubeConfig(config: Kubeconfig): KubeConfig {
  let kc = made.get(config);
  if (kc) return kc;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: config.clusters,
    // client-node takes a token, not a token-file: read it now (trimmed, as kubectl does).
    users: config.users.map((u) => (u.token || !u.tokenFile ? u : { ...u, token: fs.readFileSync(u.tokenFile, 'utf8').trim() })),
    contexts: config.contexts,
    currentContext: config.currentContext,
  });
  made.set(config, kc);
  return kc;
}

/** client-node's authentication, per request (exec plugins cache and refresh their own credentials). */
export function pluginAuthenticator(config: Kubeconfig): Authenticate {
  return async () => {
    const kc = toKubeConfig(config);
    const ctx = new RequestContext(kc.getCurrentCluster()?.server ?? 'https://localhost', HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    return { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() };
  };
}
