/** `kubectl sts doctor` run() and fleet mode against fake Kubes: the reads it makes, forbidden reads, -w, several contexts. */
import { describe, expect, it } from 'vitest';
import { recordingDeps } from '../helpers/fake-deps.js';
import { doctorCommand, type DoctorArgs } from '../../src/commands/doctor.js';
import { runFleet } from '../../src/commands/fleet.js';
import type { GlobalArgs, Host } from '../../src/commands/command.js';
import type { Kube } from '../../src/kube/index.js';
import { CliError, ExitCode, KubeApiError } from '../../src/errors.js';
import type { DoctorOutput } from '../../src/render/doctor.js';
import type { KubeObject } from '../../src/core/types.js';
import { NS, pod, service, slice, sts } from '../fixtures/dns/objects.js';

type World = Record<string, KubeObject[]>;

function world(sets = ['web']): World {
  const ss = sets.map((name) => {
    const s = sts();
    s.metadata = { ...s.metadata, name, uid: `uid-${name}`, generation: 1 };
    s.spec.replicas = 1;
    s.status = { observedGeneration: 1, currentRevision: 'r1', updateRevision: 'r1', replicas: 1, readyReplicas: 1 };
    return s;
  });
  const pods = sets.map((name) => {
    const p = pod(0, { name: `${name}-0`, owner: name });
    p.metadata.ownerReferences![0]!.uid = `uid-${name}`;
    p.metadata.labels = { ...p.metadata.labels, 'controller-revision-hash': 'r1' };
    return p;
  });
  return {
    statefulsets: ss,
    pods,
    persistentvolumeclaims: [],
    persistentvolumes: [],
    nodes: [{ metadata: { name: 'n1' } }],
    poddisruptionbudgets: [],
    storageclasses: [],
    services: [service()],
    endpointslices: [slice(pods)],
    events: [],
    controllerrevisions: [],
  };
}

function fakeKube(w: World, o: { forbidden?: string[]; unreachable?: boolean } = {}) {
  const lists: string[] = [];
  const client = {
    requestCount: 0,
    async list(path: string) {
      client.requestCount++;
      if (o.unreachable) throw new CliError('the API server https://x (context "c") refused the connection', ExitCode.Unreachable);
      const plural = path.split('?')[0]!.split('/').pop()!;
      lists.push(plural);
      if (o.forbidden?.includes(plural)) throw new KubeApiError(`${plural} is forbidden: User "u" cannot list resource "${plural}"`, { status: 403 });
      const items = w[plural];
      if (!items) throw new Error(`unexpected list ${path}`);
      return { items: structuredClone(items), resourceVersion: '1' };
    },
    async getNamed(path: string) {
      client.requestCount++;
      const name = path.split('/').pop()!;
      const s = w.statefulsets!.find((x) => x.metadata.name === name);
      if (!s) throw new KubeApiError(`statefulsets.apps "${name}" not found`, { status: 404 });
      return structuredClone(s);
    },
  };
  return { kube: { client, namespace: NS, contextName: 'c', server: 'https://x', exec: async () => ({ stdout: '', stderr: '', exitCode: 0 }) } as unknown as Kube, lists };
}

function args(o: Partial<DoctorArgs & GlobalArgs> = {}): DoctorArgs & GlobalArgs {
  return { stuckAfter: '5m', mongo: false, live: false, watch: false, interval: '5s', allNamespaces: false, output: 'json', requestTimeout: '0', color: false, verbose: 0, namespace: NS, ...o };
}

describe('doctor run()', () => {
  it('one LIST per resource type however many sets; no events and no revisions while nothing needs them', async () => {
    const f = fakeKube(world(['a', 'b', 'c']));
    const { deps } = recordingDeps(f.kube);
    const r = await doctorCommand.run!(args(), deps);
    const out = JSON.parse(r.output) as DoctorOutput;
    expect(out.statefulSets.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect([...f.lists].sort()).toEqual(['endpointslices', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'poddisruptionbudgets', 'pods', 'services', 'statefulsets', 'storageclasses']);
  });

  it('lists the events once when a pod is unwell, and puts them in the evidence', async () => {
    const w = world(['web']);
    (w.pods![0] as any).status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }] };
    w.events = [{ metadata: { name: 'e', namespace: NS }, involvedObject: { kind: 'Pod', name: 'web-0', namespace: NS, uid: 'uid-web-0' }, type: 'Warning', reason: 'FailedScheduling', message: '0/1 nodes are available' } as KubeObject];
    const f = fakeKube(w);
    const r = await doctorCommand.run!(args({ name: 'web' }), recordingDeps(f.kube).deps);
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(f.lists.filter((l) => l === 'events')).toHaveLength(1);
    const finding = (JSON.parse(r.output) as DoctorOutput).statefulSets[0]!.findings.find((x) => x.check === 'pod-unschedulable')!;
    expect(finding.evidence).toContain('event Warning FailedScheduling: 0/1 nodes are available');
  });

  it('forbidden cluster-scoped reads: a warning each, complete false, exit 4 — never 0', async () => {
    const f = fakeKube(world(), { forbidden: ['persistentvolumes', 'nodes', 'storageclasses'] });
    const rec = recordingDeps(f.kube);
    const r = await doctorCommand.run!(args(), rec.deps);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    const out = JSON.parse(r.output) as DoctorOutput;
    expect(out.complete).toBe(false);
    expect(out.warnings).toHaveLength(3);
    expect(rec.logged.filter((l) => l.startsWith('warning: '))).toHaveLength(3);
    expect(rec.logged[0]).toMatch(/^warning: volume checks skipped \(PersistentVolumes are cluster-scoped\).*: persistentvolumes is forbidden/);
  });

  it('a forbidden events list costs only the evidence: said on stderr, the answer stays complete', async () => {
    const w = world();
    (w.pods![0] as any).status.conditions[0].status = 'False';
    (w.pods![0] as any).status.conditions[0].lastTransitionTime = '2025-01-01T00:00:00Z';
    const f = fakeKube(w, { forbidden: ['events'] });
    const rec = recordingDeps(f.kube);
    const r = await doctorCommand.run!(args(), rec.deps);
    const out = JSON.parse(r.output) as DoctorOutput;
    expect(out.complete).toBe(true);
    expect(out.warnings[0]).toMatch(/^events not read/);
    expect(r.exitCode).toBe(ExitCode.Problems); // web-0 not Ready for a year
  });

  it('-w: one frame per round with its header, until interrupted; warnings said once while they stay the same', async () => {
    const f = fakeKube(world(), { forbidden: ['nodes'] });
    const rec = recordingDeps(f.kube);
    let rounds = 0;
    const deps = { ...rec.deps };
    deps.sleep = async () => {
      if (++rounds === 3) throw new Error('interrupted');
    };
    const r = await doctorCommand.run!(args({ watch: true, output: 'table', interval: '2s' }), deps);
    expect(rec.written).toHaveLength(3);
    expect(rec.written[0]).toMatch(new RegExp(`^Every 2s: kubectl sts doctor -n ${NS}   2026-01-01T00:00:00Z\\n\\nSTATEFULSET`));
    expect(rec.logged.filter((l) => l.startsWith('warning: node checks skipped'))).toHaveLength(1);
    expect(r).toEqual({ output: '', exitCode: ExitCode.Incomplete });
  });
});

describe('fleet mode', () => {
  const host = (kubes: Record<string, Kube | 'unreachable'>) => {
    const logged: string[] = [];
    const h: Host = {
      deps: (a) => {
        const k = a.context ? kubes[a.context] : undefined;
        const d = recordingDeps(k && k !== 'unreachable' ? k : fakeKube({}, { unreachable: true }).kube).deps;
        return { ...d, log: (l) => void logged.push(l) };
      },
      done: () => {},
    };
    return { h, logged };
  };

  it('every context once, the worst exit code, an unreachable one reported in its place', async () => {
    const bad = world();
    (bad.pods![0] as any).status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no node' }] };
    const { h } = host({ eu: fakeKube(world()).kube, us: fakeKube(bad).kube, lab: 'unreachable' });
    const r = await runFleet(doctorCommand, args({ output: 'table' }) as never, h, ['eu', 'us', 'lab']);
    expect(r.exitCode).toBe(ExitCode.Unreachable);
    expect(r.output.split('\n').slice(0, 3)).toEqual(['CONTEXT   STATEFULSET   READY   STATUS', 'eu        web           1/1     healthy', 'us        web           0/1     2 errors']);
    expect(r.output).toMatch(/=== context lab: could not be checked \(exit 3\): the API server https:\/\/x \(context "c"\) refused the connection/);
    const json = await runFleet(doctorCommand, args({ output: 'json' }) as never, h, ['eu', 'lab']);
    const doc = JSON.parse(json.output);
    expect(doc.contexts.map((c: any) => [c.context, c.exitCode, c.result?.kind ?? c.error.slice(0, 14)])).toEqual([
      ['eu', 0, 'DoctorReport'],
      ['lab', 3, 'the API server'],
    ]);
  });

  it('warnings of each context are prefixed with it; -w and -o name are refused', async () => {
    const { h, logged } = host({ eu: fakeKube(world(), { forbidden: ['nodes'] }).kube });
    const r = await runFleet(doctorCommand, args({ output: 'table' }) as never, h, ['eu']);
    expect(r.exitCode).toBe(ExitCode.Incomplete);
    expect(logged[0]).toMatch(/^\[eu\] warning: node checks skipped/);
    await expect(runFleet(doctorCommand, args({ watch: true }) as never, h, ['eu'])).rejects.toThrow(/does not watch/);
    await expect(runFleet(doctorCommand, args({ output: 'name' }) as never, h, ['eu'])).rejects.toThrow(/cannot print -o name/);
  });
});
