import { describe, expect, it } from 'vitest';
import { httpError, transportError, type RequestFacts } from '../../src/kube/errors.js';
import { describePath, resourcePath, Resources, verbOf } from '../../src/kube/resources.js';
import { ExitCode } from '../../src/errors.js';

const base = { server: 'https://10.0.0.1:6443', context: 'prod' };
const facts = (method: string, path: string, query?: RequestFacts['query']): RequestFacts => ({ method, path, query, ...base });
const stsPath = resourcePath(Resources.statefulsets, { namespace: 'db', name: 'web' });

describe('paths and verbs', () => {
  it('builds paths', () => {
    expect(stsPath).toBe('/apis/apps/v1/namespaces/db/statefulsets/web');
    expect(resourcePath(Resources.persistentvolumes, { namespace: 'ignored', name: 'pv1' })).toBe('/api/v1/persistentvolumes/pv1');
    expect(resourcePath(Resources.pods)).toBe('/api/v1/pods');
    expect(resourcePath(Resources.pods, { namespace: 'a', name: 'p', subresource: 'exec' })).toBe('/api/v1/namespaces/a/pods/p/exec');
  });
  it('describes paths', () => {
    expect(describePath(stsPath)).toEqual({ resource: 'statefulsets.apps', namespace: 'db', name: 'web' });
    expect(describePath('/api/v1/namespaces/a/pods/p/exec')).toEqual({ resource: 'pods', namespace: 'a', name: 'p', subresource: 'exec' });
    expect(describePath('/api/v1/persistentvolumes')).toEqual({ resource: 'persistentvolumes' });
  });
  it.each([
    ['GET', stsPath, undefined, 'get'],
    ['GET', '/apis/apps/v1/namespaces/db/statefulsets', undefined, 'list'],
    ['GET', '/api/v1/pods', { watch: 1 }, 'watch'],
    ['PATCH', stsPath, undefined, 'patch'],
    ['DELETE', stsPath, undefined, 'delete'],
    ['POST', '/api/v1/namespaces/a/pods/p/exec', undefined, 'create'],
  ])('%s %s -> %s', (m, p, q, verb) => expect(verbOf(m, p, q as never)).toBe(verb));
});

describe('HTTP errors', () => {
  it('401: credentials, exit 3, how to refresh', () => {
    const e = httpError(facts('GET', stsPath), 401, { message: 'Unauthorized' });
    expect(e.exitCode).toBe(ExitCode.Unreachable);
    expect(e.message).toContain('https://10.0.0.1:6443');
    expect(e.message).toContain('"prod"');
    expect(e.hints.join('\n')).toMatch(/Log in again/);
  });
  it('403: names verb, resource and namespace, suggests auth can-i', () => {
    const e = httpError(facts('PATCH', stsPath), 403, { message: 'statefulsets.apps "web" is forbidden' });
    expect(e.exitCode).toBe(ExitCode.Problems);
    expect(e.message).toContain('patch statefulsets.apps "web" in namespace "db"');
    expect(e.hints.join('\n')).toContain('kubectl auth can-i patch statefulsets.apps -n db');
  });
  it('403 on a cluster-wide list suggests -A', () => {
    const e = httpError(facts('GET', '/api/v1/persistentvolumeclaims'), 403, undefined);
    expect(e.message).toContain('list persistentvolumeclaims across all namespaces');
    expect(e.hints.join('\n')).toContain('kubectl auth can-i list persistentvolumeclaims -A');
  });
  it('403 on exec names the subresource', () => {
    const e = httpError(facts('POST', '/api/v1/namespaces/a/pods/web-0/exec'), 403, undefined);
    expect(e.message).toContain('create pods/exec "web-0" in namespace "a"');
  });
  it('404: names the object and namespace, lists close names', () => {
    const e = httpError(facts('GET', stsPath), 404, undefined, ['web-canary']);
    expect(e.message).toBe('statefulsets.apps "web" not found in namespace "db" (context "prod")');
    expect(e.hints).toEqual(['Did you mean: web-canary?']);
  });
  it('409: conflict', () => expect(httpError(facts('PATCH', stsPath), 409, undefined).status).toBe(409));
  it('5xx: server failure, exit 3', () => expect(httpError(facts('GET', stsPath), 503, undefined).exitCode).toBe(ExitCode.Unreachable));

  // Errors mapped by cause, not by status class: the server answered, so these are not "unreachable".
  it.each([
    // A webhook that cannot be called: the API server answers 500 InternalError with this text.
    [500, { reason: 'InternalError', message: 'Internal error occurred: failed calling webhook "validate.example.com": failed to call webhook: Post "https://hook.example.svc:443/validate?timeout=10s": dial tcp 10.96.0.5:443: connect: connection refused' }, ExitCode.Problems, /admission control refused to patch statefulsets.apps "web"/],
    // A webhook that denies: 400/403 with "admission webhook ... denied the request".
    [403, { reason: 'Forbidden', message: 'admission webhook "policy.example.com" denied the request: partition changes need approval' }, ExitCode.Problems, /admission control refused/],
    [400, { reason: 'BadRequest', message: 'admission webhook "v.example.com" denied the request: replicas must be odd' }, ExitCode.Problems, /admission control refused/],
    // Server-side failure of this one request (e.g. storage): reachable, operation failed.
    [500, { reason: 'InternalError', message: 'Internal error occurred: etcdserver: request is too large' }, ExitCode.Problems, /failed to patch statefulsets.apps "web".*HTTP 500 InternalError/],
    // Outages: exit 3.
    [503, { reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' }, ExitCode.Unreachable, /is unavailable \(HTTP 503 ServiceUnavailable\)/],
    [504, { reason: 'Timeout', message: 'the server was unable to return a response in the time allotted' }, ExitCode.Unreachable, /is unavailable/],
    [502, undefined, ExitCode.Unreachable, /is unavailable \(HTTP 502\)/],
  ] as const)('HTTP %i by cause (case %#)', (status, body, exit, text) => {
    const e = httpError(facts('PATCH', stsPath), status, body as never);
    expect(e.exitCode).toBe(exit);
    expect(e.message).toMatch(text);
    if (/admission/.test(e.message)) expect(e.hints.join(' ')).not.toMatch(/RBAC/);
  });
});

describe('transport errors', () => {
  const wrap = (code: string, message = code) => Object.assign(new TypeError('fetch failed'), { cause: { code, message } });
  it.each([
    ['ECONNREFUSED', /refused the connection/],
    ['ENOTFOUND', /cannot be resolved/],
    ['UND_ERR_CONNECT_TIMEOUT', /did not answer/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /TLS handshake/],
    ['EHOSTUNREACH', /cannot reach/],
  ])('%s', (code, re) => {
    const e = transportError(facts('GET', stsPath), wrap(code), 5000);
    expect(e.message).toMatch(re);
    expect(e.message).toContain('https://10.0.0.1:6443');
    expect(e.message).toContain('"prod"');
    expect(e.exitCode).toBe(ExitCode.Unreachable);
  });
});
