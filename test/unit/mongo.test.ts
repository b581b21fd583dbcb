import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMissingExecutable } from '../../src/core/exec-result.js';
import {
  analyzeMongo,
  classifyMongoError,
  mapHost,
  splitHost,
  viewFromFailure,
  viewFromProbe,
  type MongoView,
  type ReplSetConfig,
  type ReplSetStatus,
} from '../../src/core/mongo.js';
import { parseProbeOutput, parseShellDocument } from '../../src/core/mongo-parse.js';
import { PROBE_MARKER, probeCommand, probeScript, probeStdin } from '../../src/core/mongo-script.js';
import type { Pod, StatefulSet } from '../../src/core/types.js';

const dir = path.resolve(import.meta.dirname, '../fixtures/mongo');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

function sts(name = 'mongo', replicas = 3, serviceName = 'mongo-service'): StatefulSet {
  return { metadata: { name, namespace: 'prod', uid: 'u-sts' }, spec: { replicas, serviceName, selector: { matchLabels: { app: name } }, template: { spec: { containers: [] } } } };
}
function pod(name: string, ip: string, ready = true): Pod {
  return {
    metadata: { name, namespace: 'prod', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mongo', uid: 'u-sts', controller: true }] },
    spec: { containers: [{ name: 'mongo' }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}
const pods = (n: number) => Array.from({ length: n }, (_, i) => pod(`mongo-${i}`, `10.0.0.${10 + i}`));
const NS = 'prod';

function probeView(file: string, podName = 'mongo-0', ns = NS): MongoView {
  const text = read(file).replaceAll('__NS__', ns);
  const out = parseProbeOutput(text, PROBE_MARKER)!;
  return viewFromProbe(out, { pod: podName, container: 'mongo', authDb: 'admin' }, 'mongosh');
}
function shellView(statusFile: string, confFile: string | undefined, podName = 'mongo-0'): MongoView {
  const v: MongoView = { pod: podName, shell: 'mongo', status: parseShellDocument(read(statusFile)) as ReplSetStatus };
  if (confFile) v.config = parseShellDocument(read(confFile)) as ReplSetConfig;
  return v;
}
const kinds = (r: { findings: { kind: string }[] }) => r.findings.map((f) => f.kind);

describe('hosts and pods', () => {
  it.each([
    ['mongo-1.mongo-service.prod.svc.cluster.local:27017', { pod: 'mongo-1', match: 'dns', stable: true }],
    ['mongo-1.mongo-service:27017', { pod: 'mongo-1', match: 'dns', stable: true }],
    ['mongo-1.mongo-service.prod', { pod: 'mongo-1', match: 'dns', stable: true }],
    ['MONGO-1.mongo-service.prod.svc.example.org.', { pod: 'mongo-1', match: 'dns', stable: true }],
    ['mongo-1:27017', { pod: 'mongo-1', match: 'hostname', stable: false }],
    ['10.0.0.11:27017', { pod: 'mongo-1', match: 'ip', stable: false }],
    ['mongo-1.other-svc.prod.svc.cluster.local:27017', { pod: 'mongo-1', match: 'other-service', stable: false }],
    ['mongo-1.mongo-service.staging.svc.cluster.local:27017', { match: 'none', stable: false }],
    ['mongo-7.mongo-service.prod.svc.cluster.local:27017', { match: 'none', stable: false }],
    ['10.9.9.9:27017', { match: 'none', stable: false }],
    ['localhost:27017', { match: 'none', stable: false }],
  ])('%s', (host, want) => {
    expect(mapHost(host, pods(3), 'mongo-service', NS)).toEqual(want);
  });

  it('splits ports, including bracketed IPv6', () => {
    expect(splitHost('a.b:27018')).toEqual({ name: 'a.b', port: 27018 });
    expect(splitHost('a.b')).toEqual({ name: 'a.b', port: 27017 });
    expect(splitHost('[fd00::1]:27019')).toEqual({ name: 'fd00::1', port: 27019 });
  });
});

describe('analyzeMongo: pods that could not be asked', () => {
  const forbidden = (pod: string): MongoView => ({ pod, container: 'mongo', notAsked: { cause: 'forbidden', pod, detail: `forbidden: you may not create pods/exec "${pod}"`, verb: 'create', resource: 'pods/exec', canI: [`kubectl auth can-i create pods --subresource=exec -n ${NS}`] } });
  it('one pod answered in the default mode: complete; the skipped pod is listed', () => {
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [forbidden('mongo-0'), probeView('e2e/healthy.json', 'mongo-1')], maxLagMs: 10_000 });
    expect(r.complete).toBe(true);
    expect(r.views.map((v) => v.pod)).toEqual(['mongo-1']);
    expect(r.notAsked).toEqual([expect.objectContaining({ pod: 'mongo-0', cause: 'forbidden', label: `exec forbidden (pods/exec create) in namespace ${NS}` })]);
    expect(r.findings).toEqual([]);
  });
  it('--each with one pod not asked, --pod not asked, nobody asked: incomplete, and no finding is made up', () => {
    const each = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [probeView('e2e/healthy.json'), forbidden('mongo-1'), probeView('e2e/healthy.json', 'mongo-2')], maxLagMs: 10_000, mode: 'each' });
    expect(each.complete).toBe(false);
    expect(each.findings).toEqual([]);
    expect(each.members).toHaveLength(3);
    expect(analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [forbidden('mongo-1')], maxLagMs: 10_000, mode: 'pod' }).complete).toBe(false);
    const nobody = analyzeMongo({ sts: sts(), pods: [], namespace: NS, views: [], maxLagMs: 10_000, nobody: { label: 'the set has no pods', reason: 'no pods', fix: 'scale up' } });
    expect(nobody).toMatchObject({ complete: false, members: [], findings: [], notAsked: [{ pod: null, label: 'the set has no pods' }] });
  });
});

describe('analyzeMongo on in-cluster sets', () => {
  it('a healthy 3-member set: rows from the primary, no findings', () => {
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [probeView('e2e/healthy.json')], maxLagMs: 10_000 });
    expect(r.findings).toEqual([]);
    expect(r.replicaSet).toBe('rs0');
    expect(r.primary).toBe('mongo-0.mongo-service.prod.svc.cluster.local:27017');
    expect(r.votingMembers).toBe(3);
    expect(r.members.map((m) => [m.pod, m.state, m.health, m.lagMs, m.syncSource?.split('.')[0]])).toEqual([
      ['mongo-0', 'PRIMARY', 'up', 0, undefined],
      ['mongo-1', 'SECONDARY', 'up', 0, 'mongo-0'],
      ['mongo-2', 'SECONDARY', 'up', 0, 'mongo-0'],
    ]);
    // status.date 16:36:54.319 - lastHeartbeat 16:36:53.730
    expect(r.members[1]!.lastHeartbeatAgeMs).toBe(589);
    expect(r.members[0]!.lastHeartbeatAgeMs).toBeUndefined();
    expect(r.members[1]!.pingMs).toBe(8);
  });

  it('no primary, one member unreachable', () => {
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [probeView('e2e/no-primary.json', 'mongo-1')], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['no-primary', 'member-unreachable']);
    expect(r.findings[1]!.message).toContain('Connection refused');
    expect(r.members[0]).toMatchObject({ state: 'DOWN', health: 'down' });
    expect(r.members[0]!.lagMs).toBeUndefined();
  });

  it('scaled up without rs.add: the new pod is missing from the config, with the rs.add() to run', () => {
    const r = analyzeMongo({ sts: sts('mongo', 4), pods: pods(4), namespace: NS, views: [probeView('e2e/healthy.json')], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['pod-not-in-config']);
    expect(r.findings[0]).toMatchObject({ pod: 'mongo-3', fix: 'rs.add("mongo-3.mongo-service.prod.svc.cluster.local:27017")' });
  });

  it('scaled down without rs.remove: a config member with no pod', () => {
    const r = analyzeMongo({ sts: sts('mongo', 2), pods: pods(2), namespace: NS, views: [probeView('e2e/healthy.json')], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['member-without-pod']);
    expect(r.findings[0]!.fix).toBe('rs.remove("mongo-2.mongo-service.prod.svc.cluster.local:27017")');
  });

  it('canonical EJSON with a hidden delayed member, an arbiter and a lagging secondary', () => {
    const r = analyzeMongo({ sts: sts('mongo', 5), pods: pods(5), namespace: NS, views: [probeView('ejson-canonical-hidden-delayed.probe.txt')], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['lag']);
    expect(r.findings[0]!.message).toMatch(/mongo-2\..* is 25s behind the primary/);
    const delayed = r.members[3]!;
    expect(delayed).toMatchObject({ hidden: true, delaySeconds: 3600, priority: 0, lagMs: 3605_000 });
    expect(r.members[4]).toMatchObject({ state: 'ARBITER', arbiter: true, priority: 0, votes: 1 });
    expect(r.members[4]!.lagMs).toBeUndefined();
    expect(r.members[0]!.priority).toBe(2);
    // Lag under the limit: nothing.
    expect(analyzeMongo({ sts: sts('mongo', 5), pods: pods(5), namespace: NS, views: [probeView('ejson-canonical-hidden-delayed.probe.txt')], maxLagMs: 30_000 }).findings).toEqual([]);
  });

  it('more than 7 voting members, and the rs.add() for a pod beyond them is non-voting', () => {
    const v = probeView('e2e/healthy.json');
    const members = Array.from({ length: 8 }, (_, i) => ({ _id: i, host: `mongo-${i}.mongo-service.prod.svc.cluster.local:27017` }));
    v.config = { _id: 'rs0', version: 9, members };
    const r = analyzeMongo({ sts: sts('mongo', 9), pods: pods(9), namespace: NS, views: [v], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['too-many-voting-members', 'pod-not-in-config']);
    expect(r.findings[0]!.message).toContain('8 voting members');
    expect(r.findings[1]!.fix).toBe('rs.add({host: "mongo-8.mongo-service.prod.svc.cluster.local:27017", votes: 0, priority: 0})');
  });

  it('more than 50 members', () => {
    const v = probeView('e2e/healthy.json');
    v.config = { _id: 'rs0', members: Array.from({ length: 51 }, (_, i) => ({ _id: i, host: `mongo-${i}.mongo-service:27017`, votes: i < 7 ? 1 : 0 })) };
    const r = analyzeMongo({ sts: sts('mongo', 51), pods: pods(51), namespace: NS, views: [v], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['too-many-members']);
  });

  it('two primaries across --each views', () => {
    const a = probeView('e2e/healthy.json', 'mongo-0');
    const b = probeView('e2e/healthy.json', 'mongo-2');
    b.status = structuredClone(b.status)!;
    for (const m of b.status.members!) {
      m.self = m._id === 2;
      if (m._id === 2) Object.assign(m, { state: 1, stateStr: 'PRIMARY' });
      if (m._id === 0) Object.assign(m, { state: 8, stateStr: '(not reachable/healthy)', health: 0 });
    }
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [a, b], maxLagMs: 10_000 });
    expect(kinds(r)).toContain('multiple-primaries');
    expect(r.source).toBe('mongo-0');
    expect(r.views.map((v) => [v.pod, v.selfState, v.primary?.split('.')[0]])).toEqual([
      ['mongo-0', 'PRIMARY', 'mongo-0'],
      ['mongo-2', 'PRIMARY', 'mongo-2'],
    ]);
  });

  it('errors of the asked pods become findings: auth (naming user and db), not --replSet, not initiated', () => {
    const ctx = { pod: 'mongo-0', container: 'mongo', username: 'admin', authDb: 'admin' };
    const auth = viewFromProbe({ user: 'admin', authDb: 'admin', authError: { message: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' } }, ctx, 'mongosh');
    expect(auth.error).toEqual({ kind: 'auth-failed', message: 'authentication failed for user "admin" on database "admin" in pod mongo-0 (container mongo): Authentication failed.' });
    const norepl = viewFromProbe({ statusError: { message: 'not running with --replSet', code: 76, codeName: 'NoReplicationEnabled' } }, ctx, 'mongosh');
    expect(norepl.error!.kind).toBe('not-replset');
    expect(norepl.error!.message).toContain('start it with --replSet');
    const uninit = viewFromProbe({ statusError: { message: 'no replset config has been received', code: 94, codeName: 'NotYetInitialized' } }, ctx, 'mongo');
    expect(uninit.error!.kind).toBe('not-initiated');
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [auth], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['auth-failed']);
    expect(r.members).toEqual([]);
  });

  it('hosts given as pod IPs or bare hostnames are flagged with the reconfig to run', () => {
    const v = probeView('e2e/healthy.json');
    v.config = structuredClone(v.config)!;
    v.config.members![1]!.host = '10.0.0.11:27017';
    v.config.members![2]!.host = 'mongo-2:27017';
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [v], maxLagMs: 10_000 });
    expect(kinds(r)).toEqual(['host-not-stable-dns', 'host-not-stable-dns']);
    expect(r.findings[0]!.message).toContain('the IP of pod mongo-1');
    expect(r.findings[0]!.fix).toBe('cfg = rs.conf(); cfg.members[1].host = "mongo-1.mongo-service.prod.svc.cluster.local:27017"; rs.reconfig(cfg)');
    expect(r.members[1]!.pod).toBe('mongo-1');
  });
});

describe('analyzeMongo on the published examples (hosts outside Kubernetes)', () => {
  it('manual 4.0 primary view: 3 members, primary m3, chained sync', () => {
    const r = analyzeMongo({ sts: sts(), pods: [], namespace: NS, views: [shellView('manual-4.0-primary.status.txt', undefined)], maxLagMs: 10_000 });
    expect(r.primary).toBe('m3.example.net:27017');
    expect(r.members.map((m) => [m.host, m.state, m.syncSource ?? '', m.lagMs])).toEqual([
      ['m1.example.net:27017', 'SECONDARY', 'm3.example.net:27017', 0],
      ['m2.example.net:27017', 'SECONDARY', 'm3.example.net:27017', 0],
      ['m3.example.net:27017', 'PRIMARY', '', 0],
    ]);
    expect(r.findings).toEqual([]); // no config: host/pod checks need rs.conf()
  });

  it('manual 4.0 secondary view: lag of the asking secondary is negative-clamped, the other is 0', () => {
    const r = analyzeMongo({ sts: sts(), pods: [], namespace: NS, views: [shellView('manual-4.0-secondary.status.txt', undefined, 'x')], maxLagMs: 10_000 });
    expect(r.source).toBe('x');
    expect(r.members.map((m) => m.lagMs)).toEqual([0, 0, 0]);
    expect(r.members[1]!.self).toBe(true);
  });

  it('2.6 capture with an arbiter and protocol-version-0 optimes', () => {
    const r = analyzeMongo({ sts: sts(), pods: [], namespace: NS, views: [shellView('capture-2.6-arbiter.status.txt', undefined)], maxLagMs: 10_000 });
    expect(r.members.map((m) => [m.state, m.arbiter, m.lagMs, m.pingMs, m.lastHeartbeatAgeMs])).toEqual([
      ['PRIMARY', false, 0, undefined, undefined],
      ['ARBITER', true, undefined, 0, 2000],
      ['SECONDARY', false, 0, 2, 0],
    ]);
    expect(r.members[2]!.syncSource).toBe('m2020:31000');
  });

  it('5.0 PSA capture with rs.conf(): IP hosts that match no pod are members without a pod', () => {
    const r = analyzeMongo({ sts: sts(), pods: pods(3), namespace: NS, views: [shellView('capture-5.0-psa.status.txt', 'capture-5.0-psa.conf.txt')], maxLagMs: 10_000 });
    expect(r.replicaSet).toBe('myrs');
    expect(r.configVersion).toBe(4);
    expect(r.members[2]).toMatchObject({ state: 'ARBITER', arbiter: true, votes: 1, priority: 0 });
    expect(kinds(r)).toEqual(['pod-not-in-config', 'pod-not-in-config', 'pod-not-in-config', 'member-without-pod', 'member-without-pod', 'member-without-pod']);
  });
});

describe('errors and exec results', () => {
  it.each([
    [{ message: 'Authentication failed.', code: 18 }, 'auth-failed'],
    [{ message: 'command replSetGetStatus requires authentication', code: 13, codeName: 'Unauthorized' }, 'unauthorized'],
    [{ message: 'not running with --replSet' }, 'not-replset'],
    [{ message: 'something else', code: 1 }, 'query-failed'],
  ])('classifies %j', (e, kind) => expect(classifyMongoError(e)).toBe(kind));

  it.each([
    [{ exitCode: 127, stderr: 'sh: mongosh: not found' }, true],
    [{ exitCode: -1, stderr: "", failure: "Internal error occurred: error executing command in container: cmd start: mongosh --quiet --norc --eval <probe script>: exec: \"mongosh\": executable file not found in $PATH" }, true], // KWOK, recorded
    [{ exitCode: -1, stderr: "fake: executable file not found", failure: "Internal error occurred: error executing command in container: cmd wait: mongosh --quiet: exit status 127" }, true],
    [{ exitCode: 126, stderr: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "mongosh": executable file not found in $PATH: unknown' }, true],
    [{ exitCode: 1, stderr: 'MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017' }, false],
    [{ exitCode: 0, stderr: '' }, false],
  ])('missing executable? %j', (r, want) => expect(isMissingExecutable(r)).toBe(want));

  it('reads a shell that failed before printing: unreachable mongod, auth failure on the command line', () => {
    const ctx = { pod: 'mongo-0', container: 'mongo', authDb: 'admin', username: 'u' };
    expect(viewFromFailure('Current Mongosh Log ID: x\nMongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017\n', undefined, 1, ctx, 'mongosh').error).toEqual({
      kind: 'unreachable',
      message: 'mongosh in pod mongo-0 (container mongo) could not reach mongod: MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017',
    });
    expect(viewFromFailure('MongoServerError: Authentication failed.', undefined, 1, ctx, 'mongosh').error!.kind).toBe('auth-failed');
  });
});

/** A stand-in for mongosh's require('fs') whose fd 0 holds `text` (and never reaches EOF if `endless`). */
function fakeFs(text: string) {
  const bytes = Buffer.from(text);
  let at = 0;
  return () => ({
    readSync: (_fd: number, buf: Buffer) => {
      if (at >= bytes.length) return 0;
      buf[0] = bytes[at++]!;
      return 1;
    },
  });
}

describe('the probe script', () => {
  it('keeps the password off the command line and sends it on stdin', () => {
    const cmd = probeCommand('mongosh', { username: 'admin', authDb: 'admin', tls: true, tlsCaFile: '/etc/ca.pem' });
    expect(cmd.slice(0, 6)).toEqual(['mongosh', '--quiet', '--norc', '--tls', '--tlsCAFile', '/etc/ca.pem']);
    expect(cmd[6]).toBe('--eval');
    expect(cmd.join(' ')).not.toContain('s3cret');
    expect(probeStdin('s3cret')).toBe('{"password":"s3cret"}\n');
    expect(probeStdin(undefined)).toBeUndefined();
  });

  it('is valid JavaScript that prints the marker line (run against a stand-in db)', () => {
    const printed: string[] = [];
    const fakeDb = {
      version: () => '7.0.0',
      getSiblingDB: () => ({
        runCommand: (c: Record<string, number>) => (c.replSetGetStatus ? { set: 'rs0', date: new Date(0), members: [], ok: 1 } : { config: { _id: 'rs0', members: [] }, ok: 1 }),
        auth: () => 1,
      }),
    };
    const EJSON = { stringify: (v: unknown) => JSON.stringify(v) };
    new Function('db', 'print', 'EJSON', 'require', probeScript({ username: 'admin' }))(fakeDb, (s: string) => printed.push(s), EJSON, fakeFs('{"password":"x"}\nanything after the line is not read'));
    const out = parseProbeOutput(printed.join('\n'), PROBE_MARKER)!;
    expect(out).toMatchObject({ version: '7.0.0', user: 'admin', authDb: 'admin', status: { set: 'rs0' }, config: { _id: 'rs0' } });
    expect(JSON.stringify(out)).not.toContain('"x"');
  });

  it('reports an auth failure the shell throws, and skips the status', () => {
    const printed: string[] = [];
    const fakeDb = {
      version: () => '7.0.0',
      getSiblingDB: () => ({
        runCommand: () => {
          throw new Error('should not run');
        },
        auth: () => {
          throw Object.assign(new Error('Authentication failed.'), { code: 18, codeName: 'AuthenticationFailed' });
        },
      }),
    };
    new Function('db', 'print', 'EJSON', 'require', probeScript({ username: 'admin', authDb: 'users' }))(fakeDb, (s: string) => printed.push(s), { stringify: JSON.stringify }, fakeFs('{"password":"bäd"}\n'));
    const out = parseProbeOutput(printed.join('\n'), PROBE_MARKER)!;
    expect(out).toEqual({ probe: 1, version: '7.0.0', user: 'admin', authDb: 'users', authError: { message: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' } });
  });
});

describe('the probe script in the legacy shell (no EJSON, no require)', () => {
  it('encodes Date, Timestamp, NumberLong and ObjectId as Extended JSON that decodes like mongosh output', () => {
    class Timestamp {
      constructor(
        public t: number,
        public i: number,
      ) {}
    }
    class NumberLong {
      constructor(private v: string) {}
      toString() {
        return `NumberLong("${this.v}")`;
      }
      toNumber() {
        return Number(this.v);
      }
    }
    class ObjectId {
      constructor(public str: string) {}
    }
    const printed: string[] = [];
    const status = {
      set: 'rs0',
      date: new Date('2018-05-13T16:36:54.319Z'),
      term: new NumberLong('6'),
      members: [{ _id: 0, name: 'a:27017', optime: { ts: new Timestamp(1526229410, 1), t: new NumberLong('6') }, optimeDate: new Date('2018-05-13T16:36:50Z'), self: true, state: 1 }],
      ok: 1,
    };
    const db = {
      version: () => '4.4.29',
      getSiblingDB: () => ({
        runCommand: (c: Record<string, number>) => (c.replSetGetStatus ? status : { config: { _id: 'rs0', settings: { replicaSetId: new ObjectId('5af85f5b0d5b6b7f4a1e2c3d') }, members: [] }, ok: 1 }),
      }),
    };
    new Function('db', 'print', 'Timestamp', 'NumberLong', 'ObjectId', probeScript({}))(db, (s: string) => printed.push(s), Timestamp, NumberLong, ObjectId);
    const out = parseProbeOutput(printed.join('\n'), PROBE_MARKER)!;
    const st = out.status as any;
    expect(st.date).toEqual(new Date('2018-05-13T16:36:54.319Z'));
    expect(st.term).toBe(6);
    expect(st.members[0].optime.ts).toEqual({ t: 1526229410, i: 1 });
    expect(st.members[0].optime.ts.constructor.name).toBe('BsonTimestamp');
    expect((out.config as any).settings.replicaSetId).toBe('5af85f5b0d5b6b7f4a1e2c3d');
  });
});
