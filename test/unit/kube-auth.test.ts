/**
 * Reading kubeconfig entries without client-node (config.ts) and the credentials each request
 * carries (auth.ts): what a plain user gets from our own code, and that the users only client-node
 * can serve (exec credential plugins) still get its answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authHeaders, makeAuthenticator, needsPlugins, tlsOptions } from '../../src/kube/auth.js';
import { toKubeConfig } from '../../src/kube/auth-plugins.js';
import { loadConfig, mergeKubeconfigs, parseKubeconfig, type KcCluster, type KcUser } from '../../src/kube/config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-auth-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cluster = (o: Partial<KcCluster> = {}): KcCluster => ({ name: 'c', server: 'https://api.example:6443', skipTLSVerify: false, ...o });

describe('parseKubeconfig', () => {
  it('reads every field, resolving relative paths against the file directory as kubectl does', () => {
    const kc = parseKubeconfig(
      `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: pki/ca.crt
    tls-server-name: kubernetes
- name: c2
  cluster: {server: https://b.example, certificate-authority-data: Q0E=, insecure-skip-tls-verify: true, proxy-url: http://proxy:3128}
users:
- name: u1
  user: {client-certificate: pki/u.crt, client-key: /abs/u.key, token-file: token}
- name: u2
  user: {username: admin, password: s3cret, as: alice, as-uid: "42", as-groups: [devs, ops]}
- name: u3
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, args: [eks, get-token]}
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team-a}
- name: nouser
  context: {cluster: c2}
`,
      '/etc/kube',
    );
    expect(kc.currentContext).toBe('dev');
    expect(kc.clusters[0]).toEqual({ name: 'c1', server: 'https://10.0.0.1:6443', caFile: '/etc/kube/pki/ca.crt', skipTLSVerify: false, tlsServerName: 'kubernetes' });
    expect(kc.clusters[1]).toEqual({ name: 'c2', server: 'https://b.example', caData: 'Q0E=', skipTLSVerify: true, proxyUrl: 'http://proxy:3128' });
    expect(kc.users[0]).toEqual({ name: 'u1', certFile: '/etc/kube/pki/u.crt', keyFile: '/abs/u.key', tokenFile: '/etc/kube/token' });
    expect(kc.users[1]).toEqual({ name: 'u2', username: 'admin', password: 's3cret', impersonateUser: 'alice', impersonateUid: '42', impersonateGroups: ['devs', 'ops'] });
    expect(kc.users[2]!.exec).toEqual({ apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token'] });
    expect(kc.contexts).toEqual([
      { name: 'dev', cluster: 'c1', user: 'u1', namespace: 'team-a' },
      { name: 'nouser', cluster: 'c2', user: '' },
    ]);
  });

  it.each([
    ['a cluster without server', 'clusters: [{name: c, cluster: {}}]', 'clusters[0].cluster.server is missing'],
    ['a cluster without name', 'clusters: [{cluster: {server: https://x}}]', 'clusters[0].name is missing'],
    ['a context without cluster', 'contexts: [{name: x, context: {user: u}}]', 'contexts[0].context.cluster is missing'],
    ['users that is not a list', 'users: {name: u}', 'users is not a list'],
    ['a scalar document', 'just text', 'it is not a YAML mapping'],
  ])('refuses %s, naming the entry', (_n, text, msg) => {
    expect(() => parseKubeconfig(text, '/')).toThrow(msg);
  });

  it('an empty file is an empty kubeconfig', () => {
    expect(parseKubeconfig('', '/')).toEqual({ clusters: [], users: [], contexts: [], currentContext: '' });
  });

  it('merges: the first file wins for the same name and for current-context', () => {
    const a = parseKubeconfig('clusters: [{name: c, cluster: {server: https://a}}]\ncurrent-context: ""', '/');
    const b = parseKubeconfig('clusters: [{name: c, cluster: {server: https://b}}, {name: d, cluster: {server: https://d}}]\ncurrent-context: bee', '/');
    const m = mergeKubeconfigs([a, b]);
    expect(m.clusters.map((c) => c.server)).toEqual(['https://a', 'https://d']);
    expect(m.currentContext).toBe('bee');
  });
});

describe('credentials of a plain user', () => {
  const files: Record<string, string> = { '/ca': 'CA-FILE', '/crt': 'CERT', '/key': 'KEY', '/tok': '  abc.def \n' };
  const read = (f: string) => {
    if (!(f in files)) throw new Error(`ENOENT: no such file or directory, open '${f}'`);
    return Buffer.from(files[f]!);
  };

  it('a file wins over its -data twin; skip-verify and the server name pass through', () => {
    const o = tlsOptions(cluster({ caFile: '/ca', caData: Buffer.from('CA-DATA').toString('base64'), skipTLSVerify: true, tlsServerName: 'kubernetes' }), { name: 'u', certFile: '/crt', keyData: Buffer.from('KEYDATA').toString('base64') }, read);
    expect(o.ca!.toString()).toBe('CA-FILE');
    expect(o.cert!.toString()).toBe('CERT');
    expect(o.key!.toString()).toBe('KEYDATA');
    expect(o.rejectUnauthorized).toBe(false);
    expect(o.servername).toBe('kubernetes');
    expect(tlsOptions(cluster(), undefined, read)).toEqual({});
  });

  it.each<[string, KcUser, Record<string, string>]>([
    ['token', { name: 'u', token: 't0k' }, { Authorization: 'Bearer t0k' }],
    ['token-file, trimmed', { name: 'u', tokenFile: '/tok' }, { Authorization: 'Bearer abc.def' }],
    ['token before token-file', { name: 'u', token: 'inline', tokenFile: '/tok' }, { Authorization: 'Bearer inline' }],
    ['basic auth', { name: 'u', username: 'admin', password: 'pw' }, { Authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` }],
    [
      'impersonation',
      { name: 'u', token: 't', impersonateUser: 'alice', impersonateUid: '42', impersonateGroups: ['a', 'b'] },
      { Authorization: 'Bearer t', 'Impersonate-User': 'alice', 'Impersonate-Uid': '42', 'Impersonate-Group': 'a, b' },
    ],
    ['nothing (client certificate only)', { name: 'u', certFile: '/crt' }, {}],
  ])('%s', (_n, user, want) => expect(authHeaders(user, read)).toEqual(want));

  it('which users need client-node', () => {
    expect(needsPlugins(cluster(), { name: 'u', token: 't' })).toBeUndefined();
    expect(needsPlugins(cluster(), { name: 'u', exec: { command: 'x' } })).toBe('exec credential plugin');
    expect(needsPlugins(cluster(), { name: 'u', authProvider: { name: 'oidc' } })).toBe('auth-provider');
    expect(needsPlugins(cluster({ proxyUrl: 'socks5://p:1080' }), undefined)).toBe('proxy-url');
  });

  it('re-reads a token-file on every request (rotated service-account tokens), and one dispatcher serves them all', async () => {
    const tok = path.join(dir, 'token');
    fs.writeFileSync(tok, 'first\n');
    const u: KcUser = { name: 'u', tokenFile: tok };
    const c = cluster({ skipTLSVerify: true });
    const auth = makeAuthenticator(c, u, { clusters: [c], users: [u], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const one = await auth();
    fs.writeFileSync(tok, 'second\n');
    const two = await auth();
    expect([one.headers.Authorization, two.headers.Authorization]).toEqual(['Bearer first', 'Bearer second']);
    expect(two.dispatcher).toBe(one.dispatcher);
  });

  it('a missing certificate file fails when a request is prepared, naming the file', async () => {
    const c = cluster({ caFile: path.join(dir, 'no-ca.crt') });
    const auth = makeAuthenticator(c, { name: 'u' }, { clusters: [c], users: [], contexts: [], currentContext: '' });
    await expect(auth()).rejects.toThrow('no-ca.crt');
  });

  it('plain http carries no credentials unless the cluster allows insecure transport (as client-node)', async () => {
    const c = cluster({ server: 'http://127.0.0.1:8080' });
    await expect(makeAuthenticator(c, { name: 'u', token: 't' }, { clusters: [c], users: [], contexts: [], currentContext: '' })()).rejects.toThrow(/plain http/);
  });
});

/** A kubeconfig whose user is the exec credential plugin `script` (a /bin/sh body), loaded as createKube loads it. */
function execPluginConfig(name: string, script: string) {
  const plugin = path.join(dir, `${name}.sh`);
  fs.writeFileSync(plugin, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  const kubeconfig = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    kubeconfig,
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${JSON.stringify(plugin)}, interactiveMode: Never}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
  return loadConfig({ kubeconfig }, {});
}

describe('users that only client-node serves', () => {
  it('an exec credential plugin runs, and its token is what the request carries', async () => {
    const r = execPluginConfig('cred-plugin', `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-the-plugin"}}'`);
    const creds = await makeAuthenticator(r.cluster, r.user, r.config)();
    expect(creds.headers.Authorization).toBe('Bearer from-the-plugin');
  });

  it('requests and execs share one KubeConfig: the plugin runs once, its token is reused', async () => {
    const runs = path.join(dir, 'plugin-runs');
    const r = execPluginConfig(
      'counting-plugin',
      `echo run >> ${JSON.stringify(runs)}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2999-01-01T00:00:00Z"}}'`,
    );
    const auth = makeAuthenticator(r.cluster, r.user, r.config);
    await auth();
    await auth();
    // What the exec support (create.ts) asks for, after the requests.
    const kc = toKubeConfig(r.config);
    expect(kc).toBe(toKubeConfig(r.config));
    await kc.applyToHTTPSOptions({});
    expect(fs.readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['run']);
  });
});
