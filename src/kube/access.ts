/**
 * "May I?" before a change made of several writes: one SelfSubjectAccessReview per verb/resource
 * the change needs (POST, a few ms each; every authenticated user may create them). A denied
 * verb becomes the same forbidden error a failed write would give (verb + resource + namespace,
 * with the `kubectl auth can-i` line), but before anything was changed, so nothing is half-done.
 * When the review itself cannot be made (an old or odd API server, a webhook authorizer that
 * answers nothing), the check is skipped: the first write's own 403 still stops the command.
 */
import { httpError } from './errors.js';
import type { KubeClient } from './client.js';
import { resourcePath, type ResourceType } from './resources.js';

export interface AccessNeed {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  resource: ResourceType;
  /** For namespaced resources; omitted for cluster-scoped ones. */
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

interface ReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

const METHOD: Record<AccessNeed['verb'], string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
};

/**
 * One SelfSubjectAccessReview: whether the caller may do what `attrs` (its resourceAttributes)
 * describe. `allowed` is undefined when the review itself could not be made: the caller then
 * decides without it (the request's own 403 still stands).
 */
export async function reviewAccess(client: KubeClient, attrs: Record<string, string>): Promise<{ allowed: boolean | undefined; reason: string | undefined }> {
  try {
    const r = await client.create<ReviewStatus>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: attrs },
    });
    return { allowed: r?.status?.allowed, reason: r?.status?.reason };
  } catch {
    return { allowed: undefined, reason: undefined };
  }
}

/** Throws the forbidden KubeApiError for the first need that the API server's authorizer denies. */
export async function requireAccess(client: KubeClient, needs: AccessNeed[]): Promise<void> {
  const seen = new Set<string>();
  const unique = needs.filter((n) => {
    // One review per verb, resource and namespace (the first name stands for the others: rules
    // limited to resourceNames are rare, and the write's own 403 still catches them).
    const k = `${n.verb} ${n.resource.group}/${n.resource.plural}/${n.subresource ?? ''} ${n.namespace ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const answers = await Promise.all(
    unique.map(async (n) => {
      const attrs: Record<string, string> = { verb: n.verb, group: n.resource.group, resource: n.resource.plural };
      if (n.resource.namespaced && n.namespace) attrs.namespace = n.namespace;
      if (n.name) attrs.name = n.name;
      if (n.subresource) attrs.subresource = n.subresource;
      return { need: n, ...(await reviewAccess(client, attrs)) };
    }),
  );
  const denied = answers.find((a) => a.allowed === false);
  if (!denied) return;
  const n = denied.need;
  const path = resourcePath(n.resource, {
    ...(n.resource.namespaced ? { namespace: n.namespace } : {}),
    ...(n.name ? { name: n.name } : {}),
    ...(n.subresource ? { subresource: n.subresource } : {}),
  });
  const where = n.resource.namespaced && n.namespace ? ` in the namespace "${n.namespace}"` : '';
  const group = n.resource.group ? ` in API group "${n.resource.group}"` : '';
  const sub = n.subresource ? `/${n.subresource}` : '';
  throw httpError(
    { method: METHOD[n.verb], path, query: n.verb === 'watch' ? { watch: 1 } : undefined, server: client.server, context: client.context },
    403,
    {
      message: `checked before changing anything, nothing was changed: you cannot ${n.verb} resource "${n.resource.plural}${sub}"${group}${where}${denied.reason ? ` (${denied.reason})` : ''}`,
      reason: 'Forbidden',
    },
  );
}
