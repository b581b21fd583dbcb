/**
 * The API client against a real HTTP server on loopback that speaks the API's list/watch/patch
 * protocol for a few scripted cases: pagination, expired continue tokens, Status errors, watch
 * streams with 410 Gone, optimistic-lock conflicts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeAuthenticator } from '../../src/kube/auth.js';
import type { KcCluster, KcUser } from '../../src/kube/config.js';
import { KubeClient, jsonLines } from '../../src/kube/client.js';
import { observe, WaitTimeoutError } from '../../src/kube/observe.js';
import { KubeApiError } from '../../src/errors.js';

/** The credentials of a one-cluster, one-user kubeconfig, as createKube makes them. */
function authFor(cluster: KcCluster, user: KcUser, context = 'test') {
  return makeAuthenticator(cluster, user, { clusters: [cluster], users: [user], contexts: [{ name: context, cluster: cluster.name, user: user.name }], currentContext: context });
}

type Handler = (req: http.IncomingMessage, url: URL, body: string, res: http.ServerResponse) => void;
let handler: Handler;
const seen: { method: string; url: URL; body: string; contentType?: string }[] = [];
let server: http.Server;
let client: KubeClient;

const json = (res: http.ServerResponse, code: number, obj: unknown) => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
};
const status = (code: number, reason: string, message: string) => ({ kind: 'Status', status: 'Failure', code, reason, message });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      seen.push({ method: req.method!, url, body, contentType: req.headers['content-type'] });
      handler(req, url, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const auth = authFor({ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }, { name: 'u', token: 't0ken' });
  client = new KubeClient({ auth, server: `http://127.0.0.1:${port}`, context: 'test' });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  client.requestCount = 0;
});

const pod = (name: string, rv: string, ready = 'True') => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  spec: { containers: [] },
  status: { conditions: [{ type: 'Ready', status: ready }] },
});

/** A client for context "dead": a loopback port that was just listened on and closed (nothing answers). */
async function deadClient(user: { name: string; token?: string }): Promise<{ dead: KubeClient; closed: number }> {
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const auth = authFor({ name: 'c', server: `http://127.0.0.1:${closed}`, skipTLSVerify: true }, user, 'dead');
  return { dead: new KubeClient({ auth, server: `http://127.0.0.1:${closed}`, context: 'dead' }), closed };
}

describe('KubeClient', () => {
  it('sends the bearer token and parses JSON', async () => {
    handler = (req, _u, _b, res) => json(res, 200, { gitVersion: 'v1.36.3', auth: req.headers.authorization });
    const v = await client.get<{ gitVersion: string; auth: string }>('/version');
    expect(v).toEqual({ gitVersion: 'v1.36.3', auth: 'Bearer t0ken' });
  });

  it('follows continue tokens with a page limit', async () => {
    handler = (_r, url, _b, res) => {
      const c = url.searchParams.get('continue');
      if (!c) return json(res, 200, { metadata: { continue: 'p2', resourceVersion: '10' }, items: [pod('a', '1')] });
      if (c === 'p2') return json(res, 200, { metadata: { continue: 'p3', resourceVersion: '10' }, items: [pod('b', '2')] });
      return json(res, 200, { metadata: { resourceVersion: '10' }, items: [pod('c', '3')] });
    };
    const l = await client.list<{ metadata: { name: string } }>('/api/v1/namespaces/ns/pods', { labelSelector: 'app=web' }, 1);
    expect(l.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(l.resourceVersion).toBe('10');
    expect(seen.map((s) => s.url.searchParams.get('limit'))).toEqual(['1', '1', '1']);
    expect(seen.every((s) => s.url.searchParams.get('labelSelector') === 'app=web')).toBe(true);
    expect(client.requestCount).toBe(3);
  });

  it('drops managedFields from listed items (nothing reads them; they are a large share of the bytes kept)', async () => {
    const managed = [{ manager: 'kubectl-client-side-apply', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }];
    handler = (_r, _u, _b, res) =>
      json(res, 200, { metadata: { resourceVersion: '7' }, items: [{ ...pod('a', '1'), metadata: { ...pod('a', '1').metadata, managedFields: managed, labels: { app: 'web' } } }] });
    const l = await client.list<{ metadata: Record<string, unknown> }>('/api/v1/pods');
    expect(l.items[0]!.metadata).not.toHaveProperty('managedFields');
    expect(l.items[0]!.metadata).toMatchObject({ name: 'a', resourceVersion: '1', labels: { app: 'web' } });
  });

  it('asks for the next page as soon as the continue token has arrived, before the page body has', async () => {
    // Page 1 sends its metadata, then holds its items until page 2 has been asked for: a client
    // that waited for the whole page would stall here for 2 s.
    let release: () => void = () => {};
    const page2Asked = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    handler = (_r, url, _b, res) => {
      const c = url.searchParams.get('continue');
      if (!c) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10","continue":"p2"},"items":[');
        void Promise.race([page2Asked, new Promise((r) => setTimeout(r, 2000))]).then(() => {
          order.push('page 1 finished');
          res.end(`${JSON.stringify(pod('a', '1'))}]}`);
        });
        return;
      }
      order.push(`asked for ${c}`);
      release();
      if (c === 'p2') return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { continue: 'p3', resourceVersion: '10' }, items: [pod('b', '2')] });
      return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [pod('c', '3')] });
    };
    const t0 = Date.now();
    const r = await client.list<{ metadata: { name: string } }>('/api/v1/namespaces/ns/pods', {}, 1);
    expect(r.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(r.resourceVersion).toBe('10');
    expect(order.slice(0, 2)).toEqual(['asked for p2', 'page 1 finished']);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(seen.map((x) => x.url.searchParams.get('continue'))).toEqual([null, 'p2', 'p3']);
  });

  it('Ctrl-C while a page and the next one are both in flight: the interrupt, and no unhandled rejection', async () => {
    let asked = 0;
    handler = (_r, _url, _b, res) => {
      asked++;
      if (asked > 1) return; // the next page: not even its headers yet
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // Page 1: its metadata (with a continue token) and then nothing more.
      res.write('{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10","continue":"p2"},"items":[');
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ac = new AbortController();
      const port = (server.address() as AddressInfo).port;
      const auth = authFor({ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }, { name: 'u', token: 't' });
      const c = new KubeClient({ auth, server: `http://127.0.0.1:${port}`, context: 'test', signal: ac.signal });
      const reason = Object.assign(new Error('stopped by Ctrl-C'), { name: 'Interrupted' });
      const listing = c.list('/api/v1/namespaces/ns/pods', {}, 1);
      while (asked < 2) await new Promise((r) => setTimeout(r, 5));
      ac.abort(reason);
      await expect(listing).rejects.toBe(reason);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      server.closeAllConnections();
    }
  });

  it('a list page whose body is cut is read again (a restarting API server), and the list completes', async () => {
    let cuts = 0;
    handler = (req, url, _b, res) => {
      const c = url.searchParams.get('continue');
      if (c === 'p2' && cuts === 0) {
        cuts++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[{"metadata":');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      if (!c) return json(res, 200, { metadata: { continue: 'p2', resourceVersion: '10' }, items: [pod('a', '1')] });
      return json(res, 200, { metadata: { resourceVersion: '10' }, items: [pod('b', '2')] });
    };
    const r = await client.list<{ metadata: { name: string } }>('/api/v1/namespaces/ns/pods', {}, 1);
    expect(r.items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(cuts).toBe(1);
    expect(seen.map((x) => x.url.searchParams.get('continue'))).toEqual([null, 'p2', 'p2']);
  });

  it('a body that is always cut ends in exit 3 naming the server and the request, not "unexpected failure"', async () => {
    handler = (req, _u, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"kind":"Pod","metadata":{"name":');
      setTimeout(() => req.socket.destroy(), 20);
    };
    const before = client.outageBudgetMs;
    client.outageBudgetMs = 300;
    try {
      const e = await client.get('/api/v1/namespaces/ns/pods/a').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(KubeApiError);
      expect((e as KubeApiError).exitCode).toBe(3);
      expect((e as Error).message).toMatch(/broke off its answer to GET \/api\/v1\/namespaces\/ns\/pods\/a/);
      expect(seen.length).toBeGreaterThan(1); // retried as a read
    } finally {
      client.outageBudgetMs = before;
    }
  });

  it('a 200 that is not JSON (a login page in front of the server) is exit 3 naming what answered, not "unexpected failure"', async () => {
    handler = (_r, _u, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>...</body></html>');
    };
    const e = await client.get('/api/v1/namespaces/ns/pods/a').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toMatch(/answered GET \/api\/v1\/namespaces\/ns\/pods\/a with HTTP 200 and a body that is not JSON \(text\/html; charset=utf-8: "<!DOCTYPE html> <html><head><title>Sign in/);
    expect((e as KubeApiError).hints.join('\n')).toMatch(/get --raw \/version/);
    const l = await client.list('/api/v1/namespaces/ns/pods').catch((x: unknown) => x);
    expect(l).toMatchObject({ exitCode: 3 });
  });

  it.each([
    ['an empty body', '', /HTTP 200 and an empty body$/],
    ['a JSON array', '[1,2,3]', /HTTP 200 and JSON that is not a Kubernetes object \(application\/json: "\[1,2,3\]"\)/],
    ['JSON null', 'null', /JSON that is not a Kubernetes object/],
  ])('a GET answered 200 with %s is exit 3 naming what answered', async (_what, body, message) => {
    handler = (_r, _u, _b, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    };
    const e = await client.get('/apis/apps/v1/namespaces/ns/statefulsets/web').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toMatch(message);
  });

  it('a LIST whose items are not an array is exit 3, never read as an empty list', async () => {
    handler = (_r, _u, _b, res) => json(res, 200, { kind: 'PodList', metadata: {}, items: { a: 1 } });
    const e = await client.list('/api/v1/namespaces/ns/pods').catch((x: unknown) => x);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toMatch(/not a Kubernetes list/);
  });

  it('--request-timeout: a server that never answers "did not answer within" the timeout (not a numeric DOMException code)', async () => {
    handler = () => {}; // never answers
    const port = (server.address() as AddressInfo).port;
    const auth = authFor({ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }, { name: 'u', token: 't' });
    const c = new KubeClient({ auth, server: `http://127.0.0.1:${port}`, context: 'test', timeoutMs: 200 });
    const e = await c.get('/version').catch((x: unknown) => x);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toMatch(/did not answer within 0.2s$/);
  });

  it('restarts a list whose continue token expired (410)', async () => {
    let calls = 0;
    handler = (_r, url, _b, res) => {
      calls++;
      if (calls === 2) return json(res, 410, status(410, 'Expired', 'continue token too old'));
      if (url.searchParams.get('continue')) return json(res, 200, { metadata: { resourceVersion: '20' }, items: [pod('b', '2')] });
      return json(res, 200, { metadata: { continue: 'x', resourceVersion: '20' }, items: [pod('a', '1')] });
    };
    const l = await client.list<{ metadata: { name: string } }>('/api/v1/pods', {}, 1);
    expect(l.items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(calls).toBe(4);
  });

  it('maps a 403 Status to an error naming verb, resource and namespace', async () => {
    handler = (_r, _u, _b, res) => json(res, 403, status(403, 'Forbidden', 'pods is forbidden: User "x" cannot list'));
    const e: any = await client.list('/api/v1/namespaces/ns/pods').catch((x: any) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.message).toContain('you may not list pods in namespace "ns"');
    expect(e.hints.join(' ')).toContain('kubectl auth can-i list pods -n ns');
  });

  it('getNamed on 404 suggests close names from one extra list', async () => {
    handler = (_r, url, _b, res) => {
      if (url.pathname.endsWith('/statefulsets/wbe')) return json(res, 404, status(404, 'NotFound', 'not found'));
      return json(res, 200, { metadata: { resourceVersion: '1' }, items: [{ metadata: { name: 'web' } }, { metadata: { name: 'mongo' } }] });
    };
    const e: any = await client.getNamed('/apis/apps/v1/namespaces/ns/statefulsets/wbe').catch((x: any) => x);
    expect(e.message).toContain('statefulsets.apps "wbe" not found in namespace "ns"');
    expect(e.hints).toEqual(['Did you mean: web?']);
  });

  it('getNamed on 404 in a namespace with nothing of that kind: says when the namespace itself does not exist', async () => {
    handler = (_r, url, _b, res) => {
      if (url.pathname === '/api/v1/namespaces/prdo') return json(res, 404, status(404, 'NotFound', 'namespaces "prdo" not found'));
      if (url.pathname.endsWith('/statefulsets')) return json(res, 200, { items: [], metadata: { resourceVersion: '1' } });
      return json(res, 404, status(404, 'NotFound', 'not found'));
    };
    const e: any = await client.getNamed('/apis/apps/v1/namespaces/prdo/statefulsets/web').catch((x: any) => x);
    expect(e.exitCode).toBe(1);
    expect(e.hints[0]).toBe('Namespace "prdo" does not exist in context "test": check -n (kubectl get namespaces).');
    // A namespace that exists (or may not be read) adds no such hint.
    handler = (_r, url, _b, res) => {
      if (url.pathname === '/api/v1/namespaces/prod') return json(res, 403, status(403, 'Forbidden', 'cannot get namespaces'));
      if (url.pathname.endsWith('/statefulsets')) return json(res, 200, { items: [], metadata: { resourceVersion: '1' } });
      return json(res, 404, status(404, 'NotFound', 'not found'));
    };
    const f: any = await client.getNamed('/apis/apps/v1/namespaces/prod/statefulsets/web').catch((x: any) => x);
    expect(f.hints.join(' ')).not.toMatch(/does not exist/);
  });

  it('tryGet answers undefined for 404', async () => {
    handler = (_r, _u, _b, res) => json(res, 404, status(404, 'NotFound', 'nope'));
    expect(await client.tryGet('/api/v1/namespaces/ns/pods/x')).toBeUndefined();
  });

  it('a refused connection is a transport error with exit 3', async () => {
    const { dead, closed } = await deadClient({ name: 'u' });
    const e: any = await dead.get('/version').catch((x: any) => x);
    expect(e.message).toContain(`http://127.0.0.1:${closed} (context "dead") refused the connection`);
    expect(e.exitCode).toBe(3);
  });

  it('a credentials failure before sending is an exit-3 error naming the context', async () => {
    const auth = authFor({ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: false }, { name: 'u' }, 'plain-http');
    const e: any = await new KubeClient({ auth, server: 'http://127.0.0.1:1', context: 'plain-http' }).get('/version').catch((x: any) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e.message).toContain('context "plain-http"');
    expect(e.exitCode).toBe(3);
  });

  it('delete sends preconditions and server dry-run', async () => {
    handler = (_r, _u, _b, res) => json(res, 200, {});
    await client.delete('/api/v1/namespaces/ns/persistentvolumeclaims/c', { preconditions: { uid: 'u1', resourceVersion: '7' }, dryRun: 'server' });
    expect(seen[0]!.method).toBe('DELETE');
    expect(JSON.parse(seen[0]!.body)).toEqual({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'u1', resourceVersion: '7' }, dryRun: ['All'] });
  });
});

describe('observe (list + watch)', () => {
  it('decides on watch events and re-lists after 410 Gone', async () => {
    let lists = 0;
    let watches = 0;
    handler = (_r, url, _b, res) => {
      if (url.searchParams.get('watch')) {
        watches++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (watches === 1) {
          res.write(`${JSON.stringify({ type: 'MODIFIED', object: pod('web-0', '11', 'True') })}\n`);
          res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`);
          return;
        }
        expect(url.searchParams.get('resourceVersion')).toBe('30');
        res.end(`${JSON.stringify({ type: 'MODIFIED', object: pod('web-1', '31', 'True') })}\n`);
        return;
      }
      lists++;
      if (lists === 1) return json(res, 200, { metadata: { resourceVersion: '10' }, items: [pod('web-0', '9', 'False'), pod('web-1', '9', 'False')] });
      return json(res, 200, { metadata: { resourceVersion: '30' }, items: [pod('web-0', '29', 'True'), pod('web-1', '29', 'False')] });
    };
    const decisions: string[] = [];
    const result = await observe(client, { pods: { path: '/api/v1/namespaces/ns/pods' } }, (snap) => {
      const ready = [...snap.pods.values()].filter((p) => (p as any).status.conditions[0].status === 'True').map((p) => p.metadata.name);
      decisions.push(ready.join(','));
      return ready.length === 2 ? ready : undefined;
    });
    expect(result).toEqual(['web-0', 'web-1']);
    expect(lists).toBe(2);
    expect(watches).toBe(2);
    expect(decisions).toEqual(['', 'web-0', 'web-0', 'web-0,web-1']);
  });

  it('a source seeded with what the caller read watches from its resourceVersion, no LIST; an expired one falls back to a LIST', async () => {
    const seen: string[] = [];
    let watches = 0;
    handler = (_r, url, _b, res) => {
      if (url.searchParams.get('watch')) {
        watches++;
        seen.push(`WATCH rv=${url.searchParams.get('resourceVersion')}`);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (watches === 1) return void res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`);
        return void res.end(`${JSON.stringify({ type: 'MODIFIED', object: pod('web-0', '41', 'True') })}\n`);
      }
      seen.push('LIST');
      json(res, 200, { metadata: { resourceVersion: '40' }, items: [pod('web-0', '39', 'False')] });
    };
    const decisions: string[] = [];
    const seed = pod('web-0', '7', 'False');
    const r = await observe(client, { pods: { path: '/api/v1/namespaces/ns/pods', from: { items: [seed], resourceVersion: '7' } } }, (snap) => {
      const p = [...snap.pods.values()][0] as any;
      decisions.push(`${p.metadata.resourceVersion}:${p.status.conditions[0].status}`);
      return p.status.conditions[0].status === 'True' ? p.metadata.resourceVersion : undefined;
    });
    expect(r).toBe('41');
    expect(seen).toEqual(['WATCH rv=7', 'LIST', 'WATCH rv=40']);
    // Decided on the seed at once, then on the LIST after the 410, then on the event.
    expect(decisions).toEqual(['7:False', '39:False', '41:True']);
  });

  it('times out with WaitTimeoutError', async () => {
    handler = (_r, url, _b, res) => {
      if (url.searchParams.get('watch')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return; // keep the stream open, say nothing
      }
      json(res, 200, { metadata: { resourceVersion: '1' }, items: [] });
    };
    const e: any = await observe(client, { pods: { path: '/api/v1/pods' } }, () => undefined, { timeoutMs: 300 }).catch((x: any) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
  });
});

describe('KubeClient retries (what is safe)', () => {
  it('retries a read on 503 and 429, and a precondition-guarded write on 429; not an unguarded write on 503', async () => {
    let n = 0;
    handler = (req, _u, _b, res) => {
      n++;
      if (req.method === 'GET') {
        if (n === 1) return json(res, 503, status(503, 'ServiceUnavailable', 'the server is shutting down'));
        if (n === 2) {
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
          return res.end(JSON.stringify(status(429, 'TooManyRequests', 'slow down')));
        }
        return json(res, 200, pod('a', '7'));
      }
      if (n % 2 === 1) return json(res, 429, status(429, 'TooManyRequests', 'slow down'));
      return json(res, 200, pod('a', '8'));
    };
    const t0 = Date.now();
    const got = await client.get<{ metadata: { resourceVersion: string } }>('/api/v1/namespaces/ns/pods/a');
    expect(got.metadata.resourceVersion).toBe('7');
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // Retry-After: 1 honoured
    n = 0;
    seen.length = 0;
    const after = await client.patch<{ metadata: { resourceVersion: string } }>('/api/v1/namespaces/ns/pods/a', { metadata: { resourceVersion: '7' }, spec: {} }, 'merge');
    expect(after.metadata.resourceVersion).toBe('8');
    expect(seen.map((s) => s.method)).toEqual(['PATCH', 'PATCH']);
    seen.length = 0;
    n = 0;
    handler = (_r, _u, _b, res) => json(res, 503, status(503, 'ServiceUnavailable', 'down'));
    await expect(client.patch('/api/v1/namespaces/ns/pods/a', { spec: {} }, 'merge')).rejects.toThrow(/503/);
    expect(seen).toHaveLength(1);
  });

  it('does not retry a connection refused before the server ever answered (a wrong address exits 3 at once)', async () => {
    const { dead } = await deadClient({ name: 'u', token: 't' });
    const t0 = Date.now();
    const e = await dead.get('/version').catch((x: unknown) => x);
    expect((e as KubeApiError).exitCode).toBe(3);
    expect((e as Error).message).toMatch(/refused the connection/);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(dead.requestCount).toBe(1);
  });

  it('stops every request at once when its Ctrl-C signal aborts', async () => {
    handler = () => {}; // never answers
    const ac = new AbortController();
    const port = (server.address() as AddressInfo).port;
    const auth = authFor({ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }, { name: 'u', token: 't' });
    const c = new KubeClient({ auth, server: `http://127.0.0.1:${port}`, context: 'test', signal: ac.signal });
    const reason = Object.assign(new Error('interrupted'), { name: 'Interrupted' });
    setTimeout(() => ac.abort(reason), 100);
    await expect(c.list('/api/v1/namespaces/ns/pods')).rejects.toBe(reason);
  });
});

describe('a client-side dry run never reaches the server', () => {
  it.each([
    ['patch', (c: KubeClient) => c.patch('/x', {}, 'merge', 'client')],
    ['create', (c: KubeClient) => c.create('/x', {}, 'client')],
    ['delete', (c: KubeClient) => c.delete('/x', { dryRun: 'client' })],
  ])('%s with dryRun client throws before sending', async (_what, call) => {
    let sent = 0;
    const c = new KubeClient({ auth: async () => ({ headers: {}, dispatcher: undefined }), server: 'http://127.0.0.1:1', context: 'test' });
    (c as unknown as { request: () => Promise<unknown> }).request = async () => {
      sent++;
      return {};
    };
    await expect(call(c)).rejects.toThrow(/must not reach the API server/);
    expect(sent).toBe(0);
  });
});

describe('jsonLines (watch stream framing)', () => {
  async function collect(chunks: (string | Buffer)[]): Promise<string[]> {
    const out: string[] = [];
    for await (const l of jsonLines((async function* () { yield* chunks; })())) out.push(l);
    return out;
  }
  it('splits lines across chunk boundaries, keeps a multi-byte character split between chunks, drops CR, yields a last unterminated line', async () => {
    const e = Buffer.from('{"n":"é"}\r\n{"n":"x"}\n{"n":"tail"}');
    const at = e.indexOf(0xc3) + 1; // inside the two bytes of é
    expect(await collect([e.subarray(0, at), e.subarray(at, at + 5), e.subarray(at + 5)])).toEqual(['{"n":"é"}', '{"n":"x"}', '{"n":"tail"}']);
  });
  it('an empty stream has no lines', async () => {
    expect(await collect([])).toEqual([]);
  });
});
