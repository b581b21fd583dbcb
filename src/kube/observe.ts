/**
 * List-then-watch over one or more collections, keeping an up-to-date map per collection and
 * asking `decide` after every change whether the caller is done. Handles a watch the server
 * closes (re-watch from the last resourceVersion) and an expired resourceVersion (410 Gone:
 * re-list). No polling.
 */
import type { KubeObject } from '../core/types.js';
import { KubeApiError } from '../errors.js';
import type { KubeClient, Query } from './client.js';

export interface Source {
  path: string;
  query?: Query;
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
 * after `timeoutMs` (0 = never), or with the abort reason when `signal` aborts.
 */
export async function observe<K extends string, R>(
  client: KubeClient,
  sources: Record<K, Source>,
  decide: (snap: Snapshot<K>) => R | undefined,
  o: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<R> {
  const names = Object.keys(sources) as K[];
  const snap = Object.fromEntries(names.map((n) => [n, new Map<string, KubeObject>()])) as Snapshot<K>;
  const stop = new AbortController();
  const signals = [stop.signal];
  if (o.signal) signals.push(o.signal);
  const signal = AbortSignal.any(signals);
  let timer: NodeJS.Timeout | undefined;

  return await new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
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
    if (o.timeoutMs) timer = setTimeout(() => finish(() => reject(new WaitTimeoutError(o.timeoutMs!))), o.timeoutMs);
    o.signal?.addEventListener('abort', () => finish(() => reject(o.signal!.reason)), { once: true });

    const listed = new Set<K>();
    const run = async (name: K) => {
      const src = sources[name];
      const map = snap[name];
      let rv = '';
      while (!signal.aborted) {
        if (!rv) {
          const l = await client.list<KubeObject>(src.path, src.query ?? {});
          map.clear();
          for (const it of l.items) map.set(key(it), it);
          rv = l.resourceVersion;
          listed.add(name);
          if (listed.size === names.length) check();
          if (signal.aborted) return;
        }
        try {
          for await (const ev of client.watch<KubeObject>(src.path, rv, src.query ?? {}, signal)) {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (ev.type === 'BOOKMARK') continue;
            if (ev.type === 'DELETED') map.delete(key(ev.object));
            else map.set(key(ev.object), ev.object);
            if (listed.size === names.length) check();
            if (signal.aborted) return;
          }
        } catch (e) {
          if (e instanceof KubeApiError && e.status === 410) {
            rv = ''; // expired: re-list
            continue;
          }
          throw e;
        }
      }
    };
    for (const n of names) run(n).catch((e) => finish(() => reject(e)));
  });
}
