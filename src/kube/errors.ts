/**
 * Maps every way an API request can fail into a KubeApiError whose message names the object
 * and whose hints say what to do. Pure: takes the facts of the failed request, returns the error.
 */
import { ExitCode, KubeApiError } from '../errors.js';
import { closestNames } from '../core/names.js';
import { canICommand } from '../core/rbac.js';
import { Resources, describePath, verbOf } from './resources.js';

/** Resources without a namespace (a list of them is not "across all namespaces"). */
const CLUSTER_SCOPED = new Set<string>(
  Object.values(Resources)
    .filter((r) => !r.namespaced)
    .map((r) => (r.group ? `${r.plural}.${r.group}` : r.plural)),
);

export interface RequestFacts {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  server: string;
  context: string;
  /** The proxy in between, if any (from the cluster's proxy-url or HTTPS_PROXY). */
  proxy?: { url: string; from: string };
}

export interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

function target(f: RequestFacts): { what: string; where: string; resource: string; ns: string | undefined; name: string | undefined; clusterScoped: boolean } {
  const d = describePath(f.path);
  const res = d.subresource ? `${d.resource}/${d.subresource}` : d.resource;
  const what = d.name ? `${res} "${d.name}"` : res;
  const clusterScoped = CLUSTER_SCOPED.has(d.resource);
  const where = d.namespace ? ` in namespace "${d.namespace}"` : d.name ? '' : clusterScoped ? ' (cluster-scoped)' : ' across all namespaces';
  return { what, where, resource: res, ns: d.namespace, name: d.name, clusterScoped };
}

/**
 * An admission webhook or admission plugin answered (denied, or failed to be called). The server
 * is reachable and the request was judged: not an RBAC problem, not an outage, and not worth a retry.
 */
export function isAdmissionAnswer(body: StatusBody | undefined): boolean {
  return isAdmissionText(body?.message ?? '');
}

/** The words of an admission answer, in the server's message or in an error mapped from it. */
export function isAdmissionText(message: string): boolean {
  return /admission webhook|failed calling webhook|denied the request|admission plugin/i.test(message);
}


/** An HTTP error answer from the API server. `nearby` lists existing names of that kind, for 404 hints. */
export function httpError(f: RequestFacts, status: number, body: StatusBody | undefined, nearby: string[] = []): KubeApiError {
  const t = target(f);
  const verb = verbOf(f.method, f.path, f.query);
  const serverMsg = body?.message ? `: ${body.message}` : '';
  const reason = body?.reason;
  if (isAdmissionAnswer(body)) {
    return new KubeApiError(`admission control refused to ${verb} ${t.what}${t.where} (HTTP ${status})${serverMsg}`, {
      status,
      reason,
      exitCode: ExitCode.Problems,
      hints: [
        'A webhook or admission policy of the cluster rejected the change, or could not be called; nothing was changed by this request.',
        'See which: `kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations,validatingadmissionpolicies`.',
      ],
    });
  }
  switch (status) {
    case 401:
      return new KubeApiError(`the API server ${f.server} rejected the credentials of context "${f.context}" (401 Unauthorized)`, {
        status,
        reason,
        exitCode: ExitCode.Unreachable,
        hints: [
          'The token or client certificate has expired or is wrong. Log in again with the tool that wrote this kubeconfig',
          '(e.g. `gcloud container clusters get-credentials`, `aws eks update-kubeconfig`, `az aks get-credentials`, `kubectl oidc-login`),',
          `then check with \`kubectl --context ${f.context} get --raw /version\`.`,
        ],
      });
    case 403: {
      const nsFlag = t.ns ? ` -n ${t.ns}` : !t.clusterScoped && (verb === 'list' || verb === 'watch') ? ' -A' : '';
      return new KubeApiError(`forbidden: you may not ${verb} ${t.what}${t.where} (context "${f.context}")${serverMsg}`, {
        status,
        reason,
        hints: [
          `Missing RBAC permission: verb "${verb}" on "${t.resource}". Check with \`${canICommand(verb, t.resource, nsFlag)}\`,`,
          'and ask a cluster admin for a Role/ClusterRole binding that grants it.',
        ],
      });
    }
    case 404: {
      const hints = nearby.length ? [`Did you mean: ${nearby.join(', ')}?`] : [];
      if (!t.name) hints.push(`The server at ${f.server} does not serve ${t.resource}; check the cluster version.`);
      return new KubeApiError(`${t.what} not found${t.where} (context "${f.context}")`, { status, reason, hints });
    }
    case 409:
      return new KubeApiError(`conflict on ${t.what}${t.where}: it changed since it was read${serverMsg}`, {
        status,
        reason,
        hints: ['Run the command again; it re-reads the object.'],
      });
    case 410:
      return new KubeApiError(`the list or watch of ${t.resource} expired (410 Gone)${serverMsg}`, { status, reason });
    case 422:
    case 400:
      return new KubeApiError(`the API server refused to ${verb} ${t.what}${t.where}${serverMsg}`, { status, reason });
    case 429:
      return new KubeApiError(`the API server ${f.server} is throttling requests (429)${serverMsg}`, {
        status,
        reason,
        exitCode: ExitCode.Unreachable,
        hints: ['Retry in a moment, or use a narrower scope (-n instead of -A).'],
      });
    case 502:
    case 503:
    case 504:
      // The server (or a proxy in front of it) is there but cannot serve: an outage, exit 3.
      return new KubeApiError(`the API server ${f.server} is unavailable (HTTP ${status}${reason ? ` ${reason}` : ''}) and could not ${verb} ${t.what}${t.where}${serverMsg}`, {
        status,
        reason,
        exitCode: ExitCode.Unreachable,
        hints: [`Retry in a moment; check the control plane: \`kubectl --context ${f.context} get --raw /readyz?verbose\`.`],
      });
    default:
      if (status >= 500) {
        // The server answered and failed this request (server-side validation, storage error):
        // the cluster is reachable, so this is an operation failure (1), not an outage (3).
        return new KubeApiError(`the API server ${f.server} failed to ${verb} ${t.what}${t.where} (HTTP ${status}${reason ? ` ${reason}` : ''})${serverMsg}`, {
          status,
          reason,
          exitCode: ExitCode.Problems,
          hints: ['The request reached the server and was rejected there; the message above is the server\'s. Retry once; if it repeats, the API server log has the cause.'],
        });
      }
      return new KubeApiError(`cannot ${verb} ${t.what}${t.where}: HTTP ${status}${serverMsg}`, { status, reason });
  }
}

/**
 * The code of a failed request: the socket error's (ECONNRESET, ...), else the error's name
 * (TimeoutError, AbortError): a DOMException's numeric legacy code (23 for a timeout) says nothing.
 */
export function failureCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } })?.cause ?? (err as { code?: unknown });
  return typeof cause?.code === 'string' ? cause.code : ((err as { name?: string })?.name ?? '');
}

/** A request that never got an HTTP answer: refused, unresolvable, timed out, TLS failure. */
export function transportError(f: RequestFacts, err: unknown, timeoutMs?: number, phase: 'request' | 'body' = 'request'): KubeApiError {
  const cause = (err as { cause?: { message?: string } })?.cause ?? (err as { message?: string });
  const code = failureCode(err);
  const msg = cause?.message ?? (err as Error)?.message ?? String(err);
  // Proxy credentials (http://user:pass@host) stay out of messages.
  const proxy = f.proxy && { shown: f.proxy.url.replace(/\/\/[^@/]*@/, '//'), from: f.proxy.from };
  const who = `the API server ${f.server} (context "${f.context}")`;
  const check = `Check the cluster is running and reachable: \`kubectl --context ${f.context} get --raw /version\`.`;
  let message: string;
  const hints: string[] = [];
  if (phase === 'body' && !/TimeoutError|TIMEOUT/.test(code)) {
    // The headers came, then the connection broke: a restarting API server, or a proxy or load
    // balancer cutting long responses.
    message = `${who} broke off its answer to ${f.method} ${f.path}: ${msg}${code ? ` (${code})` : ''}`;
    hints.push('A read is retried for a while; if this persists, check the API server and any proxy or load balancer in between.', check);
  } else if (phase === 'body') {
    message = `${who} did not finish its answer to ${f.method} ${f.path}${timeoutMs ? ` within ${timeoutMs / 1000}s` : ''}`;
    hints.push('Raise --request-timeout (large lists take longer), or check the network path.', check);
  } else if (code === 'ECONNREFUSED' && proxy) {
    // Through a proxy, the only connection this process makes is to the proxy.
    message = `the proxy ${proxy.shown} refused the connection (on the way to ${who})`;
  } else if (code === 'ECONNREFUSED') {
    message = `${who} refused the connection`;
    hints.push('Nothing listens at that address: is the cluster up, is the port right?', check);
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    message = `the host of ${who} cannot be resolved`;
    hints.push('Check the server address in the kubeconfig and your DNS/VPN.', check);
  } else if (code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    message = `${who} did not answer${timeoutMs ? ` within ${timeoutMs / 1000}s` : ''}`;
    hints.push('Raise --request-timeout, or check the network path (VPN, proxy, firewall).', check);
  } else if (/CERT|SSL|TLS|self[- ]signed|certificate/i.test(`${code} ${msg}`)) {
    message = `TLS handshake with ${who} failed: ${msg}`;
    hints.push('The certificate-authority data in the kubeconfig does not match the server, or the server name differs from the certificate.');
  } else {
    message = `cannot reach ${who}: ${msg}${code ? ` (${code})` : ''}`;
    hints.push(check);
  }
  if (proxy) {
    hints.unshift(`The connection goes through the proxy ${proxy.shown} (${proxy.from}).${/PROXY/i.test(proxy.from) ? ' Add the server\'s host to NO_PROXY to connect directly, as kubectl would then.' : ''}`);
  }
  return new KubeApiError(message, { exitCode: ExitCode.Unreachable, hints });
}

/**
 * A success status whose body is not what every API server answer is (a JSON object; a list's
 * items an array): the server URL reaches something that is not a Kubernetes API server (an SSO
 * login page, a proxy's or load balancer's own page, another JSON service).
 */
export function notJsonError(f: RequestFacts, status: number, contentType: string | null, text: string, expected: 'json' | 'object' | 'list' = 'json'): KubeApiError {
  const start = text.slice(0, 80).replace(/\s+/g, ' ').trim();
  const what = !text ? 'an empty body' : expected === 'json' ? 'a body that is not JSON' : expected === 'object' ? 'JSON that is not a Kubernetes object' : 'JSON that is not a Kubernetes list (its items are not an array)';
  return new KubeApiError(
    `the API server ${f.server} (context "${f.context}") answered ${f.method} ${f.path} with HTTP ${status} and ${what}${text ? ` (${contentType || 'no content type'}: "${start}${text.length > 80 ? '...' : ''}")` : ''}`,
    {
      exitCode: ExitCode.Unreachable,
      hints: [
        'The server URL may lead to something other than the Kubernetes API: a login page, a proxy or a load balancer. Check the server of this context in the kubeconfig.',
        `\`kubectl --context ${f.context} get --raw /version\` should print the server's version as JSON.`,
      ],
    },
  );
}

/** Names close to the one that was not found, from a list of existing ones. */
export function nearbyNames(wanted: string | undefined, existing: string[]): string[] {
  return wanted ? closestNames(wanted, existing) : [];
}
