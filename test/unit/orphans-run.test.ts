/** `kubectl sts pvc-orphans` run(): flags, fetching, confirmation, deletion, output — against a fake Kube and fake Deps. */
import { recordingDeps } from '../helpers/fake-deps.js';
import type { Deps } from '../../src/deps.js';
import { describe, expect, it } from 'vitest';
import { pvcOrphansCommand, parseAge, type PvcOrphansArgs } from '../../src/commands/pvc-orphans.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import type { Kube } from '../../src/kube/index.js';
import { AbortedError, CliError, KubeApiError, UsageError } from '../../src/errors.js';
import type { PvcOrphansOutput } from '../../src/render/orphans.js';
import type { KubeObject, PersistentVolume, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/core/types.js';
import { NOW, boundPv, pod, pv, pvc, sts } from '../fixtures/orphans/build.js';
import { holdersOf, pendingDeletions } from '../../src/core/orphans-delete.js';

interface World {
  sets: StatefulSet[];
  claims: PersistentVolumeClaim[];
  pods: Pod[];
  pvs: PersistentVolume[];
}

interface Call {
  method: 'list' | 'delete';
  path: string;
  opts?: unknown;
}

/** A fake KubeClient serving LISTs from `world` (namespace-filtered) and recording deletes. */
function fakeKube(world: World, o: { onList?: (path: string, n: number) => void; deleteError?: (path: string) => unknown } = {}) {
  const calls: Call[] = [];
  let lists = 0;
  const inNs = (path: string, items: KubeObject[]) => {
    const m = /\/namespaces\/([^/]+)\//.exec(path);
    return m ? items.filter((i) => i.metadata.namespace === decodeURIComponent(m[1]!)) : items;
  };
  const client = {
    requestCount: 0,
    async list(path: string) {
      client.requestCount++;
      calls.push({ method: 'list', path });
      o.onList?.(path, ++lists);
      const items = path.endsWith('/statefulsets')
        ? world.sets
        : path.endsWith('/persistentvolumeclaims')
          ? world.claims
          : path.endsWith('/pods')
            ? world.pods
            : path.endsWith('/persistentvolumes')
              ? world.pvs
              : undefined;
      if (!items) throw new Error(`unexpected list ${path}`);
      return { items: structuredClone(inNs(path, items)), resourceVersion: '1' };
    },
    async delete(path: string, opts: unknown) {
      client.requestCount++;
      calls.push({ method: 'delete', path, opts });
      const err = o.deleteError?.(path);
      if (err) throw err;
      return {};
    },
    async get(path: string) {
      throw new Error(`no GET expected (${path})`);
    },
  };
  const kube = { client, namespace: 'ns', contextName: 'test', server: 'https://fake' } as unknown as Kube;
  return { kube, calls, client };
}

function fakeDeps(kube: Kube, o: { interactive?: boolean; answer?: boolean } = {}) {
  const r = recordingDeps(kube, { ...o, now: NOW });
  return { deps: r.deps, asked: r.questions, logs: r.logged };
}

function args(extra: Partial<PvcOrphansArgs & GlobalArgs> = {}): PvcOrphansArgs & GlobalArgs {
  return {
    allNamespaces: false,
    output: 'table',
    requestTimeout: '0',
    color: false,
    verbose: 0,
    delete: false,
    includePvs: false,
    yes: false,
    wait: false,
    timeout: '1m',
    ...extra,
  };
}

/** Seed 002/003 in the `web` fixture's shape: scaled 5 -> 2, one Released Retain volume of a claim deleted long ago. */
function world(): World {
  const web = sts('web', { replicas: 2, templates: { www: undefined }, selector: { app: 'nginx' } });
  const claims = [0, 1, 2, 3, 4].map((n) => pvc(`www-web-${n}`, { labels: { app: 'nginx' }, rv: `${10 + n}` }));
  return {
    sets: [web],
    claims,
    pods: [pod('web-0', ['www-web-0']), pod('web-1', ['www-web-1'])],
    pvs: [...claims.map((c, i) => boundPv(c, i === 4 ? 'Delete' : 'Retain')), pv('pv-old', { phase: 'Released', claim: { name: 'www-web-9', uid: 'gone' } })],
  };
}

const run = (a: PvcOrphansArgs & GlobalArgs, deps: Deps) => pvcOrphansCommand.run!(a, deps);

describe('pvc-orphans: listing', () => {
  it('lists the three claims and the Released volume with four LISTs, exit 1', async () => {
    const { kube, calls } = fakeKube(world());
    const { deps } = fakeDeps(kube);
    const r = await run(args(), deps);
    expect(r.exitCode).toBe(1);
    expect(calls.map((c) => `${c.method} ${c.path}`).sort()).toEqual([
      'list /api/v1/namespaces/ns/persistentvolumeclaims',
      'list /api/v1/namespaces/ns/pods',
      'list /api/v1/persistentvolumes',
      'list /apis/apps/v1/namespaces/ns/statefulsets',
    ]);
    const lines = r.output.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATEFULSET\s+ORDINAL\s+REASON\s+CAPACITY\s+VOLUME\s+RECLAIM\s+SCALE-UP\s+AGE$/);
    expect(lines[1]).toMatch(/^pvc\/www-web-2\s+web\s+2\s+ScaledDown\s+1Gi\s+pv-www-web-2\s+Retain\s+at 3 replicas\s+10d$/);
    expect(lines[3]).toMatch(/^pvc\/www-web-4 .* Delete\s+at 5 replicas/);
    expect(lines[4]).toMatch(/^pv\/pv-old\s+web\s+9\s+ReleasedVolume\s+1Gi\s+\(claim www-web-9\)\s+Retain\s+no\s+20d$/);
    expect(r.output).toContain('Found 3 orphaned claims and 1 Released volume in namespace ns (5 claims checked, 2 in use by pods and left alone).');
    expect(r.output).toContain('Delete them with: kubectl sts pvc-orphans -n ns --delete --include-pvs');
  });

  it('keeps the LIST count constant however many objects there are', async () => {
    const big = world();
    for (let i = 0; i < 200; i++) {
      big.sets.push(sts(`s${i}`, { replicas: 1 }));
      big.claims.push(pvc(`data-s${i}-0`, { labels: { app: `s${i}` } }), pvc(`data-s${i}-1`, { labels: { app: `s${i}` } }));
      big.pods.push(pod(`s${i}-0`, [`data-s${i}-0`]));
    }
    const { kube, client } = fakeKube(big);
    const r = await run(args({ output: 'json' }), fakeDeps(kube).deps);
    expect(client.requestCount).toBe(4);
    expect((JSON.parse(r.output) as PvcOrphansOutput).summary.orphanedClaims).toBe(203);
  });

  it('-o json: the documented shape', async () => {
    const { kube } = fakeKube(world());
    const r = await run(args({ output: 'json', sts: 'web' }), fakeDeps(kube).deps);
    const out = JSON.parse(r.output) as PvcOrphansOutput;
    expect(out.kind).toBe('PvcOrphanReport');
    expect(out.namespace).toBe('ns');
    expect(out.filters).toEqual({ statefulSet: 'web', selector: null, olderThan: null });
    expect(out.deletion).toBeUndefined();
    expect(out.findings.map((f) => f.name)).toEqual(['www-web-2', 'www-web-3', 'www-web-4', 'pv-old']);
    expect(out.findings[0]).toMatchObject({
      kind: 'PersistentVolumeClaim',
      namespace: 'ns',
      reason: 'ScaledDown',
      statefulSet: 'web',
      template: 'www',
      ordinal: 2,
      volume: 'pv-www-web-2',
      reclaimPolicy: 'Retain',
      retention: { rule: 'whenScaled', policy: 'Retain', outcome: 'retained' },
      reattach: { onScaleUp: true, atReplicas: 3 },
    });
  });

  it('-o name, -A (table gains NAMESPACE), wide', async () => {
    const w = world();
    const { kube, calls } = fakeKube(w);
    expect((await run(args({ output: 'name' }), fakeDeps(kube).deps)).output).toBe(
      'persistentvolumeclaim/www-web-2\npersistentvolumeclaim/www-web-3\npersistentvolumeclaim/www-web-4\npersistentvolume/pv-old\n',
    );
    const all = await run(args({ allNamespaces: true }), fakeDeps(kube).deps);
    expect(all.output.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME/);
    expect(calls.filter((c) => c.path === '/apis/apps/v1/statefulsets')).toHaveLength(1);
    const wide = await run(args({ output: 'wide' }), fakeDeps(kube).deps);
    expect(wide.output.split('\n')[0]).toContain('RETENTION');
    expect(wide.output).toContain('whenScaled=Retain');
  });

  it('nothing to report: exit 0', async () => {
    const w = world();
    w.claims = w.claims.slice(0, 2);
    w.pvs = [];
    const { kube } = fakeKube(w);
    const r = await run(args(), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe('No orphaned StatefulSet claims or Released volumes in namespace ns (2 claims checked, 2 in use by pods).\n');
  });

  it('--sts naming no set says so and suggests close names', async () => {
    const { kube } = fakeKube(world());
    const r = await run(args({ sts: 'wbe' }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain('no StatefulSet named wbe exists here (did you mean web?)');
  });

  it.each([
    [{ yes: true }, '--yes only applies with --delete'],
    [{ includePvs: true, dryRun: 'server' }, '--include-pvs, --dry-run only apply with --delete'],
    [{ delete: true, dryRun: 'maybe' }, 'invalid --dry-run value "maybe"'],
    [{ selector: 'a in (b' }, 'invalid --selector'],
    [{ olderThan: 'soon' }, 'invalid --older-than'],
  ] as [Partial<PvcOrphansArgs>, string][])('usage error %j', async (extra, msg) => {
    const { kube } = fakeKube(world());
    const err = await run(args(extra), fakeDeps(kube).deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(msg);
  });

  it('--older-than accepts days', () => {
    expect(parseAge('7d')).toBe(7 * 86_400_000);
    expect(parseAge('1d12h')).toBe(36 * 3_600_000);
    expect(parseAge('90m')).toBe(90 * 60_000);
  });
});

describe('pvc-orphans --delete', () => {
  it('refuses without a terminal and without --yes; deletes nothing', async () => {
    const { kube, calls } = fakeKube(world());
    const err = (await run(args({ delete: true }), fakeDeps(kube, { interactive: false }).deps).catch((e: unknown) => e)) as CliError;
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('refusing to delete 3 object(s) without confirmation');
    expect(err.hints.join('\n')).toContain('-n ns pvc/www-web-3');
    expect(err.hints.at(-1)).toContain('Pass -y/--yes');
    expect(calls.filter((c) => c.method === 'delete')).toEqual([]);
  });

  it('asks, listing exactly what goes; a "no" deletes nothing', async () => {
    const { kube, calls } = fakeKube(world());
    const { deps, asked, logs } = fakeDeps(kube, { interactive: true, answer: false });
    await expect(run(args({ delete: true }), deps)).rejects.toBeInstanceOf(AbortedError);
    expect(asked).toHaveLength(1);
    // The list goes to stderr first (one gate for every command), then the question.
    const q = [...logs, asked[0]!];
    expect(q[0]).toBe('This deletes 3 PersistentVolumeClaims:');
    expect(q.slice(1, 4).map((l) => l.trim().split(/\s+/)[2])).toEqual(['pvc/www-web-2', 'pvc/www-web-3', 'pvc/www-web-4']);
    expect(q.at(-2)).toContain('Not deleted: 1 Released PersistentVolume(s) (pass --include-pvs');
    expect(q.at(-1)).toBe('Delete these 3 objects?');
    expect(calls.filter((c) => c.method === 'delete')).toEqual([]);
  });

  it('a "yes" deletes each claim with uid+resourceVersion preconditions after a fresh look at it, its pods and sets', async () => {
    const { kube, calls } = fakeKube(world());
    const { deps } = fakeDeps(kube, { interactive: true, answer: true });
    const r = await run(args({ delete: true }), deps);
    const seq = calls.slice(4).map((c) => `${c.method} ${c.path}`);
    expect(seq).toEqual([
      'list /api/v1/namespaces/ns/persistentvolumeclaims',
      'list /api/v1/namespaces/ns/pods',
      'list /apis/apps/v1/namespaces/ns/statefulsets',
      'delete /api/v1/namespaces/ns/persistentvolumeclaims/www-web-2',
      'list /api/v1/namespaces/ns/persistentvolumeclaims',
      'list /api/v1/namespaces/ns/pods',
      'list /apis/apps/v1/namespaces/ns/statefulsets',
      'delete /api/v1/namespaces/ns/persistentvolumeclaims/www-web-3',
      'list /api/v1/namespaces/ns/persistentvolumeclaims',
      'list /api/v1/namespaces/ns/pods',
      'list /apis/apps/v1/namespaces/ns/statefulsets',
      'delete /api/v1/namespaces/ns/persistentvolumeclaims/www-web-4',
    ]);
    expect(calls[7]!.opts).toEqual({ preconditions: { uid: 'uid-pvc-www-web-2', resourceVersion: '12' }, dryRun: 'none' });
    // The Released volume was found but not included: not everything is gone -> exit 1.
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/^RESULT\s+OBJECT\s+LEAVES BEHIND \/ REASON/);
    expect(r.output).toMatch(/deleted\s+pvc\/www-web-2\s+volume pv-www-web-2 stays, Released, with the data \(reclaim policy Retain\)/);
    expect(r.output).toMatch(/deleted\s+pvc\/www-web-4\s+volume pv-www-web-4 and its storage are deleted with it \(reclaim policy Delete\)/);
    expect(r.output).toContain('Deleted 3 of 3 objects.');
    expect(r.output).toContain('1 Released volume not deleted: pass --include-pvs');
  });

  it('--yes --include-pvs: claims, their Retain volumes right after them, the Released volume; exit 0', async () => {
    const { kube, calls } = fakeKube(world());
    const r = await run(args({ delete: true, yes: true, includePvs: true, output: 'json' }), fakeDeps(kube).deps);
    const deletes = calls.filter((c) => c.method === 'delete');
    expect(deletes.map((c) => c.path.split('/').slice(-2).join('/'))).toEqual([
      'persistentvolumeclaims/www-web-2',
      'persistentvolumes/pv-www-web-2',
      'persistentvolumeclaims/www-web-3',
      'persistentvolumes/pv-www-web-3',
      'persistentvolumeclaims/www-web-4',
      'persistentvolumes/pv-old',
    ]);
    // The volume of a deleted claim is read right before its own delete: that read's version is the precondition.
    expect(deletes[1]!.opts).toEqual({ preconditions: { uid: 'uid-pv-pv-www-web-2', resourceVersion: '200' }, dryRun: 'none' });
    expect(deletes[5]!.opts).toEqual({ preconditions: { uid: 'uid-pv-pv-old', resourceVersion: '200' }, dryRun: 'none' });
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.output) as PvcOrphansOutput;
    expect(out.deletion?.results.map((x) => `${x.status} ${x.name}`)).toEqual([
      'deleted www-web-2',
      'deleted pv-www-web-2',
      'deleted www-web-3',
      'deleted pv-www-web-3',
      'deleted www-web-4',
      'deleted pv-old',
    ]);
    expect(out.deletion?.notIncluded).toEqual([]);
  });

  it('--dry-run=client: no delete request, reports what would go, exit 1', async () => {
    const { kube, calls } = fakeKube(world());
    const r = await run(args({ delete: true, dryRun: 'client' }), fakeDeps(kube).deps);
    expect(calls.filter((c) => c.method === 'delete')).toEqual([]);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/deleted \(client dry run\)\s+pvc\/www-web-3/);
    expect(r.output).toContain('Would delete (client dry run) 3 of 3 objects.');
  });

  it('--dry-run=server: deletes are sent as server dry runs without asking', async () => {
    const { kube, calls } = fakeKube(world());
    const { deps, asked } = fakeDeps(kube, { interactive: true, answer: false });
    const r = await run(args({ delete: true, dryRun: 'server', output: 'name' }), deps);
    expect(asked).toEqual([]);
    const deletes = calls.filter((c) => c.method === 'delete');
    expect(deletes).toHaveLength(3);
    expect(deletes.every((c) => (c.opts as { dryRun: string }).dryRun === 'server')).toBe(true);
    expect(r.output).toBe('persistentvolumeclaim/www-web-2\npersistentvolumeclaim/www-web-3\npersistentvolumeclaim/www-web-4\n');
    expect(r.exitCode).toBe(1);
  });

  it('skips a claim that a pod started to mount after the scan, and reports it', async () => {
    const w = world();
    // The 5th LIST starts the first re-check (the claim, then pods and sets of ns): from then on a pod mounts www-web-3.
    const { kube, calls } = fakeKube(w, {
      onList: (_p, n) => {
        if (n === 5) w.pods.push(pod('restore-job', ['www-web-3']));
      },
    });
    const r = await run(args({ delete: true, yes: true }), fakeDeps(kube).deps);
    expect(calls.filter((c) => c.method === 'delete').map((c) => c.path.split('/').at(-1))).toEqual(['www-web-2', 'www-web-4']);
    expect(r.output).toMatch(/skipped\s+pvc\/www-web-3\s+no longer orphaned: mounted by pod restore-job/);
    expect(r.output).toContain('Deleted 2 of 3 objects, 1 skipped.');
    expect(r.exitCode).toBe(1);
  });

  it('skips a claim whose set was scaled back up, and one that changed (409); a failure is reported', async () => {
    const w = world();
    const { kube } = fakeKube(w, {
      onList: (_p, n) => {
        if (n === 5) w.sets[0]!.spec.replicas = 3;
      },
      deleteError: (p) =>
        p.endsWith('www-web-3')
          ? new KubeApiError('conflict', { status: 409 })
          : p.endsWith('www-web-4')
            ? new KubeApiError('forbidden: you may not delete persistentvolumeclaims', { status: 403 })
            : undefined,
    });
    const r = await run(args({ delete: true, yes: true, output: 'json' }), fakeDeps(kube).deps);
    const out = JSON.parse(r.output) as PvcOrphansOutput;
    expect(out.deletion?.results.map((x) => [x.name, x.status, x.detail])).toEqual([
      ['www-web-2', 'skipped', 'no longer orphaned: claim of web ordinal 2'],
      ['www-web-3', 'skipped', 'kept changing while being deleted (5 conflicts); run again to re-check it'],
      ['www-web-4', 'failed', 'forbidden: you may not delete persistentvolumeclaims'],
    ]);
    expect(r.exitCode).toBe(1);
  });

  it('a claim changed after its re-check (one 409): read and judged again, deleted under its new resourceVersion', async () => {
    const w = world();
    let conflicts = 0;
    const { kube, calls } = fakeKube(w, {
      deleteError: (p) => {
        if (!p.endsWith('www-web-3') || conflicts++) return undefined;
        // Someone relabelled the claim meanwhile: a new resourceVersion, still orphaned.
        const c = w.claims.find((x) => x.metadata.name === 'www-web-3')!;
        c.metadata.resourceVersion = '77';
        return new KubeApiError('conflict', { status: 409 });
      },
    });
    const r = await run(args({ delete: true, yes: true, output: 'json' }), fakeDeps(kube).deps);
    const web3 = calls.filter((c) => c.method === 'delete' && c.path.endsWith('www-web-3'));
    expect(web3.map((c) => (c.opts as { preconditions: { resourceVersion?: string } }).preconditions.resourceVersion)).toEqual([expect.any(String), '77']);
    expect(web3[0]!.opts).not.toEqual(web3[1]!.opts);
    const out = JSON.parse(r.output) as PvcOrphansOutput;
    expect(out.deletion?.results.map((x) => `${x.status} ${x.name}`)).toEqual(['deleted www-web-2', 'deleted www-web-3', 'deleted www-web-4']);
  });

  it('the Retain volume of a claim that was skipped is not deleted', async () => {
    const w = world();
    const { kube, calls } = fakeKube(w, {
      onList: (_p, n) => {
        if (n === 5) w.pods.push(pod('late', ['www-web-2']));
      },
    });
    const r = await run(args({ delete: true, yes: true, includePvs: true, output: 'json' }), fakeDeps(kube).deps);
    expect(calls.some((c) => c.method === 'delete' && c.path.endsWith('/pv-www-web-2'))).toBe(false);
    const out = JSON.parse(r.output) as PvcOrphansOutput;
    expect(out.deletion?.results[1]).toMatchObject({ name: 'pv-www-web-2', status: 'notAttempted', detail: 'its claim ns/www-web-2 was not deleted' });
  });
});

describe('pvc-orphans --delete waits until the objects are gone, like kubectl delete', () => {
  /** A cluster where a delete removes the object unless a finalizer holds it (then it only gets a deletionTimestamp). */
  function liveKube(w: World, holdFinalizer: (name: string) => string | undefined) {
    const { kube, client } = fakeKube(w);
    const c = client as unknown as Record<string, unknown>;
    c.delete = async (path: string) => {
      const name = decodeURIComponent(path.split('/').pop()!);
      const list = path.includes('/persistentvolumeclaims/') ? w.claims : w.pvs;
      const i = list.findIndex((o) => o.metadata.name === name);
      const obj = list[i]!;
      const fin = holdFinalizer(name);
      if (fin) {
        obj.metadata.finalizers = [fin];
        obj.metadata.deletionTimestamp = '2026-12-01T00:00:00Z';
        return structuredClone(obj);
      }
      list.splice(i, 1);
      return structuredClone(obj);
    };
    // A watch that stays open (nothing changes) until the wait is over.
    c.watch = (_path: string, _rv: string, _q: unknown, signal: AbortSignal) => ({
      async *[Symbol.asyncIterator]() {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    });
    return kube;
  }

  it('reports deleted only once the claims are gone (exit 0 with --include-pvs)', async () => {
    const w = world();
    const kube = liveKube(w, () => undefined);
    const r = await run(args({ delete: true, yes: true, includePvs: true, wait: true }), fakeDeps(kube).deps);
    expect(r.output).not.toContain('terminating');
    expect(r.exitCode).toBe(0);
  });

  it('a claim a finalizer holds stays Terminating: reported as terminating with what holds it, exit 1', async () => {
    const w = world();
    const kube = liveKube(w, (n) => (n === 'www-web-3' ? 'backup.example.com/hold' : undefined));
    const r = await run(args({ delete: true, yes: true, wait: true, timeout: '50ms' }), fakeDeps(kube).deps);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/terminating\s+pvc\/www-web-3\s+still there after 50ms: finalizers: backup\.example\.com\/hold/);
    expect(r.output).toMatch(/deleted\s+pvc\/www-web-2/);
    expect(r.output).toContain('1 still terminating');
  });

  it('--wait=false returns at once; a delete answered with finalizers is terminating, not deleted', async () => {
    const w = world();
    const kube = liveKube(w, (n) => (n === 'www-web-2' ? 'kubernetes.io/pvc-protection' : undefined));
    const r = await run(args({ delete: true, yes: true, wait: false, output: 'json' }), fakeDeps(kube).deps);
    const out = JSON.parse(r.output);
    const byName = Object.fromEntries(out.deletion.results.map((x: { name: string; status: string }) => [x.name, x.status]));
    expect(byName).toEqual({ 'www-web-2': 'terminating', 'www-web-3': 'deleted', 'www-web-4': 'deleted' });
    expect(r.exitCode).toBe(1);
  });
});

describe('holdersOf: what keeps a deleted object', () => {
  it('names the finalizers and the pods that mount a claim; the claim a volume is bound to', () => {
    const claim = { ...pvc('data-db-0'), metadata: { ...pvc('data-db-0').metadata, finalizers: ['kubernetes.io/pvc-protection'], deletionTimestamp: '2026-12-01T00:00:00Z' } };
    expect(holdersOf(claim, 'PersistentVolumeClaim', [pod('db-0', ['data-db-0']), pod('other', ['x'])])).toBe('finalizers: kubernetes.io/pvc-protection; mounted by pod db-0');
    const vol = { ...pv('pv-1', { phase: 'Bound', claim: { name: 'data-db-0', uid: 'u' } }) };
    vol.metadata.finalizers = ['kubernetes.io/pv-protection'];
    vol.metadata.deletionTimestamp = '2026-12-01T00:00:00Z';
    expect(holdersOf(vol, 'PersistentVolume', [])).toMatch(/^finalizers: kubernetes.io\/pv-protection; still bound to claim .*data-db-0$/);
  });
  it('pendingDeletions: an object recreated under the same name (new uid) counts as gone', () => {
    const d = [{ kind: 'PersistentVolumeClaim' as const, namespace: 'ns', name: 'a', uid: 'old' }];
    const live = (uid: string) => ({ claims: new Map([['ns/a', { metadata: { name: 'a', namespace: 'ns', uid } }]]), volumes: new Map() });
    expect(pendingDeletions(d, live('old'))).toHaveLength(1);
    expect(pendingDeletions(d, live('new'))).toHaveLength(0);
  });
});
