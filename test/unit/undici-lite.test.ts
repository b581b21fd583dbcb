/**
 * src/kube/undici-lite.cjs stands in for undici in the built binary's API layer (scripts/build.mjs).
 * Each case runs the same request through the real undici fetch and through the stand-in, against
 * one loopback server, and asks for the same observable outcome: status, headers, body (plain and
 * gzip), streamed bodies, and errors shaped alike (refused connection, abort, a body cut short).
 * Then the KubeClient itself runs on the stand-in (list pages, Status errors, watch).
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// require() bypasses vi.mock: this is undici itself.
const realUndici = createRequire(import.meta.url)('undici') as typeof import('undici');
const lite = createRequire(import.meta.url)('../../src/kube/undici-lite.cjs') as {
  fetch: typeof realUndici.fetch;
  Agent: new (o?: unknown) => object;
  ProxyAgent: unknown;
};

vi.mock('undici', async () => createRequire(import.meta.url)('../../src/kube/undici-lite.cjs'));

let server: http.Server;
let base = '';
let hangs: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      switch (url.pathname) {
        case '/json':
          res.writeHead(200, { 'Content-Type': 'application/json', 'X-Seen': `${req.method} ${req.headers.authorization ?? ''} ${body}` });
          res.end(JSON.stringify({ ok: true, method: req.method, body }));
          return;
        case '/gzip': {
          const big = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ name: `pvc-${i}`, é: 'ü' })) });
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'X-Accept-Encoding': String(req.headers['accept-encoding']) });
          res.end(gzipSync(big));
          return;
        }
        case '/429':
          res.writeHead(429, { 'Retry-After': '3', 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', code: 429, message: 'slow down' }));
          return;
        case '/stream':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n');
          setTimeout(() => res.end('{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"3"}}}\n'), 30);
          return;
        case '/cut':
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
          res.write('{"items":[');
          setTimeout(() => res.socket?.destroy(), 30);
          return;
        case '/hang':
          hangs.push(res);
          return;
        case '/watch': {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          if (url.searchParams.get('watch')) {
            res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'p', resourceVersion: '5' } } })}\n`);
            setTimeout(() => res.end(), 20);
          } else {
            const cont = url.searchParams.get('continue');
            res.end(JSON.stringify({ metadata: { resourceVersion: '4', continue: cont ? undefined : 'next' }, items: [{ metadata: { name: cont ? 'b' : 'a' } }] }));
          }
          return;
        }
        default:
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "x" not found', details: { name: 'x', kind: 'pods' } }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const h of hangs) h.destroy();
  hangs = [];
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

type Fetch = (url: string, init?: Record<string, unknown>) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(n: string): string | null };
  text(): Promise<string>;
  body: unknown;
}>;
const ways: [string, Fetch, () => object][] = [
  ['undici', realUndici.fetch as unknown as Fetch, () => new realUndici.Agent({ connect: { keepAlive: true, keepAliveInitialDelay: 30_000 } })],
  ['undici-lite', lite.fetch as unknown as Fetch, () => new lite.Agent({ connect: { keepAlive: true, keepAliveInitialDelay: 30_000 } })],
];

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return { value: await p };
  } catch (e) {
    const err = e as { name?: string; message?: string; cause?: { code?: string } };
    return { error: err.name, message: err.message, cause: err.cause?.code };
  }
}

describe('undici-lite answers like undici', () => {
  const both = async (f: (fetch: Fetch, dispatcher: object) => Promise<unknown>) => {
    const [[, realFetch, realAgent], [, liteFetch, liteAgent]] = ways as [(typeof ways)[0], (typeof ways)[0]];
    const [a, b] = [await outcome(f(realFetch, realAgent())), await outcome(f(liteFetch, liteAgent()))];
    expect(b).toEqual(a);
    return b;
  };

  it('status, headers and JSON body; method, headers and body are sent', async () => {
    const r = await both(async (fetch, dispatcher) => {
      const res = await fetch(new URL('/json', base).toString(), { method: 'PATCH', headers: { Authorization: 'Bearer t', 'Content-Type': 'application/merge-patch+json' }, body: '{"a":1}', dispatcher });
      return [res.ok, res.status, res.headers.get('x-seen'), res.headers.get('X-SEEN'), res.headers.get('nope'), JSON.parse(await res.text())];
    });
    expect(r).toEqual({ value: [true, 200, 'PATCH Bearer t {"a":1}', 'PATCH Bearer t {"a":1}', null, { ok: true, method: 'PATCH', body: '{"a":1}' }] });
  });

  it('asks for gzip and gunzips the body (multi-byte characters intact)', async () => {
    const r = (await both(async (fetch, dispatcher) => {
      const res = await fetch(`${base}/gzip`, { dispatcher });
      const o = JSON.parse(await res.text()) as { items: { name: string; é: string }[] };
      return [res.status, /gzip/.test(res.headers.get('x-accept-encoding') ?? ''), o.items.length, o.items[1999]];
    })) as { value: unknown[] };
    expect(r.value).toEqual([200, true, 2000, { name: 'pvc-1999', é: 'ü' }]);
  });

  it('a 429 with Retry-After is an answer, not an error', async () => {
    await both(async (fetch, dispatcher) => {
      const res = await fetch(`${base}/429`, { dispatcher });
      return [res.ok, res.status, res.headers.get('retry-after'), await res.text()];
    });
  });

  it('streams a body as a web ReadableStream, chunk by chunk', async () => {
    const r = await both(async (fetch, dispatcher) => {
      const res = await fetch(`${base}/stream`, { dispatcher });
      let text = '';
      for await (const c of Readable.fromWeb(res.body as never)) text += c;
      return text.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    });
    expect(r).toEqual({ value: ['ADDED', 'MODIFIED'] });
  });

  it('a refused connection rejects with TypeError("fetch failed") caused by ECONNREFUSED', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await both((fetch, dispatcher) => fetch(`http://127.0.0.1:${port}/json`, { dispatcher }));
    expect(r).toEqual({ error: 'TypeError', message: 'fetch failed', cause: 'ECONNREFUSED' });
  });

  it('an abort (Ctrl-C, --request-timeout) rejects with the signal reason', async () => {
    const r = await both((fetch, dispatcher) => fetch(`${base}/hang`, { dispatcher, signal: AbortSignal.timeout(50) }));
    expect(r).toMatchObject({ error: 'TimeoutError' });
    const reason = new Error('interrupted');
    reason.name = 'Interrupted';
    const c = new AbortController();
    setTimeout(() => c.abort(reason), 30);
    expect(await both((fetch, dispatcher) => fetch(`${base}/hang`, { dispatcher, signal: c.signal }))).toMatchObject({ error: 'Interrupted' });
  });

  it('a body cut short rejects text() with TypeError("terminated")', async () => {
    const r = await both(async (fetch, dispatcher) => (await fetch(`${base}/cut`, { dispatcher })).text());
    expect(r).toMatchObject({ error: 'TypeError', message: 'terminated' });
  });

  it('a body cut short errors its streamed reading too (a LIST page is read as a stream), on both', async () => {
    for (const [name, fetch, agent] of ways) {
      const r = await outcome(
        (async () => {
          const res = await fetch(`${base}/cut`, { dispatcher: agent() });
          let text = '';
          for await (const c of res.body as AsyncIterable<Uint8Array>) text += Buffer.from(c).toString();
          return text;
        })(),
      );
      expect(r, name).toHaveProperty('error');
    }
  });

  it('a proxy-url goes through the real undici (ProxyAgent): a refused proxy is a fetch failure caused by ECONNREFUSED', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const proxied = () => new (lite.ProxyAgent as typeof realUndici.ProxyAgent)({ uri: `http://127.0.0.1:${port}`, connect: { keepAlive: true } });
    const [a, b] = [await outcome(realUndici.fetch(`${base}/json`, { dispatcher: proxied() })), await outcome(lite.fetch(`${base}/json`, { dispatcher: proxied() as never }))];
    expect(b).toEqual(a);
    expect(b).toEqual({ error: 'TypeError', message: 'fetch failed', cause: 'ECONNREFUSED' });
  });

  it('an Agent with more than TLS options (a socks connector) is a real undici Agent, used by the real fetch', () => {
    const connect = () => undefined;
    expect(new lite.Agent({ connect })).toBeInstanceOf(realUndici.Agent);
    expect(new lite.Agent({ connect: { ca: 'x', rejectUnauthorized: false } })).not.toBeInstanceOf(realUndici.Agent);
    expect(lite.ProxyAgent).toBe(realUndici.ProxyAgent);
  });
});

describe('KubeClient on undici-lite', () => {
  it('pages a list, maps a 404 Status, reads a watch', async () => {
    const { KubeClient } = await import('../../src/kube/client.js');
    const agent = new lite.Agent({ connect: { rejectUnauthorized: false, keepAlive: true, keepAliveInitialDelay: 30_000 } });
    const auth = async () => ({ headers: { Authorization: 'Bearer t0ken' }, dispatcher: agent });
    const client = new KubeClient({ auth, server: base, context: 'test' });
    expect((await client.list<{ metadata: { name: string } }>('/watch')).items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    await expect(client.get('/api/v1/namespaces/ns/pods/x')).rejects.toMatchObject({ status: 404 });
    const events: string[] = [];
    for await (const ev of client.watch<{ metadata: { name: string } }>('/watch', '4')) events.push(`${ev.type} ${ev.object.metadata.name}`);
    expect(events).toEqual(['ADDED p']);
    expect((await client.get<{ ok: boolean }>('/json')).ok).toBe(true);
  });

  it('a LIST page whose body is cut is an exit-3 transport error naming the request (retried first)', async () => {
    const { KubeClient } = await import('../../src/kube/client.js');
    const { KubeApiError } = await import('../../src/errors.js');
    const agent = new lite.Agent({ connect: { rejectUnauthorized: false, keepAlive: true, keepAliveInitialDelay: 30_000 } });
    const client = new KubeClient({ auth: async () => ({ headers: {}, dispatcher: agent }), server: base, context: 'test' });
    await client.get('/json'); // the server has answered once: a later cut is an outage, retried
    client.outageBudgetMs = 200;
    const before = client.requestCount;
    const e = await client.list('/cut').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toMatchObject({ exitCode: 3 });
    expect((e as Error).message).toMatch(/broke off its answer to GET \/cut/);
    expect(client.requestCount - before).toBeGreaterThan(1);
  });
});
