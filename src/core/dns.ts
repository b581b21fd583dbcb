/**
 * Static DNS checks of a StatefulSet (API objects only, no lookups): the governing Service named
 * by spec.serviceName exists, is headless, selects exactly the set's pods, has named ports (SRV
 * records need names), publishes not-ready pods when some are not Ready; each pod carries the
 * hostname/subdomain the per-pod record is built from; the EndpointSlices list each pod that
 * should have a record, with its hostname. Pure and deterministic.
 */
import { canICommand } from './rbac.js';
import type { EndpointSlice, Pod, Service, StatefulSet } from './types.js';
import { isPodReady, ordinalOf, ownedBy } from './pods.js';
import { mapSelectorMatches, selectorMatches } from './labels.js';
import { closestNames } from './names.js';
import type { ExecCause } from './exec-cause.js';

/** ok / warn / fail: decided. not-run: the check was asked for but could not be decided (see `cause`). */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'not-run';

export interface DnsCheck {
  /** Stable id of the check ("service-headless", "lookup-pod", ...). */
  check: string;
  status: CheckStatus;
  /** What the check is about: "Service/nginx", "Pod/web-1", "web-0 -> web-1.nginx.ns.svc.cluster.local". */
  subject: string;
  reason: string;
  /** What to do about it (fail/warn/not-run). */
  fix?: string;
  /** not-run: why the check could not run. */
  cause?: ExecCause;
  /** not-run: the cause in a few words, as the verdict line groups it ("exec forbidden (pods/exec create) in namespace x"). */
  causeLabel?: string;
}

export interface StaticInput {
  sts: StatefulSet;
  /** The Service named by spec.serviceName, or undefined when there is none. */
  service: Service | undefined;
  /** Pods of the set (owned by it), any phase. */
  pods: Pod[];
  /** Pods in the namespace that the Service's selector selects (for foreign pods). */
  selectedPods: Pod[];
  /** EndpointSlices labelled kubernetes.io/service-name=<service>; undefined when they could not be read (403). */
  endpointSlices: EndpointSlice[] | undefined;
  /** Names of the Services in the namespace (for "did you mean" when the Service is missing). */
  serviceNames?: string[];
}

/** Pods of the set in ordinal order (names that are not `<set>-<n>` last, by name). */
export function sortPods(pods: Pod[], setName: string): Pod[] {
  return [...pods].sort((a, b) => {
    const oa = ordinalOf(a.metadata.name, setName) ?? Number.MAX_SAFE_INTEGER;
    const ob = ordinalOf(b.metadata.name, setName) ?? Number.MAX_SAFE_INTEGER;
    return oa - ob || a.metadata.name.localeCompare(b.metadata.name);
  });
}

export { podsOfSet } from './pods.js';

export function isHeadless(svc: Service): boolean {
  return svc.spec.clusterIP === 'None';
}

/** Whether CoreDNS should publish a record for the pod: it has an IP and is Ready, or the Service publishes not-ready addresses. */
export function shouldBePublished(pod: Pod, svc: Service | undefined): boolean {
  if (!pod.status?.podIP || pod.metadata.deletionTimestamp) return false;
  return isPodReady(pod) || Boolean(svc?.spec.publishNotReadyAddresses);
}

export function selectorText(sel: Record<string, string> | undefined): string {
  return Object.entries(sel ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function names(pods: Pod[]): string {
  const n = pods.map((p) => p.metadata.name);
  return n.length > 5 ? `${n.slice(0, 5).join(', ')} and ${n.length - 5} more` : n.join(', ');
}

const ok = (check: string, subject: string, reason: string): DnsCheck => ({ check, status: 'ok', subject, reason });
const bad = (status: 'fail' | 'warn', check: string, subject: string, reason: string, fix: string): DnsCheck => ({ check, status, subject, reason, fix });

/**
 * Why a pod would have no per-pod record, from the API objects alone (first cause found), or
 * undefined when nothing static explains it.
 */
export function whyNoRecord(pod: Pod, input: Pick<StaticInput, 'sts' | 'service'>): string | undefined {
  return noRecordCause(pod, input)?.reason;
}

/** whyNoRecord with the id of the static check that reports the same cause. */
export function noRecordCause(pod: Pod, input: Pick<StaticInput, 'sts' | 'service'>): { reason: string; check: string } | undefined {
  const svcName = input.sts.spec.serviceName;
  if (!svcName) return { check: 'service-name', reason: `StatefulSet ${input.sts.metadata.name} has no spec.serviceName` };
  const svc = input.service;
  if (!svc) return { check: 'service-exists', reason: `Service ${svcName} does not exist` };
  if (!isHeadless(svc)) return { check: 'service-headless', reason: `Service ${svcName} is not headless (clusterIP ${svc.spec.clusterIP ?? '<unset>'})` };
  if (!mapSelectorMatches(svc.spec.selector, pod.metadata.labels)) {
    return { check: 'service-selector', reason: `Service ${svcName}'s selector ${selectorText(svc.spec.selector) || '<none>'} does not select ${pod.metadata.name}` };
  }
  if (pod.spec.subdomain !== svcName) return { check: 'pod-hostname', reason: `${pod.metadata.name} has spec.subdomain ${pod.spec.subdomain ?? '<unset>'}, not ${svcName}` };
  if (!pod.status?.podIP) return { check: 'pods', reason: `${pod.metadata.name} has no pod IP yet` };
  if (!isPodReady(pod) && !svc.spec.publishNotReadyAddresses) {
    return { check: 'publish-not-ready', reason: `${pod.metadata.name} is not Ready and Service ${svcName} does not set publishNotReadyAddresses` };
  }
  return undefined;
}

export function staticChecks(input: StaticInput): DnsCheck[] {
  const { sts, service: svc, pods } = input;
  const setName = sts.metadata.name;
  const ns = sts.metadata.namespace ?? 'default';
  const stsSubject = `StatefulSet/${setName}`;
  const out: DnsCheck[] = [];
  const svcName = sts.spec.serviceName;

  // 1. spec.serviceName
  if (!svcName) {
    out.push(
      bad(
        'fail',
        'service-name',
        stsSubject,
        `spec.serviceName is not set: the pods get no <pod>.<service> DNS names`,
        `spec.serviceName cannot be changed: delete the set with 'kubectl delete sts ${setName} --cascade=orphan' and recreate it with serviceName naming a headless Service`,
      ),
    );
    return out;
  }
  out.push(ok('service-name', stsSubject, `spec.serviceName is ${svcName}`));
  const svcSubject = `Service/${svcName}`;

  // 2. the Service exists
  if (!svc) {
    const near = closestNames(svcName, input.serviceNames ?? []);
    out.push(
      bad(
        'fail',
        'service-exists',
        svcSubject,
        `Service ${svcName} not found in namespace ${ns}${near.length ? ` (similar: ${near.join(', ')})` : ''}: no pod of ${setName} has a DNS name`,
        `create a headless Service ${svcName} (clusterIP: None) whose selector matches the pod labels (${selectorText(sts.spec.selector.matchLabels) || 'the set selector'}), with named ports`,
      ),
    );
  } else {
    out.push(ok('service-exists', svcSubject, `Service ${svcName} exists`));

    // 3. headless
    if (svc.spec.type === 'ExternalName') {
      out.push(bad('fail', 'service-headless', svcSubject, `Service ${svcName} is of type ExternalName: it has no endpoints and no per-pod records`, `recreate it as a headless Service (clusterIP: None) with a selector`));
    } else if (!isHeadless(svc)) {
      out.push(
        bad(
          'fail',
          'service-headless',
          svcSubject,
          `Service ${svcName} has clusterIP ${svc.spec.clusterIP ?? '<unset>'}: a StatefulSet's governing Service must be headless, or no <pod>.${svcName} records exist`,
          `clusterIP cannot be changed: recreate the Service with clusterIP: None (kubectl delete svc ${svcName}, then apply it with clusterIP: None)`,
        ),
      );
    } else {
      out.push(ok('service-headless', svcSubject, `headless (clusterIP: None)`));
    }

    // 4. selector selects exactly the set's pods
    const sel = svc.spec.selector;
    if (!sel || Object.keys(sel).length === 0) {
      out.push(
        bad(
          'fail',
          'service-selector',
          svcSubject,
          `Service ${svcName} has no selector: no EndpointSlices are made for the set's pods`,
          `add selector ${selectorText(sts.spec.selector.matchLabels) || '<the pod labels>'} to the Service`,
        ),
      );
    } else {
      const missing = pods.filter((p) => !mapSelectorMatches(sel, p.metadata.labels));
      const setUids = new Set(pods.map((p) => p.metadata.uid ?? p.metadata.name));
      const foreign = sortPods(
        input.selectedPods.filter((p) => !setUids.has(p.metadata.uid ?? p.metadata.name)),
        setName,
      );
      if (missing.length) {
        const lbl = missing[0]!.metadata.labels ?? {};
        const wrong = Object.entries(sel)
          .filter(([k, v]) => lbl[k] !== v)
          .map(([k, v]) => `${k}=${v} (pod has ${k in lbl ? `${k}=${lbl[k]}` : `no ${k}`})`);
        out.push(
          bad(
            'fail',
            'service-selector',
            svcSubject,
            `selector ${selectorText(sel)} misses ${names(missing)}: ${wrong.join(', ')}; those pods get no DNS records`,
            `make the Service selector match the pod template labels (${selectorText(sts.spec.template.metadata?.labels as Record<string, string> | undefined) || 'see spec.template.metadata.labels'})`,
          ),
        );
      }
      if (foreign.length) {
        out.push(
          bad(
            'warn',
            'service-selector',
            svcSubject,
            `selector ${selectorText(sel)} also selects ${foreign.length} pod(s) not of ${setName}: ${names(foreign)}; they appear in the answers for ${svcName} and its SRV records`,
            `narrow the selector with a label only ${setName}'s pods carry`,
          ),
        );
      }
      if (!missing.length && !foreign.length) {
        out.push(ok('service-selector', svcSubject, `selector ${selectorText(sel)} selects exactly the ${pods.length} pod(s) of ${setName}`));
      }
    }

    // 5. named ports
    const ports = svc.spec.ports ?? [];
    const unnamed = ports.filter((p) => !p.name);
    if (!ports.length) {
      out.push(bad('warn', 'service-ports', svcSubject, `Service ${svcName} has no ports: no SRV records`, `add the set's ports to the Service, each with a name`));
    } else if (unnamed.length) {
      out.push(
        bad(
          'fail',
          'service-ports',
          svcSubject,
          `port ${unnamed.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ')} has no name: SRV records (_<name>._tcp.${svcName}.${ns}.svc.<zone>) exist only for named ports`,
          `give every port a name (e.g. name: ${sts.spec.template.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name)?.name ?? 'web'})`,
        ),
      );
    } else {
      out.push(ok('service-ports', svcSubject, `ports named: ${ports.map((p) => `${p.name} ${p.port}/${p.protocol ?? 'TCP'}`).join(', ')}`));
    }

    // 6. publishNotReadyAddresses against not-ready pods
    const notReady = pods.filter((p) => !isPodReady(p) && !p.metadata.deletionTimestamp);
    if (svc.spec.publishNotReadyAddresses) {
      out.push(ok('publish-not-ready', svcSubject, `publishNotReadyAddresses: true: pods have records before they are Ready`));
    } else if (notReady.length) {
      out.push(
        bad(
          'fail',
          'publish-not-ready',
          svcSubject,
          `${names(notReady)} ${notReady.length === 1 ? 'is' : 'are'} not Ready and Service ${svcName} does not set publishNotReadyAddresses: not-ready pods have no DNS records, so peers cannot find them while they start`,
          `make the pod(s) Ready, or set spec.publishNotReadyAddresses: true on Service ${svcName} if peers must resolve each other before readiness (clustered databases)`,
        ),
      );
    } else {
      out.push(ok('publish-not-ready', svcSubject, `all ${pods.length} pod(s) Ready (publishNotReadyAddresses is off, so a pod loses its record while not Ready)`));
    }
  }

  // 7. each pod's hostname/subdomain
  const badNames = pods.filter((p) => p.spec.hostname !== p.metadata.name || p.spec.subdomain !== svcName);
  for (const p of badNames) {
    out.push(
      bad(
        'fail',
        'pod-hostname',
        `Pod/${p.metadata.name}`,
        `spec.hostname is ${p.spec.hostname ?? '<unset>'} and spec.subdomain ${p.spec.subdomain ?? '<unset>'}; the record ${p.metadata.name}.${svcName} needs hostname ${p.metadata.name} and subdomain ${svcName}`,
        `the pod predates the current serviceName or was not made by the controller: delete it so the StatefulSet recreates it`,
      ),
    );
  }
  if (!badNames.length && pods.length) out.push(ok('pod-hostname', stsSubject, `${pods.length} pod(s) have hostname <pod> and subdomain ${svcName}`));
  if (!pods.length) out.push(bad('warn', 'pods', stsSubject, `StatefulSet ${setName} has no pods`, `scale it up (kubectl scale sts ${setName} --replicas=N) or check 'kubectl describe sts ${setName}'`));

  // 8. EndpointSlices list each pod that should have a record, with its hostname
  if (svc && isHeadless(svc) && svc.spec.selector && Object.keys(svc.spec.selector).length && !input.endpointSlices) {
    out.push({
      check: 'endpointslice',
      status: 'not-run',
      subject: `EndpointSlice/${svcName}`,
      reason: `not run: the EndpointSlices of Service ${svcName} could not be read (list endpointslices forbidden)`,
      fix: `missing RBAC permission: verb "list" on "endpointslices" in namespace ${ns}; check with \`${canICommand('list', 'endpointslices', ` -n ${ns}`)}\``,
      cause: 'forbidden',
      causeLabel: `endpointslices forbidden (endpointslices list) in namespace ${ns}`,
    });
  } else if (svc && input.endpointSlices && isHeadless(svc) && svc.spec.selector && Object.keys(svc.spec.selector).length) {
    const byPod = new Map<string, { hostname?: string | undefined; addresses: string[]; ready?: boolean | undefined; slice: string }>();
    for (const s of input.endpointSlices) {
      for (const e of s.endpoints ?? []) {
        const name = e.targetRef?.kind === 'Pod' || !e.targetRef?.kind ? e.targetRef?.name : undefined;
        if (name) byPod.set(name, { hostname: e.hostname, addresses: e.addresses, ready: e.conditions?.ready, slice: s.metadata.name });
      }
    }
    const expected = pods.filter((p) => shouldBePublished(p, svc) && mapSelectorMatches(svc.spec.selector, p.metadata.labels));
    const problems: DnsCheck[] = [];
    for (const p of expected) {
      const e = byPod.get(p.metadata.name);
      const subject = `EndpointSlice/${svcName}`;
      if (!e) {
        problems.push(
          bad(
            'fail',
            'endpointslice',
            subject,
            `no EndpointSlice of ${svcName} lists ${p.metadata.name} (${p.status?.podIP}): it has no DNS record`,
            `the EndpointSlice controller may lag; re-run in a few seconds, else check 'kubectl get endpointslices -l kubernetes.io/service-name=${svcName}' and kube-controller-manager`,
          ),
        );
      } else if (e.hostname !== p.metadata.name) {
        problems.push(
          bad(
            'fail',
            'endpointslice',
            subject,
            `endpoint for ${p.metadata.name} in ${e.slice} has hostname ${e.hostname ?? '<none>'}: the record ${p.metadata.name}.${svcName} is built from it`,
            `the pod's spec.hostname/subdomain must be ${p.metadata.name}/${svcName}; recreate the pod`,
          ),
        );
      } else if (p.status?.podIP && !e.addresses.includes(p.status.podIP)) {
        problems.push(
          bad(
            'fail',
            'endpointslice',
            subject,
            `endpoint for ${p.metadata.name} lists ${e.addresses.join(', ')}, but its pod IP is ${p.status.podIP}`,
            `stale endpoint: re-run in a few seconds; if it stays, check kube-controller-manager`,
          ),
        );
      }
    }
    out.push(...problems);
    if (!problems.length && expected.length) {
      out.push(ok('endpointslice', `EndpointSlice/${svcName}`, `lists ${expected.length} pod(s) with their hostnames: ${names(expected)}`));
    }
  }
  return out;
}
