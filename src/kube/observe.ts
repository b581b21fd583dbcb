/**
 * List-then-watch (or watch from what the caller already read) over one or more collections, keeping an up-to-date map per collection and
 * asking `decide` after every change whether the caller is done. Handles a watch the server
 * closes (re-watch from the last resourceVersion), an expired resourceVersion (410 Gone:
 * re-list), and a lost API server (backoff, jittered and capped, then re-watch or re-list, until
 * the wait's own timeout; one notice on stderr per outage). No polling.
 */
import type { KubeObject } from '../core/types.js';
import { KubeApiError } from '../errors.js';
import type { KubeClient, Query } from './client.js';
import { backoffDelay, realClock, retryability, type Clock, type OutageNotice } from './retry.js';

export interface Source {
  path: string;
  query?: Query;
  /**
   * What the caller has just read of this collection (e.g. the set a GET or PATCH returned) and
   * the resourceVersion it was read at: the watch starts there, with no LIST. A resourceVersion
   * that has expired meanwhile (410) falls back to list-then-watch.
   */
  from?: { items: KubeObject[]; resourceVersion: string };
}

export type Snapshot<K extends string> = Record<K, Map<string, KubeObject>>;

export class WaitTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs}ms`);
    this.name = 'WaitTimeoutError';
  }
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Resolves with the first non-undefined value `decide` returns. Rejects with WaitTimeoutError
 * after `timeoutMs` (0 = never) — or, when the API server is gone at that moment, with the
 * connection error (exit 3) — or with the abort reason when `signal` aborts.
 */
export async function observe<K extends string, R>(
  client: KubeClient,
  sources: Record<K, Source>,
  decide: (snap: Snapshot<K>) => R | undefined,
  o: { timeoutMs?: number; signal?: AbortSignal; clock?: Clock } = {},
): Promise<R> {
  // The client's clock and outage notice when it has them (test fakes may not).
  const clock = o.clock ?? (client as { clock?: Clock }).clock ?? realClock;
  const notice = (client as { outage?: OutageNotice }).outage;
  const deadline = o.timeoutMs ? clock.now() + o.timeoutMs : Infinity;
  let lost: unknown;
  const names = Object.keys(sources) as K[];
  const snap = Object.fromEntries(names.map((n) => [n, new Map<string, KubeObject>()])) as Snapshot<K>;
  const stop = new AbortController();
  const signals = [stop.signal];
  if (o.signal) signals.push(o.signal);
  const signal = AbortSignal.any(signals);

  return await new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      stop.abort();
      fn();
    };
    const check = () => {
      let r: R | undefined;
      try {
        r = decide(snap);
      } catch (e) {
        finish(() => reject(e));
        return;
      }
      if (r !== undefined) finish(() => resolve(r as R));
    };
    if (o.timeoutMs) {
      clock.sleep(o.timeoutMs, stop.signal).then(
        () => {
          // Still cut off at the deadline: that is the answer (exit 3), not a plain timeout. The
          // client's notice knows best (a watch that re-opened and stayed quiet clears it).
          const outage = notice ? (notice.down ? notice.lastError : undefined) : lost;
          finish(() => reject(outage ?? new WaitTimeoutError(o.timeoutMs!)));
        },
        () => {},
      );
    }
    o.signal?.addEventListener('abort', () => finish(() => reject(o.signal!.reason)), { once: true });

    const listed = new Set<K>();
    const run = async (name: K) => {
      const src = sources[name];
      const map = snap[name];
      let rv = '';
      let failures = 0;
      if (src.from?.resourceVersion) {
        for (const it of src.from.items) map.set(key(it), it);
        rv = src.from.resourceVersion;
        listed.add(name);
      }
      while (!signal.aborted) {
        try {
          if (!rv) {
            const l = await client.list<KubeObject>(src.path, src.query ?? {});
            map.clear();
            for (const it of l.items) map.set(key(it), it);
            rv = l.resourceVersion;
            failures = 0;
            lost = undefined;
            notice?.ok();
            listed.add(name);
            if (listed.size === names.length) check();
            if (signal.aborted) return;
          }
          let events = 0;
          for await (const ev of client.watch<KubeObject>(src.path, rv, src.query ?? {}, signal)) {
            if (!events++) notice?.ok();
            failures = 0;
            lost = undefined;
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (ev.type === 'BOOKMARK') continue;
            if (ev.type === 'DELETED') map.delete(key(ev.object));
            else map.set(key(ev.object), ev.object);
            if (listed.size === names.length) check();
            if (signal.aborted) return;
          }
          // The server closed the watch (its timeout, or the connection dropped): re-watch from rv.
          // A watch that closes with nothing in it, again and again, is paced like a failure.
          if (!events && !signal.aborted) {
            failures++;
            try {
              await clock.sleep(Math.min(backoffDelay(failures, clock.random), Math.max(1, deadline - clock.now())), signal);
            } catch {
              return;
            }
          }
        } catch (e) {
          if (signal.aborted) return;
          if (e instanceof KubeApiError && e.status === 410) {
            rv = ''; // expired (compacted): re-list
            continue;
          }
          const r = retryability(e);
          if (!r.retry) throw e;
          // Lost the server, or it is throttling / failing for a moment: back off, then resume
          // from rv (or re-list if it has expired meanwhile), until the wait's own timeout.
          if (r.outage) lost = e;
          failures++;
          const left = deadline - clock.now();
          // The notice names the command's whole budget (its --timeout), not just this wait's part of it.
          const budget = (client as { outageBudgetMs?: number }).outageBudgetMs ?? 0;
          notice?.failed(r.reason, Number.isFinite(left) ? Math.max(left, budget) : left, e);
          try {
            await clock.sleep(Math.max(1, Math.min(left, Math.max(r.afterMs ?? 0, backoffDelay(failures, clock.random)))), signal);
          } catch {
            return; // aborted: finish() has already settled
          }
        }
      }
    };
    for (const n of names) run(n).catch((e) => finish(() => reject(e)));
    // Every source seeded by the caller: decide on what it gave before any event arrives.
    if (listed.size === names.length) check();
  });
}
