/**
 * Surviving the control plane's bad moments: which failures are worth another try, jittered and
 * capped backoff, Retry-After, and one outage notice per outage ("lost the API server …;
 * reconnecting for up to 4m50s…" and "reconnected after 12s"). Light (no client import), and the
 * clock is injected, so the loops run on a fake clock in tests.
 */
import { KubeApiError } from '../errors.js';
import { isAdmissionText } from './errors.js';
import { formatDuration } from '../core/duration.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** In [0, 1): the jitter. */
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal!.reason);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  random: () => Math.random(),
};

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 8_000 };

/**
 * The pause before retry number `attempt` (1-based): exponential from `baseMs`, capped at
 * `capMs`, with "equal jitter" (half fixed, half random) so many clients do not retry in step.
 */
export function backoffDelay(attempt: number, random: () => number, p: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = Math.min(p.capMs, p.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

// Facts about a failure that the error classes do not carry. Symbols from the global registry:
// the CLI bundle and the API bundle each have their own copy of this module.
const TRANSPORT_CODE = Symbol.for('kubectl-sts.transport-code');
const RETRY_AFTER = Symbol.for('kubectl-sts.retry-after-ms');

/** Records the low-level code of a request that got no HTTP answer (ECONNREFUSED, ECONNRESET, …). */
export function markTransport<E extends object>(err: E, code: string): E {
  Object.defineProperty(err, TRANSPORT_CODE, { value: code, enumerable: false });
  return err;
}

/** Records the server's Retry-After (seconds, as sent) on an HTTP error. */
export function markRetryAfter<E extends object>(err: E, header: string | null | undefined): E {
  if (header && /^\d+$/.test(header.trim())) Object.defineProperty(err, RETRY_AFTER, { value: Number(header.trim()) * 1000, enumerable: false });
  return err;
}

export function transportCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? ((err as Record<symbol, string | undefined>)[TRANSPORT_CODE] ?? undefined) : undefined;
}

export function retryAfterMs(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null ? ((err as Record<symbol, number | undefined>)[RETRY_AFTER] ?? undefined) : undefined;
}

/** Transport failures that mean "the server is (momentarily) not there", as opposed to a wrong address or certificate. */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Codes that prove the request never reached the server: a write may be sent again without a precondition. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export interface Retryability {
  /** Worth another try at all. */
  retry: boolean;
  /** The server is not answering (as opposed to answering "busy" or "failed"). */
  outage: boolean;
  /** The request certainly had no effect (never reached the server, or was refused before processing). */
  notApplied: boolean;
  /** Server-requested pause. */
  afterMs?: number | undefined;
  /** Short words for the notice: "connection refused", "HTTP 503". */
  reason: string;
}

const NO: Retryability = { retry: false, outage: false, notApplied: false, reason: '' };

function codeWords(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'EPIPE':
      return 'connection reset';
    default:
      return /TIMEOUT|ETIMEDOUT/.test(code) ? 'no answer' : code;
  }
}

/**
 * Whether a failed request is worth another try: connection errors (the server went away),
 * 429 (throttled; honour Retry-After), and 5xx other than admission denials and 501.
 */
export function retryability(err: unknown): Retryability {
  if (!(err instanceof KubeApiError)) return NO;
  const code = transportCode(err);
  if (code !== undefined) {
    if (!OUTAGE_CODES.has(code)) return NO;
    return { retry: true, outage: true, notApplied: NOT_SENT_CODES.has(code), reason: codeWords(code) };
  }
  const status = err.status;
  if (status === 429) return { retry: true, outage: false, notApplied: true, afterMs: retryAfterMs(err), reason: 'HTTP 429, throttled' };
  if (status !== undefined && status >= 500 && status !== 501) {
    // A webhook that denied or could not be called is an answer about the object, not an outage.
    if (isAdmissionText(err.message)) return NO;
    return { retry: true, outage: status === 503 || status === 502 || status === 504, notApplied: false, afterMs: retryAfterMs(err), reason: `HTTP ${status}` };
  }
  return NO;
}

/** Human duration for the notices: 12s, 4m50s, "as long as it takes". */
export function budgetWords(ms: number): string {
  if (!Number.isFinite(ms)) return 'as long as it takes (no --timeout)';
  return ms < 1000 ? `${Math.max(0, ms)}ms` : formatDuration(Math.round(ms / 1000) * 1000);
}

/**
 * One notice per outage on stderr, shared by every request and watch of a client: the first
 * failure says what was lost and for how long it will keep trying; the first success after it
 * says how long it took.
 */
export class OutageNotice {
  private since: number | undefined;
  /** The failure that started (or last extended) the outage in progress. */
  lastError: unknown;
  constructor(
    private readonly server: string,
    private readonly log: (line: string) => void,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  /** A retryable failure: the first one of an outage is announced. */
  failed(reason: string, budgetMs: number, err?: unknown): void {
    if (err !== undefined) this.lastError = err;
    if (this.since !== undefined) return;
    this.since = this.clock.now();
    this.log(`warning: lost the API server at ${this.server} (${reason}); reconnecting for up to ${budgetWords(budgetMs)}…`);
  }

  /** A request or watch went through. */
  ok(): void {
    if (this.since === undefined) return;
    const ms = this.clock.now() - this.since;
    this.since = undefined;
    this.lastError = undefined;
    this.log(`warning: reconnected to the API server at ${this.server} after ${budgetWords(ms)}`);
  }
}

/**
 * Runs `attempt` until it succeeds, or fails in a way `retryable` refuses, or the time left runs
 * out (then the last failure is thrown). `deadline` is an absolute clock time (Infinity: none).
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  o: {
    clock: Clock;
    deadline: number;
    signal?: AbortSignal | undefined;
    retryable: (err: unknown) => Retryability;
    notice?: OutageNotice | undefined;
    backoff?: BackoffPolicy;
  },
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      const r = await attempt();
      o.notice?.ok();
      return r;
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason ?? e;
      const r = o.retryable(e);
      if (!r.retry) throw e;
      const left = o.deadline - o.clock.now();
      if (left <= 0) throw e;
      o.notice?.failed(r.reason, left, e);
      const pause = Math.min(left, Math.max(r.afterMs ?? 0, backoffDelay(n, o.clock.random, o.backoff)));
      await o.clock.sleep(pause, o.signal);
    }
  }
}
