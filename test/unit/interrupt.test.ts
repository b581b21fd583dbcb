/** src/interrupt.ts: the signal handling of the process, on a fake clock. */
import { describe, expect, it } from 'vitest';
import { interruptHandler } from '../../src/interrupt.js';

function harness() {
  let t = 1_000;
  const log: string[] = [];
  const timers: { at: number; fn: () => void }[] = [];
  const handle = interruptHandler({
    abort: (r) => log.push(`abort ${r.message}`),
    exit: (c) => log.push(`exit ${c}`),
    write: (s) => log.push(`stderr ${s.trim()}`),
    now: () => t,
    later: (fn, ms) => timers.push({ at: t + ms, fn }),
    reason: (text) => new Error(text),
  });
  const advance = (ms: number) => {
    t += ms;
    for (const x of timers.splice(0)) (x.at <= t ? x.fn : () => timers.push(x))();
  };
  return { handle, log, advance };
}

describe('interruptHandler', () => {
  it('the first signal aborts the command, and nothing else happens while it reports', () => {
    const h = harness();
    h.handle('SIGINT');
    h.advance(2_000);
    expect(h.log).toEqual(['abort stopped by Ctrl-C']);
  });

  it('the same signal delivered twice at once (GNU timeout -s INT) is one interrupt: the command still reports', () => {
    const h = harness();
    h.handle('SIGINT');
    h.handle('SIGINT');
    h.advance(500);
    h.handle('SIGTERM');
    expect(h.log).toEqual(['abort stopped by Ctrl-C']);
  });

  it('a second Ctrl-C later ends the process at once, and says so', () => {
    const h = harness();
    h.handle('SIGTERM');
    h.advance(1_500);
    h.handle('SIGINT');
    expect(h.log).toEqual(['abort stopped by SIGTERM', 'stderr interrupted again: ending now, before the command could report where it stopped', 'exit 130']);
  });

  it('a command that does not stop within 3 s is ended, saying so', () => {
    const h = harness();
    h.handle('SIGINT');
    h.advance(3_000);
    expect(h.log).toEqual(['abort stopped by Ctrl-C', 'stderr interrupted: stopped before it could report where (it did not stop within 3s)', 'exit 130']);
  });
});
