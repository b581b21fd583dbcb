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

/** A client-node KubeConfig holding exactly the entries read by config.ts, its current context the one in use. */
export function toKubeConfig(config: Kubeconfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: config.clusters,
    // client-node takes a token, not a token-file: read it now (trimmed, as kubectl does).
    users: config.users.map((u) => (u.token || !u.tokenFile ? u : { ...u, token: fs.readFileSync(u.tokenFile, 'utf8').trim() })),
    contexts: config.contexts,
    currentContext: config.currentContext,
  });
  return kc;
}

/** client-node's authentication, per request (exec plugins cache and refresh their own credentials). */
export function pluginAuthenticator(config: Kubeconfig): Authenticate {
  let kc: KubeConfig | undefined;
  return async () => {
    kc ??= toKubeConfig(config);
    const ctx = new RequestContext(kc.getCurrentCluster()?.server ?? 'https://localhost', HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    return { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() };
  };
}
