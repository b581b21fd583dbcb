/**
 * The reconnect machinery on a fake clock: backoff bounds, which failures are retried, one
 * outage notice per outage, and observe() riding out a lost API server (connection refused on
 * the watch and the re-list) until its own timeout.
 */
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/errors.js';
import {
  OutageNotice,
  backoffDelay,
  markRetryAfter,
  markTransport,
  retryability,
  withRetry,
  type Clock,
} from '../../src/kube/retry.js';
import { observe, WaitTimeoutError } from '../../src/kube/observe.js';

/**
 * Virtual time: a sleep is a timer; when nothing else is runnable (setImmediate), the clock jumps
 * to the earliest timer and fires it. So a 5-minute timeout and 0.5s backoffs interleave as in
 * real time, instantly.
 */
function fakeClock(start = 1_000_000): Clock & { slept: number[]; t: number } {
  const timers: { at: number; seq: number; fire: () => void }[] = [];
  let seq = 0;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = timers.shift();
    if (!next) return;
    c.t = Math.max(c.t, next.at);
    next.fire();
    schedule();
  };
  const schedule = () => {
    if (scheduled || !timers.length) return;
    scheduled = true;
    setImmediate(pump);
  };
  const c = {
    t: start,
    slept: [] as number[],
    now: () => c.t,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        c.slept.push(ms);
        const timer = {
          at: c.t + ms,
          seq: seq++,
          fire: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const i = timers.indexOf(timer);
          if (i >= 0) timers.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.push(timer);
        schedule();
      }),
    random: () => 0.5,
  };
  return c;
}

const refused = () => markTransport(new KubeApiError('the API server https://127.0.0.1:1 refused the connection', { exitCode: 3 }), 'ECONNREFUSED');
const http = (status: number, message = 'boom', retryAfter?: string) => markRetryAfter(new KubeApiError(message, { status }), retryAfter);

describe('backoffDelay', () => {
  it('grows from 0.5s and is capped at 8s, with jitter inside [half, full]', () => {
    const lo = () => 0;
    const hi = () => 0.999999;
    expect(backoffDelay(1, lo)).toBe(250);
    expect(backoffDelay(1, hi)).toBe(500);
    expect(backoffDelay(2, hi)).toBe(1000);
    expect(backoffDelay(5, hi)).toBe(8000);
    expect(backoffDelay(30, hi)).toBe(8000);
    expect(backoffDelay(30, lo)).toBe(4000);
  });
});

describe('retryability', () => {
  it('retries a lost connection, 429 with Retry-After and 5xx; not 4xx, 501, webhook denials or TLS', () => {
    expect(retryability(refused())).toMatchObject({ retry: true, outage: true, notApplied: true, reason: 'connection refused' });
    expect(retryability(markTransport(new KubeApiError('reset', {}), 'ECONNRESET'))).toMatchObject({ retry: true, notApplied: false });
    expect(retryability(http(429, 'slow down', '3'))).toMatchObject({ retry: true, afterMs: 3000, notApplied: true });
    expect(retryability(http(503))).toMatchObject({ retry: true, outage: true });
    expect(retryability(http(500))).toMatchObject({ retry: true, outage: false });
    expect(retryability(http(500, 'Internal error occurred: failed calling webhook "x.example.com"')).retry).toBe(false);
    expect(retryability(http(501)).retry).toBe(false);
    expect(retryability(http(409)).retry).toBe(false);
    expect(retryability(http(403)).retry).toBe(false);
    expect(retryability(markTransport(new KubeApiError('tls', {}), 'ERR_TLS_CERT_ALTNAME_INVALID')).retry).toBe(false);
    expect(retryability(new Error('plain')).retry).toBe(false);
  });
});

describe('withRetry', () => {
  it('rides out an outage with one notice when it starts and one when it ends', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const notice = new OutageNotice('https://127.0.0.1:6443', (l) => lines.push(l), clock);
    let calls = 0;
    const r = await withRetry(
      async () => {
        if (++calls < 6) throw refused();
        return 'ok';
      },
      { clock, deadline: clock.now() + 290_000, retryable: retryability, notice },
    );
    expect(r).toBe('ok');
    expect(calls).toBe(6);
    expect(clock.slept).toEqual([375, 750, 1500, 3000, 6000]);
    expect(lines).toEqual([
      'warning: lost the API server at https://127.0.0.1:6443 (connection refused); reconnecting for up to 4m50s…',
      'warning: reconnected to the API server at https://127.0.0.1:6443 after 12s',
    ]);
  });

  it('gives up with the last failure when the deadline passes, and never sleeps past it', async () => {
    const clock = fakeClock();
    const start = clock.now();
    await expect(withRetry(async () => Promise.reject(refused()), { clock, deadline: start + 10_000, retryable: retryability })).rejects.toThrow(/refused/);
    expect(clock.now() - start).toBe(10_000);
  });

  it('honours Retry-After over a shorter backoff', async () => {
    const clock = fakeClock();
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw http(429, 'throttled', '7');
        return 1;
      },
      { clock, deadline: Infinity, retryable: retryability },
    );
    expect(clock.slept).toEqual([7000]);
  });

  it('does not retry what is not retryable, and stops at once on abort', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(withRetry(async () => Promise.reject(http(404, 'nope', undefined) && ++calls && http(404)), { clock, deadline: Infinity, retryable: retryability })).rejects.toThrow();
    expect(calls).toBe(1);
    const ac = new AbortController();
    const reason = Object.assign(new Error('interrupted'), { name: 'Interrupted' });
    ac.abort(reason);
    await expect(withRetry(async () => Promise.reject(refused()), { clock, deadline: Infinity, retryable: retryability, signal: ac.signal })).rejects.toBe(reason);
  });
});

/** A client fake for observe(): list and watch answer from a script, one entry per call. */
type Step = { items?: object[]; rv?: string; events?: object[]; fail?: () => Error };
function scriptedClient(clock: Clock, lines: string[], script: { list: Step[]; watch: Step[] }) {
  const calls: string[] = [];
  const client = {
    clock,
    outage: new OutageNotice('https://127.0.0.1:6443', (l) => lines.push(l), clock),
    async list() {
      const s = script.list.shift()!;
      calls.push(`list${s.fail ? ' refused' : ''}`);
      if (s.fail) throw s.fail();
      return { items: s.items, resourceVersion: s.rv };
    },
    async *watch(_p: string, rv: string) {
      const s = script.watch.shift()!;
      calls.push(`watch ${rv}${s.fail ? ` ${s.fail().message}` : ''}`);
      if (s.fail) throw s.fail();
      for (const e of s.events ?? []) yield e;
    },
  };
  return { client, calls };
}

const podObj = (rv: string, ready: boolean) => ({ metadata: { name: 'web-0', namespace: 'ns', resourceVersion: rv }, ready });

describe('observe under a lost API server', () => {
  it('re-watches, backs off while refused, re-lists after 410 and finishes; one notice each way', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const { client, calls } = scriptedClient(clock, lines, {
      list: [{ items: [podObj('5', false)], rv: '5' }, { fail: refused }, { items: [podObj('20', false)], rv: '20' }],
      watch: [
        { events: [] }, // the stream ends: the server was killed
        { fail: refused },
        { fail: refused },
        { fail: () => http(410, 'too old resource version') }, // back, but rv 5 was compacted
        { events: [{ type: 'MODIFIED', object: podObj('21', true) }] },
      ],
    });
    const started = clock.now();
    const r = await observe(
      client as never,
      { pods: { path: '/api/v1/namespaces/ns/pods' } },
      (snap) => ([...snap.pods.values()][0] as unknown as { ready: boolean } | undefined)?.ready || undefined,
      { timeoutMs: 300_000 },
    );
    expect(r).toBe(true);
    expect(calls).toEqual(['list', 'watch 5', 'watch 5 the API server https://127.0.0.1:1 refused the connection', 'watch 5 the API server https://127.0.0.1:1 refused the connection', 'watch 5 too old resource version', 'list refused', 'list', 'watch 20']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warning: lost the API server at https:\/\/127\.0\.0\.1:6443 \(connection refused\); reconnecting for up to 5m…$/);
    expect(lines[1]).toMatch(/^warning: reconnected to the API server at https:\/\/127\.0\.0\.1:6443 after \d+(ms|s)$/);
    // backoff, not a busy loop, and far below the timeout
    expect(clock.now() - started).toBeGreaterThan(500);
    expect(clock.now() - started).toBeLessThan(20_000);
  });

  it('when the server never comes back, fails with the connection error (exit 3) at the timeout, not a plain timeout', async () => {
    const clock = fakeClock();
    const lines: string[] = [];
    const client = {
      clock,
      outage: new OutageNotice('https://127.0.0.1:6443', (l) => lines.push(l), clock),
      list: async () => ({ items: [], resourceVersion: '1' }),
      // eslint-disable-next-line require-yield
      watch: async function* () {
        throw refused();
      },
    };
    const p = observe(client as never, { pods: { path: '/p' } }, () => undefined, { timeoutMs: 20_000 });
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeApiError);
    expect((e as KubeApiError).exitCode).toBe(3);
    expect(lines).toHaveLength(1);
    // a plain timeout when the server is there
    const quiet = { clock, list: async () => ({ items: [], resourceVersion: '1' }), watch: async function* () {} };
    const t = await observe(quiet as never, { pods: { path: '/p' } }, () => undefined, { timeoutMs: 5_000 }).catch((x: unknown) => x);
    expect(t).toBeInstanceOf(WaitTimeoutError);
  });
});
