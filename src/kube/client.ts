/**
 * The one HTTP path to the API server: raw JSON in and out (no model classes), kubeconfig
 * authentication from auth.ts, error mapping, request counting, paginated LIST, watch,
 * patch with preconditions, delete with preconditions.
 */
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { fetch } from 'undici';
import type { Authenticate } from './auth.js';
import type { KubeObject } from '../core/types.js';
import type { DeletePreconditions } from '../core/plan.js';
import { ExitCode, KubeApiError } from '../errors.js';
import { failureCode, httpError, nearbyNames, notJsonError, transportError, type RequestFacts, type StatusBody } from './errors.js';
import { describePath } from './resources.js';
import { OutageNotice, markRetryAfter, markTransport, realClock, retryability, withRetry, type Clock } from './retry.js';

export type Query = Record<string, string | number | boolean | undefined>;
export type PatchType = 'merge' | 'strategic' | 'json';
export type DryRun = 'none' | 'client' | 'server';

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export interface ClientOptions {
  /** Each request's headers and dispatcher (auth.ts: makeAuthenticator). */
  auth: Authenticate;
  server: string;
  context: string;
  /** --request-timeout; 0 means none (watches are never cut by it). */
  timeoutMs?: number;
  /** -v level: >= 6 logs every request to stderr like kubectl. */
  verbosity?: number;
  log?: (line: string) => void;
  /** Aborted on Ctrl-C: every request and watch stops at once. */
  signal?: AbortSignal | undefined;
  /** Injected in tests (fake clock for the retry loops). */
  clock?: Clock;
  /** The proxy the connection goes through (config.ts), named when it cannot be reached. */
  proxy?: { url: string; from: string } | undefined;
}

/** How long a one-shot command rides out a lost API server before it gives up (exit 3). Waits raise it to their --timeout. */
export const DEFAULT_OUTAGE_BUDGET_MS = 30_000;

/** A write is safe to send again only when a precondition makes the server refuse a second application. */
function hasPrecondition(method: string, body: unknown): boolean {
  if (method === 'GET' || body === undefined || body === null) return false;
  if (Array.isArray(body)) return body.some((op) => (op as { op?: string })?.op === 'test');
  const b = body as { metadata?: { resourceVersion?: string }; preconditions?: { uid?: string; resourceVersion?: string } };
  return Boolean(b.metadata?.resourceVersion || b.preconditions?.uid || b.preconditions?.resourceVersion);
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** A LIST page: called with the list's metadata as soon as it has arrived, before the items (see list()). */
  onListMeta?: (meta: ListMeta) => void;
}

/** The metadata of a LIST response. */
export interface ListMeta {
  continue?: string;
  resourceVersion?: string;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** The preconditions a delete carries: core's type, the one every planner returns. */
export type { DeletePreconditions } from '../core/plan.js';

export class KubeClient {
  /** Number of HTTP requests sent (watches included), for benchmarks and -v. */
  requestCount = 0;
  readonly server: string;
  readonly context: string;
  private readonly opts: ClientOptions;
  readonly clock: Clock;
  /**
   * After the server has answered once, reads (and writes guarded by a precondition) that fail
   * because it went away are retried with backoff for up to this long. Before the first answer a
   * failure is reported at once (exit 3): that is a wrong address, not an outage.
   */
  outageBudgetMs = DEFAULT_OUTAGE_BUDGET_MS;
  /** One stderr notice per outage, shared by requests and watches (observe). */
  readonly outage: OutageNotice;
  /** Whether the server has answered at least once in this process. */
  reached = false;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.server = opts.server.replace(/\/+$/, '');
    this.context = opts.context;
    this.clock = opts.clock ?? realClock;
    this.outage = new OutageNotice(this.server, (l) => this.opts.log?.(l), this.clock);
  }

  /** The Ctrl-C signal this client was built with. */
  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  private facts(method: string, path: string, query?: Query): RequestFacts {
    return { method, path, query, server: this.server, context: this.context, ...(this.opts.proxy ? { proxy: this.opts.proxy } : {}) };
  }

  private async send(method: string, path: string, o: RequestOptions, timeoutMs: number | undefined) {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let creds: Awaited<ReturnType<Authenticate>>;
    try {
      creds = await this.opts.auth();
    } catch (e) {
      // Exec credential plugins, OIDC refreshes, unreadable cert files and the like fail here.
      throw new KubeApiError(`cannot prepare credentials for context "${this.context}" (${this.server}): ${(e as Error).message}`, {
        exitCode: ExitCode.Unreachable,
        hints: ['Check the user entry of this context in the kubeconfig (certificate files, exec plugin, token).'],
      });
    }
    const headers: Record<string, string> = { ...creds.headers, Accept: 'application/json' };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['Content-Type'] = o.contentType ?? 'application/json';
    }
    const signals: AbortSignal[] = [];
    if (o.signal) signals.push(o.signal);
    if (this.opts.signal && this.opts.signal !== o.signal) signals.push(this.opts.signal);
    if (timeoutMs) signals.push(AbortSignal.timeout(timeoutMs));
    this.requestCount++;
    const started = Date.now();
    try {
      const init: Parameters<typeof fetch>[1] = { method, headers, dispatcher: creds.dispatcher as never };
      if (body !== undefined) init.body = body;
      if (signals.length) init.signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
      const res = await fetch(url, init);
      this.reached = true;
      if ((this.opts.verbosity ?? 0) >= 6) {
        this.opts.log?.(`${method} ${url} ${res.status} ${STATUS_CODES[res.status] ?? ''} in ${Date.now() - started} milliseconds`);
      }
      return res;
    } catch (e) {
      throw this.transportFailure(e, method, path, o, timeoutMs, 'request');
    }
  }

  /**
   * A request that failed below HTTP: the interrupt's or caller's abort reason as is, else a
   * KubeApiError (exit 3) marked with the transport code, so a read is retried through an outage.
   */
  private transportFailure(e: unknown, method: string, path: string, o: RequestOptions, timeoutMs: number | undefined, phase: 'request' | 'body'): unknown {
    if (o.signal?.aborted) return o.signal.reason ?? e;
    if (this.opts.signal?.aborted) return this.opts.signal.reason ?? e;
    const code = failureCode(e);
    return markTransport(transportError(this.facts(method, path, o.query), e, timeoutMs, phase), code);
  }

  /**
   * One request; resolves to the parsed JSON body, throws a mapped KubeApiError on failure.
   * Reads are retried (backoff, Retry-After) on a lost connection, 429 and 5xx; writes only when
   * they certainly had no effect and carry a precondition. See retry.ts.
   */
  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const read = method === 'GET';
    const guarded = hasPrecondition(method, o.body);
    const signal = o.signal ?? this.opts.signal;
    return withRetry(() => this.requestOnce<T>(method, path, o), {
      clock: this.clock,
      deadline: this.clock.now() + this.outageBudgetMs,
      signal,
      notice: this.outage,
      retryable: (e) => {
        const r = retryability(e);
        if (!r.retry) return r;
        // Never answered yet: a wrong address or a cluster that is down, not a blip. Report it now.
        if (r.outage && !this.reached) return { ...r, retry: false };
        if (read || (guarded && r.notApplied)) return r;
        return { ...r, retry: false };
      },
    });
  }

  private async requestOnce<T>(method: string, path: string, o: RequestOptions): Promise<T> {
    const res = await this.send(method, path, o, this.opts.timeoutMs);
    let text: string;
    try {
      text = res.ok && o.onListMeta && res.body ? await readListBody(res.body as unknown as AsyncIterable<Uint8Array>, o.onListMeta) : await res.text();
    } catch (e) {
      // The connection was cut (or timed out) after the headers, while the body was arriving: the
      // same outage as a refused connection, so a read is retried; never a bare "terminated".
      throw this.transportFailure(e, method, path, o, this.opts.timeoutMs, 'body');
    }
    if (!res.ok) {
      let status: StatusBody | undefined;
      try {
        status = JSON.parse(text) as StatusBody;
      } catch {
        status = text ? { message: text.slice(0, 300) } : undefined;
      }
      throw markRetryAfter(httpError(this.facts(method, path, o.query), res.status, status), res.headers.get('retry-after'));
    }
    // Every answer of the API server is a JSON object; anything else came from something else.
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch {
      throw notJsonError(this.facts(method, path, o.query), res.status, res.headers.get('content-type'), text);
    }
    if (value === undefined ? method === 'GET' : typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw notJsonError(this.facts(method, path, o.query), res.status, res.headers.get('content-type'), text, 'object');
    }
    return value as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  /** GET that answers undefined for 404 instead of throwing. */
  async tryGet<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * GET of the object a command is about: on 404 the error lists similar names that exist
   * (one extra LIST, only on that failure path).
   */
  async getNamed<T>(path: string): Promise<T> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (!(e instanceof KubeApiError) || e.status !== 404) throw e;
      const wanted = describePath(path).name;
      const collection = path.slice(0, path.lastIndexOf('/'));
      let names: string[] = [];
      try {
        names = (await this.list<KubeObject>(collection, {}, 500)).items.map((i) => i.metadata.name);
      } catch {
        /* the hint is best effort */
      }
      const err = httpError(this.facts('GET', path), 404, undefined, nearbyNames(wanted, names));
      // Nothing of that kind in the namespace: perhaps the namespace itself is wrong (a typo in -n,
      // or the context's default namespace). Asked only on this error path; a tenant that may not
      // read namespaces simply gets no such hint.
      const ns = describePath(path).namespace;
      if (ns && names.length === 0 && (await this.namespaceMissing(ns))) err.hints.unshift(this.missingNamespaceText(ns));
      throw err;
    }
  }

  /**
   * Whether namespace `ns` certainly does not exist (its GET answered 404). False when it exists
   * or cannot be told (a tenant that may not read namespaces gets 403): never a guess.
   */
  async namespaceMissing(ns: string): Promise<boolean> {
    try {
      await this.get(`/api/v1/namespaces/${encodeURIComponent(ns)}`);
      return false;
    } catch (e) {
      return e instanceof KubeApiError && e.status === 404;
    }
  }

  missingNamespaceText(ns: string): string {
    return `Namespace "${ns}" does not exist in context "${this.context}": check -n (kubectl get namespaces).`;
  }

  /**
   * Paginated LIST (limit + continue); a continue token that expired (410) restarts the list once.
   * Each item's metadata.managedFields (server-side apply bookkeeping, often a third of an
   * object's size) is dropped as its page arrives: no command reads it (measured: it did not move
   * the peak memory at 5,000 claims; the projections below did at 20,000).
   * With `project`, each item is replaced by project(item) as its page arrives, so the page's full
   * objects can be collected before the next page is read (see core/projections.ts).
   */
  async list<T>(path: string, query: Query = {}, pageSize = 500, project?: (item: T) => T): Promise<ListResult<T>> {
    type Page = { items?: T[]; metadata?: ListMeta };
    for (let attempt = 0; ; attempt++) {
      const items: T[] = [];
      let rv = '';
      let next: PageRequest<Page> | undefined = this.listPage<Page>(path, query, pageSize, undefined);
      try {
        while (next) {
          const current: PageRequest<Page> = next;
          next = undefined;
          // The next page is asked for as soon as this one's continue token has arrived (the
          // metadata comes before the items), so the server works on it while this page's body
          // is still arriving and being parsed.
          const early = await current.meta;
          if (early.continue) next = this.listPage<Page>(path, query, pageSize, early.continue);
          const page = await current.page;
          if (page.items !== undefined && page.items !== null && !Array.isArray(page.items)) {
            throw notJsonError(this.facts('GET', path, query), 200, null, JSON.stringify(page).slice(0, 200), 'list');
          }
          const cont = page.metadata?.continue || undefined;
          if (cont !== (early.continue || undefined)) {
            // A retried page answered with another token: follow the page's own.
            next?.abort();
            next = cont ? this.listPage<Page>(path, query, pageSize, cont) : undefined;
          }
          if (page.items) {
            for (const it of page.items) {
              if (project) {
                items.push(project(it));
                continue;
              }
              const meta = (it as { metadata?: { managedFields?: unknown } }).metadata;
              if (meta && meta.managedFields !== undefined) delete meta.managedFields;
              items.push(it);
            }
          }
          rv = page.metadata?.resourceVersion ?? rv;
        }
        return { items, resourceVersion: rv };
      } catch (e) {
        next?.abort();
        if (e instanceof KubeApiError && e.status === 410 && attempt === 0) continue;
        throw e;
      }
    }
  }

  /** One LIST page in flight: its metadata (early, or with the page), the page, and a way to drop it. */
  private listPage<P extends { metadata?: ListMeta }>(path: string, query: Query, limit: number, cont: string | undefined): PageRequest<P> {
    const dropped = new AbortController();
    const signal = this.opts.signal ? AbortSignal.any([dropped.signal, this.opts.signal]) : dropped.signal;
    let seen: (m: ListMeta) => void = () => {};
    const early = new Promise<ListMeta>((resolve) => (seen = resolve));
    const page = this.request<P>('GET', path, { query: { ...query, limit, continue: cont }, signal, onListMeta: (m) => seen(m) });
    const meta = Promise.race([early, page.then((p) => p?.metadata ?? {})]);
    // A page dropped (an earlier page failed, Ctrl-C) rejects when nobody waits for it any more:
    // neither it nor its metadata may become an unhandled rejection (which ends the process).
    page.catch(() => {});
    meta.catch(() => {});
    return {
      meta,
      page,
      abort: () => dropped.abort(new Error('list page no longer needed')),
    };
  }

  /**
   * Streams watch events from resourceVersion `rv` until the server closes the stream or
   * `signal` aborts. An expired resourceVersion surfaces as a KubeApiError with status 410.
   */
  async *watch<T>(path: string, rv: string, query: Query = {}, signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const q: Query = { ...query, watch: 1, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 300 };
    const res = await this.send('GET', path, { query: q, ...(signal ? { signal } : {}) }, undefined);
    if (!res.ok || !res.body) {
      let status: StatusBody | undefined;
      try {
        status = JSON.parse(await res.text()) as StatusBody;
      } catch {
        status = undefined;
      }
      throw markRetryAfter(httpError(this.facts('GET', path, q), res.status, status), res.headers.get('retry-after'));
    }
    this.outage.ok();
    const body = Readable.fromWeb(res.body as never);
    const lines = jsonLines(body);
    const abort = () => body.destroy();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const line of lines) {
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as WatchEvent<T>;
        if (ev.type === 'ERROR') {
          const st = ev.object as unknown as StatusBody;
          throw httpError(this.facts('GET', path, q), st.code ?? 500, st);
        }
        yield ev;
      }
    } catch (e) {
      if (signal?.aborted) return;
      if (e instanceof KubeApiError) throw e;
      // A stream cut mid-way is like a normal close: the caller re-watches from its last resourceVersion.
      return;
    } finally {
      signal?.removeEventListener('abort', abort);
      body.destroy();
    }
  }

  async patch<T>(path: string, body: unknown, type: PatchType, dryRun: DryRun = 'none'): Promise<T> {
    refuseClientDryRun(dryRun, 'PATCH', path);
    return this.request<T>('PATCH', path, {
      body,
      contentType: PATCH_CONTENT_TYPE[type],
      query: dryRun === 'server' ? { dryRun: 'All' } : {},
    });
  }

  async create<T>(path: string, body: unknown, dryRun: DryRun = 'none'): Promise<T> {
    refuseClientDryRun(dryRun, 'POST', path);
    return this.request<T>('POST', path, { body, query: dryRun === 'server' ? { dryRun: 'All' } : {} });
  }

  async delete<T = unknown>(path: string, o: { preconditions?: DeletePreconditions; dryRun?: DryRun; propagationPolicy?: string } = {}): Promise<T> {
    refuseClientDryRun(o.dryRun, 'DELETE', path);
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (o.preconditions) body.preconditions = o.preconditions;
    if (o.dryRun === 'server') body.dryRun = ['All'];
    if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
    return this.request<T>('DELETE', path, { body });
  }
}

interface PageRequest<P> {
  meta: Promise<ListMeta>;
  page: Promise<P>;
  abort(): void;
}

/**
 * Reads a LIST response body, and calls onMeta with the list's metadata as soon as it has arrived:
 * the API server writes `{"kind":..,"apiVersion":..,"metadata":{..},"items":[` before the items.
 * When the body does not start that way (no "items" key in its first 64 KB), onMeta is not called.
 */
export async function readListBody(body: AsyncIterable<Uint8Array>, onMeta: (meta: ListMeta) => void): Promise<string> {
  const chunks: Buffer[] = [];
  let head = '';
  let looking = true;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    chunks.push(b);
    if (!looking) continue;
    // latin1 is enough to find the ASCII key; the text is decoded as UTF-8 below.
    head += b.toString('latin1');
    const at = head.indexOf(',"items":');
    if (at >= 0) {
      looking = false;
      try {
        const meta = (JSON.parse(`${head.slice(0, at)}}`) as { metadata?: ListMeta }).metadata;
        if (meta) onMeta(meta);
      } catch {
        /* not the usual layout: the caller reads the metadata from the whole page */
      }
    } else if (head.length > 65536) {
      looking = false;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The lines of a watch stream (one JSON event per line). Not node:readline: this module runs in
 * a vm.Script in the built binary, where a dynamic import cannot load it on demand, and a
 * static one would load it (and its history and keypress support) on every start.
 */
export async function* jsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, nl).replace(/\r$/, '');
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/**
 * A client-side dry run sends nothing: the command must stop before the write. A write asked
 * with dryRun 'client' is a bug in the caller, so it is refused here rather than sent for real.
 */
function refuseClientDryRun(dryRun: DryRun | undefined, method: string, path: string): void {
  if (dryRun === 'client') throw new Error(`internal error: ${method} ${path} was asked with --dry-run=client; a client dry run must not reach the API server`);
}
