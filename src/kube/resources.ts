/** The API resources kubectl-sts touches, and how to build their REST paths. */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

function res(group: string, version: string, plural: string, kind: string, namespaced = true): ResourceType {
  return { group, version, plural, kind, namespaced };
}

export const Resources = {
  statefulsets: res('apps', 'v1', 'statefulsets', 'StatefulSet'),
  controllerrevisions: res('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  pods: res('', 'v1', 'pods', 'Pod'),
  persistentvolumeclaims: res('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim'),
  persistentvolumes: res('', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  services: res('', 'v1', 'services', 'Service'),
  endpointslices: res('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  nodes: res('', 'v1', 'nodes', 'Node', false),
  events: res('', 'v1', 'events', 'Event'),
  secrets: res('', 'v1', 'secrets', 'Secret'),
  namespaces: res('', 'v1', 'namespaces', 'Namespace', false),
  poddisruptionbudgets: res('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
  storageclasses: res('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
} as const satisfies Record<string, ResourceType>;

export interface PathOpts {
  /** Omitted (or undefined) for a cluster-wide list of a namespaced resource. */
  namespace?: string | undefined;
  name?: string;
  subresource?: string;
}

export function resourcePath(r: ResourceType, o: PathOpts = {}): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespaced && o.namespace ? `/namespaces/${encodeURIComponent(o.namespace)}` : '';
  const name = o.name ? `/${encodeURIComponent(o.name)}` : '';
  const sub = o.name && o.subresource ? `/${o.subresource}` : '';
  return `${base}${ns}/${r.plural}${name}${sub}`;
}

/** What a REST path addresses, for error messages: resource (with group), namespace, name, subresource. */
export function describePath(path: string): { resource: string; namespace?: string; name?: string; subresource?: string } {
  const clean = path.split('?')[0]!;
  const parts = clean.split('/').filter(Boolean);
  let i = parts[0] === 'api' ? 2 : 3; // skip api/v1 or apis/group/version
  const group = parts[0] === 'apis' ? parts[1] : '';
  let namespace: string | undefined;
  if (parts[i] === 'namespaces' && parts.length > i + 2) {
    namespace = decodeURIComponent(parts[i + 1]!);
    i += 2;
  }
  const plural = parts[i] ?? '';
  const name = parts[i + 1] ? decodeURIComponent(parts[i + 1]!) : undefined;
  const subresource = parts[i + 2];
  const resource = group ? `${plural}.${group}` : plural;
  const out: { resource: string; namespace?: string; name?: string; subresource?: string } = { resource };
  if (namespace !== undefined) out.namespace = namespace;
  if (name !== undefined) out.name = name;
  if (subresource !== undefined) out.subresource = subresource;
  return out;
}

/** The RBAC verb a request needs. */
export function verbOf(method: string, path: string, query?: Record<string, string | number | boolean | undefined>): string {
  const d = describePath(path);
  switch (method) {
    case 'GET':
      if (query?.watch) return 'watch';
      return d.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return d.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
