/**
 * Builds the connection settings from kubectl's flags and environment, the way kubectl resolves
 * them: --kubeconfig, else every path in KUBECONFIG (merged, first wins), else ~/.kube/config;
 * --context, else current-context; --cluster/--user override the context's; namespace from
 * -n, else the context's, else "default".
 *
 * The files are read here, without client-node (issue 15: its KubeConfig class, authenticators
 * and their imports were most of what the API layer evaluated before the first request). The
 * entries keep client-node's field names (Cluster, User, Context), so that the few kubeconfigs
 * that need client-node (exec credential plugins, auth-provider, proxy-url; see auth.ts) and the
 * exec support get a KubeConfig made from exactly what was read here.
 */
import { envProxy } from './proxy-env.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { CliError, ExitCode } from '../errors.js';

export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  cluster?: string | undefined;
  user?: string | undefined;
  namespace?: string | undefined;
}

/** A kubeconfig cluster entry (client-node's Cluster shape). Paths are absolute. */
export interface KcCluster {
  name: string;
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

/** A kubeconfig user entry (client-node's User shape, plus what kubectl also reads). Paths are absolute. */
export interface KcUser {
  name: string;
  certData?: string;
  certFile?: string;
  keyData?: string;
  keyFile?: string;
  token?: string;
  /** token-file, resolved against the kubeconfig's directory as kubectl does; read when a request is prepared. */
  tokenFile?: string;
  username?: string;
  password?: string;
  /** Exec credential plugin and auth-provider: served by client-node (auth.ts). */
  exec?: unknown;
  authProvider?: unknown;
  impersonateUser?: string;
  impersonateUid?: string;
  impersonateGroups?: string[];
}

export interface KcContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

export interface Kubeconfig {
  clusters: KcCluster[];
  users: KcUser[];
  contexts: KcContext[];
  currentContext: string;
}

export interface ResolvedConfig {
  /** Every entry of the kubeconfig in effect, with the context in use as currentContext. */
  config: Kubeconfig;
  contextName: string;
  cluster: KcCluster;
  /** The context's user; undefined when the context names none (an anonymous request). */
  user: KcUser | undefined;
  server: string;
  namespace: string;
  /** Where the config came from, for messages. */
  sources: string[];
  /** The proxy the connection goes through: the cluster's proxy-url, or the environment's (kubectl's rules). */
  proxy?: { url: string; from: string };
}

/** The kubeconfig files to read, in kubectl's order of precedence. Pure: env and home are passed in. */
export function kubeconfigPaths(flag: string | undefined, env: string | undefined, home: string): string[] {
  if (flag) return [flag];
  if (env) {
    const sep = process.platform === 'win32' ? ';' : ':';
    return env.split(sep).filter((p) => p.length > 0);
  }
  return [path.join(home, '.kube', 'config')];
}

/** Namespace precedence: flag, context's, "default". */
export function resolveNamespace(flag: string | undefined, contextNamespace: string | undefined): string {
  return flag || contextNamespace || 'default';
}

type Raw = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Raw | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined);
const absolute = (dir: string, p: string | undefined): string | undefined => (p === undefined || path.isAbsolute(p) ? p : path.join(dir, p));

/**
 * One kubeconfig file's text, as entries. Pure (no file reads): `dir` is the file's directory,
 * against which relative certificate, key and token-file paths are resolved (as kubectl does).
 * Throws an Error naming the bad entry, as client-node did ("clusters[1].cluster.server is missing").
 */
export function parseKubeconfig(text: string, dir: string): Kubeconfig {
  // An empty file is an empty kubeconfig, as for kubectl (js-yaml calls it an error).
  const doc = text.trim() === '' ? undefined : loadYaml(text);
  if (doc === undefined || doc === null) return { clusters: [], users: [], contexts: [], currentContext: '' };
  const top = obj(doc);
  if (!top) throw new Error('it is not a YAML mapping');
  const list = (key: string): Raw[] => {
    const v = top[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new Error(`${key} is not a list`);
    return v.map((e, i) => obj(e) ?? fail(`${key}[${i}] is not a mapping`));
  };
  const clusters = list('clusters').map((e, i): KcCluster => {
    const name = str(e.name) ?? fail(`clusters[${i}].name is missing`);
    const c = obj(e.cluster) ?? fail(`clusters[${i}].cluster is missing`);
    const server = str(c.server) ?? fail(`clusters[${i}].cluster.server is missing`);
    return omitUndefined({
      name,
      server: server.replace(/\/$/, ''),
      caData: str(c['certificate-authority-data']),
      caFile: absolute(dir, str(c['certificate-authority'])),
      skipTLSVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name']),
      proxyUrl: str(c['proxy-url']),
    });
  });
  const users = list('users').map((e, i): KcUser => {
    const name = str(e.name) ?? fail(`users[${i}].name is missing`);
    const u = obj(e.user) ?? {};
    const groups = Array.isArray(u['as-groups']) ? u['as-groups'].filter((g): g is string => typeof g === 'string') : undefined;
    return omitUndefined({
      name,
      certData: str(u['client-certificate-data']),
      certFile: absolute(dir, str(u['client-certificate'])),
      keyData: str(u['client-key-data']),
      keyFile: absolute(dir, str(u['client-key'])),
      token: str(u.token),
      tokenFile: absolute(dir, str(u['token-file'])),
      username: str(u.username),
      password: str(u.password),
      exec: obj(u.exec),
      authProvider: obj(u['auth-provider']),
      impersonateUser: str(u.as),
      impersonateUid: str(u['as-uid']),
      impersonateGroups: groups?.length ? groups : undefined,
    });
  });
  const contexts = list('contexts').map((e, i): KcContext => {
    const name = str(e.name) ?? fail(`contexts[${i}].name is missing`);
    const c = obj(e.context) ?? fail(`contexts[${i}].context is missing`);
    const cluster = str(c.cluster) ?? fail(`contexts[${i}].context.cluster is missing`);
    return omitUndefined({ name, cluster, user: str(c.user) ?? '', namespace: str(c.namespace) });
  });
  return { clusters, users, contexts, currentContext: str(top['current-context']) ?? '' };
}

function fail(message: string): never {
  throw new Error(message);
}

function omitUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Merges kubeconfigs as kubectl does: for the same name the first file wins; the first current-context set wins. */
export function mergeKubeconfigs(files: Kubeconfig[]): Kubeconfig {
  const out: Kubeconfig = { clusters: [], users: [], contexts: [], currentContext: '' };
  for (const f of files) {
    for (const c of f.clusters) if (!out.clusters.some((x) => x.name === c.name)) out.clusters.push(c);
    for (const u of f.users) if (!out.users.some((x) => x.name === u.name)) out.users.push(u);
    for (const x of f.contexts) if (!out.contexts.some((y) => y.name === x.name)) out.contexts.push(x);
    if (!out.currentContext && f.currentContext) out.currentContext = f.currentContext;
  }
  return out;
}

/** Every kubeconfig file in effect, merged as kubectl merges them (first wins), and which files they were. */
function mergedKubeconfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv): { config: Kubeconfig; existing: string[] } {
  const paths = kubeconfigPaths(flags.kubeconfig, env.KUBECONFIG, env.HOME || os.homedir());
  const existing = paths.filter((p) => fs.existsSync(p));
  if (flags.kubeconfig && existing.length === 0) {
    throw new CliError(`kubeconfig file ${flags.kubeconfig} (from --kubeconfig) does not exist`, ExitCode.Unreachable, [
      'Check the path, or drop --kubeconfig to use $KUBECONFIG or ~/.kube/config.',
    ]);
  }
  if (existing.length === 0) {
    const from = env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG}` : paths[0]!;
    throw new CliError(`no kubeconfig found (looked at ${from})`, ExitCode.Unreachable, [
      'Point --kubeconfig or KUBECONFIG at a kubeconfig file, or create ~/.kube/config (for example with your cloud CLI).',
    ]);
  }
  const files = existing.map((file) => {
    try {
      return parseKubeconfig(fs.readFileSync(file, 'utf8'), path.dirname(path.resolve(file)));
    } catch (e) {
      throw new CliError(`kubeconfig ${file} cannot be read: ${(e as Error).message.split('\n')[0]}`, ExitCode.Unreachable, [
        'Fix or replace that file; `kubectl config view` shows what kubectl makes of it.',
      ]);
    }
  });
  return { config: mergeKubeconfigs(files), existing };
}

/** The context names of the kubeconfig in effect, in file order (for --all-contexts). */
export function listContexts(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  return mergedKubeconfig(flags, env).config.contexts.map((c) => c.name);
}

export function loadConfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const { config, existing } = mergedKubeconfig(flags, env);
  const names = config.contexts.map((c) => c.name);
  const contextName = flags.context || config.currentContext;
  if (!contextName) {
    throw new CliError(`no current context is set in ${existing.join(', ')}`, ExitCode.Unreachable, [
      names.length ? `Pass --context, one of: ${names.join(', ')}` : 'The kubeconfig has no contexts.',
    ]);
  }
  const ctx = config.contexts.find((c) => c.name === contextName);
  if (!ctx) {
    throw new CliError(`context "${contextName}" does not exist in ${existing.join(', ')}`, ExitCode.Unreachable, [
      names.length ? `Available contexts: ${names.join(', ')}` : 'The kubeconfig has no contexts.',
    ]);
  }
  const findCluster = (n: string) => config.clusters.find((c) => c.name === n);
  const findUser = (n: string) => config.users.find((u) => u.name === n);
  if (flags.cluster && !findCluster(flags.cluster)) {
    throw new CliError(`cluster "${flags.cluster}" (from --cluster) does not exist in the kubeconfig`, ExitCode.Unreachable, [
      `Available clusters: ${config.clusters.map((c) => c.name).join(', ') || '(none)'}`,
    ]);
  }
  if (flags.user && !findUser(flags.user)) {
    throw new CliError(`user "${flags.user}" (from --user) does not exist in the kubeconfig`, ExitCode.Unreachable, [
      `Available users: ${config.users.map((u) => u.name).join(', ') || '(none)'}`,
    ]);
  }
  // --cluster / --user: a context of its own, so that everything built from `config` (the exec
  // support's KubeConfig too) uses the overrides.
  let inUse = ctx;
  if (flags.cluster || flags.user) {
    inUse = omitUndefined({ name: `${contextName}+overrides`, cluster: flags.cluster || ctx.cluster, user: flags.user || ctx.user, namespace: ctx.namespace });
    config.contexts = [...config.contexts, inUse];
  }
  config.currentContext = inUse.name;
  const found = findCluster(inUse.cluster);
  if (!found) {
    throw new CliError(`context "${contextName}" names cluster "${ctx.cluster}", which is not in the kubeconfig`, ExitCode.Unreachable);
  }
  // Without a proxy-url of its own, the connection goes through the environment's proxy as
  // kubectl's would (HTTPS_PROXY, NO_PROXY; see proxy-env.ts): the cluster in use gets it as its
  // proxy-url, so requests and execs alike take it.
  let cluster = found;
  const viaEnv = found.proxyUrl ? undefined : envProxy(found.server, env);
  if (viaEnv) {
    cluster = { ...found, proxyUrl: viaEnv.url };
    config.clusters = config.clusters.map((c) => (c === found ? cluster : c));
  }
  const proxy = found.proxyUrl ? { url: found.proxyUrl, from: `proxy-url of cluster "${found.name}"` } : viaEnv ? { url: viaEnv.url, from: viaEnv.from } : undefined;
  return omitUndefined({
    config,
    contextName,
    cluster,
    user: inUse.user ? findUser(inUse.user) : undefined,
    server: cluster.server,
    namespace: resolveNamespace(flags.namespace, ctx.namespace),
    sources: existing,
    proxy,
  });
}
