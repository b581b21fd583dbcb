/**
 * Builds the KubeConfig from kubectl's flags and environment, the way kubectl resolves them:
 * --kubeconfig, else every path in KUBECONFIG (merged, first wins), else ~/.kube/config;
 * --context, else current-context; --cluster/--user override the context's; namespace from
 * -n, else the context's, else "default".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { CliError, ExitCode } from '../errors.js';

export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  cluster?: string | undefined;
  user?: string | undefined;
  namespace?: string | undefined;
}

export interface ResolvedConfig {
  kc: KubeConfig;
  contextName: string;
  server: string;
  namespace: string;
  /** Where the config came from, for messages. */
  sources: string[];
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

/** Every kubeconfig file in effect, merged as kubectl merges them (first wins), and which files they were. */
function mergedKubeconfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv): { kc: KubeConfig; existing: string[] } {
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

  const kc = new KubeConfig();
  // Merge in order; for duplicate names the first file wins, as in kubectl.
  for (const file of existing) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (e) {
      throw new CliError(`kubeconfig ${file} cannot be read: ${(e as Error).message.split('\n')[0]}`, ExitCode.Unreachable, [
        'Fix or replace that file; `kubectl config view` shows what kubectl makes of it.',
      ]);
    }
    if (!Array.isArray(one.clusters) || !Array.isArray(one.contexts) || !Array.isArray(one.users)) {
      throw new CliError(`kubeconfig ${file} is not a kubeconfig (no clusters/contexts/users lists)`, ExitCode.Unreachable);
    }
    for (const c of one.clusters) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of one.users) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const x of one.contexts) if (!kc.getContextObject(x.name)) kc.addContext(x);
    if (!kc.currentContext && one.currentContext) kc.currentContext = one.currentContext;
  }

  return { kc, existing };
}

/** The context names of the kubeconfig in effect, in file order (for --all-contexts). */
export function listContexts(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  return mergedKubeconfig(flags, env).kc.getContexts().map((c) => c.name);
}

export function loadConfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const { kc, existing } = mergedKubeconfig(flags, env);
  const names = kc.getContexts().map((c) => c.name);
  let contextName = flags.context || kc.getCurrentContext();
  if (!contextName) {
    throw new CliError(`no current context is set in ${existing.join(', ')}`, ExitCode.Unreachable, [
      names.length ? `Pass --context, one of: ${names.join(', ')}` : 'The kubeconfig has no contexts.',
    ]);
  }
  const ctx = kc.getContextObject(contextName);
  if (!ctx) {
    throw new CliError(`context "${contextName}" does not exist in ${existing.join(', ')}`, ExitCode.Unreachable, [
      names.length ? `Available contexts: ${names.join(', ')}` : 'The kubeconfig has no contexts.',
    ]);
  }
  if (flags.cluster || flags.user) {
    if (flags.cluster && !kc.getCluster(flags.cluster)) {
      throw new CliError(`cluster "${flags.cluster}" (from --cluster) does not exist in the kubeconfig`, ExitCode.Unreachable, [
        `Available clusters: ${kc.getClusters().map((c) => c.name).join(', ') || '(none)'}`,
      ]);
    }
    if (flags.user && !kc.getUser(flags.user)) {
      throw new CliError(`user "${flags.user}" (from --user) does not exist in the kubeconfig`, ExitCode.Unreachable, [
        `Available users: ${kc.getUsers().map((u) => u.name).join(', ') || '(none)'}`,
      ]);
    }
    const override = `${contextName}+overrides`;
    kc.addContext({
      name: override,
      cluster: flags.cluster || ctx.cluster,
      user: flags.user || ctx.user,
      ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
    });
    kc.setCurrentContext(override);
  } else {
    kc.setCurrentContext(contextName);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new CliError(`context "${contextName}" names cluster "${ctx.cluster}", which is not in the kubeconfig`, ExitCode.Unreachable);
  }
  return {
    kc,
    contextName,
    server: cluster.server,
    namespace: resolveNamespace(flags.namespace, ctx.namespace),
    sources: existing,
  };
}
