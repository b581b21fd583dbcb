/**
 * A Deps for handler tests: the given Kube, a fixed clock, no waiting, no spinner, no color, and
 * everything the handler writes, logs or asks recorded. Tests override single fields by spreading.
 */
import type { Deps } from '../../src/deps.js';
import type { Kube } from '../../src/kube/index.js';
import { palette } from '../../src/render/color.js';
import { silentSpinner } from '../../src/render/spinner.js';

export interface RecordingDeps {
  deps: Deps;
  /** What went to stdout through deps.write (watch modes). */
  written: string[];
  /** Lines given to deps.log (stderr). */
  logged: string[];
  /** Questions asked through deps.confirm. */
  questions: string[];
}

export function recordingDeps(
  kube: Kube,
  o: { now?: number; answer?: boolean; interactive?: boolean; stdoutIsTTY?: boolean } = {},
): RecordingDeps {
  const written: string[] = [];
  const logged: string[] = [];
  const questions: string[] = [];
  const deps: Deps = {
    kube: async () => kube,
    now: () => o.now ?? Date.parse('2026-01-01T00:00:00Z'),
    sleep: async () => {},
    write: (t) => void written.push(t),
    log: (l) => void logged.push(l),
    spinner: async () => silentSpinner,
    confirm: async (q) => {
      questions.push(q);
      return o.answer ?? false;
    },
    interactive: o.interactive ?? false,
    stdoutIsTTY: o.stdoutIsTTY ?? false,
    color: palette(false),
    signal: new AbortController().signal,
  };
  return { deps, written, logged, questions };
}
