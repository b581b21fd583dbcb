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
    log: () => {},
    spinner: async () => silentSpinner,
    confirm: async () => false,
    interactive: false,
    stdoutIsTTY: false,
    color: palette(false),
    signal: ac.signal,
  };
  return { deps, written };
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

  it('neither shell: a finding naming the container and -c', async () => {
    const { kube } = fakeKube(missing);
    const r = await mongoStatusCommand.run!(args(), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('neither mongosh nor the legacy mongo shell is installed in container mongo of pod mongo-0; pick the container running mongod with -c');
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

  it('no Ready pod: an error that says to pick one', async () => {
    const { kube } = fakeKube(() => ok(''), { pods: [pod(0, false)] });
    await expect(mongoStatusCommand.run!(args(), fakeDeps(kube).deps)).rejects.toThrow(/has no Ready pod to ask/);
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
