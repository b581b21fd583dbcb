/**
 * Whether a merge (or strategic merge) patch is already reflected in an object: every field it
 * sets has that value, every field it nulls is absent; lists of named items (containers) match by
 * name. Used after a write whose answer was lost (connection cut mid-request): re-read, and if the
 * patch landed, do not apply it a second time (a second "--step 1" would step twice). Pure.
 */
export function patchLanded(patch: unknown, obj: unknown): boolean {
  if (patch === null) return obj === undefined || obj === null;
  if (Array.isArray(patch)) {
    if (!Array.isArray(obj)) return false;
    const named = patch.every((p) => typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string');
    if (named) {
      return patch.every((p) => {
        const match = obj.find((o) => typeof o === 'object' && o !== null && (o as { name?: unknown }).name === (p as { name: string }).name);
        return match !== undefined && patchLanded(p, match);
      });
    }
    return patch.length === obj.length && patch.every((p, i) => patchLanded(p, obj[i]));
  }
  if (typeof patch === 'object') {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return false;
    return Object.entries(patch as Record<string, unknown>).every(([k, v]) => {
      if (k.startsWith('$')) return true; // strategic-merge directives ($patch, $setElementOrder/…)
      return patchLanded(v, (obj as Record<string, unknown>)[k]);
    });
  }
  return patch === obj;
}
