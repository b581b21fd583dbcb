import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mongoStatusCommand, pickContainer, type MongoStatusArgs } from '../../src/commands/mongo-status.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import type { Deps } from '../../src/deps.js';
import type { ExecRequest, ExecResult, Kube } from '../../src/kube/index.js';
import { palette } from '../../src/render/color.js';
import { silentSpinner } from '../../src/render/spinner.js';
import type { Pod, Secret, StatefulSet } from '../../src/core/types.js';
import { CliError, UsageError } from '../../src/errors.js';
import { httpError } from '../../src/kube/errors.js';
import type { MongoStatusOutput } from '../../src/render/mongo.js';

const dir = path.resolve(import.meta.dirname, '../fixtures/mongo');
const fixture = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8').replaceAll('__NS__', 'prod');

const sts: StatefulSet = {
  metadata: { name: 'mongo', namespace: 'prod', uid: 'u1' },
  spec: { replicas: 3, serviceName: 'mongo-service', selector: { matchLabels: { role: 'mongo-pod' } }, template: { spec: { containers: [] } } },
};
function pod(i: number, ready = true): Pod {
  return {
    metadata: { name: `mongo-${i}`, namespace: 'prod', labels: { role: 'mongo-pod' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mongo', uid: 'u1', controller: true }] },
    spec: { containers: [{ name: 'mongo-sidecar', image: 'mongo-k8s-sidecar:latest' }, { name: 'mongo', image: 'mongo:latest', command: ['mongod', '--replSet', 'rs0'] }] },
    status: { phase: 'Running', podIP: `10.0.0.${i}`, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}
const secret: Secret = { metadata: { name: 'mongo-auth' }, data: { username: Buffer.from('admin').toString('base64'), password: Buffer.from('s3cret!').toString('base64') } };

type ExecAnswer = (req: ExecRequest) => ExecResult;
function fakeKube(answer: ExecAnswer, o: { pods?: Pod[] } = {}) {
  const calls: ExecRequest[] = [];
  const gets: string[] = [];
  const kube = {
    namespace: 'prod',
    contextName: 'test',
    server: 'https://example',
    client: {
      getNamed: async (p: string) => {
        gets.push(p);
        if (p.endsWith('/statefulsets/mongo')) return sts;
        if (p.endsWith('/secrets/mongo-auth')) return secret;
        throw new CliError(`not found: ${p}`);
      },
      list: async (p: string, q: Record<string, string>) => {
        expect(p).toBe('/api/v1/namespaces/prod/pods');
        expect(q.labelSelector).toBe('role=mongo-pod');
        return { items: o.pods ?? [pod(0), pod(1), pod(2)], resourceVersion: '1' };
      },
    },
    exec: async (req: ExecRequest) => {
      calls.push(req);
      return answer(req);
    },
  } as unknown as Kube;
  return { kube, calls, gets };
}

function fakeDeps(kube: Kube, o: { abortAfterSleeps?: number } = {}) {
  const written: string[] = [];
  const logged: string[] = [];
  const ac = new AbortController();
  let sleeps = 0;
  const deps: Deps = {
    kube: async () => kube,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    sleep: async () => {
      sleeps++;
      if (sleeps >= (o.abortAfterSleeps ?? 1)) {
        ac.abort();
        throw new Error('aborted');
      }
    },
    write: (t) => void written.push(t),
    log: (l) => void logged.push(l),
    spinner: async () => silentSpinner,
    confirm: async () => false,
    interactive: false,
    stdoutIsTTY: false,
    color: palette(false),
    signal: ac.signal,
  };
  return { deps, written, logged };
}

function args(extra: Partial<MongoStatusArgs & GlobalArgs> = {}): MongoStatusArgs & GlobalArgs {
  return {
    name: 'mongo',
    each: false,
    authDb: 'admin',
    tls: false,
    watch: false,
    interval: '5s',
    maxLag: '10s',
    timeout: '30s',
    allNamespaces: false,
    output: 'table',
    requestTimeout: '0',
    color: false,
    verbose: 0,
    ...extra,
  };
}

const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
const missing = (req: ExecRequest): ExecResult => ({
  stdout: '',
  stderr: '',
  exitCode: -1,
  failure: `Internal error occurred: error executing command in container: cmd start: ${req.command.join(' ')}: exec: "${req.command[0]}": executable file not found in $PATH`,
});

describe('mongo-status command', () => {
  it('healthy set: asks the first Ready pod in the mongod container (not the sidecar), exit 0', async () => {
    const { kube, calls } = fakeKube(() => ok(fixture('e2e/healthy.json')));
    const { deps } = fakeDeps(kube);
    const r = await mongoStatusCommand.run!(args(), deps);
    expect(r.exitCode).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ namespace: 'prod', pod: 'mongo-0', container: 'mongo', timeoutMs: 30_000 });
    expect(calls[0]!.command.slice(0, 4)).toEqual(['mongosh', '--quiet', '--norc', '--eval']);
    expect(calls[0]!.stdin).toBeUndefined();
    expect(r.output).toContain('Replica set rs0 of StatefulSet prod/mongo, primary mongo-0.mongo-service.prod.svc.cluster.local:27017');
    expect(r.output).toMatch(/MEMBER\s+POD\s+STATE\s+HEALTH\s+UPTIME\s+HEARTBEAT\s+LAG\s+SYNC SOURCE\s+VOTES\s+PRIORITY\s+PING/);
    expect(r.output).toMatch(/mongo-1\.mongo-service\.prod\.svc\.cluster\.local:27017\s+mongo-1\s+SECONDARY\s+up\s+22h\s+0\.6s\s+0s\s+mongo-0\.\S+\s+1\s+1\s+8ms/);
    expect(r.output).toContain('No problems found.');
  });

  it('skips a pod that is not Ready', async () => {
    const { kube, calls } = fakeKube(() => ok(fixture('e2e/healthy.json')), { pods: [pod(0, false), pod(1), pod(2)] });
    await mongoStatusCommand.run!(args(), fakeDeps(kube).deps);
    expect(calls[0]!.pod).toBe('mongo-1');
  });

  it('falls back to the legacy mongo shell when mongosh is missing', async () => {
    const { kube, calls } = fakeKube((req) => (req.command[0] === 'mongosh' ? missing(req) : ok(fixture('e2e/healthy.legacy.json'))));
    const r = await mongoStatusCommand.run!(args({ output: 'json' }), fakeDeps(kube).deps);
    expect(calls.map((c) => c.command[0])).toEqual(['mongosh', 'mongo']);
    const out = JSON.parse(r.output) as MongoStatusOutput;
    expect(out.views).toEqual([{ pod: 'mongo-0', shell: 'mongo', version: '4.4.29', selfState: 'PRIMARY', primary: 'mongo-0.mongo-service.prod.svc.cluster.local:27017' }]);
    expect(r.exitCode).toBe(0);
  });

  it('neither shell: could not check (exit 4), naming the container and -c', async () => {
    const { kube } = fakeKube(missing);
    const r = await mongoStatusCommand.run!(args(), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(4);
    expect(r.output).toContain('neither mongosh nor the legacy mongo shell is installed in container mongo of pod mongo-0');
    expect(r.output).toContain('pick the container running mongod with -c CONTAINER');
    expect(r.output).toContain('Could not check: no member could be asked (program not installed in the image); this is not a pass.');
    expect(r.output).not.toContain('No problems found');
  });

  it('sends the password from the Secret over stdin only, and an auth failure names user and database', async () => {
    const { kube, calls, gets } = fakeKube(() => ok('KSTS-MONGO-STATUS {"probe":1,"user":"admin","authDb":"admin","authError":{"message":"Authentication failed.","code":18,"codeName":"AuthenticationFailed"}}\n'));
    const r = await mongoStatusCommand.run!(args({ passwordFromSecret: 'mongo-auth' }), fakeDeps(kube).deps);
    expect(gets).toContain('/api/v1/namespaces/prod/secrets/mongo-auth');
    // First the shell is found without stdin, then the probe gets the password on stdin.
    expect(calls.map((c) => [c.command[0], c.command[1], c.stdin])).toEqual([
      ['mongosh', '--version', undefined],
      ['mongosh', '--quiet', '{"password":"s3cret!"}\n'],
    ]);
    expect(calls[1]!.command.join(' ')).not.toContain('s3cret');
    expect(calls[1]!.command.join(' ')).toContain('var user = "admin"');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('authentication failed for user "admin" on database "admin" in pod mongo-0 (container mongo)');
    expect(r.output).not.toContain('s3cret');
  });

  it('with a password and no mongosh: finds the legacy shell with --version before sending stdin', async () => {
    const { kube, calls } = fakeKube((req) => (req.command[0] === 'mongosh' ? missing(req) : req.command[1] === '--version' ? ok('MongoDB shell version v4.4.29\n') : ok(fixture('e2e/healthy.legacy.json'))));
    const r = await mongoStatusCommand.run!(args({ passwordFromSecret: 'mongo-auth' }), fakeDeps(kube).deps);
    expect(calls.map((c) => `${c.command[0]} ${c.command[1]} ${c.stdin === undefined ? '' : 'stdin'}`.trim())).toEqual(['mongosh --version', 'mongo --version', 'mongo --quiet stdin']);
    expect(r.exitCode).toBe(0);
  });

  it('never echoes the password, even when the shell does', async () => {
    const { kube } = fakeKube(() => ({ stdout: '', stderr: 'MongoServerError: bad auth with s3cret! for admin', exitCode: 1 }));
    const r = await mongoStatusCommand.run!(args({ passwordFromSecret: 'mongo-auth/password', username: 'root', authDb: 'users', output: 'json' }), fakeDeps(kube).deps);
    expect(r.output).not.toContain('s3cret');
    expect(r.output).toContain('***');
  });

  it('--each asks every Running pod and reports split views', async () => {
    const { kube, calls } = fakeKube((req) => ok(fixture(req.pod === 'mongo-1' ? 'e2e/no-primary.json' : 'e2e/healthy.json')));
    const r = await mongoStatusCommand.run!(args({ each: true, output: 'json' }), fakeDeps(kube).deps);
    expect(calls.map((c) => c.pod)).toEqual(['mongo-0', 'mongo-1', 'mongo-2']);
    const out = JSON.parse(r.output) as MongoStatusOutput;
    expect(out.source).toBe('mongo-0');
    expect(out.views.map((v) => v.primary ?? null)).toEqual([
      'mongo-0.mongo-service.prod.svc.cluster.local:27017',
      null,
      'mongo-0.mongo-service.prod.svc.cluster.local:27017',
    ]);
  });

  it('-o json: members and findings in the documented shape; --max-lag is honoured', async () => {
    const { kube } = fakeKube(() => ok(fixture('ejson-canonical-hidden-delayed.probe.txt')), { pods: [0, 1, 2, 3, 4].map((i) => pod(i)) });
    const r = await mongoStatusCommand.run!(args({ output: 'json', maxLag: '20s' }), fakeDeps(kube).deps);
    const out = JSON.parse(r.output) as MongoStatusOutput;
    expect(r.exitCode).toBe(1);
    expect(out.findings).toEqual([{ kind: 'lag', member: 'mongo-2.mongo-service.prod.svc.cluster.local:27017', pod: 'mongo-2', message: expect.stringContaining('25s behind the primary, more than --max-lag 20s') }]);
    expect(out.members[3]).toMatchObject({ pod: 'mongo-3', hidden: true, delaySeconds: 3600, lagSeconds: 3605, votes: 1, priority: 0, state: 'SECONDARY' });
    expect(out.members[1]).toMatchObject({ lastHeartbeatAgeSeconds: 1.478, pingMs: 1 });
    const relaxed = await mongoStatusCommand.run!(args({ output: 'yaml', maxLag: '30s' }), fakeDeps(kube).deps);
    expect(relaxed.exitCode).toBe(0);
    expect(relaxed.output).toContain('findings: []');
  });

  it('--watch writes a refreshed view until interrupted, without clearing a non-terminal', async () => {
    const { kube, calls } = fakeKube(() => ok(fixture('e2e/healthy.json')));
    const { deps, written } = fakeDeps(kube, { abortAfterSleeps: 2 });
    const r = await mongoStatusCommand.run!(args({ watch: true }), deps);
    expect(calls).toHaveLength(2);
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^Every 5s: kubectl sts mongo-status mongo {3}2026-01-01T00:00:00Z\n\nReplica set rs0/);
    expect(written[0]).not.toContain('\u001b[2J');
    expect(r).toEqual({ output: '', exitCode: 0 });
  });

  it('--watch clears the screen between refreshes when stdout is a terminal (stdin does not matter)', async () => {
    const { kube } = fakeKube(() => ok(fixture('e2e/healthy.json')));
    const { deps, written } = fakeDeps(kube, { abortAfterSleeps: 1 });
    await mongoStatusCommand.run!(args({ watch: true }), { ...deps, stdoutIsTTY: true, interactive: false });
    expect(written[0]).toMatch(/^\u001b\[H\u001b\[2J/);
  });

  it('rejects usage errors', async () => {
    const { kube } = fakeKube(() => ok(''));
    const { deps } = fakeDeps(kube);
    await expect(mongoStatusCommand.run!(args({ allNamespaces: true }), deps)).rejects.toBeInstanceOf(UsageError);
    await expect(mongoStatusCommand.run!(args({ username: 'x' }), deps)).rejects.toThrow(/never from the command line/);
    await expect(mongoStatusCommand.run!(args({ each: true, pod: 'mongo-1' }), deps)).rejects.toBeInstanceOf(UsageError);
    await expect(mongoStatusCommand.run!(args({ maxLag: '10' }), deps)).rejects.toThrow(/--max-lag/);
    await expect(mongoStatusCommand.run!(args({ pod: 'web-0' }), deps)).rejects.toThrow(/pod web-0 is not a pod of statefulset prod\/mongo/);
    await expect(mongoStatusCommand.run!(args({ passwordFromSecret: 'mongo-auth/nope' }), deps)).rejects.toThrow(/has no key "nope"/);
  });

  it('no Ready pod: could not check (exit 4), saying to pick one; no pod at all likewise', async () => {
    const { kube, calls } = fakeKube(() => ok(''), { pods: [pod(0, false)] });
    const r = await mongoStatusCommand.run!(args(), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(4);
    expect(calls).toEqual([]);
    expect(r.output).toContain('statefulset prod/mongo has no Ready pod to ask (mongo-0 not Ready)');
    expect(r.output).toContain('name one with --pod');
    const none = await mongoStatusCommand.run!(args({ output: 'json' }), fakeDeps(fakeKube(() => ok(''), { pods: [] }).kube).deps);
    expect(none.exitCode).toBe(4);
    expect(JSON.parse(none.output)).toMatchObject({ complete: false, notAsked: [{ pod: null, reason: 'statefulset prod/mongo has no pods to ask' }] });
  });
});

describe('mongo-status: a member that could not be asked is never a pass', () => {
  const facts = (p: string) => ({ method: 'POST', path: `/api/v1/namespaces/prod/pods/${p}/exec`, server: 'https://fake', context: 'sa-reader' });
  const kwokNoExec = (req: ExecRequest): ExecResult => ({
    stdout: '',
    stderr: '',
    exitCode: -1,
    failure: `Internal error occurred: error executing command in container: no exec found for container "mongo" in pod "prod/${req.pod}"`,
  });

  it('exec forbidden: could not check (exit 4), one attempt, the can-i line, a warning, complete false in json', async () => {
    const { kube, calls } = fakeKube((req) => {
      throw httpError(facts(req.pod), 403, undefined);
    });
    const { deps, logged } = fakeDeps(kube);
    const r = await mongoStatusCommand.run!(args(), deps);
    expect(r.exitCode).toBe(4);
    expect(calls.map((c) => c.pod)).toEqual(['mongo-0']);
    expect(r.output).toContain('StatefulSet prod/mongo: no member could be asked, replica set not read');
    expect(r.output).toContain('Could not check: no member could be asked (exec forbidden (pods/exec create) in namespace prod); this is not a pass.');
    expect(r.output).toContain('`kubectl auth can-i create pods --subresource=exec -n prod`');
    expect(r.output).not.toMatch(/--timeout/);
    expect(logged).toEqual(['warning: pod mongo-0 not asked: forbidden: you may not create pods/exec "mongo-0" in namespace "prod" (context "sa-reader")']);
    const j = await mongoStatusCommand.run!(args({ output: 'json' }), fakeDeps(kube).deps);
    const out = JSON.parse(j.output) as MongoStatusOutput;
    expect(j.exitCode).toBe(4);
    expect(out).toMatchObject({ complete: false, members: [], findings: [], views: [], warnings: [expect.stringContaining('pod mongo-0 not asked: forbidden')] });
    expect(out.notAsked).toEqual([expect.objectContaining({ pod: 'mongo-0', cause: 'forbidden', label: 'exec forbidden (pods/exec create) in namespace prod' })]);
  });

  it('with a password: exec forbidden at the shell lookup is reported the same way', async () => {
    const { kube, calls } = fakeKube((req) => {
      throw httpError(facts(req.pod), 403, undefined);
    });
    const r = await mongoStatusCommand.run!(args({ passwordFromSecret: 'mongo-auth', output: 'json' }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(4);
    expect(calls).toHaveLength(1);
    expect((JSON.parse(r.output) as MongoStatusOutput).notAsked[0]).toMatchObject({ cause: 'forbidden' });
  });

  it('exec refused in the first Ready pod: asks the next one; the answer is complete, the skipped pod is named', async () => {
    const { kube, calls } = fakeKube((req) => (req.pod === 'mongo-0' ? kwokNoExec(req) : ok(fixture('e2e/healthy.json'))));
    const { deps, logged } = fakeDeps(kube);
    const r = await mongoStatusCommand.run!(args(), deps);
    expect(calls.map((c) => c.pod)).toEqual(['mongo-0', 'mongo-1']);
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain('No problems found.');
    expect(r.output).toContain('Not asked (another Ready pod answered instead):');
    expect(r.output).toContain('kubectl exec -n prod mongo-0 -- true');
    expect(logged).toEqual([expect.stringMatching(/^warning: pod mongo-0 not asked: the node's runtime refused the exec into pod mongo-0 \(container mongo\): .*no exec found/)]);
  });

  it('exec refused in every pod: could not check (exit 4)', async () => {
    const { kube, calls } = fakeKube(kwokNoExec);
    const r = await mongoStatusCommand.run!(args({ output: 'json' }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(4);
    expect(calls.map((c) => c.pod)).toEqual(['mongo-0', 'mongo-1', 'mongo-2']);
    expect((JSON.parse(r.output) as MongoStatusOutput).notAsked.map((n) => `${n.pod} ${n.cause}`)).toEqual(['mongo-0 refused', 'mongo-1 refused', 'mongo-2 refused']);
  });

  it('a shell that does not answer in time: not asked (timeout), and only then the --timeout hint', async () => {
    const { kube } = fakeKube(() => ({ stdout: '', stderr: '', exitCode: -1, timedOut: true, failure: 'no answer within 30000ms' }));
    const r = await mongoStatusCommand.run!(args({ output: 'json' }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(4);
    const n = (JSON.parse(r.output) as MongoStatusOutput).notAsked;
    expect(n).toEqual([expect.objectContaining({ pod: 'mongo-0', cause: 'timeout', reason: 'mongosh in pod mongo-0 (container mongo) gave no answer within 30s' })]);
    expect(n[0]!.fix).toMatch(/rerun with a longer --timeout/);
  });

  it('--each with a pod not running: partial (exit 4), naming the pod that was not asked', async () => {
    const pending = pod(2, false);
    pending.status!.phase = 'Pending';
    const { kube, calls } = fakeKube(() => ok(fixture('e2e/healthy.json')), { pods: [pod(0), pod(1), pending] });
    const r = await mongoStatusCommand.run!(args({ each: true }), fakeDeps(kube).deps);
    expect(calls.map((c) => c.pod)).toEqual(['mongo-0', 'mongo-1']);
    expect(r.exitCode).toBe(4);
    expect(r.output).toContain('Partial: 1 pod not asked (pod not running); no problem found in what could be read, but this is not a pass.');
    expect(r.output).toContain('pod mongo-2 is Pending, not Running');
  });

  it('--each: findings win over what was not asked (exit 1), and the count says it is incomplete', async () => {
    const { kube } = fakeKube((req) => (req.pod === 'mongo-0' ? kwokNoExec(req) : ok(fixture('e2e/no-primary.json'))));
    const r = await mongoStatusCommand.run!(args({ each: true }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/problems? found \(incomplete: 1 pod not asked\):/);
  });

  it('--pod naming a pod whose container is not running: not asked (container missing), exit 4', async () => {
    const { kube } = fakeKube((req) => {
      throw httpError(facts(req.pod), 400, { message: `pod ${req.pod} is not running or has no container mongo` });
    });
    const r = await mongoStatusCommand.run!(args({ pod: 'mongo-1', output: 'json' }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(4);
    expect((JSON.parse(r.output) as MongoStatusOutput).notAsked).toEqual([expect.objectContaining({ pod: 'mongo-1', cause: 'container-missing' })]);
  });

  it('a healthy answer: complete, no warnings', async () => {
    const { kube } = fakeKube(() => ok(fixture('e2e/healthy.json')));
    const { deps, logged } = fakeDeps(kube);
    const r = await mongoStatusCommand.run!(args({ output: 'json' }), deps);
    expect(JSON.parse(r.output)).toMatchObject({ complete: true, notAsked: [], warnings: [] });
    expect(logged).toEqual([]);
  });
});

describe('pickContainer', () => {
  it.each([
    [['mongo-sidecar', 'mongo'], undefined, 'mongo'],
    [['sidecar', 'db'], undefined, 'db'], // runs mongod
    [['a', 'b'], 'b', 'b'],
  ])('%j (-c %s) -> %s', (names, wanted, want) => {
    const p = pod(0);
    p.spec.containers = names.map((n) => ({ name: n, ...(n === 'db' ? { command: ['/usr/bin/mongod'] } : {}) }));
    expect(pickContainer(p, wanted)).toBe(want);
  });
  it('says which containers exist when -c is wrong', () => {
    expect(() => pickContainer(pod(0), 'nope')).toThrow(UsageError);
  });
});
