/**
 * `kubectl sts mongo-status` end to end: the real binary, the real API server, the real pods/exec
 * path through KWOK, and in the pod the REAL `mongosh` (npm package, installed by
 * scripts/cluster/mongosh.sh) running kubectl-sts's probe script. Its server is a stand-in
 * (test/helpers/mongo-standin.ts, on 127.0.0.1 in this test process) speaking the MongoDB wire
 * protocol and SCRAM, answering with real server documents (test/fixtures/mongo/standin/cases.ts),
 * because no mongod can be installed here.
 *
 * How a pod's mongosh finds "its" server: KWOK runs a pod's exec as a local process and passes
 * only the env of the matching Exec/ClusterExec (it does not tell the command the pod's name), so
 * each pod gets a KWOK `Exec` named like the pod whose env names the stand-in's loopback port;
 * scripts/cluster/pod-bin/mongosh then runs the real shell with --host 127.0.0.1 --port PORT.
 * The fake shell (same wrapper, without KSTS_MONGO_PORT) remains only for a missing executable and
 * the legacy `mongo` shell, which cannot be installed here either.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { dump, load } from 'js-yaml';
import { apply, createNamespace, fixture, getJson, kubectl, plugin, root, waitFor, clusterKind } from './harness.js';
import { startStandin, type Standin, type StandinUser } from '../helpers/mongo-standin.js';
import { host, standinCase, type CaseName } from '../fixtures/mongo/standin/cases.js';

const recorded = (name: string) => path.join(root, 'test/fixtures/mongo/e2e', name);
const NODE = path.join(root, 'node_modules/node/bin/node');
let ns = '';
let cleanup: () => Promise<void> = async () => {};
let rev = 0;
let mongoshJs = '';
const standins = new Map<string, Standin>();

/** Points pod `pod`'s exec at the given settings and waits until KWOK uses them. */
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

/** The stand-in for a case (one per case and user, started on first use), on a loopback port. */
async function standin(name: CaseName, auth?: StandinUser): Promise<Standin> {
  const key = `${name}/${auth?.user ?? ''}`;
  let s = standins.get(key);
  if (!s) {
    s = await startStandin({ ...standinCase(name, ns), ...(auth ? { auth } : {}) });
    standins.set(key, s);
  }
  return s;
}

/**
 * Makes `pod`'s mongosh the real one, talking to the stand-in of `name`. With a user, the wrapper
 * also refuses (exit 99) any command line that contains the password: it must come over stdin.
 */
async function realShell(pod: string, name: CaseName, auth?: StandinUser): Promise<Standin> {
  const s = await standin(name, auth);
  await setExec(pod, { KSTS_MONGO_PORT: String(s.port), KSTS_MONGOSH_JS: mongoshJs, KSTS_NODE: NODE, ...(auth ? { KSTS_MONGO_PASSWORD: auth.password } : {}) });
  return s;
}

async function readyReplicas(n: number): Promise<void> {
  await waitFor(async () => (await getJson(['-n', ns, 'statefulset', 'mongo'])).status?.readyReplicas === n, 120_000, `${n} Ready mongo pods`);
}

interface Out {
  replicaSet: string;
  primary: string | null;
  members: { pod: string | null; state: string; health: string; hidden: boolean; delaySeconds: number; arbiter: boolean; hostMatch: string }[];
  views: { pod: string; shell?: string; version?: string; error?: string }[];
  findings: { kind: string; pod?: string; member?: string; message: string; fix?: string }[];
}

async function json(args: string[]): Promise<{ out: Out; exitCode: number; stderr: string }> {
  const r = await plugin(['mongo-status', 'mongo', '-n', ns, '-o', 'json', ...args]);
  return { out: JSON.parse(r.stdout) as Out, exitCode: r.exitCode, stderr: r.stderr };
}

const kinds = (o: Out) => o.findings.map((f) => `${f.kind}:${f.pod ?? f.member ?? ''}`).sort();

beforeAll(async () => {
  mongoshJs = (await execa('bash', [path.join(root, 'scripts/cluster/mongosh.sh')], { stdin: 'ignore' })).stdout.trim();
  ({ ns, cleanup } = await createNamespace('mongo'));
  await apply(fixture('mongo.yaml'), ns);
  await readyReplicas(3);
  for (const p of ['mongo-0', 'mongo-1', 'mongo-2']) await realShell(p, 'healthy');
}, 240_000);
afterAll(async () => {
  for (const s of standins.values()) await s.close();
  await cleanup();
});

// KWOK-specific: pod exec runs locally (real mongosh + loopback stand-in). Skipped on E2E_CLUSTER=kind.
describe.skipIf(clusterKind !== 'kwok')('kubectl sts mongo-status: the real mongosh in the pod runs the probe against a MongoDB stand-in', () => {
  it('healthy primary + 2 secondaries: every member mapped to its pod by stable DNS name, exit 0', async () => {
    const s = await standin('healthy');
    const before = s.received.length;
    const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Replica set myrs of StatefulSet ${ns}/mongo, primary ${host(ns, 0)}, config version 4; asked mongo-0 (mongosh, mongod 5.0.18)`);
    for (const [i, state] of [[0, 'PRIMARY'], [1, 'SECONDARY'], [2, 'SECONDARY']] as const) {
      expect(r.stdout).toMatch(new RegExp(`mongo-${i}\\.mongo-service\\.${ns}\\.svc\\.cluster\\.local:27017\\s+mongo-${i}\\s+${state}\\s+up`));
    }
    expect(r.stdout).toContain('No problems found.');
    // The real shell talked to the stand-in: its handshake, then the probe's two commands.
    const asked = s.received.slice(before);
    expect(asked).toEqual(expect.arrayContaining(['buildInfo', 'replSetGetStatus', 'replSetGetConfig']));
    expect(asked.some((c) => /^(hello|ismaster|isMaster)$/.test(c))).toBe(true);

    const { out, exitCode } = await json([]);
    expect(exitCode).toBe(0);
    expect(out.members.map((m) => `${m.pod}/${m.hostMatch}/${m.state}`)).toEqual(['mongo-0/dns/PRIMARY', 'mongo-1/dns/SECONDARY', 'mongo-2/dns/SECONDARY']);
    expect(out.views).toEqual([expect.objectContaining({ pod: 'mongo-0', shell: 'mongosh', version: '5.0.18', selfState: 'PRIMARY' })]);
    expect(out.findings).toEqual([]);
  });

  it('primary + secondary + arbiter (the real 5.0.18 capture as recorded): healthy, the arbiter shown as such, exit 0', async () => {
    await realShell('mongo-0', 'psa');
    try {
      const { out, exitCode, stderr } = await json([]);
      expect(stderr).toBe('');
      expect(exitCode).toBe(0);
      expect(out.members.map((m) => `${m.pod}/${m.state}/${m.arbiter}`)).toEqual(['mongo-0/PRIMARY/false', 'mongo-1/SECONDARY/false', 'mongo-2/ARBITER/true']);
      expect(out.findings).toEqual([]);
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('no primary: asked on mongo-1, a secondary that cannot reach the other two, exit 1', async () => {
    await realShell('mongo-1', 'no-primary');
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns, '--pod', 'mongo-1']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain('replica set myrs has no PRIMARY as seen from pod mongo-1');
      expect(r.stdout).toContain(`member ${host(ns, 0)} is unreachable from mongo-1: Error connecting to ${host(ns, 0)} :: caused by :: Connection refused`);
      expect(r.stdout).toContain(`member ${host(ns, 2)} is unreachable from mongo-1`);
      expect(r.stdout).toMatch(/mongo-0\s+DOWN\s+down/);
      const { out } = await json(['--pod', 'mongo-1']);
      expect(kinds(out)).toEqual(['member-unreachable:mongo-0', 'member-unreachable:mongo-2', 'no-primary:']);
    } finally {
      await realShell('mongo-1', 'healthy');
    }
  });

  it('a member in STARTUP2 and one in RECOVERING: each reported as unhealthy with its pod, exit 1', async () => {
    await realShell('mongo-0', 'startup2-recovering');
    try {
      const { out, exitCode } = await json([]);
      expect(exitCode).toBe(1);
      expect(out.members.map((m) => `${m.pod}/${m.state}`)).toEqual(['mongo-0/PRIMARY', 'mongo-1/STARTUP2', 'mongo-2/RECOVERING']);
      expect(kinds(out)).toEqual(['member-unhealthy:mongo-1', 'member-unhealthy:mongo-2']);
      expect(out.findings.find((f) => f.pod === 'mongo-1')?.message).toBe(`member ${host(ns, 1)} is STARTUP2: initial sync in progress`);
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('after a failover: mongo-1 is the new primary, the old primary unreachable; mongo-0 itself refuses connections (--each), exit 1', async () => {
    await realShell('mongo-1', 'failover');
    const closed = await startStandin(standinCase('healthy', ns));
    const deadPort = closed.port;
    await closed.close(); // nothing listens there any more: mongo-0's mongod is down
    await setExec('mongo-0', { KSTS_MONGO_PORT: String(deadPort), KSTS_MONGOSH_JS: mongoshJs, KSTS_NODE: NODE });
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns, '--pod', 'mongo-1']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain(`primary ${host(ns, 1)}`);
      expect(r.stdout).toContain(`member ${host(ns, 0)} is unreachable from mongo-1`);

      const each = await json(['--each']);
      expect(each.exitCode).toBe(1);
      expect(each.out.views.find((v) => v.pod === 'mongo-0')).toMatchObject({ shell: 'mongosh' });
      const f0 = each.out.findings.find((f) => f.kind === 'unreachable');
      // The real shell's own error for a refused connection.
      expect(f0?.message).toMatch(new RegExp(`mongosh in pod mongo-0 \\(container mongo\\) could not reach mongod: .*ECONNREFUSED 127\\.0\\.0\\.1:${deadPort}`));
    } finally {
      await realShell('mongo-0', 'healthy');
      await realShell('mongo-1', 'healthy');
    }
  });

  it('hidden member delayed by an hour: shown as hidden with its delay, its hour behind is not lag, exit 0', async () => {
    await realShell('mongo-0', 'hidden-delayed');
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain('SECONDARY (hidden, delay 3600s)');
      const { out } = await json([]);
      expect(out.members[2]).toMatchObject({ pod: 'mongo-2', hidden: true, delaySeconds: 3600 });
      expect(out.findings).toEqual([]);
      // Without the configured delay allowed for, the same hour would be lag: the delay is what saves it.
      expect((await json(['--max-lag', '1s'])).out.findings).toEqual([]);
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('replica set never initiated: NotYetInitialized from the server, with rs.initiate() as the fix, exit 1', async () => {
    await realShell('mongo-0', 'not-initialized');
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain('the replica set has not been initiated on pod mongo-0 (container mongo) (run rs.initiate()): no replset config has been received');
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('auth (real SCRAM-SHA-256): no credentials -> Unauthorized; a wrong password -> the server\'s "Authentication failed."; the right one -> healthy; the password never on a command line or printed', async () => {
    await kubectl(['-n', ns, 'create', 'secret', 'generic', 'mongo-auth', '--from-literal=username=clusterMonitor', '--from-literal=password=Right-Pa55']);
    await kubectl(['-n', ns, 'create', 'secret', 'generic', 'mongo-wrong', '--from-literal=password=Wrong-Pa55']);
    const s = await realShell('mongo-0', 'healthy', { user: 'clusterMonitor', db: 'admin', password: 'Right-Pa55' });
    try {
      const none = await plugin(['mongo-status', 'mongo', '-n', ns]);
      expect(none.exitCode).toBe(1);
      expect(none.stdout).toContain('needs credentials to read the replica-set status: pass --username and --password-from-secret: command replSetGetStatus requires authentication');

      const wrong = await plugin(['mongo-status', 'mongo', '-n', ns, '--username', 'clusterMonitor', '--password-from-secret', 'mongo-wrong/password']);
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stdout).toContain('authentication failed for user "clusterMonitor" on database "admin" in pod mongo-0 (container mongo): Authentication failed.');
      expect(wrong.stdout + wrong.stderr).not.toContain('Wrong-Pa55');

      const otherDb = await plugin(['mongo-status', 'mongo', '-n', ns, '--auth-db', 'users', '--password-from-secret', 'mongo-auth']);
      expect(otherDb.exitCode).toBe(1);
      expect(otherDb.stdout).toContain('authentication failed for user "clusterMonitor" on database "users"');

      const before = s.received.length;
      const right = await plugin(['mongo-status', 'mongo', '-n', ns, '--password-from-secret', 'mongo-auth']);
      expect(right.stderr).toBe('');
      expect(right.exitCode).toBe(0);
      expect(right.stdout).toContain('No problems found.');
      expect(right.stdout + right.stderr).not.toContain('Right-Pa55');
      expect(s.received.slice(before)).toEqual(expect.arrayContaining(['saslStart', 'saslContinue', 'replSetGetStatus']));
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('fake shell: mongosh missing from the image falls back to the legacy mongo shell (recorded answer; no legacy shell can be installed here)', async () => {
    await setExec('mongo-0', { KSTS_MONGO_FIXTURE: recorded('healthy.json'), KSTS_MONGO_SHELLS: 'mongo' });
    try {
      const { out, exitCode } = await json([]);
      expect(exitCode).toBe(0);
      expect(out.views).toEqual([{ pod: 'mongo-0', shell: 'mongo', version: '4.4.29', selfState: 'PRIMARY', primary: `mongo-0.mongo-service.${ns}.svc.cluster.local:27017` }]);
      expect(out.members).toHaveLength(3);
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('fake shell: neither shell in the container -> says so and names -c, exit 4 (no member answered: could not check)', async () => {
    await setExec('mongo-0', { KSTS_MONGO_SHELLS: 'none' });
    try {
      const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
      // README, exit codes: "no MongoDB member answered" is 4, never a pass (mongo-status asks the next pod only when one pod alone is at fault).
      expect(r.exitCode, r.stdout + r.stderr).toBe(4);
      expect(r.stdout).toContain('Could not check: no member could be asked (program not installed in the image); this is not a pass.');
      expect(r.stdout).toContain('neither mongosh nor the legacy mongo shell is installed in container mongo of pod mongo-0\n');
      expect(r.stdout).toContain('pick the container running mongod with -c CONTAINER');
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });

  it('scaled up without rs.add: the new pod mongo-3 is not in the config, with the rs.add() to run', async () => {
    await kubectl(['-n', ns, 'scale', 'statefulset', 'mongo', '--replicas=4']);
    await readyReplicas(4);
    const r = await plugin(['mongo-status', 'mongo', '-n', ns]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('pod mongo-3 is not a member of replica set myrs (scaled up without rs.add()?)');
    expect(r.stdout).toContain(`fix: rs.add("${host(ns, 3)}")`);

    const y = load((await plugin(['mongo-status', 'mongo', '-n', ns, '-o', 'yaml'])).stdout) as { findings: { kind: string; pod?: string }[] };
    expect(y.findings).toEqual([expect.objectContaining({ kind: 'pod-not-in-config', pod: 'mongo-3' })]);
  });

  it('seed 000 scaled past 7: 7 voting members, mongo-7 left out: add it as non-voting, exit 1', async () => {
    await kubectl(['-n', ns, 'scale', 'statefulset', 'mongo', '--replicas=8']);
    await readyReplicas(8);
    await realShell('mongo-0', 'eight-pods-seven-voters');
    try {
      const { out, exitCode } = await json([]);
      expect(exitCode).toBe(1);
      expect(out.members.map((m) => m.pod)).toEqual(['mongo-0', 'mongo-1', 'mongo-2', 'mongo-3', 'mongo-4', 'mongo-5', 'mongo-6']);
      expect(out.findings).toEqual([
        expect.objectContaining({
          kind: 'pod-not-in-config',
          pod: 'mongo-7',
          message: 'pod mongo-7 is not a member of replica set myrs (scaled up without rs.add()?); the set already has 7 voting members, so add it as non-voting',
          fix: `rs.add({host: "${host(ns, 7)}", votes: 0, priority: 0})`,
        }),
      ]);
    } finally {
      await realShell('mongo-0', 'healthy');
    }
  });
});
