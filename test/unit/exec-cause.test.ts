/**
 * Why an exec did not run, by cause, on the texts the exec layer really produces: the 403/400/500
 * KubeApiErrors src/kube/exec.ts builds when the pods/exec upgrade is refused, KWOK's and the
 * container runtimes' failure Status messages, the 127 texts of sh/busybox/dash/bash, timeouts.
 */
import { describe, expect, it } from 'vitest';
import { httpError, transportError } from '../../src/kube/errors.js';
import { execForbidden } from '../../src/kube/exec.js';
import { exitCodeFromStatus } from '../../src/core/exec-result.js';
import { blocksPod, causeHint, causeLabel, classifyExecError, classifyExecResult, type ExecCause, type ExecTarget } from '../../src/core/exec-cause.js';

const target: ExecTarget = { namespace: 'shop', pod: 'web-0', container: 'nginx', program: 'nslookup', phase: 'Running', containers: ['nginx'] };
const facts = { method: 'POST', path: '/api/v1/namespaces/shop/pods/web-0/exec', server: 'https://127.0.0.1:6443', context: 'sa-reader' };

/** What src/kube/exec.ts returns for a final Status (or a timeout). */
const fromStatus = (s: Parameters<typeof exitCodeFromStatus>[0], stderr = '') => ({ stdout: '', stderr, ...exitCodeFromStatus(s) });

describe('classifyExecError: the exec call itself was refused', () => {
  it('403 on pods/exec: forbidden, with verb, resource and the can-i line from the mapped error', () => {
    const err = httpError(facts, 403, undefined);
    expect(err.message).toBe('forbidden: you may not create pods/exec "web-0" in namespace "shop" (context "sa-reader")');
    const p = classifyExecError(err, target);
    expect(p).toMatchObject({ cause: 'forbidden', pod: 'web-0', verb: 'create', resource: 'pods/exec', canI: ['kubectl auth can-i create pods --subresource=exec -n shop'] });
    expect(causeLabel(p, 'shop')).toBe('exec forbidden (pods/exec create) in namespace shop');
    expect(causeHint(p, 'shop')).toContain('`kubectl auth can-i create pods --subresource=exec -n shop`');
  });
  it('a refused exec websocket: the verb the SelfSubjectAccessReview says is missing (a Role with only create lacks get)', async () => {
    const onlyCreate = await execForbidden(facts, 'shop', 'web-0', async (verb) => verb === 'create');
    expect(onlyCreate.message).toBe('forbidden: you may not get pods/exec "web-0" in namespace "shop" (context "sa-reader"): exec through the API is a websocket upgrade, which needs "get" on pods/exec, and "create" too on Kubernetes 1.35 and later');
    const p = classifyExecError(onlyCreate, target);
    expect(p).toMatchObject({ cause: 'forbidden', verb: 'get', resource: 'pods/exec', canI: ['kubectl auth can-i get pods --subresource=exec -n shop'] });
    expect(causeLabel(p, 'shop')).toBe('exec forbidden (pods/exec get) in namespace shop');
    expect(causeHint(p, 'shop')).toContain('verb "get" on "pods/exec" in namespace shop; check with `kubectl auth can-i get pods --subresource=exec -n shop` and ask a cluster admin for a Role that grants get and create on pods/exec');

    // neither verb, or the review itself not allowed: both are named
    for (const check of [async () => false, async () => undefined, undefined]) {
      const both = classifyExecError(await execForbidden(facts, 'shop', 'web-0', check), target);
      expect(both).toMatchObject({ verb: 'get and create', canI: ['kubectl auth can-i get pods --subresource=exec -n shop', 'kubectl auth can-i create pods --subresource=exec -n shop'] });
      expect(causeLabel(both, 'shop')).toBe('exec forbidden (pods/exec get and create) in namespace shop');
      expect(causeHint(both, 'shop')).toContain('verb "get" and "create" on "pods/exec"; check with `kubectl auth can-i get pods --subresource=exec -n shop` and `kubectl auth can-i create pods --subresource=exec -n shop`'.replace('"; check', '" in namespace shop; check'));
    }
  });
  it('403 on the debug container patch names that resource', () => {
    const err = httpError({ ...facts, method: 'PATCH', path: '/api/v1/namespaces/shop/pods/web-0/ephemeralcontainers' }, 403, { message: 'pods "web-0" is forbidden: User "system:serviceaccount:shop:reader" cannot patch resource "pods/ephemeralcontainers"' });
    const p = classifyExecError(err, target);
    expect(p).toMatchObject({ cause: 'forbidden', verb: 'patch', resource: 'pods/ephemeralcontainers', canI: ['kubectl auth can-i patch pods --subresource=ephemeralcontainers -n shop'] });
    expect(causeLabel(p, 'shop')).toBe('pods/ephemeralcontainers forbidden (pods/ephemeralcontainers patch) in namespace shop');
  });
  it.each<[string, ReturnType<typeof httpError> | Error, Partial<ExecTarget>, ExecCause]>([
    // 400 from the upgrade: exec.ts cannot see the body; the pod facts decide
    ['400, container not in the pod', httpError(facts, 400, { message: 'pod web-0 is not running or has no container dns' }), { container: 'dns' }, 'container-missing'],
    ['400, pod Pending', httpError(facts, 400, { message: 'pod web-0 is not running or has no container nginx' }), { phase: 'Pending' }, 'pod-not-running'],
    ['400, container in spec but not running', httpError(facts, 400, { message: 'pod web-0 is not running or has no container nginx' }), {}, 'container-missing'],
    ['404, the pod is gone', httpError(facts, 404, undefined), {}, 'pod-not-running'],
    ['500 from the kubelet proxy', httpError(facts, 500, { message: 'error dialing backend: dial tcp 10.0.0.7:10250: connect: connection refused' }), {}, 'refused'],
    ['the API server went away', transportError(facts, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), {}, 'refused'],
    ['a terminating pod', new Error('whatever'), { terminating: true }, 'pod-not-running'],
  ])('%s -> %s', (_what, err, over, cause) => {
    const p = classifyExecError(err, { ...target, ...over });
    expect(p.cause).toBe(cause);
    expect(blocksPod(p)).toBe(true);
  });
  it('says which container is missing and which exist', () => {
    expect(classifyExecError(httpError(facts, 400, undefined), { ...target, container: 'dns' }).detail).toBe('pod web-0 has no container dns (its containers: nginx)');
  });
});

describe('classifyExecResult: the exec returned', () => {
  it.each<[string, ReturnType<typeof fromStatus> & { timedOut?: boolean }, ExecCause | undefined]>([
    ['success', fromStatus({ status: 'Success' }), undefined],
    ['a command exit code (NXDOMAIN from nslookup)', fromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } }), undefined],
    ['KWOK: exit status only in the message', fromStatus({ status: 'Failure', message: 'Internal error occurred: error executing command in container: cmd wait: nslookup web-9.nginx: exit status 1' }), undefined],
    ['KWOK: no Exec/ClusterExec for the pod', fromStatus({ status: 'Failure', reason: 'InternalError', message: 'Internal error occurred: error executing command in container: no exec found for container "nginx" in pod "shop/web-0"' }), 'refused'],
    ['KWOK: an Exec named like the pod without this container', fromStatus({ status: 'Failure', message: 'Internal error occurred: error executing command in container: exec target not found for container "dns" in pod "shop/web-0"' }), 'refused'],
    ['KWOK / containerd: executable not found', fromStatus({ status: 'Failure', message: 'Internal error occurred: error executing command in container: cmd start: nslookup : exec: "nslookup": executable file not found in $PATH' }), 'binary-missing'],
    ['runc: OCI error with exit 126 on stdout', { stdout: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nslookup": executable file not found in $PATH: unknown\r\n', stderr: '', exitCode: 126 }, 'binary-missing'],
    ['busybox sh: 127', fromStatus({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '127' }] } }, 'sh: nslookup: not found\n'), 'binary-missing'],
    ['dash: 127 through KWOK', fromStatus({ status: 'Failure', message: 'Internal error occurred: error executing command in container: cmd wait: sh -c nslookup x: exit status 127' }, 'sh: 1: nslookup: not found\n'), 'binary-missing'],
    ['bash: 127', fromStatus({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '127' }] } }, 'bash: line 1: mongosh: command not found\n'), 'binary-missing'],
    ['containerd: container not running', fromStatus({ status: 'Failure', message: 'container not found ("nginx")' }), 'container-missing'],
    ['the stream closed without a status', { stdout: '', stderr: '', exitCode: -1, failure: 'the exec stream closed without an exit status' }, 'refused'],
    ['a Status with only a reason', fromStatus({ status: 'Failure', reason: 'InternalError' }), 'refused'],
    ['timeout', { stdout: '', stderr: '', exitCode: -1, timedOut: true, failure: 'no answer within 20000ms' }, 'timeout'],
  ])('%s -> %s', (_what, r, cause) => {
    expect(classifyExecResult(r, target)?.cause).toBe(cause);
  });

  it('a missing program names it and the container; a timeout names the program', () => {
    expect(classifyExecResult({ stdout: '', stderr: 'sh: nslookup: not found', exitCode: 127 }, target)!.detail).toBe('nslookup is not installed in pod web-0 (container nginx)');
    expect(classifyExecResult({ stdout: '', stderr: '', exitCode: -1, timedOut: true }, target)!.detail).toMatch(/^nslookup in pod web-0 \(container nginx\) gave no answer in time/);
  });
  it('only the cause that is a timeout suggests more time', () => {
    const causes: ExecCause[] = ['forbidden', 'refused', 'container-missing', 'binary-missing', 'timeout', 'pod-not-running'];
    const hints = Object.fromEntries(causes.map((c) => [c, causeHint({ cause: c, pod: 'web-0', detail: '' }, 'shop', { timeoutFlag: '--exec-timeout', staticOnly: 'kubectl sts dns-check web --static-only' })]));
    expect(Object.entries(hints).filter(([, h]) => /--exec-timeout/.test(h)).map(([c]) => c)).toEqual(['timeout']);
    expect(hints['forbidden']).toMatch(/--static-only/);
    expect(hints['refused']).toMatch(/--static-only/);
  });
});
