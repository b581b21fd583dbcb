/**
 * Brings the test cluster up once per run (reusing one that is already up) and hands its
 * kubeconfig to the tests. When the cluster cannot start, the run fails with the reason and the
 * components' log tails — in CI and locally alike; it never skips.
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

export default async function setup(project: TestProject) {
  const binary = process.env.KSTS_PLUGIN_BINARY ?? path.join(root, 'dist', 'kubectl-sts');
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: the e2e suites test the built binary; run "npm run build" first (npm test does).`);
  }
  if (process.env.E2E_CLUSTER === 'kind') {
    project.provide('kubeconfig', await kindCluster());
    project.provide('clusterKind', 'kind');
    return;
  }
  const started = Date.now();
  const up = await execa('bash', [path.join(root, 'scripts/cluster/up.sh')], { reject: false, all: true, stdin: 'ignore' });
  if (up.exitCode !== 0) {
    throw new Error(`the e2e cluster could not start (npm run cluster:up exited ${up.exitCode}):\n${up.all}`);
  }
  const kubeconfig = up.stdout.trim().split('\n').pop()!;
  const reused = /already running/.test(up.stderr);
  process.stderr.write(`[e2e] cluster ${reused ? 'reused' : 'started'} in ${((Date.now() - started) / 1000).toFixed(0)}s; kubeconfig ${kubeconfig}\n`);
  project.provide('kubeconfig', kubeconfig);
  project.provide('clusterKind', 'kwok');
  // Locally a running cluster is kept for the next run (warm start); in CI the run cleans up after itself.
  return async () => {
    // Keep the component logs of this run (dist/cluster-logs) for a failure post-mortem.
    const logs = path.join(path.dirname(kubeconfig), 'kwok', 'clusters', 'kubectl-sts', 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(root, 'dist', 'cluster-logs'), { recursive: true });
    const nsExecLog = path.join(path.dirname(kubeconfig), 'ns-exec.log');
    if (fs.existsSync(nsExecLog)) fs.cpSync(nsExecLog, path.join(root, 'dist', 'cluster-logs', 'ns-exec.log'));
    if (process.env.CI === 'true' && !reused) await execa('bash', [path.join(root, 'scripts/cluster/down.sh')], { reject: false });
  };
}
