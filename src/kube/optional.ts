/**
 * Reads that a least-privilege identity may not be allowed to make. A read-only command asks for
 * what it needs; when a read is forbidden (403) it skips the part that read serves, records one
 * warning line naming what was skipped and why, and goes on with everything it could read.
 * Callers put the warnings on stderr and in the json/yaml output (`warnings`), and a check whose
 * answer is therefore partial exits with ExitCode.Incomplete unless it found problems.
 */
import { isForbidden } from '../errors.js';

export interface Warnings {
  /** One line each, written for a person: what was skipped, and the denied verb/resource. */
  lines: string[];
}

export function newWarnings(): Warnings {
  return { lines: [] };
}

/**
 * Runs `read`; on 403 returns undefined and records "`skipped`: <the API's forbidden message>".
 * `skipped` says what the user loses, e.g. "volume checks skipped (PersistentVolumes are cluster-scoped)".
 * Every other failure is thrown as before.
 */
export async function readOptional<T>(read: () => Promise<T>, warnings: Warnings, skipped: string): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (!isForbidden(e)) throw e;
    warnings.lines.push(`${skipped}: ${(e as Error).message}`);
    return undefined;
  }
}
