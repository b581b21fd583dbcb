/**
 * Brings the test cluster up once per run (reusing one that is already up) and hands its
 * kubeconfig to the tests. When the cluster cannot start, the run fails with the reason and the
 * components' log tails — in CI and locally alike; it never skips.
 *
 * The project `e2e` runs on the current line (KUBE_VERSION in scripts/cluster/versions.env), the
 * project `e2e-old` on the oldest supported minor (KUBE_VERSION_OLD): KSTS_KUBE_LINE=old for the
 * cluster scripts, which then use their own cluster (kubectl-sts-old) beside the current one.
 *
 * The release project (test/release/global-setup.ts) uses the current line's cluster the same way,
 * for the foreign-platform binaries' read command.
 *
 * E2E_CLUSTER=kind runs the same suites on a kind cluster instead (needs Docker and kind; not
 * possible on the project's own CI machine, which has no Docker engine).
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    clusterKind: 'kwok' | 'kind';
    /** The API server's minor version (31 for v1.31.14), read from its /version. */
    kubeMinor: number;
    /** The cluster line (scripts/cluster/versions.env) the suite runs on, for the cluster scripts. */
    kubeLine: 'current' | 'old';
  }
}

const root = path.resolve(import.meta.dirname, '../..');

async function kindCluster(): Promise<string> {
  const name = process.env.E2E_KIND_NAME ?? 'kubectl-sts-e2e';
  const kubeconfig = path.join(root, 'dist', `kind-${name}.kubeconfig`);
  const existing = await execa('kind', ['get', 'clusters'], { reject: false });
  if (existing.exitCode !== 0) throw new Error(`E2E_CLUSTER=kind but \`kind get clusters\` failed: ${existing.stderr}`);
  if (!existing.stdout.split('\n').includes(name)) {
    await execa('kind', ['create', 'cluster', '--name', name, '--wait', '180s'], { stdio: 'inherit' });
  }
  const kc = await execa('kind', ['get', 'kubeconfig', '--name', name]);
  fs.mkdirSync(path.dirname(kubeconfig), { recursive: true });
  fs.writeFileSync(kubeconfig, kc.stdout);
  return kubeconfig;
}

/** The API server's minor version, from `kubectl version` (a minor like "31+" counts as 31). */
async function serverMinor(kubeconfig: string): Promise<number> {
  const v = await execa('kubectl', ['--kubeconfig', kubeconfig, 'version', '-o', 'json'], { reject: false, stdin: 'ignore' });
  const minor = Number.parseInt(String((JSON.parse(String(v.stdout || '{}')) as { serverVersion?: { minor?: string } }).serverVersion?.minor ?? ''), 10);
  if (!Number.isInteger(minor)) throw new Error(`could not read the API server's version (kubectl version exited ${v.exitCode}): ${String(v.stderr)}`);
  return minor;
}

export default async function setup(project: TestProject) {
  const binary = process.env.KSTS_PLUGIN_BINARY ?? path.join(root, 'dist', 'kubectl-sts');
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: the e2e suites test the built binary; run "npm run build" first (npm test does).`);
  }
  if (process.env.E2E_CLUSTER === 'kind') {
    const kc = await kindCluster();
    project.provide('kubeconfig', kc);
    project.provide('clusterKind', 'kind');
    project.provide('kubeMinor', await serverMinor(kc));
    project.provide('kubeLine', 'current');
    return;
  }
  const line = project.name === 'e2e-old' ? 'old' : 'current';
  const env = { KSTS_KUBE_LINE: line };
  const started = Date.now();
  const up = await execa('bash', [path.join(root, 'scripts/cluster/up.sh')], { reject: false, all: true, stdin: 'ignore', env });
  if (up.exitCode !== 0) {
    throw new Error(`the e2e cluster could not start (npm run cluster:up exited ${up.exitCode}):\n${up.all}`);
  }
  const kubeconfig = up.stdout.trim().split('\n').pop()!;
  const reused = /already running/.test(up.stderr);
  const kubeMinor = await serverMinor(kubeconfig);
  process.stderr.write(`[e2e] ${line} line (kubernetes 1.${kubeMinor}): cluster ${reused ? 'reused' : 'started'} in ${((Date.now() - started) / 1000).toFixed(0)}s; kubeconfig ${kubeconfig}\n`);
  project.provide('kubeconfig', kubeconfig);
  project.provide('clusterKind', 'kwok');
  project.provide('kubeMinor', kubeMinor);
  project.provide('kubeLine', line);
  // Locally a running cluster is kept for the next run (warm start); in CI the run cleans up after itself.
  return async () => {
    // Keep the component logs of this run (dist/cluster-logs, dist/cluster-logs-old) for a failure post-mortem.
    const kwokClusters = path.join(path.dirname(kubeconfig), 'kwok', 'clusters');
    const name = fs.existsSync(kwokClusters) ? fs.readdirSync(kwokClusters)[0] : undefined;
    const keep = path.join(root, 'dist', line === 'old' ? 'cluster-logs-old' : project.name === 'release' ? 'cluster-logs-release' : 'cluster-logs');
    const logs = name ? path.join(kwokClusters, name, 'logs') : '';
    if (logs && fs.existsSync(logs)) fs.cpSync(logs, keep, { recursive: true });
    const nsExecLog = path.join(path.dirname(kubeconfig), 'ns-exec.log');
    if (fs.existsSync(nsExecLog)) fs.cpSync(nsExecLog, path.join(keep, 'ns-exec.log'));
    if (process.env.CI === 'true' && !reused) await execa('bash', [path.join(root, 'scripts/cluster/down.sh')], { reject: false, env });
  };
}
