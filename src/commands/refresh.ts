/**
 * The `-w` loop of the checks that re-evaluate in place (mongo-status, doctor): one round every
 * interval until Ctrl-C, the screen cleared on a terminal, a lost API server ridden out (the
 * client says so once on stderr; the next round tries again). Returns the exit code of the last
 * round that completed.
 */
import type { Deps } from '../deps.js';
import { ExitCode } from '../errors.js';
import { retryability } from '../kube/retry.js';

export interface Round {
  /** What to print for this round (without the header). */
  body: string;
  exitCode: number;
}

export async function refreshLoop(
  deps: Deps,
  o: { intervalMs: number; structured: boolean; header: (stamp: string) => string; round: () => Promise<Round> },
): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  while (!deps.signal.aborted) {
    let r: Round;
    try {
      r = await o.round();
    } catch (e) {
      if (deps.signal.aborted || !retryability(e).retry) throw e;
      try {
        await deps.sleep(o.intervalMs, deps.signal);
      } catch {
        break;
      }
      continue;
    }
    exitCode = r.exitCode;
    const stamp = new Date(deps.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const clear = deps.stdoutIsTTY && !o.structured ? '\u001b[H\u001b[2J' : '';
    deps.write(`${clear}${o.structured ? '' : `${o.header(stamp)}\n\n`}${r.body}`);
    try {
      await deps.sleep(o.intervalMs, deps.signal);
    } catch {
      break;
    }
  }
  return exitCode;
}
