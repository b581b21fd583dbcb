/**
 * `kubectl sts mongo-status` end to end: the real binary, the real API server, the real pods/exec
 * path through KWOK — with the pod's `mongosh` (and legacy `mongo`) answered from RECORDED probe
 * outputs (test/fixtures/mongo/e2e, built on the MongoDB manual's rs.status() example), because no
 * mongod can run here. The fake shells (scripts/cluster/pod-bin/mongosh, mongo) check that they got
 * kubectl-sts's probe script and that the password came over stdin, not the command line.
 * A pod's answer is chosen by a KWOK `Exec` named like the pod (env KSTS_MONGO_FIXTURE, ...).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump, load } from 'js-yaml';
import { apply, createNamespace, fixture, getJson, kubectl, plugin, root, waitFor, clusterKind } from './harness.js';

const recorded = (name: string) => path.join(root, 'test/fixtures/mongo/e2e', name);
let ns = '';
let cleanup: () => Promise<void> = async () => {};
let rev = 0;

/** Points pod `pod`'s exec at the given fake-shell settings and waits until KWOK uses them. */
async function setExec(pod: string, env: Record<string, string>): Promise<void> {
  const marker = `r${++rev}`;
  const envs = Object.entries({ KSTS_POD_NAMESPACE: ns, KSTS_EXEC_REV: marker, ...env }).map(([name, value]) => ({ name, value }));
  await apply(dump({ apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Exec', metadata: { name: pod, namespace: ns }, spec: { execs: [{ local: { workDir: '/tmp', envs } }] } }));
  await waitFor(
    async () => (await kubectl(['-n', ns, 'exec', pod, '-c', 'mongo', '--', 'printenv', 'KSTS_EXEC_REV'], { allowFail: true })).stdout.trim() === marker,
    30_000,
    `KWOK to use the Exec for ${pod}`,
  );
}

async function readyReplicas(n: number): Promise<void> {
  await waitFor(async () => (await getJson(['-n', ns, 'statefulset', 'mongo'])).status?.readyReplicas === n, 120_000, `${n} Ready mongo pods`);
}

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('mongo'));
  await apply(fixture('mongo.yaml'), ns);
  await readyReplicas(3);
  for (const p of ['mongo-0', 'mongo-1', 'mongo-2']) await setExec(p, { KSTS_MONGO_FIXTURE: recorded('healthy.json') });
});
afterAll(async () => cleanup());

// KWOK-specific: fake shells / in-pod DNS wrappers / fake nodes. Skipped on E2E_CLUSTER=kind.
describe.skipIf(clusterKind !== 'kwok')('kubectl sts mongo-status with mongosh answered from recorded rs.status() fixtures', () => {
  it('healthy 3-member set: every member mapped to its pod by stable DNS name, exit 0', async () => {
    const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Replica set rs0 of StatefulSet ${ns}/mongo, primary mongo-0.mongo-service.${ns}.svc.cluster.local:27017, config version 1; asked mongo-0 (mongosh 7.0.14)`);
    for (const [i, state] of [[0, 'PRIMARY'], [1, 'SECONDARY'], [2, 'SECONDARY']] as const) {
      expect(r.stdout).toMatch(new RegExp(`mongo-${i}\\.mongo-service\\.${ns}\\.svc\\.cluster\\.local:27017\\s+mongo-${i}\\s+${state}\\s+up`));
    }
    expect(r.stdout).toContain('No problems found.');

    const j = await plugin(['mongo-status', 'mongo', '-n', ns, '-o', 'json']);
    const out = JSON.parse(j.stdout);
    expect(out.members.map((m: { pod: string; hostMatch: string }) => `${m.pod}/${m.hostMatch}`)).toEqual(['mongo-0/dns', 'mongo-1/dns', 'mongo-2/dns']);
    expect(out.findings).toEqual([]);
  });

  it('no primary: asked with --pod mongo-1, the primary is unreachable and no member is PRIMARY, exit 1', async () => {
    await setExec('mongo-1', { KSTS_MONGO_FIXTURE: recorded('no-primary.json') });
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns, '--pod', 'mongo-1']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain('replica set rs0 has no PRIMARY as seen from pod mongo-1');
      expect(r.stdout).toContain(`member mongo-0.mongo-service.${ns}.svc.cluster.local:27017 is unreachable from mongo-1`);
      expect(r.stdout).toMatch(/mongo-0\s+DOWN\s+down/);
    } finally {
      await setExec('mongo-1', { KSTS_MONGO_FIXTURE: recorded('healthy.json') });
    }
  });

  it('mongosh missing from the image: falls back to the legacy mongo shell', async () => {
    await setExec('mongo-0', { KSTS_MONGO_FIXTURE: recorded('healthy.json'), KSTS_MONGO_SHELLS: 'mongo' });
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns, '-o', 'json']);
      expect(r.exitCode).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.views).toEqual([{ pod: 'mongo-0', shell: 'mongo', version: '4.4.29', selfState: 'PRIMARY', primary: `mongo-0.mongo-service.${ns}.svc.cluster.local:27017` }]);
      expect(out.members).toHaveLength(3);
    } finally {
      await setExec('mongo-0', { KSTS_MONGO_FIXTURE: recorded('healthy.json') });
    }
  });

  it('auth: no credentials -> Unauthorized; a wrong password -> auth failure naming user and db; the right one -> healthy; the password is never printed', async () => {
    await kubectl(['-n', ns, 'create', 'secret', 'generic', 'mongo-auth', '--from-literal=username=clusterMonitor', '--from-literal=password=Right-Pa55']);
    await kubectl(['-n', ns, 'create', 'secret', 'generic', 'mongo-wrong', '--from-literal=password=Wrong-Pa55']);
    await setExec('mongo-0', { KSTS_MONGO_FIXTURE: recorded('healthy.json'), KSTS_MONGO_PASSWORD: 'Right-Pa55' });
    try {
      const none = await plugin(['mongo-status', 'mongo', '-n', ns]);
      expect(none.exitCode).toBe(1);
      expect(none.stdout).toContain('needs credentials to read the replica-set status: pass --username and --password-from-secret');

      const wrong = await plugin(['mongo-status', 'mongo', '-n', ns, '--username', 'ops', '--auth-db', 'users', '--password-from-secret', 'mongo-wrong/password']);
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stdout).toContain('authentication failed for user "ops" on database "users" in pod mongo-0 (container mongo): Authentication failed.');
      expect(wrong.stdout + wrong.stderr).not.toContain('Wrong-Pa55');

      const right = await plugin(['mongo-status', 'mongo', '-n', ns, '--password-from-secret', 'mongo-auth']);
      expect(right.stderr).toBe('');
      expect(right.exitCode).toBe(0);
      expect(right.stdout).toContain('No problems found.');
      expect(right.stdout + right.stderr).not.toContain('Right-Pa55');
    } finally {
      await setExec('mongo-0', { KSTS_MONGO_FIXTURE: recorded('healthy.json') });
    }
  });

  it('scaled up without rs.add: the new pod mongo-3 is not in the config, with the rs.add() to run', async () => {
    await kubectl(['-n', ns, 'scale', 'statefulset', 'mongo', '--replicas=4']);
    await readyReplicas(4);
    const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('pod mongo-3 is not a member of replica set rs0 (scaled up without rs.add()?)');
    expect(r.stdout).toContain(`fix: rs.add("mongo-3.mongo-service.${ns}.svc.cluster.local:27017")`);

    const y = load((await plugin(['mongo-status', 'mongo', '-n', ns, '-o', 'yaml'])).stdout) as { findings: { kind: string; pod?: string }[] };
    expect(y.findings).toEqual([expect.objectContaining({ kind: 'pod-not-in-config', pod: 'mongo-3' })]);
  });
});
