/**
 * What the process does on Ctrl-C (SIGINT) and SIGTERM. Tiny and dependency-free: main.ts installs
 * it before the CLI loads, so a signal during start-up is handled the same way.
 *  - The first signal stops the command: `abort` reaches every request, watch, exec, sleep and
 *    prompt, and the command reports where it stopped (exit 130).
 *  - Should anything still hang, the process ends `graceMs` later anyway, saying so.
 *  - A second signal ends it at once, saying so; but a second one within `sameWithinMs` of the
 *    first is the same interrupt delivered twice (GNU `timeout -s INT` signals the command and then
 *    its process group; a supervisor may signal both), and ending then would skip the report.
 */
export interface InterruptDeps {
  abort(reason: Error): void;
  exit(code: number): void;
  write(text: string): void;
  now(): number;
  /** Runs fn after ms without keeping the process alive. */
  later(fn: () => void, ms: number): void;
  /** The error the command sees (errors.ts' InterruptedError once loaded). */
  reason(text: string): Error;
}

export function interruptHandler(d: InterruptDeps, graceMs = 3000, sameWithinMs = 1000): (sig: 'SIGINT' | 'SIGTERM') => void {
  let firstAt: number | undefined;
  return (sig) => {
    if (firstAt !== undefined) {
      if (d.now() - firstAt < sameWithinMs) return;
      d.write('interrupted again: ending now, before the command could report where it stopped\n');
      d.exit(130);
      return;
    }
    firstAt = d.now();
    d.abort(d.reason(sig === 'SIGINT' ? 'stopped by Ctrl-C' : 'stopped by SIGTERM'));
    d.later(() => {
      d.write('interrupted: stopped before it could report where (it did not stop within 3s)\n');
      d.exit(130);
    }, graceMs);
  };
}
