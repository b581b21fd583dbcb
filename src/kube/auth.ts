/**
 * What each request carries to authenticate: headers (bearer token, basic auth, impersonation)
 * and the dispatcher holding the TLS material (CA, client certificate and key, server name).
 *
 * A plain kubeconfig user (client certificate, token or token-file, username/password) is served
 * here, with one keep-alive connection pool for the whole command (issue 15). client-node is
 * loaded only for what it adds: exec credential plugins, auth-provider (oidc, azure, gcp, token
 * files of a provider) and proxy-url; see auth-plugins.ts.
 */
import fs from 'node:fs';
import { Agent } from 'undici';
import type { KcCluster, KcUser, Kubeconfig } from './config.js';

export interface Credentials {
  headers: Record<string, string>;
  /** An undici dispatcher (the TLS-only Agent is served by node:https in the built binary); undefined: the default one. */
  dispatcher: unknown;
}

/** Prepares one request's credentials; rejects when they cannot be made (unreadable files, a failing exec plugin). */
export type Authenticate = () => Promise<Credentials>;

/** Why client-node is needed for this cluster and user, or undefined when the plain path serves them. */
export function needsPlugins(cluster: KcCluster, user: KcUser | undefined): string | undefined {
  if (cluster.proxyUrl) return 'proxy-url';
  if (user?.exec) return 'exec credential plugin';
  if (user?.authProvider) return 'auth-provider';
  return undefined;
}

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

type ReadFile = (file: string) => Buffer;

function fileOrData(read: ReadFile, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return read(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

/**
 * The TLS options of a plain cluster and user, as client-node (and kubectl) apply them: a file
 * wins over its -data twin; insecure-skip-tls-verify turns verification off; tls-server-name is
 * the name the certificate must carry. Throws when a file cannot be read.
 */
export function tlsOptions(cluster: KcCluster, user: KcUser | undefined, read: ReadFile = (f) => fs.readFileSync(f)): TlsOptions {
  const o: TlsOptions = {};
  if (cluster.skipTLSVerify) o.rejectUnauthorized = false;
  if (cluster.tlsServerName) o.servername = cluster.tlsServerName;
  const ca = fileOrData(read, cluster.caFile, cluster.caData);
  if (ca) o.ca = ca;
  if (user) {
    const cert = fileOrData(read, user.certFile, user.certData);
    if (cert) o.cert = cert;
    const key = fileOrData(read, user.keyFile, user.keyData);
    if (key) o.key = key;
  }
  return o;
}

/**
 * The headers of a plain user: Authorization (token, else token-file, re-read on every request as
 * kubectl does for rotated service-account tokens, trimmed; else username/password) and the
 * impersonation headers of `as`, `as-uid` and `as-groups`.
 */
export function authHeaders(user: KcUser | undefined, read: ReadFile = (f) => fs.readFileSync(f)): Record<string, string> {
  const h: Record<string, string> = {};
  if (!user) return h;
  if (user.username) h.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  const token = user.token ?? (user.tokenFile ? read(user.tokenFile).toString('utf8').trim() : undefined);
  if (token) h.Authorization = `Bearer ${token}`;
  if (user.impersonateUser) h['Impersonate-User'] = user.impersonateUser;
  if (user.impersonateUid) h['Impersonate-Uid'] = user.impersonateUid;
  if (user.impersonateGroups?.length) h['Impersonate-Group'] = user.impersonateGroups.join(', ');
  return h;
}

/**
 * The credentials source for one command: plain users get headers and one dispatcher made once
 * (so every request of the command shares its connections and TLS context); the rest goes to
 * client-node, loaded on the first request.
 */
export function makeAuthenticator(cluster: KcCluster, user: KcUser | undefined, config: Kubeconfig): Authenticate {
  if (needsPlugins(cluster, user)) {
    let plugins: Promise<Authenticate> | undefined;
    return async () => {
      plugins ??= import('./auth-plugins.js').then((m) => m.pluginAuthenticator(config));
      return (await plugins)();
    };
  }
  let dispatcher: unknown;
  return async () => {
    if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
      throw new Error(`the server URL ${cluster.server} is plain http: credentials would travel unencrypted (set insecure-skip-tls-verify: true on cluster "${cluster.name}" to allow it)`);
    }
    dispatcher ??= new Agent({ connect: { ...tlsOptions(cluster, user), keepAlive: true, keepAliveInitialDelay: 30_000 } });
    return { headers: authHeaders(user), dispatcher };
  };
}
