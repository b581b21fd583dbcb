import { recordingDeps } from '../helpers/fake-deps.js';
import { describe, expect, it } from 'vitest';
import { runFinalize, parseTargets, type FinalizeArgs } from '../../src/commands/finalize-localpv.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import type { Kube } from '../../src/kube/index.js';
import { AbortedError, CliError, ExitCode, KubeApiError, UsageError } from '../../src/errors.js';
import type { FinalizeOutput } from '../../src/render/finalize.js';
import type { FinalizeInputs } from '../../src/core/finalize.js';
import { loadCluster, NOW } from '../fixtures/finalize/load.js';

interface PatchCall {
  path: string;
  body: any;
  type: string;
  dryRun: string;
}

/** A fake API: LISTs answer from the fixture state; PATCH is recorded and may be scripted to fail. */
function fakeKube(state: FinalizeInputs, o: { patchErrors?: (Error | undefined)[]; afterConflict?: (s: FinalizeInputs) => void } = {}) {
  const lists: string[] = [];
  const patches: PatchCall[] = [];
  const errors = [...(o.patchErrors ?? [])];
  const client = {
    requestCount: 0,
    list: async (path: string) => {
      lists.push(path);
      const items =
        path === '/api/v1/persistentvolumes'
          ? state.pvs
          : path === '/api/v1/persistentvolumeclaims'
            ? state.pvcs
            : path === '/api/v1/pods'
              ? state.pods
              : path === '/api/v1/nodes'
                ? state.nodes
                : undefined;
      if (!items) throw new Error(`unexpected LIST ${path}`);
      return { items: structuredClone(items), resourceVersion: '1' };
    },
    patch: async (path: string, body: unknown, type: string, dryRun = 'none') => {
      patches.push({ path, body, type, dryRun });
      const err = errors.shift();
      if (err) {
        if ((err as KubeApiError).status === 409) o.afterConflict?.(state);
        throw err;
      }
      return {};
    },
  };
  const kube = { client, namespace: 'ns1', contextName: 'test', server: 'https://k', exec: async () => ({}) } as unknown as Kube;
  return { kube, lists, patches };
}

function fakeDeps(kube: Kube, o: { interactive?: boolean; answer?: boolean } = {}) {
  return recordingDeps(kube, { ...o, now: NOW });
}

function args(over: Partial<FinalizeArgs & GlobalArgs> = {}): FinalizeArgs & GlobalArgs {
  return {
    names: [],
    allSafe: false,
    force: false,
    claims: false,
    allTypes: false,
    yes: false,
    dryRun: 'none',
    allNamespaces: false,
    output: 'table',
    requestTimeout: '0',
    color: false,
    verbose: 0,
    ...over,
  };
}

const conflict = () => new KubeApiError('the object has been modified', { status: 409 });

describe('finalize-localpv: diagnose only', () => {
  it('reads four lists, prints table and details, exits 1 while PVs are stuck', async () => {
    const f = fakeKube(loadCluster());
    const d = fakeDeps(f.kube);
    const r = await runFinalize(args(), d.deps);
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(f.lists.sort()).toEqual(['/api/v1/nodes', '/api/v1/persistentvolumeclaims', '/api/v1/persistentvolumes', '/api/v1/pods']);
    expect(f.patches).toEqual([]);
    expect(r.output).toMatch(/^NAME\s+TYPE\s+TERMINATING\s+FINALIZERS\s+CLAIM\s+NODE\s+VERDICT$/m);
    expect(r.output).toMatch(/^pv-blocked\s+local\s+5m\s+kubernetes.io\/pv-protection\s+ns1\/data-web-0 \(exists\)\s+n1\s+blocked by pod ns1\/web-0$/m);
    expect(r.output).toMatch(/^pv-nodegone\s+.*n-gone \(gone\)\s+node gone$/m);
    expect(r.output).toContain('    removed by: the pv-protection controller (kube-controller-manager)');
    expect(r.output).toContain('  pod ns1/web-0 (Running on node n1)');
    expect(r.output).toContain('  verdict: blocked by pod ns1/web-0 (Running on node n1)');
    expect(r.output).not.toContain('pv-csi');
    expect(r.output).toContain('\n10 objects still stuck Terminating.\n');
  });

  it('nothing stuck: exit 0 and says so', async () => {
    const s = loadCluster();
    s.pvs = s.pvs.filter((p) => !p.metadata.deletionTimestamp);
    const f = fakeKube(s);
    const r = await runFinalize(args(), fakeDeps(f.kube).deps);
    expect(r.exitCode).toBe(ExitCode.Ok);
    expect(r.output).toBe('No PersistentVolume of type local or hostPath (--all-types for every kind) is stuck Terminating.\n');
  });

  it('-o json has the documented shape', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ output: 'json', names: ['pv-blocked'] }), fakeDeps(f.kube).deps);
    const out = JSON.parse(r.output) as FinalizeOutput;
    expect(Object.keys(out)).toEqual(['persistentVolumes', 'actions', 'remaining', 'complete', 'warnings']);
    expect(out.complete).toBe(true);
    expect(out.warnings).toEqual([]);
    expect(out.persistentVolumes).toHaveLength(1);
    const pv = out.persistentVolumes[0]!;
    expect(pv).toMatchObject({
      kind: 'PersistentVolume',
      name: 'pv-blocked',
      volumeType: 'local',
      path: '/mnt/disks/web-0',
      terminatingFor: '5m',
      verdict: 'blocked-by-pod',
      blockingPods: ['ns1/web-0'],
      node: { name: 'n1', exists: true },
      claim: { namespace: 'ns1', name: 'data-web-0', state: 'exists' },
    });
    expect(pv.finalizers[0]).toMatchObject({ name: 'kubernetes.io/pv-protection', removedBy: 'the pv-protection controller (kube-controller-manager)' });
    expect(pv).not.toHaveProperty('metadataBefore');
    expect(out.actions[0]).toMatchObject({ name: 'pv-blocked', result: 'refused' });
    expect(out.remaining).toBe(1);
  });

  it('--claims adds Terminating PVCs of the namespace', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ claims: true, output: 'yaml' }), fakeDeps(f.kube).deps);
    expect(r.output).toContain('persistentVolumeClaims:');
    expect(r.output).toContain('name: data-busy');
    expect(r.output).not.toContain('name: other');
  });
});

describe('finalize-localpv: acting', () => {
  it('refuses a named PV that a running pod uses, without --force: no PATCH, exit 1', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pv-blocked'], yes: true }), fakeDeps(f.kube).deps);
    expect(f.patches).toEqual([]);
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(r.output).toContain(
      'persistentvolume/pv-blocked refused: blocked by pod ns1/web-0 (Running on node n1); stop the pod first, or pass --force to finalize anyway',
    );
  });

  it('--force --yes finalizes it with a merge patch guarded by the resourceVersion read, printing the risk and the pod', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pv-blocked'], force: true, yes: true }), fakeDeps(f.kube).deps);
    expect(f.patches).toEqual([
      { path: '/api/v1/persistentvolumes/pv-blocked', body: { metadata: { finalizers: null, resourceVersion: '101' } }, type: 'merge', dryRun: 'none' },
    ]);
    expect(r.output).toContain('risk: pod ns1/web-0 (Running on node n1) may still be writing to this volume');
    expect(r.output).toContain('--- persistentvolume/pv-blocked\tbefore\n+++ persistentvolume/pv-blocked\tafter');
    expect(r.output).toMatch(/^-  finalizers:\n-    - kubernetes.io\/pv-protection$/m);
    expect(r.output).toContain('persistentvolume/pv-blocked finalized: removed kubernetes.io/pv-protection; the API server deletes it now');
    expect(r.output).toContain(
      'the data is still at /mnt/disks/web-0 on node n1: Kubernetes never wipes it; only a person or a cleanup job on that node can',
    );
    expect(r.exitCode).toBe(ExitCode.Ok);
  });

  it('--all-safe --yes finalizes only safe PVs; a PV a running pod uses is never touched', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ allSafe: true, yes: true }), fakeDeps(f.kube).deps);
    expect(f.patches.map((p) => p.path).sort()).toEqual([
      '/api/v1/persistentvolumes/pv-claim-terminating',
      '/api/v1/persistentvolumes/pv-replaced',
      '/api/v1/persistentvolumes/pv-safe',
    ]);
    expect(r.exitCode).toBe(ExitCode.Problems); // blocked / node-gone / waiting ones remain
    expect(r.output).toContain('objects still stuck Terminating.');
  });

  it('--all-safe with -l limits the sweep', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ allSafe: true, yes: true, selector: 'app=web' }), fakeDeps(f.kube).deps);
    expect(f.patches.map((p) => p.path)).toEqual(['/api/v1/persistentvolumes/pv-safe']);
    // pv-blocked (app=web) remains stuck.
    expect(r.exitCode).toBe(ExitCode.Problems);
  });

  it('a named node-gone PV is finalized with --yes; exit 0 when nothing named remains', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pv-nodegone'], yes: true }), fakeDeps(f.kube).deps);
    expect(f.patches).toHaveLength(1);
    expect(r.output).toContain('risk: claim ns1/data-web-2 is still bound to it and becomes Lost');
    expect(r.output).toContain('the data is still at /mnt/disks/web-2 on node n-gone');
    expect(r.exitCode).toBe(ExitCode.Ok);
  });

  it('without a terminal and without --yes it refuses (exit 1) and says to pass --yes', async () => {
    const f = fakeKube(loadCluster());
    const d = fakeDeps(f.kube, { interactive: false });
    const r = await runFinalize(args({ names: ['pv-safe'] }), d.deps);
    expect(f.patches).toEqual([]);
    expect(r.exitCode).toBe(ExitCode.Problems);
    expect(d.logged.join('\n')).toContain('Pass -y/--yes');
    expect(r.output).toContain('persistentvolume/pv-safe not-confirmed');
    expect(r.output).toContain('-    - kubernetes.io/pv-protection');
  });

  it('interactive: shows the diff first, asks with the exact list, then patches', async () => {
    const f = fakeKube(loadCluster());
    const d = fakeDeps(f.kube, { interactive: true, answer: true });
    const r = await runFinalize(args({ names: ['pv-safe', 'pv-nodegone'] }), d.deps);
    expect(d.written.join('')).toContain('-    - kubernetes.io/pv-protection');
    expect(d.questions[0]).toBe(
      'Remove the finalizers of 2 objects?\n' +
        '  persistentvolume/pv-nodegone: remove kubernetes.io/pv-protection (node-gone, 2 risks)\n' +
        '  persistentvolume/pv-safe: remove kubernetes.io/pv-protection (safe)\n',
    );
    expect(f.patches).toHaveLength(2);
    expect(r.output).not.toContain('Changes:'); // already written before the question
    expect(r.output).toContain('Results:');
  });

  it('interactive: declining aborts without changes', async () => {
    const f = fakeKube(loadCluster());
    const d = fakeDeps(f.kube, { interactive: true, answer: false });
    await expect(runFinalize(args({ names: ['pv-safe'] }), d.deps)).rejects.toBeInstanceOf(AbortedError);
    expect(f.patches).toEqual([]);
  });

  it('--dry-run=client changes nothing and exits as the real run would', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pv-safe'], dryRun: 'client' }), fakeDeps(f.kube).deps);
    expect(f.patches).toEqual([]);
    expect(r.output).toContain('Changes (dry run, client):');
    expect(r.output).toContain('persistentvolume/pv-safe would-finalize: would remove kubernetes.io/pv-protection (dry run)');
    expect(r.exitCode).toBe(ExitCode.Ok);
  });

  it('--dry-run=server sends the patch with dryRun', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pv-blocked'], force: true, dryRun: 'server', output: 'json' }), fakeDeps(f.kube).deps);
    expect(f.patches[0]!.dryRun).toBe('server');
    const out = JSON.parse(r.output) as FinalizeOutput;
    expect(out.dryRun).toBe('server');
    expect(out.actions[0]).toMatchObject({ result: 'would-finalize', dataLeft: { node: 'n1', path: '/mnt/disks/web-0' } });
    expect(out.actions[0]!.risks[0]).toContain('pod ns1/web-0');
    expect(out.actions[0]!.diff).toContain('-    - kubernetes.io/pv-protection');
  });

  it('a conflict re-reads and re-diagnoses, then patches with the new resourceVersion', async () => {
    const f = fakeKube(loadCluster(), {
      patchErrors: [conflict()],
      afterConflict: (s) => {
        s.pvs.find((p) => p.metadata.name === 'pv-safe')!.metadata.resourceVersion = '999';
      },
    });
    const r = await runFinalize(args({ names: ['pv-safe'], yes: true, output: 'json' }), fakeDeps(f.kube).deps);
    expect(f.lists).toHaveLength(8);
    expect(f.patches.map((p) => p.body.metadata.resourceVersion)).toEqual(['105', '999']);
    const out = JSON.parse(r.output) as FinalizeOutput;
    expect(out.actions[0]).toMatchObject({ result: 'finalized', attempts: 2 });
    expect(r.exitCode).toBe(ExitCode.Ok);
  });

  it('a conflict after which a pod uses the volume: refused, not patched again', async () => {
    const f = fakeKube(loadCluster(), {
      patchErrors: [conflict()],
      afterConflict: (s) => {
        const pv = s.pvs.find((p) => p.metadata.name === 'pv-safe')!;
        pv.metadata.resourceVersion = '1000';
        s.pvcs.push({ metadata: { name: 'data-old', namespace: 'ns1' }, spec: { volumeName: 'pv-safe' }, status: { phase: 'Bound' } });
        s.pods.push({
          metadata: { name: 'new', namespace: 'ns1' },
          spec: { nodeName: 'n1', containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data-old' } }] },
          status: { phase: 'Running' },
        });
      },
    });
    const r = await runFinalize(args({ allSafe: true, selector: 'app=web', yes: true }), fakeDeps(f.kube).deps);
    expect(f.patches).toHaveLength(1);
    expect(r.output).toContain('persistentvolume/pv-safe refused: changed while being finalized and is no longer safe: blocked by pod ns1/new (Running on node n1)');
    expect(r.exitCode).toBe(ExitCode.Problems);
  });

  it('a conflict because the controller removed the finalizers meanwhile: gone', async () => {
    const f = fakeKube(loadCluster(), {
      patchErrors: [conflict()],
      afterConflict: (s) => {
        s.pvs = s.pvs.filter((p) => p.metadata.name !== 'pv-safe');
      },
    });
    const r = await runFinalize(args({ names: ['pv-safe'], yes: true }), fakeDeps(f.kube).deps);
    expect(r.output).toContain('persistentvolume/pv-safe gone: its finalizers were removed by their controllers meanwhile');
    expect(r.exitCode).toBe(ExitCode.Ok);
  });

  it('404 on the patch: already deleted', async () => {
    const f = fakeKube(loadCluster(), { patchErrors: [new KubeApiError('not found', { status: 404 })] });
    const r = await runFinalize(args({ names: ['pv-safe'], yes: true }), fakeDeps(f.kube).deps);
    expect(r.output).toContain('persistentvolume/pv-safe gone: already deleted');
    expect(r.exitCode).toBe(ExitCode.Ok);
  });

  it('a failing patch is reported and exits 1', async () => {
    const f = fakeKube(loadCluster(), { patchErrors: [new KubeApiError('forbidden: cannot patch', { status: 403 })] });
    const r = await runFinalize(args({ names: ['pv-safe'], yes: true }), fakeDeps(f.kube).deps);
    expect(r.output).toContain('persistentvolume/pv-safe failed: forbidden: cannot patch');
    expect(r.exitCode).toBe(ExitCode.Problems);
  });

  it('pvc/NAME finalizes a claim in the -n namespace', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pvc/data-job'], yes: true }), fakeDeps(f.kube).deps);
    expect(f.patches).toEqual([
      {
        path: '/api/v1/namespaces/ns1/persistentvolumeclaims/data-job',
        body: { metadata: { finalizers: null, resourceVersion: '206' } },
        type: 'merge',
        dryRun: 'none',
      },
    ]);
    expect(r.output).toContain('persistentvolumeclaim/data-job -n ns1 finalized');
  });

  it('-o name lists what was finalized', async () => {
    const f = fakeKube(loadCluster());
    const r = await runFinalize(args({ names: ['pv-safe', 'pvc/data-job'], yes: true, output: 'name' }), fakeDeps(f.kube).deps);
    expect(r.output).toBe('persistentvolume/pv-safe\npersistentvolumeclaim/data-job\n');
  });
});

describe('finalize-localpv: errors', () => {
  it('a PV that does not exist: exit 1 with close names', async () => {
    const f = fakeKube(loadCluster());
    const e = await runFinalize(args({ names: ['pv-blockd'] }), fakeDeps(f.kube).deps).catch((x) => x);
    expect(e).toBeInstanceOf(CliError);
    expect(e.message).toBe('persistentvolume "pv-blockd" not found');
    expect(e.hints[0]).toContain('pv-blocked');
    expect(f.patches).toEqual([]);
  });

  it('a PV that is not Terminating is never finalized', async () => {
    const f = fakeKube(loadCluster());
    const e = await runFinalize(args({ names: ['pv-live'], yes: true, force: true }), fakeDeps(f.kube).deps).catch((x) => x);
    expect(e).toBeInstanceOf(CliError);
    expect(e.message).toContain('is not being deleted');
    expect(e.hints[0]).toContain('kubectl delete pv pv-live --wait=false');
  });

  it('usage errors', async () => {
    const f = fakeKube(loadCluster());
    await expect(runFinalize(args({ force: true, allSafe: true }), fakeDeps(f.kube).deps)).rejects.toBeInstanceOf(UsageError);
    await expect(runFinalize(args({ dryRun: 'maybe' as never }), fakeDeps(f.kube).deps)).rejects.toBeInstanceOf(UsageError);
    await expect(runFinalize(args({ selector: 'a in (' }), fakeDeps(f.kube).deps)).rejects.toBeInstanceOf(UsageError);
    await expect(runFinalize(args({ names: ['pvc/x'], allNamespaces: true }), fakeDeps(f.kube).deps)).rejects.toBeInstanceOf(UsageError);
    expect(() => parseTargets(['ns/x'])).toThrow(UsageError);
    expect(parseTargets(['a', 'pv/b', 'pvc/c', 'a'])).toEqual({ pvs: ['a', 'b'], claims: ['c'] });
  });
});
