/**
 * The collaborators a command may use, injected so that handlers run against fakes in tests:
 * the Kubernetes access layer (lazily built: it loads client-node), the clock, stdout/stderr,
 * a spinner, a confirmation prompt and the Ctrl-C signal.
 */
import type { Kube } from './kube/index.js';
import type { Spinner } from './render/spinner.js';
import type { Palette } from './render/color.js';

export interface Deps {
  /** Builds (once) and returns the API access for the flags in effect. */
  kube(): Promise<Kube>;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Writes to stdout at once (watch modes); ordinary results are returned, not written. */
  write(text: string): void;
  /** Writes a line to stderr (warnings, progress text for non-TTY is not written). */
  log(line: string): void;
  /** Spinner on stderr; a silent one unless stderr is a TTY and the output is for a person. */
  spinner(): Promise<Spinner>;
  /** Asks yes/no on the terminal; false when there is no terminal to ask on. */
  confirm(question: string): Promise<boolean>;
  /** Whether stdin is a terminal (confirmations are possible). */
  interactive: boolean;
  /** Whether stdout is a terminal (screen refreshes in watch modes). */
  stdoutIsTTY: boolean;
  /** Colors for stdout. */
  color: Palette;
  /** Aborted on Ctrl-C (SIGINT) / SIGTERM. */
  signal: AbortSignal;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
