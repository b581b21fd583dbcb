import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeconfigPaths, loadConfig, resolveNamespace } from '../../src/kube/config.js';
import { CliError, ExitCode } from '../../src/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-kc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

const kcA = write(
  'a.yaml',
  `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c-dev
  cluster: {server: https://dev.example:6443, insecure-skip-tls-verify: true}
- name: c-prod
  cluster: {server: https://prod.example:6443, insecure-skip-tls-verify: true}
users:
- name: u-dev
  user: {token: abc}
- name: u-admin
  user: {token: def}
contexts:
- name: dev
  context: {cluster: c-dev, user: u-dev, namespace: team-a}
- name: prod
  context: {cluster: c-prod, user: u-dev}
`,
);
const kcB = write(
  'b.yaml',
  `apiVersion: v1
kind: Config
current-context: other
clusters:
- name: c-other
  cluster: {server: https://other.example:6443}
- name: c-dev
  cluster: {server: https://shadowed.example:6443}
users:
- name: u-other
  user: {token: xyz}
contexts:
- name: other
  context: {cluster: c-other, user: u-other}
`,
);

function err(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  throw new Error('expected an error');
}

describe('kubeconfig resolution', () => {
  it.each([
    ['flag wins', '/x/flag', '/a:/b', ['/x/flag']],
    ['KUBECONFIG with several paths', undefined, '/a::/b', ['/a', '/b']],
    ['home default', undefined, undefined, ['/home/u/.kube/config']],
  ])('%s', (_n, flag, env, want) => expect(kubeconfigPaths(flag, env, '/home/u')).toEqual(want));

  it.each([
    ['flag', 'ns-flag', 'ns-ctx', 'ns-flag'],
    ['context', undefined, 'ns-ctx', 'ns-ctx'],
    ['default', undefined, undefined, 'default'],
  ])('namespace from %s', (_n, flag, ctx, want) => expect(resolveNamespace(flag, ctx)).toBe(want));

  it('uses the current context and its namespace', () => {
    const r = loadConfig({ kubeconfig: kcA }, {});
    expect(r.contextName).toBe('dev');
    expect(r.server).toBe('https://dev.example:6443');
    expect(r.namespace).toBe('team-a');
  });

  it('--context and -n', () => {
    const r = loadConfig({ kubeconfig: kcA, context: 'prod', namespace: 'x' }, {});
    expect(r.server).toBe('https://prod.example:6443');
    expect(r.namespace).toBe('x');
  });

  it('--cluster and --user override the context', () => {
    const r = loadConfig({ kubeconfig: kcA, cluster: 'c-prod', user: 'u-admin' }, {});
    expect(r.server).toBe('https://prod.example:6443');
    expect(r.user?.name).toBe('u-admin');
    expect(r.namespace).toBe('team-a');
  });

  it('merges KUBECONFIG files, first one wins for names and current-context', () => {
    const r = loadConfig({}, { KUBECONFIG: `${kcA}:${kcB}` });
    expect(r.contextName).toBe('dev');
    expect(r.server).toBe('https://dev.example:6443');
    const other = loadConfig({ context: 'other' }, { KUBECONFIG: `${kcA}:${kcB}` });
    expect(other.server).toBe('https://other.example:6443');
  });

  it('missing --kubeconfig file names the path (exit 3)', () => {
    const e = err(() => loadConfig({ kubeconfig: path.join(dir, 'nope') }, {}));
    expect(e.message).toContain('nope');
    expect(e.exitCode).toBe(ExitCode.Unreachable);
  });

  it('no kubeconfig at all says where it looked', () => {
    const e = err(() => loadConfig({}, { HOME: dir }));
    expect(e.message).toContain(path.join(dir, '.kube', 'config'));
  });

  it('corrupt kubeconfig names the file', () => {
    const bad = write('bad.yaml', 'clusters: [\n  - {oops');
    const e = err(() => loadConfig({ kubeconfig: bad }, {}));
    expect(e.message).toContain(bad);
    expect(e.exitCode).toBe(ExitCode.Unreachable);
  });

  it('unknown context lists the contexts', () => {
    const e = err(() => loadConfig({ kubeconfig: kcA, context: 'staging' }, {}));
    expect(e.message).toContain('"staging"');
    expect(e.hints.join(' ')).toContain('dev, prod');
  });

  it('unknown --cluster / --user list what exists', () => {
    expect(err(() => loadConfig({ kubeconfig: kcA, cluster: 'nope' }, {})).hints.join(' ')).toContain('c-dev, c-prod');
    expect(err(() => loadConfig({ kubeconfig: kcA, user: 'nope' }, {})).hints.join(' ')).toContain('u-dev, u-admin');
  });
});
