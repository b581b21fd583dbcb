/**
 * Issue 15: what a fresh process loads before its first request decides how a one-shot command
 * compares with kubectl. The API layer bundle (kube.cjs, as scripts/build.mjs makes it) must load
 * neither undici's barrel (HTTP/2 client, worker_threads, perf_hooks) nor the exec (ws) and socks
 * support for a plain kubeconfig; they are loaded when a command needs them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
let kubeBundle: string;
let bundles: { boot: string; main: string; kube: string };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-bundle-'));
  // @ts-expect-error plain JS module without types
  const build = (await import('../../scripts/build.mjs')) as { bundle: (out: string) => Promise<typeof bundles> };
  bundles = await build.bundle(dir);
  kubeBundle = bundles.kube;
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads kube.cjs the way src/kube/load.ts does, builds the access layer, reports the builtins loaded. */
function builtinsAfter(step: 'load' | 'exec', user = '{token: t0ken}'): string[] {
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
      `users: [{name: u, user: ${user}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]',
      'current-context: x',
    ].join('\n'),
  );
  const script = `
    const vm = require('node:vm'); const fs = require('node:fs');
    const before = new Set(process.moduleLoadList);
    const code = fs.readFileSync(${JSON.stringify(kubeBundle)}, 'utf8');
    const fn = new vm.Script('(function (exports, require, module, __filename, __dirname) {' + code + '\\n})').runInThisContext();
    const mod = { exports: {} }; fn(mod.exports, require, mod, ${JSON.stringify(kubeBundle)}, '.');
    const kube = mod.exports.createKube({ kubeconfig: ${JSON.stringify(kubeconfig)} }, () => {});
    const done = () => { process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13)))); process.exit(0); };
    // One request (refused: nothing listens on port 1) goes through the whole request path.
    kube.client.get('/version').catch(() => ${step === 'exec' ? "kube.exec({ namespace: 'ns', pod: 'p', container: 'c', command: ['true'] }).catch(() => {}).then(done)" : 'done()'});
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
}

describe('the API layer bundle (kube.cjs)', () => {
  it('serves a plain kubeconfig without undici, exec or socks support: no http2, worker_threads, perf_hooks, dns, zlib', () => {
    const loaded = builtinsAfter('load');
    expect(loaded).toContain('https');
    for (const heavy of ['http2', 'worker_threads', 'perf_hooks', 'dns', 'zlib']) expect(loaded, heavy).not.toContain(heavy);
    // client-node (its KubeConfig, authenticators and exec credential support) is not evaluated either.
    expect(loaded).not.toContain('child_process');
  });

  it('loads client-node for what only it serves: an exec credential plugin', () => {
    // The plugin runs (and fails: `true` prints no ExecCredential); what matters is that the path was taken.
    expect(builtinsAfter('load', '{exec: {apiVersion: client.authentication.k8s.io/v1, command: "true"}}')).toContain('child_process');
  });

  it('loads the exec support when a command execs', () => {
    // ws (permessage-deflate) brings zlib: present only once an exec was asked for.
    expect(builtinsAfter('exec')).toContain('zlib');
  });
});

describe('the code caches (src/boot.ts, scripts/build/code-cache.mjs)', () => {
  it('are trained on the stand-in API server, and V8 accepts both under the binary\'s flags', async () => {
    // @ts-expect-error plain JS module without types
    const { trainCodeCaches, TRAINING_RUNS } = await import('../../scripts/build/code-cache.mjs');
    // @ts-expect-error plain JS module without types
    const { SEA_EXEC_ARGV } = await import('../../scripts/build.mjs');
    const caches = await trainCodeCaches({ node: process.execPath, dir, execArgv: SEA_EXEC_ARGV });
    // Every training run reached the stand-in server (the build fails on a wrong exit code).
    expect(caches.requests).toBeGreaterThanOrEqual(TRAINING_RUNS.length);
    // The caches hold what the run compiled, not only the eager top level: far more than a compile-only cache.
    const compileOnly = execFileSync(process.execPath, [...SEA_EXEC_ARGV, '-e', `
      const vm = require('node:vm'), fs = require('node:fs');
      const wrap = (c) => '(function (exports, require, module, __filename, __dirname) {' + c + '\\n})';
      process.stdout.write(String(new vm.Script(wrap(fs.readFileSync(process.argv[1], 'latin1'))).createCachedData().length));
    `, bundles.main], { encoding: 'utf8' });
    expect(fs.statSync(caches.main).size).toBeGreaterThan(2 * Number(compileOnly));
    const status = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, bundles.boot, '__code-cache-status'], { encoding: 'utf8', env: { PATH: process.env.PATH } }));
    expect(status(SEA_EXEC_ARGV)).toEqual({ 'kubectl-sts.cjs': 'accepted', 'kube.cjs': 'accepted' });
    // Under flags that change V8's code (--no-opt), a cache is rejected and the code compiled as usual: the check can fail.
    expect(status(['--no-opt'])).toEqual({ 'kubectl-sts.cjs': 'rejected', 'kube.cjs': 'rejected' });
  }, 120_000);

  it('the minified bundles are ASCII (boot then decodes them as latin1, a plain copy)', () => {
    for (const f of [bundles.boot, bundles.main, bundles.kube]) expect(fs.readFileSync(f).findIndex((c) => c > 0x7f), f).toBe(-1);
  });
});
