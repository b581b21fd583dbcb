/**
 * What every e2e test uses: the cluster's kubeconfig, the real `kubectl`, the built plugin binary
 * (dist/kubectl-sts, the product users run), a namespace of its own per test file, and fixtures.
 */
import { execa, type Result } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { dump, loadAll } from 'js-yaml';

export const root = path.resolve(import.meta.dirname, '../..');
export const kubeconfig = inject('kubeconfig');
export const clusterKind = inject('clusterKind');
/** The API server's minor version (36 on the current line, 31 on the old one: see scripts/cluster/versions.env). */
export const kubeMinor = inject('kubeMinor');
/** The cluster line the suite runs on: cluster scripts called by a test must get it as KSTS_KUBE_LINE. */
export const kubeLine = inject('kubeLine');
/** The binary under test: dist/kubectl-sts, or KSTS_PLUGIN_BINARY. */
export const pluginBinary = process.env.KSTS_PLUGIN_BINARY ?? path.join(root, 'dist', 'kubectl-sts');

export interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function toRun(r: Result): Run {
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? -1 };
}

/** Runs the real kubectl against the test cluster; throws with stderr when it fails (unless allowFail). */
export async function kubectl(args: string[], o: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  const r = await execa('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    reject: false,
    ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
    timeout: o.timeoutMs ?? 120_000,
  });
  const run = toRun(r);
  if (run.exitCode !== 0 && !o.allowFail) throw new Error(`kubectl ${args.join(' ')} failed (${run.exitCode}): ${run.stderr}`);
  return run;
}

/** Runs the built plugin binary as a user would, with KUBECONFIG pointing at the test cluster. */
export async function plugin(args: string[], o: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  const r = await execa(pluginBinary, args, {
    reject: false,
    env: { KUBECONFIG: kubeconfig, NO_COLOR: '1', ...o.env },
    ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
    timeout: o.timeoutMs ?? 170_000,
  });
  return toRun(r);
}

export async function apply(manifest: string, namespace?: string): Promise<void> {
  await kubectl([...(namespace ? ['-n', namespace] : []), 'apply', '-f', '-'], { input: manifest });
}

/** A fixture manifest from test/fixtures/manifests, as YAML text with `transform` applied to each document. */
export function fixture(name: string, transform?: (doc: Record<string, any>) => Record<string, any> | undefined): string {
  const text = fs.readFileSync(path.join(root, 'test/fixtures/manifests', name), 'utf8');
  const docs = loadAll(text).filter(Boolean) as Record<string, any>[];
  return docs
    .map((d) => (transform ? transform(d) : d))
    .filter(Boolean)
    .map((d) => dump(d))
    .join('---\n');
}

/**
 * Seed 000's web set (web.yaml) with `replicas` pods and no claim template (nor its mounts): the
 * suites that need pods, not storage. `svc` edits the Service, or drops it (undefined).
 */
export function webWithoutClaims(replicas: number, svc: (s: Record<string, any>) => Record<string, any> | undefined = (s) => s): string {
  return fixture('web.yaml', (d) => {
    if (d.kind === 'Service') return svc(d);
    d.spec.replicas = replicas;
    delete d.spec.volumeClaimTemplates;
    delete d.spec.template.spec.containers[0].volumeMounts;
    return d;
  });
}

let counter = 0;
/**
 * Creates a fresh namespace and returns its name and a cleanup function that deletes it and
 * everything cluster-scoped made for it. On the KWOK cluster, exec into its pods needs nothing
 * more: the cluster's namespace reconciler (scripts/cluster/ns-exec.sh) gives every namespace its
 * ClusterExec before its default ServiceAccount.
 */
export async function createNamespace(prefix: string): Promise<{ ns: string; cleanup: () => Promise<void> }> {
  const ns = `${prefix}-${process.pid % 10000}-${Date.now().toString(36).slice(-4)}${counter++}`;
  await kubectl(['create', 'namespace', ns]);
  // The default ServiceAccount must exist before pods can be created in the namespace.
  await waitFor(async () => (await kubectl(['-n', ns, 'get', 'serviceaccount', 'default'], { allowFail: true })).exitCode === 0, 30_000);
  return {
    ns,
    cleanup: async () => {
      await kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
      await kubectl(['delete', 'pv', '-l', `ksts-test-ns=${ns}`, '--wait=false'], { allowFail: true });
    },
  };
}

/**
 * PersistentVolumes pre-bound (spec.claimRef) to the claims `<template>-<sts>-<ordinal>` in `ns`,
 * labelled for cleanup. Binding is then deterministic across parallel test namespaces.
 */
export async function createBoundPVs(
  ns: string,
  claims: string[],
  o: { storageClass?: string; reclaimPolicy?: 'Retain' | 'Delete'; size?: string } = {},
): Promise<string[]> {
  const names = claims.map((c) => `pv-${ns}-${c}`.slice(0, 63).replace(/-+$/, ''));
  const docs = claims.map((c, i) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: names[i], labels: { 'ksts-test-ns': ns } },
    spec: {
      capacity: { storage: o.size ?? '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: o.reclaimPolicy ?? 'Retain',
      storageClassName: o.storageClass ?? 'anything',
      hostPath: { path: `/tmp/kubectl-sts-pv/${names[i]}` },
      claimRef: { namespace: ns, name: c },
    },
  }));
  await apply(docs.map((d) => dump(d)).join('---\n'));
  return names;
}

/** Polls `check` every 250 ms until it is true (test-side waiting only; the product uses watches). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** kubectl get -o json, parsed. */
export async function getJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse((await kubectl(['get', ...args, '-o', 'json'])).stdout) as T;
}
