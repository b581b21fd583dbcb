/** Flag values that several commands share, turned into values or usage errors (exit 2). */
import type { DryRun } from '../kube/index.js';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../errors.js';

/** `--dry-run[=client|server|none]` as kubectl reads it: bare `--dry-run` (or `true`) is client. */
export function parseDryRun(v: unknown): DryRun {
  if (v === undefined || v === false || v === 'none' || v === 'false') return 'none';
  if (v === '' || v === true || v === 'client' || v === 'true') return 'client';
  if (v === 'server') return 'server';
  throw new UsageError(`invalid --dry-run value "${String(v)}": use none, client or server`);
}

/** A duration flag (`30s`, `5m`); a malformed one is a usage error naming the flag. */
export function durationFlag(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
}

/** `--request-timeout` as kubectl reads it: "0" (none), a bare number of seconds, or a duration. */
export function parseRequestTimeout(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  return parseDuration(value);
}

type Check = (v: unknown) => string | undefined;

const duration = (example: string): { check: Check; example: string } => ({
  example,
  check: (v) => {
    try {
      parseDuration(String(v));
      return undefined;
    } catch {
      return 'expected a duration with a unit';
    }
  },
});
const wholeNumber = (min: number, example: string): { check: Check; example: string } => ({
  example,
  check: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min ? undefined : `expected a whole number${min > 0 ? ` of ${min} or more` : ' (0 or more)'}`),
});

/**
 * Every flag whose value has a shape, by its key in the parsed args: checked before a command
 * runs (before any kubeconfig is read), so a bad value is always exit 2 naming the flag and an
 * accepted example — never a late failure or "a bug in kubectl-sts".
 */
const VALUE_CHECKS: Record<string, { flag: string; check: Check; example: string }> = {
  requestTimeout: {
    flag: 'request-timeout',
    example: '--request-timeout 30s (or 0 for no limit)',
    check: (v) => {
      try {
        parseRequestTimeout(String(v));
        return undefined;
      } catch {
        return 'expected 0, a number of seconds, or a duration with a unit';
      }
    },
  },
  verbose: { flag: 'v', example: '-v 6', check: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 10 ? undefined : 'expected a log level from 0 to 10') },
  timeout: { flag: 'timeout', ...duration('--timeout 5m') },
  interval: { flag: 'interval', ...duration('--interval 30s') },
  execTimeout: { flag: 'exec-timeout', ...duration('--exec-timeout 20s') },
  maxLag: { flag: 'max-lag', ...duration('--max-lag 10s') },
  stuckAfter: { flag: 'stuck-after', ...duration('--stuck-after 5m') },
  to: { flag: 'to', ...wholeNumber(0, '--to 0') },
  revision: { flag: 'revision', ...wholeNumber(1, '--revision 2') },
  toRevision: { flag: 'to-revision', ...wholeNumber(0, '--to-revision 2') },
  concurrency: { flag: 'concurrency', ...wholeNumber(1, '--concurrency 8') },
};

/** Checks the shape of every flag value present in `args`; throws a UsageError for the first bad one. */
export function validateFlagValues(args: Record<string, unknown>, raw: readonly string[] = []): void {
  for (const [key, spec] of Object.entries(VALUE_CHECKS)) {
    const v = args[key];
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      const problem = spec.check(one);
      if (!problem) continue;
      const dash = spec.flag.length === 1 ? '-' : '--';
      const given = rawValue(raw, spec.flag) ?? (typeof one === 'number' && Number.isNaN(one) ? undefined : String(one));
      throw new UsageError(`invalid value${given !== undefined ? ` "${given}"` : ''} for ${dash}${spec.flag}: ${problem}`, [`For example: ${spec.example}.`]);
    }
  }
}

/** The text the user typed for a flag (`--to abc`, `--to=abc`, `-v9`), for the error message. */
function rawValue(raw: readonly string[], flag: string): string | undefined {
  const long = `--${flag}`;
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    if (a === long || (flag.length === 1 && a === `-${flag}`)) return raw[i + 1];
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    if (flag.length === 1 && a.startsWith(`-${flag}`) && a.length > 2) return a.slice(2).replace(/^=/, '');
  }
  return undefined;
}
