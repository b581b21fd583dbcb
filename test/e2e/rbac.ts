/**
 * Least-privilege identities for e2e tests: a ServiceAccount in a test namespace, bound to
 * exactly the Role (and, when asked, ClusterRole) rules a test gives, reached through a kubeconfig
 * that holds only that account's token. Run the plugin with `env: { KUBECONFIG: id.kubeconfig }`
 * to act as a namespace-scoped tenant would, on the real API server's RBAC authorizer.
 *
 * Self-contained on purpose (only the admin kubeconfig from harness.ts): other suites reuse it.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import { kubeconfig as adminKubeconfig } from './harness.js';

/** One RBAC PolicyRule, as in a Role's `rules`. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface IdentityOptions {
  /** Rules of the Role in `namespace` (bound with a RoleBinding there). Empty/omitted: no Role. */
  rules?: PolicyRule[];
  /** Rules of a ClusterRole bound with a ClusterRoleBinding (cluster-wide). Omitted: none. */
  clusterRules?: PolicyRule[];
  /** ServiceAccount (and Role) name; default `ksts-e2e-user`. Several identities per namespace need distinct names. */
  name?: string;
}

export interface ScopedIdentity {
  /** A kubeconfig file with the cluster's server and CA, the account's token, and `namespace` as the context's namespace. */
  kubeconfig: string;
  /** `{ KUBECONFIG: kubeconfig }`, for plugin(args, { env }). */
  env: Record<string, string>;
  /** The RBAC user name: system:serviceaccount:NS:NAME. */
  user: string;
  namespace: string;
  /** Deletes the ClusterRole/ClusterRoleBinding (if any), the namespaced objects and the kubeconfig file. */
  cleanup: () => Promise<void>;
}

async function admin(args: string[], input?: string): Promise<string> {
  const r = await execa('kubectl', ['--kubeconfig', adminKubeconfig, ...args], {
    reject: false,
    ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    timeout: 60_000,
  });
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.exitCode}): ${String(r.stderr)}`);
  return String(r.stdout);
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string } }[];
  clusters?: { name: string; cluster: Record<string, unknown> & { server: string } }[];
}

/** The admin kubeconfig's current cluster entry, with a CA file inlined as certificate-authority-data. */
export function adminCluster(file = adminKubeconfig): { server: string; cluster: Record<string, unknown> } {
  const kc = load(fs.readFileSync(file, 'utf8')) as KubeconfigFile;
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
  const entry = kc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? kc.clusters?.[0];
  if (!entry) throw new Error(`no cluster entry in ${file}`);
  const cluster: Record<string, unknown> = { server: entry.cluster.server };
  const caFile = entry.cluster['certificate-authority'];
  if (typeof entry.cluster['certificate-authority-data'] === 'string') cluster['certificate-authority-data'] = entry.cluster['certificate-authority-data'];
  else if (typeof caFile === 'string') {
    const abs = path.isAbsolute(caFile) ? caFile : path.resolve(path.dirname(file), caFile);
    cluster['certificate-authority-data'] = fs.readFileSync(abs).toString('base64');
  }
  if (entry.cluster['insecure-skip-tls-verify'] === true) cluster['insecure-skip-tls-verify'] = true;
  if (typeof entry.cluster['tls-server-name'] === 'string') cluster['tls-server-name'] = entry.cluster['tls-server-name'];
  return { server: entry.cluster.server, cluster };
}

/**
 * Creates ServiceAccount `name` in `namespace`, a Role with `rules` + RoleBinding, and (with
 * `clusterRules`) a ClusterRole + ClusterRoleBinding named `<namespace>-<name>`; mints a token
 * (`kubectl create token`, 1h) and writes a kubeconfig for it. Waits until the API server's
 * authorizer grants the first rule (RBAC changes reach it through an informer).
 */
export async function createScopedIdentity(namespace: string, o: IdentityOptions = {}): Promise<ScopedIdentity> {
  const name = o.name ?? 'ksts-e2e-user';
  const user = `system:serviceaccount:${namespace}:${name}`;
  const clusterName = `${namespace}-${name}`;
  const subject = { kind: 'ServiceAccount', name, namespace };
  const docs: Record<string, unknown>[] = [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }];
  if (o.rules?.length) {
    docs.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules: o.rules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [subject],
      },
    );
  }
  if (o.clusterRules?.length) {
    const labels = { 'ksts-test-ns': namespace };
    docs.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: clusterName, labels }, rules: o.clusterRules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: clusterName, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
        subjects: [subject],
      },
    );
  }
  await admin(['apply', '-f', '-'], docs.map((d) => dump(d)).join('---\n'));
  const token = (await admin(['-n', namespace, 'create', 'token', name, '--duration', '1h'])).trim();

  const { cluster } = adminCluster();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-rbac-'));
  const file = path.join(dir, 'kubeconfig');
  const ctxName = `${name}@${namespace}`;
  fs.writeFileSync(
    file,
    dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster }],
      users: [{ name: ctxName, user: { token } }],
      contexts: [{ name: ctxName, context: { cluster: 'e2e', user: ctxName, namespace } }],
      'current-context': ctxName,
    }),
    { mode: 0o600 },
  );

  // Wait for the authorizer to see the binding: ask as the new identity about its first granted rule.
  const probe = o.rules?.[0] ?? o.clusterRules?.[0];
  if (probe) {
    const resource = probe.apiGroups[0] ? `${probe.resources[0]}.${probe.apiGroups[0]}` : probe.resources[0]!;
    const scope = o.rules?.length ? ['-n', namespace] : [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await execa('kubectl', ['--kubeconfig', file, 'auth', 'can-i', probe.verbs[0]!, resource, ...scope], { reject: false, stdin: 'ignore' });
      if (String(r.stdout).trim() === 'yes') break;
      if (Date.now() > deadline) throw new Error(`RBAC for ${user} did not take effect within 20s (can-i ${probe.verbs[0]} ${resource}: ${String(r.stdout)} ${String(r.stderr)})`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  return {
    kubeconfig: file,
    env: { KUBECONFIG: file },
    user,
    namespace,
    cleanup: async () => {
      if (o.clusterRules?.length) {
        await admin(['delete', 'clusterrolebinding,clusterrole', clusterName, '--ignore-not-found']).catch(() => undefined);
      }
      await admin(['-n', namespace, 'delete', 'rolebinding,role,serviceaccount', name, '--ignore-not-found']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Role / ClusterRole documents of a YAML text (e.g. a README block), by metadata.name, so a
 * test can apply exactly the rules the documentation gives: `rulesOf(yaml, 'kubectl-sts-read')`.
 */
export function rulesFromYaml(text: string): Map<string, { kind: string; rules: PolicyRule[] }> {
  const out = new Map<string, { kind: string; rules: PolicyRule[] }>();
  for (const part of text.split(/^---\s*$/m)) {
    const doc = load(part) as { kind?: string; metadata?: { name?: string }; rules?: PolicyRule[] } | undefined;
    if (doc && (doc.kind === 'Role' || doc.kind === 'ClusterRole') && doc.metadata?.name) out.set(doc.metadata.name, { kind: doc.kind, rules: doc.rules ?? [] });
  }
  return out;
}

/** The Role/ClusterRole rules of README's "Least privilege (RBAC)" section, by name (the rules users are told to apply). */
export function readmeRules(readmeText: string): Map<string, { kind: string; rules: PolicyRule[] }> {
  const start = readmeText.indexOf('\n## Least privilege (RBAC)\n');
  if (start < 0) throw new Error('README has no "## Least privilege (RBAC)" section');
  const end = readmeText.indexOf('\n## ', start + 5);
  const section = readmeText.slice(start, end);
  const out = new Map<string, { kind: string; rules: PolicyRule[] }>();
  for (const m of section.matchAll(/```yaml\n([\s\S]*?)```/g)) for (const [k, v] of rulesFromYaml(m[1]!)) out.set(k, v);
  return out;
}
