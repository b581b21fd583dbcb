/**
 * Issue #12 (least privilege) on the real API server's RBAC: the built binary runs as a
 * ServiceAccount bound to exactly the rules of README's "Least privilege (RBAC)" section (parsed
 * from the README itself), for pvc-orphans, finalize-localpv and rollout. Read rules: the command
 * works, says what it skipped, and exits as documented. Write rules: the change is made. A verb
 * missing: the forbidden message names verb + resource + namespace, and the admin sees nothing changed.
 * The tests run in order and share one namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { apply, createBoundPVs, createNamespace, fixture, getJson, kubectl, plugin, root, waitFor } from './harness.js';
import { createScopedIdentity, readmeRules, type PolicyRule, type ScopedIdentity } from './rbac.js';
import type { PvcOrphansOutput } from '../../src/render/orphans.js';
import type { FinalizeOutput } from '../../src/render/finalize.js';

const IMG2 = 'registry.k8s.io/nginx-slim:0.9';

let ns = '';
let cleanup: () => Promise<void> = async () => {};
const identities: ScopedIdentity[] = [];
let heldPv = '';

const readme = readmeRules(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));

function rulesOf(name: string): PolicyRule[] {
  const r = readme.get(name);
  if (!r) throw new Error(`README's RBAC section has no Role/ClusterRole ${name}`);
  return r.rules;
}

/** An identity with the README's rules: Role names go in a Role in `ns`, ClusterRole names in a ClusterRole. */
async function identity(name: string, roles: string[], o: { drop?: (r: PolicyRule) => PolicyRule | undefined } = {}): Promise<ScopedIdentity> {
  const pick = (kind: string) =>
    roles
      .filter((r) => readme.get(r)?.kind === kind)
      .flatMap(rulesOf)
      .map((r) => (o.drop ? o.drop(structuredClone(r)) : r))
      .filter((r): r is PolicyRule => Boolean(r && r.verbs.length && r.resources.length));
  for (const r of roles) rulesOf(r);
  const id = await createScopedIdentity(ns, { name, rules: pick('Role'), clusterRules: pick('ClusterRole') });
  identities.push(id);
  return id;
}

async function as(id: ScopedIdentity, args: string[]) {
  const r = await plugin(args, { env: id.env });
  expect(r.stderr, r.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
  return r;
}

async function claimExists(name: string): Promise<boolean> {
  return (await kubectl(['-n', ns, 'get', 'pvc', name], { allowFail: true })).exitCode === 0;
}

async function partition(): Promise<number | undefined> {
  const s = await getJson(['-n', ns, 'statefulset', 'web']);
  return s.spec.updateStrategy?.rollingUpdate?.partition;
}

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('rbac'));
  await createBoundPVs(ns, ['www-web-0', 'www-web-1', 'www-web-2'], { reclaimPolicy: 'Retain' });
  await apply(
    fixture('web.yaml', (d) => {
      if (d.kind === 'StatefulSet') d.spec.replicas = 3;
      return d;
    }),
    ns,
  );
  await waitFor(
    async () => {
      const s = await getJson(['-n', ns, 'statefulset', 'web']);
      const pvcs = await getJson<{ items: { status?: { phase?: string } }[] }>(['-n', ns, 'pvc']);
      return (s.status?.readyReplicas ?? 0) === 3 && pvcs.items.length === 3 && pvcs.items.every((c) => c.status?.phase === 'Bound');
    },
    120_000,
    'web: 3 Ready replicas with Bound claims',
  );
  await kubectl(['-n', ns, 'scale', 'sts', 'web', '--replicas=2']);
  await waitFor(async () => (await getJson<{ items: unknown[] }>(['-n', ns, 'pods', '-l', 'app=nginx'])).items.length === 2, 60_000, 'web-2 to go');
});

afterAll(async () => {
  for (const id of identities) await id.cleanup();
  if (heldPv) await kubectl(['patch', 'pv', heldPv, '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], { allowFail: true });
  await kubectl(['-n', ns, 'patch', 'pvc', 'held-0', '--type=merge', '-p', '{"metadata":{"finalizers":null}}'], { allowFail: true });
  await cleanup();
});

describe('the harness', () => {
  it('a token kubeconfig reaches the API server as the ServiceAccount, limited to its Role', async () => {
    const id = await createScopedIdentity(ns, { name: 'probe', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] });
    identities.push(id);
    const can = async (...a: string[]) => (await kubectl(['--kubeconfig', id.kubeconfig, 'auth', 'can-i', ...a], { allowFail: true })).stdout.trim();
    // kubectl() passes the admin --kubeconfig first; the later one wins.
    expect(await can('list', 'pods', '-n', ns)).toBe('yes');
    expect(await can('list', 'pods', '-n', 'default')).toBe('no');
    expect(await can('list', 'persistentvolumes')).toBe('no');
    const who = await kubectl(['--kubeconfig', id.kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { allowFail: true });
    if (who.exitCode === 0) expect(who.stdout).toBe(id.user);
  });
});

describe('pvc-orphans with the README rules', () => {
  it('read Role only: finds www-web-2, the volume checks skipped with one warning, reclaim policy unknown; exit 1', async () => {
    const id = await identity('orphans-read', ['kubectl-sts-pvc-orphans-read']);
    const r = await as(id, ['pvc-orphans', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as PvcOrphansOutput;
    expect(out.namespace).toBe(ns);
    expect(out.complete).toBe(false);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toContain('volume checks skipped (PersistentVolumes are cluster-scoped)');
    expect(out.warnings[0]).toContain('forbidden: you may not list persistentvolumes (cluster-scoped)');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: '))).toEqual([`warning: ${out.warnings[0]}`]);
    expect(out.findings.map((f) => [f.name, f.reason, f.reclaimPolicy, f.confirmed])).toEqual([['www-web-2', 'ScaledDown', 'unknown', true]]);
    const table = await as(id, ['pvc-orphans']);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toMatch(/pvc\/www-web-2\s+web\s+2\s+ScaledDown\s+1Gi\s+\S+\s+unknown\s+at 3 replicas/);
    expect(table.stdout).toContain('PARTIAL: PersistentVolumes could not be read');
  });

  it('read Role, -A: the forbidden cluster-wide list is named, with the hint to use -n', async () => {
    const id = identities.find((i) => i.user.endsWith(':orphans-read'))!;
    const r = await as(id, ['pvc-orphans', '-A']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('forbidden: you may not list persistentvolumeclaims across all namespaces');
    expect(r.stderr).toContain('use -n NAMESPACE');
  });

  it('a Role without pods (not the README one): only unconfirmed candidates, exit 4, -o name empty, --delete removes nothing', async () => {
    const id = await identity('orphans-nopods', ['kubectl-sts-pvc-orphans-read'], {
      drop: (r) => ({ ...r, resources: r.resources.filter((x) => x !== 'pods') }),
    });
    const r = await as(id, ['pvc-orphans', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(4);
    const out = JSON.parse(r.stdout) as PvcOrphansOutput;
    expect(out.findings.map((f) => [f.name, f.confirmed])).toEqual([['www-web-2', false]]);
    expect(out.warnings.some((w) => w.includes(`forbidden: you may not list pods in namespace "${ns}"`))).toBe(true);
    expect((await as(id, ['pvc-orphans', '-o', 'name'])).stdout).toBe('');
    // Even with the right to delete, a claim no pod is known not to mount is never deleted.
    const del = await identity('orphans-nopods-del', ['kubectl-sts-pvc-orphans-delete'], {
      drop: (r) => ({ ...r, resources: r.resources.filter((x) => x !== 'pods') }),
    });
    const d = await as(del, ['pvc-orphans', '--delete', '--yes']);
    expect(d.exitCode).toBe(1);
    expect(d.stdout).toContain('1 candidate not deleted');
    expect(await claimExists('www-web-2')).toBe(true);
  });

  it('read Role + the volumes ClusterRole: complete, no warnings, the reclaim policy known', async () => {
    const id = await identity('orphans-read-pv', ['kubectl-sts-pvc-orphans-read', 'kubectl-sts-volumes-read']);
    const r = await as(id, ['pvc-orphans', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as PvcOrphansOutput;
    expect(out).toMatchObject({ complete: true, warnings: [] });
    expect(out.findings.map((f) => [f.name, f.reclaimPolicy])).toEqual([['www-web-2', 'Retain']]);
    expect(r.stderr).not.toContain('warning:');
  });

  it('read Role, --delete --yes: forbidden delete of persistentvolumeclaims in the namespace, exit 1, the claim stays', async () => {
    const id = identities.find((i) => i.user.endsWith(':orphans-read'))!;
    const r = await as(id, ['pvc-orphans', '--delete', '--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`forbidden: you may not delete persistentvolumeclaims "www-web-2" in namespace "${ns}"`);
    expect(r.stderr).toContain(`kubectl auth can-i delete persistentvolumeclaims -n ${ns}`);
    expect(await claimExists('www-web-2')).toBe(true);
  });

  it('delete Role, --include-pvs without the volumes ClusterRole: deletes the claim, says no volume is deleted; exit 4', async () => {
    const id = await identity('orphans-delete', ['kubectl-sts-pvc-orphans-delete']);
    const r = await as(id, ['pvc-orphans', '--delete', '--yes']);
    // The Role has list but no watch on claims: the wait is one LIST. When that LIST already shows
    // the claim gone (pvc-protection's finalizer removed in time: the usual case on the 1.36 test
    // cluster) it is `deleted`; when not (the usual case on 1.31), the watch is forbidden and the
    // claim is reported, honestly, as terminating and not waited for. Never `deleted` while present.
    // A claim still Terminating exits 1 (README, exit codes), which wins over the partial read's 4.
    const gone = /deleted\s+pvc\/www-web-2/.test(r.stdout);
    if (!gone) {
      expect(r.stdout, r.stderr).toMatch(/terminating\s+pvc\/www-web-2\s+delete accepted, not waited for \(list\/watch forbidden\)/);
      expect(r.stderr).toContain('warning: could not wait for the deletions to finish');
    }
    expect(r.stdout).toContain('PARTIAL: PersistentVolumes could not be read');
    expect(r.exitCode, r.stderr).toBe(gone ? 4 : 1);
    await waitFor(async () => !(await claimExists('www-web-2')), 30_000, 'www-web-2 to be deleted');
  });
});

describe('finalize-localpv with the README rules', () => {
  beforeAll(async () => {
    // A claim and a volume held Terminating by a finalizer no controller removes.
    heldPv = `pv-${ns}-held`.slice(0, 63);
    await apply(
      [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'held-0', namespace: ns, finalizers: ['example.com/hold'] },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'no-such-class', resources: { requests: { storage: '1Gi' } } },
        },
        {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: heldPv, labels: { 'ksts-test-ns': ns }, finalizers: ['example.com/hold'] },
          spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'ksts-rbac', hostPath: { path: `/tmp/kubectl-sts-pv/${heldPv}` } },
        },
      ]
        .map((d) => dump(d))
        .join('---\n'),
    );
    await kubectl(['-n', ns, 'delete', 'pvc', 'held-0', '--wait=false']);
    await kubectl(['delete', 'pv', heldPv, '--wait=false']);
  });

  it('--claims -n NS with the claims Role: the stuck claim is diagnosed, the volumes and nodes skipped with warnings; exit 1', async () => {
    const id = await identity('fin-claims-read', ['kubectl-sts-finalize-claims-read']);
    const r = await as(id, ['finalize-localpv', '--claims', '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as FinalizeOutput;
    expect(out.persistentVolumeClaims!.map((d) => [d.name, d.namespace])).toEqual([['held-0', ns]]);
    expect(out.persistentVolumeClaims![0]!.verdict).not.toBe('unknown');
    expect(out.complete).toBe(false);
    expect(out.warnings.some((w) => w.startsWith('PersistentVolume checks skipped') && w.includes('forbidden: you may not list persistentvolumes (cluster-scoped)'))).toBe(true);
    for (const w of out.warnings) expect(r.stderr).toContain(`warning: ${w}`);
  });

  it('the PV diagnose with only the claims Role: nothing could be looked at, exit 4 and PARTIAL, never 0', async () => {
    const id = identities.find((i) => i.user.endsWith(':fin-claims-read'))!;
    const r = await as(id, ['finalize-localpv', '-l', `ksts-test-ns=${ns}`]);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stdout).toContain('The PersistentVolumes could not be read');
    expect(r.stdout).toContain('PARTIAL');
  });

  it('the PV diagnose with the finalize-read ClusterRole: complete, the held volume waits for its finalizer; exit 1', async () => {
    const id = await identity('fin-read', ['kubectl-sts-finalize-read']);
    const r = await as(id, ['finalize-localpv', '-l', `ksts-test-ns=${ns}`, '-o', 'json']);
    expect(r.exitCode, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as FinalizeOutput;
    expect(out).toMatchObject({ complete: true, warnings: [] });
    expect(out.persistentVolumes.map((d) => d.name)).toEqual([heldPv]);
  });

  it('removing a claim finalizer with read rights only: forbidden patch of persistentvolumeclaims in the namespace, nothing changed', async () => {
    const id = identities.find((i) => i.user.endsWith(':fin-claims-read'))!;
    const r = await as(id, ['finalize-localpv', 'pvc/held-0', '--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`forbidden: you may not patch persistentvolumeclaims "held-0" in namespace "${ns}"`);
    const pvc = await getJson(['-n', ns, 'pvc', 'held-0']);
    expect(pvc.metadata.finalizers).toEqual(['example.com/hold']);
  });

  it('removing a PV finalizer with read rights only: forbidden patch of persistentvolumes, nothing changed', async () => {
    const id = identities.find((i) => i.user.endsWith(':fin-read'))!;
    const r = await as(id, ['finalize-localpv', heldPv, '--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`forbidden: you may not patch persistentvolumes "${heldPv}"`);
    expect((await getJson(['pv', heldPv])).metadata.finalizers).toEqual(['example.com/hold']);
  });

  it('with the finalizer-removal rules: the claim and the volume are finalized and go away', async () => {
    const claims = await identity('fin-claims-write', ['kubectl-sts-finalize-claims']);
    const r1 = await as(claims, ['finalize-localpv', 'pvc/held-0', '--yes']);
    expect(r1.stdout).toContain('finalized');
    expect(r1.exitCode, r1.stderr).toBe(4); // the volumes and nodes stay unread: partial, though the claim was finalized
    await waitFor(async () => !(await claimExists('held-0')), 30_000, 'held-0 to go');
    const pvs = await identity('fin-pvs-write', ['kubectl-sts-finalize-pvs']);
    const r2 = await as(pvs, ['finalize-localpv', heldPv, '--yes']);
    expect(r2.exitCode, r2.stderr + r2.stdout).toBe(0);
    await waitFor(async () => (await kubectl(['get', 'pv', heldPv], { allowFail: true })).exitCode !== 0, 30_000, 'the held PV to go');
    heldPv = '';
  });
});

describe('rollout with the README rules', () => {
  beforeAll(async () => {
    // An update revision held at partition 2 (= replicas): the admin prepares a canary.
    const r = await plugin(['rollout', 'hold', 'web', '-n', ns, '--image', `nginx=${IMG2}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    await waitFor(async () => {
      const s = await getJson(['-n', ns, 'statefulset', 'web']);
      return s.status?.observedGeneration === s.metadata.generation && s.status?.updateRevision !== s.status?.currentRevision;
    }, 60_000, 'the controller to see the new template');
  });

  it('read Role: status, history and diff work, complete, no warnings; exit 0', async () => {
    const id = await identity('rollout-read', ['kubectl-sts-rollout-read']);
    const status = await as(id, ['rollout', 'status', 'web', '-o', 'json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).name).toBe('web');
    const history = await as(id, ['rollout', 'history', 'web', '-o', 'json']);
    expect(history.exitCode, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout)).toMatchObject({ complete: true, warnings: [] });
    const diff = await as(id, ['rollout', 'diff', 'web']);
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(`+    - image: ${IMG2}`);
    for (const r of [status, history, diff]) expect(r.stderr).not.toContain('warning:');
  });

  it('read Role, --step: forbidden patch of statefulsets.apps "web" in the namespace, the partition unchanged', async () => {
    const id = identities.find((i) => i.user.endsWith(':rollout-read'))!;
    const before = await partition();
    const r = await as(id, ['rollout', 'web', '--step']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`forbidden: you may not patch statefulsets.apps "web" in namespace "${ns}"`);
    expect(await partition()).toBe(before);
  });

  it('step Role: --step lowers the partition by one and waits for the pod; exit 0', async () => {
    const id = await identity('rollout-step', ['kubectl-sts-rollout-step']);
    const before = (await partition())!;
    const r = await as(id, ['rollout', 'web', '--step', '--timeout', '90s']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(await partition()).toBe(before - 1);
  });

  it('step Role, undo --force: no right to delete the pods of the bad revision, so the template is not restored either', async () => {
    const id = identities.find((i) => i.user.endsWith(':rollout-step'))!;
    const r = await as(id, ['rollout', 'undo', 'web', '--force', '--yes']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`forbidden: you may not delete pods "web-\\d+" in namespace "${ns}"`));
    expect((await getJson(['-n', ns, 'statefulset', 'web'])).spec.template.spec.containers[0].image).toBe(IMG2);
  });

  it('undo-force Role: undo --force restores the template and deletes the pod of the bad revision', async () => {
    const id = await identity('rollout-undo', ['kubectl-sts-rollout-undo-force']);
    const r = await as(id, ['rollout', 'undo', 'web', '--force', '--yes']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect((await getJson(['-n', ns, 'statefulset', 'web'])).spec.template.spec.containers[0].image).not.toBe(IMG2);
  });
});
