/**
 * Read-modify-write with an optimistic lock: the patch carries the resourceVersion that was
 * read, so the server refuses it (409) if the object changed in between; then we re-read and
 * try again, up to `attempts` times (client-go's RetryOnConflict).
 */
import { isConflict } from '../errors.js';
import type { KubeObject } from '../core/types.js';
import type { DryRun, KubeClient, PatchType } from './client.js';

export interface PatchPlan {
  /** The patch body, without the resourceVersion precondition (added here). */
  patch: Record<string, unknown>;
  type?: PatchType;
}

export async function patchWithRetry<T extends KubeObject>(
  client: KubeClient,
  path: string,
  plan: (current: T) => PatchPlan | undefined,
  o: { dryRun?: DryRun; attempts?: number } = {},
): Promise<{ before: T; after: T | undefined; patch: Record<string, unknown> | undefined }> {
  const attempts = o.attempts ?? 5;
  for (let i = 1; ; i++) {
    const before = await client.get<T>(path);
    const p = plan(before);
    if (!p) return { before, after: undefined, patch: undefined };
    const type = p.type ?? 'merge';
    const body = withPrecondition(p.patch, before.metadata.resourceVersion, type);
    if (o.dryRun === 'client') return { before, after: undefined, patch: body };
    try {
      const after = await client.patch<T>(path, body, type, o.dryRun ?? 'none');
      return { before, after, patch: body };
    } catch (e) {
      if (isConflict(e) && i < attempts) continue;
      throw e;
    }
  }
}

/** Adds metadata.resourceVersion to a merge/strategic patch (a JSON patch gets a `test` op instead). */
export function withPrecondition(patch: Record<string, unknown>, rv: string | undefined, type: PatchType): Record<string, unknown> {
  if (!rv || type === 'json') return patch;
  const meta = (patch.metadata as Record<string, unknown> | undefined) ?? {};
  return { ...patch, metadata: { ...meta, resourceVersion: rv } };
}
