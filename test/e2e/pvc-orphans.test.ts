/**
 * `kubectl sts pvc-orphans` on the real cluster, following seeds 002/003: the `web` set runs
 * 5 replicas with claims bound to pre-bound Retain PVs, is scaled to 2 (claims www-web-2..4 stay),
 * cleaned up; then a claim mounted by a separate pod survives a delete, Released volumes are
 * listed and removed with --include-pvs, and deleting the set leaves all its claims behind.
 * The tests run in order and share the namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, createBoundPVs, createNamespace, fixture, getJson, kubectl, plugin, waitFor } from './harness.js';
import type { PvcOrphansOutput } from '../../src/render/orphans.js';

let ns: string;
let cleanup: () => Promise<void>;
let pvNames: string[];
const claims = [0, 1, 2, 3, 4].map((n) => `www-web-${n}`);

async function orphans(...extra: string[]): Promise<{ out: PvcOrphansOutput; exitCode: number; stderr: string }> {
  const r = await plugin(['pvc-orphans', '-n', ns, '-o', 'json', ...extra]);
  expect(r.stderr, r.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
  return { out: JSON.parse(r.stdout) as PvcOrphansOutput, exitCode: r.exitCode, stderr: r.stderr };
}

const names = (o: PvcOrphansOutput) => o.findings.map((f) => `${f.kind === 'PersistentVolume' ? 'pv' : 'pvc'}/${f.name}`);

async function podNames(): Promise<string[]> {
  return (await getJson<{ items: { metadata: { name: string } }[] }>(['-n', ns, 'pods'])).items.map((p) => p.metadata.name).sort();
}

async function pvPhase(name: string): Promise<string | undefined> {
  const r = await kubectl(['get', 'pv', name, '-o', 'jsonpath={.status.phase}'], { allowFail: true });
  return r.exitCode === 0 ? r.stdout : undefined;
}

async function claimExists(name: string): Promise<boolean> {
  return (await kubectl(['-n', ns, 'get', 'pvc', name], { allowFail: true })).exitCode === 0;
}

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('orphans'));
  pvNames = await createBoundPVs(ns, claims, { reclaimPolicy: 'Retain' });
  await apply(
    fixture('web.yaml', (d) => {
      if (d.kind === 'StatefulSet') d.spec.replicas = 5;
      return d;
    }),
    ns,
  );
  await waitFor(
    async () => {
      const pvcs = await getJson<{ items: { status?: { phase?: string } }[] }>(['-n', ns, 'pvc']);
      const pods = await getJson<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(['-n', ns, 'pods']);
      const ready = pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return pvcs.items.length === 5 && pvcs.items.every((c) => c.status?.phase === 'Bound') && ready.length === 5;
    },
    120_000,
    'web to run 5 Ready replicas with 5 Bound claims',
  );
  // A claim named like web's but made by hand (no labels): never web's orphan.
  await apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: www-web-7
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: no-such-class
  resources: {requests: {storage: 1Gi}}
`, ns);
});
afterAll(async () => cleanup?.());

describe('kubectl sts pvc-orphans', () => {
  it('finds nothing while all 5 replicas run', async () => {
    const r = await plugin(['pvc-orphans', '-n', ns]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`No orphaned StatefulSet claims or Released volumes in namespace ${ns} (6 claims checked, 5 in use by pods).`);
  });

  it('a namespace that does not exist (a typo in -n) is not "no orphans": exit 4, the warning names it', async () => {
    const r = await plugin(['pvc-orphans', '-n', `${ns}-typo`]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`Namespace "${ns}-typo" does not exist`);
    expect(r.stdout).toContain('PARTIAL: namespace');
    // An existing namespace with nothing in it is a clean answer.
    const empty = await createNamespace('orphans-empty');
    try {
      expect((await plugin(['pvc-orphans', '-n', empty.ns])).exitCode).toBe(0);
    } finally {
      await empty.cleanup();
    }
  });

  it('scale 5 -> 2: exactly the 3 claims of ordinals 2..4, with what a scale-up would do', async () => {
    await kubectl(['-n', ns, 'scale', 'sts', 'web', '--replicas=2']);
    await waitFor(async () => (await podNames()).join() === 'web-0,web-1', 60_000, 'web-2..4 to go');
    const { out, exitCode } = await orphans();
    expect(exitCode).toBe(1);
    expect(names(out)).toEqual(['pvc/www-web-2', 'pvc/www-web-3', 'pvc/www-web-4']);
    expect(out.findings.map((f) => [f.reason, f.statefulSet, f.template, f.ordinal, f.volume, f.reclaimPolicy, f.reattach.atReplicas])).toEqual([
      ['ScaledDown', 'web', 'www', 2, pvNames[2], 'Retain', 3],
      ['ScaledDown', 'web', 'www', 3, pvNames[3], 'Retain', 4],
      ['ScaledDown', 'web', 'www', 4, pvNames[4], 'Retain', 5],
    ]);
    expect(out.findings[0]).toMatchObject({ capacity: '1Gi', storageClass: 'anything', phase: 'Bound', retention: { rule: 'whenScaled', policy: 'Retain', outcome: 'retained' } });
    expect(out.summary).toMatchObject({ claimsChecked: 6, inUse: 2, lookAlike: 1, orphanedClaims: 3, releasedVolumes: 0 });

    const table = await plugin(['pvc-orphans', '-n', ns]);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/^NAME\s+STATEFULSET\s+ORDINAL\s+REASON/);
    expect(table.stdout).toMatch(/pvc\/www-web-3\s+web\s+3\s+ScaledDown\s+1Gi\s+\S+\s+Retain\s+at 4 replicas/);
    const byName = await plugin(['pvc-orphans', '-n', ns, '-o', 'name']);
    expect(byName.stdout.trim()).toBe('persistentvolumeclaim/www-web-2\npersistentvolumeclaim/www-web-3\npersistentvolumeclaim/www-web-4');
  });

  it('refuses to delete without a terminal and without --yes', async () => {
    const r = await plugin(['pvc-orphans', '-n', ns, '--delete']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refusing to delete 3 object(s) without confirmation');
    expect(r.stderr).toContain(`-n ${ns} pvc/www-web-4`);
    for (const c of ['www-web-2', 'www-web-3', 'www-web-4']) expect(await claimExists(c)).toBe(true);
  });

  it('--dry-run=server deletes nothing', async () => {
    const r = await plugin(['pvc-orphans', '-n', ns, '--delete', '--dry-run=server']);
    expect(r.stdout).toContain('Would delete (server dry run) 3 of 3 objects.');
    for (const c of ['www-web-2', 'www-web-3', 'www-web-4']) expect(await claimExists(c)).toBe(true);
  });

  it('a claim mounted by a separate pod is never deleted; --yes deletes the others and says what stays', async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata:
  name: reader
spec:
  tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
  containers: [{name: c, image: busybox}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: www-web-3}}]
`, ns);
    await waitFor(async () => (await podNames()).includes('reader'), 30_000, 'pod reader');
    const listed = await orphans();
    expect(names(listed.out)).toEqual(['pvc/www-web-2', 'pvc/www-web-4']);

    const r = await plugin(['pvc-orphans', '-n', ns, '--delete', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleted\\s+pvc/www-web-2\\s+volume ${pvNames[2]} stays, Released, with the data \\(reclaim policy Retain\\)`));
    expect(r.stdout).toContain('Deleted 2 of 2 objects.');
    await waitFor(async () => !(await claimExists('www-web-2')) && !(await claimExists('www-web-4')), 30_000, 'claims 2 and 4 to go');
    expect(await claimExists('www-web-3')).toBe(true);
    expect(await claimExists('www-web-7')).toBe(true);
  });

  it('a Released Retain volume is listed, and removed with --include-pvs', async () => {
    await waitFor(async () => (await pvPhase(pvNames[2]!)) === 'Released' && (await pvPhase(pvNames[4]!)) === 'Released', 60_000, 'volumes to be Released');
    const { out, exitCode } = await orphans();
    expect(exitCode).toBe(1);
    expect(names(out)).toEqual([`pv/${pvNames[2]}`, `pv/${pvNames[4]}`]);
    expect(out.findings[0]).toMatchObject({ reason: 'ReleasedVolume', claim: 'www-web-2', statefulSet: 'web', ordinal: 2, reclaimPolicy: 'Retain', phase: 'Released', reattach: { onScaleUp: false } });

    // Without --include-pvs the volumes are not touched.
    const keep = await plugin(['pvc-orphans', '-n', ns, '--delete', '--yes']);
    expect(keep.exitCode).toBe(1);
    expect(await pvPhase(pvNames[2]!)).toBe('Released');

    const r = await plugin(['cleanup-pv', '-n', ns, '--delete', '--include-pvs', '--yes']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`deleted\\s+pv/${pvNames[2]}\\s+the storage itself \\(hostPath \\S+\\) is kept`));
    await waitFor(async () => (await pvPhase(pvNames[2]!)) === undefined && (await pvPhase(pvNames[4]!)) === undefined, 30_000, 'volumes to go');
    expect(await pvPhase(pvNames[3]!)).toBe('Bound');
  });

  it('deleting the set leaves all its claims behind: all are found, and removed', async () => {
    await kubectl(['-n', ns, 'delete', 'pod', 'reader', '--wait=true']);
    await kubectl(['-n', ns, 'delete', 'sts', 'web', '--wait=true']);
    await waitFor(async () => (await podNames()).length === 0, 60_000, 'web pods to go');
    const { out, exitCode } = await orphans('--sts', 'web');
    expect(exitCode).toBe(1);
    expect(names(out)).toEqual(['pvc/www-web-0', 'pvc/www-web-1', 'pvc/www-web-3']);
    expect(out.findings.every((f) => f.reason === 'SetDeleted' && f.statefulSet === 'web' && !f.statefulSetExists && f.template === 'www')).toBe(true);
    expect(out.findings[0]!.retention).toMatchObject({ rule: 'whenDeleted', policy: 'Retain', outcome: 'retained' });

    const r = await plugin(['pvc-orphans', '-n', ns, '--sts', 'web', '--delete', '--include-pvs', '--yes', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout) as PvcOrphansOutput;
    expect(done.deletion?.results.map((x) => `${x.status} ${x.kind === 'PersistentVolume' ? 'pv' : 'pvc'}/${x.name}`)).toEqual([
      'deleted pvc/www-web-0',
      `deleted pv/${pvNames[0]}`,
      'deleted pvc/www-web-1',
      `deleted pv/${pvNames[1]}`,
      'deleted pvc/www-web-3',
      `deleted pv/${pvNames[3]}`,
    ]);
    await waitFor(async () => {
      const left = await getJson<{ items: { metadata: { name: string } }[] }>(['-n', ns, 'pvc']);
      return left.items.map((c) => c.metadata.name).join() === 'www-web-7';
    }, 30_000, 'only the hand-made claim to remain');
    await waitFor(async () => (await Promise.all(pvNames.map(pvPhase))).every((p) => p === undefined), 60_000, 'all volumes to go');
    const after = await plugin(['pvc-orphans', '-n', ns]);
    expect(after.exitCode).toBe(0);
  });

  it('claims owned by their set (whenDeleted=Delete) are found through the ownerReference after a scale-down', async () => {
    await apply(
      fixture('web.yaml', (d) => {
        if (d.kind !== 'StatefulSet') return undefined;
        d.metadata.name = 'db';
        d.spec.selector.matchLabels = { app: 'db' };
        d.spec.template.metadata.labels = { app: 'db' };
        d.spec.podManagementPolicy = 'Parallel';
        d.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Retain' };
        // No volume ever binds: claims and pods stay Pending, which is all this needs.
        d.spec.volumeClaimTemplates[0].spec.storageClassName = 'unbound';
        return d;
      }),
      ns,
    );
    await waitFor(async () => {
      const c = await getJson<{ items: { metadata: { name: string; ownerReferences?: { kind: string }[] } }[] }>(['-n', ns, 'pvc']);
      return c.items.filter((x) => x.metadata.name.startsWith('www-db-') && x.metadata.ownerReferences?.some((o) => o.kind === 'StatefulSet')).length === 3;
    }, 60_000, 'db claims with owner references');
    await kubectl(['-n', ns, 'scale', 'sts', 'db', '--replicas=1']);
    await waitFor(async () => (await podNames()).join() === 'db-0', 60_000, 'db-1 and db-2 to go');
    const { out, exitCode } = await orphans('--sts', 'db');
    expect(exitCode).toBe(1);
    expect(out.findings.map((f) => [f.name, f.reason, f.evidence, f.ordinal, f.phase, f.retention?.rule, f.retention?.policy])).toEqual([
      ['www-db-1', 'ScaledDown', 'ownerReference', 1, 'Pending', 'whenScaled', 'Retain'],
      ['www-db-2', 'ScaledDown', 'ownerReference', 2, 'Pending', 'whenScaled', 'Retain'],
    ]);
  });

  it('--delete waits until the claims are gone; one a finalizer holds is reported terminating with its holder, exit 1', async () => {
    // www-db-1 and www-db-2 are the db set's orphans (previous test); a finalizer of another tool holds www-db-2.
    await kubectl(['-n', ns, 'patch', 'pvc', 'www-db-2', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/backup-hold","kubernetes.io/pvc-protection"]}}']);
    try {
      const r = await plugin(['pvc-orphans', '-n', ns, '--sts', 'db', '--delete', '--yes', '--timeout', '5s']);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/deleted\s+pvc\/www-db-1/);
      expect(r.stdout).toMatch(/terminating\s+pvc\/www-db-2\s+still there after 5s: finalizers: example\.com\/backup-hold/);
      expect(r.stdout).toContain('Deleted 1 of 2 objects, 1 still terminating.');
      // What was reported deleted is really gone when the command returns (kubectl delete's contract).
      expect(await claimExists('www-db-1')).toBe(false);
      expect(await claimExists('www-db-2')).toBe(true);
    } finally {
      await kubectl(['-n', ns, 'patch', 'pvc', 'www-db-2', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], { allowFail: true });
    }
  });
});
