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
