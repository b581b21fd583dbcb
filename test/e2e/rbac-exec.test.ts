/**
 * dns-check and mongo-status as a namespace-scoped tenant, through a ServiceAccount token on the
 * real API server's RBAC authorizer (test/e2e/rbac.ts): the Role of issue #12 (get/list/watch on
 * pods, persistentvolumeclaims, statefulsets, controllerrevisions, services, endpointslices in one
 * namespace), without pods/exec, with only `create pods/exec` (the wording), and with
 * `get` and `create` on pods/exec: exec over the API's websocket (client-node, like kubectl's
 * websocket path) is a GET upgrade that API servers from 1.35 authorize as both verbs
 * (AuthorizePodWebsocketUpgradeCreatePermission); before 1.35 (the old line, 1.31) `get` alone
 * lets exec through, which the `get`-only identity checks on each line.
 *
 * Without exec, a check that could not check must not pass: dns-check exits 4 with the forbidden
 * hint and the counts in json, `--static-only` exits 0 on a healthy set; mongo-status exits 4.
 * With exec, both pass (exit 0). A missing read verb names verb, resource and namespace.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { apply, clusterKind, createNamespace, fixture, getJson, kubeMinor, kubectl, plugin, root, waitFor, webWithoutClaims } from './harness.js';
import { createScopedIdentity, type PolicyRule, type ScopedIdentity } from './rbac.js';
import type { DnsCheckOutput } from '../../src/render/dns.js';
import type { MongoStatusOutput } from '../../src/render/mongo.js';


/** The read-only Role of issue #12, part 2. */
const READ: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'persistentvolumeclaims', 'services'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['statefulsets', 'controllerrevisions'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
];
const EXEC: PolicyRule = { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] };
const CREATE_ONLY: PolicyRule = { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] };
const GET_ONLY: PolicyRule = { apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] };
/** Whether this API server also checks `create` on a websocket exec upgrade (gate on by default from 1.35). */
const execNeedsCreate = kubeMinor >= 35;

let ns = '';
let cleanupNs: () => Promise<void> = async () => {};
let reader: ScopedIdentity | undefined;
let execer: ScopedIdentity | undefined;
let noSts: ScopedIdentity | undefined;
let createOnly: ScopedIdentity | undefined;
let getOnly: ScopedIdentity | undefined;

async function readyReplicas(set: string, n: number): Promise<void> {
  await waitFor(async () => (await getJson(['-n', ns, 'statefulset', set])).status?.readyReplicas === n, 120_000, `${n} Ready ${set} pods`);
}

async function slicesList(svc: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      const l = await getJson<{ items: any[] }>(['-n', ns, 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`]);
      return l.items.flatMap((s) => s.endpoints ?? []).filter((e: any) => e.hostname && e.conditions?.ready).length === n;
    },
    60_000,
    `${n} ready endpoints of ${svc}`,
  );
}

/** Points a mongo pod's exec at the recorded healthy rs.status() (see mongo-status.test.ts). */
async function recordedMongo(pod: string): Promise<void> {
  const marker = `rbac-${pod}`;
  const envs = Object.entries({ KSTS_POD_NAMESPACE: ns, KSTS_EXEC_REV: marker, KSTS_MONGO_FIXTURE: path.join(root, 'test/fixtures/mongo/e2e/healthy.json') }).map(([name, value]) => ({ name, value }));
  await apply(dump({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Exec', metadata: { name: pod, namespace: ns }, spec: { execs: [{ local: { workDir: '/tmp', envs } }] } }));
  await waitFor(
    async () => (await kubectl(['-n', ns, 'exec', pod, '-c', 'mongo', '--', 'printenv', 'KSTS_EXEC_REV'], { allowFail: true })).stdout.trim() === marker,
    30_000,
    `KWOK to use the Exec for ${pod}`,
  );
}

function json<T>(r: { stdout: string; stderr: string; exitCode: number }): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
  }
}

// KWOK-specific: pod execs run the fake shells and DNS wrappers. Skipped on E2E_CLUSTER=kind.
describe.skipIf(clusterKind !== 'kwok')('dns-check and mongo-status with namespace-scoped rights', () => {
  beforeAll(async () => {
    ({ ns, cleanup: cleanupNs } = await createNamespace('rbac-exec'));
    await apply(webWithoutClaims(2), ns);
    await apply(fixture('mongo.yaml'), ns);
    await Promise.all([readyReplicas('web', 2), readyReplicas('mongo', 3)]);
    await slicesList('nginx', 2);
    for (const p of ['mongo-0', 'mongo-1', 'mongo-2']) await recordedMongo(p);
    [reader, execer, noSts, createOnly, getOnly] = await Promise.all([
      createScopedIdentity(ns, { name: 'reader', rules: READ }),
      createScopedIdentity(ns, { name: 'execer', rules: [...READ, EXEC] }),
      createScopedIdentity(ns, { name: 'no-sts', rules: [READ[0]!, READ[2]!, EXEC] }),
      createScopedIdentity(ns, { name: 'create-only', rules: [...READ, CREATE_ONLY] }),
      createScopedIdentity(ns, { name: 'get-only', rules: [...READ, GET_ONLY] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([reader, execer, noSts, createOnly, getOnly].map((i) => i?.cleanup()));
    await cleanupNs();
  });

  it('dns-check without pods/exec: exit 4, "not run: exec forbidden" with the can-i line, counts in json, a warning on stderr', async () => {
    const t = await plugin(['dns-check', 'web'], { env: reader!.env });
    expect(t.exitCode, t.stdout + t.stderr).toBe(4);
    expect(t.stdout).toMatch(new RegExp(`\\d+ checks: \\d+ ok, 0 warnings, 0 failed, \\d+ not run: exec forbidden \\(pods/exec get and create\\) in namespace ${ns}\\n`));
    expect(t.stdout).toContain('this is not a pass');
    expect(t.stdout).toContain(`\`kubectl auth can-i get pods --subresource=exec -n ${ns}\` and \`kubectl auth can-i create pods --subresource=exec -n ${ns}\``);
    expect(t.stdout).toContain(`kubectl sts dns-check web -n ${ns} --static-only`);
    expect(t.stdout).not.toContain('--exec-timeout');
    expect(t.stderr).toMatch(new RegExp(`^warning: \\d+ live checks not run: exec forbidden \\(pods/exec get and create\\) in namespace ${ns}`, 'm'));

    const j = await plugin(['dns-check', 'web', '-o', 'json'], { env: reader!.env });
    expect(j.exitCode).toBe(4);
    const out = json<DnsCheckOutput>(j);
    expect(out.complete).toBe(false);
    expect(out.summary.failed).toBe(0);
    expect(out.summary.passed).toBeGreaterThan(0);
    // 2 probe pods x (2 pod names + the Service + SRV) + the cluster-domain read
    expect(out.summary.notRun).toBe(9);
    expect(out.notRunCauses).toEqual([expect.objectContaining({ cause: 'forbidden', checks: 9 })]);
    expect(out.warnings).toHaveLength(1);
    expect(out.checks.filter((c) => c.kind === 'static').every((c) => c.status === 'ok')).toBe(true);
  });

  it('dns-check with only create on pods/exec: the missing verb (get) is named, exit 4', async () => {
    const r = await plugin(['dns-check', 'web', '-o', 'json'], { env: createOnly!.env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(4);
    const out = json<DnsCheckOutput>(r);
    expect(out.notRunCauses).toEqual([expect.objectContaining({ cause: 'forbidden', label: `exec forbidden (pods/exec get) in namespace ${ns}`, checks: 9 })]);
    expect(out.notRunCauses[0]!.fix).toContain(`\`kubectl auth can-i get pods --subresource=exec -n ${ns}\``);
    expect(r.stderr).toContain(`you may not get pods/exec "web-0" in namespace "${ns}"`);
  });

  it(`dns-check with only get on pods/exec: ${execNeedsCreate ? 'the missing verb (create) is named, exit 4 (1.35+)' : 'exec works, exit 0 (before 1.35)'}`, async () => {
    const r = await plugin(['dns-check', 'web', '-o', 'json'], { env: getOnly!.env });
    const out = json<DnsCheckOutput>(r);
    if (execNeedsCreate) {
      expect(r.exitCode, r.stdout + r.stderr).toBe(4);
      expect(out.notRunCauses).toEqual([expect.objectContaining({ cause: 'forbidden', label: `exec forbidden (pods/exec create) in namespace ${ns}`, checks: 9 })]);
      expect(out.notRunCauses[0]!.fix).toContain(`\`kubectl auth can-i create pods --subresource=exec -n ${ns}\``);
      expect(r.stderr).toContain(`you may not create pods/exec "web-0" in namespace "${ns}"`);
      expect(r.stderr).toContain('"create" too on Kubernetes 1.35 and later');
    } else {
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(out).toMatchObject({ complete: true, warnings: [], notRunCauses: [] });
      expect(out.checks.filter((c) => c.kind === 'live')).toHaveLength(8);
    }
  });

  it('dns-check --static-only without pods/exec: the static part passes, exit 0', async () => {
    const r = await plugin(['dns-check', 'web', '--static-only', '-o', 'json'], { env: reader!.env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = json<DnsCheckOutput>(r);
    expect(out).toMatchObject({ staticOnly: true, complete: true, warnings: [], probes: [] });
    expect(out.summary).toMatchObject({ failed: 0, notRun: 0 });
    expect(out.checks.map((c) => c.check)).toContain('endpointslice');
  });

  it('dns-check with pods/exec: every lookup runs and passes, exit 0', async () => {
    const r = await plugin(['dns-check', 'web', '-o', 'json'], { env: execer!.env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const out = json<DnsCheckOutput>(r);
    expect(out).toMatchObject({ complete: true, warnings: [], notRunCauses: [] });
    expect(out.checks.filter((c) => c.kind === 'live')).toHaveLength(8);
    expect(out.checks.every((c) => c.status === 'ok')).toBe(true);
  });

  it('mongo-status without pods/exec: could not check, exit 4, with the forbidden hint', async () => {
    const t = await plugin(['mongo-status', 'mongo'], { env: reader!.env });
    expect(t.exitCode, t.stdout + t.stderr).toBe(4);
    expect(t.stdout).toContain(`Could not check: no member could be asked (exec forbidden (pods/exec get and create) in namespace ${ns}); this is not a pass.`);
    expect(t.stdout).toContain(`\`kubectl auth can-i get pods --subresource=exec -n ${ns}\` and \`kubectl auth can-i create pods --subresource=exec -n ${ns}\``);
    expect(t.stdout).not.toContain('No problems found');
    expect(t.stderr).toMatch(/^warning: pod mongo-0 not asked: forbidden: you may not get and create pods\/exec "mongo-0"/m);

    const j = await plugin(['mongo-status', 'mongo', '-o', 'json', '--each'], { env: reader!.env });
    expect(j.exitCode).toBe(4);
    const out = json<MongoStatusOutput>(j);
    expect(out.complete).toBe(false);
    expect(out.notAsked.map((n) => `${n.pod} ${n.cause}`)).toEqual(['mongo-0 forbidden', 'mongo-1 forbidden', 'mongo-2 forbidden']);
    expect(out.warnings).toHaveLength(3);
  });

  it('mongo-status with pods/exec: the replica set is read, exit 0', async () => {
    const r = await plugin(['mongo-status', 'mongo', '-o', 'json'], { env: execer!.env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = json<MongoStatusOutput>(r);
    expect(out).toMatchObject({ complete: true, notAsked: [], warnings: [], findings: [], replicaSet: 'rs0' });
    expect(out.members).toHaveLength(3);
  });

  it('a missing read verb names verb, resource and namespace (exit 1), and nothing changes', async () => {
    const before = (await getJson<{ items: any[] }>(['-n', ns, 'pods'])).items.map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).sort();
    for (const args of [['dns-check', 'web'], ['mongo-status', 'mongo']]) {
      const r = await plugin(args, { env: noSts!.env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain(`forbidden: you may not get statefulsets.apps "${args[1]}" in namespace "${ns}"`);
      expect(r.stderr).toContain(`kubectl auth can-i get statefulsets.apps -n ${ns}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const after = (await getJson<{ items: any[] }>(['-n', ns, 'pods'])).items.map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).sort();
    expect(after).toEqual(before);
  });
});
