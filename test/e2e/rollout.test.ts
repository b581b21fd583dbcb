/**
 * `kubectl sts rollout` on the real control plane (kube-apiserver + StatefulSet controller; KWOK
 * makes scheduled pods Ready at once). A 5-replica `web` without claim templates (claims do not
 * matter to a rollout), OrderedReady: the controller replaces one pod at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, createNamespace, fixture, getJson, kubeMinor, kubectl, plugin, waitFor, webWithoutClaims } from './harness.js';

const IMG1 = 'registry.k8s.io/nginx-slim:0.8';
const IMG2 = 'registry.k8s.io/nginx-slim:0.9';

let ns = '';
let cleanup: () => Promise<void> = async () => {};

function webManifest(): string {
  return webWithoutClaims(5);
}

async function podRevisions(): Promise<Record<string, string>> {
  const l = await getJson<{ items: any[] }>(['-n', ns, 'pods', '-l', 'app=nginx']);
  return Object.fromEntries(l.items.map((p) => [p.metadata.name, p.metadata.labels['controller-revision-hash']]));
}

async function podImages(): Promise<Record<string, string>> {
  const l = await getJson<{ items: any[] }>(['-n', ns, 'pods', '-l', 'app=nginx']);
  return Object.fromEntries(l.items.map((p) => [p.metadata.name, p.spec.containers[0].image]));
}

async function setJson(): Promise<any> {
  return getJson(['-n', ns, 'statefulset', 'web']);
}

async function allReady(n: number): Promise<boolean> {
  const s = await setJson();
  return (s.status?.readyReplicas ?? 0) === n && s.status?.observedGeneration === s.metadata.generation;
}

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('rollout'));
  await apply(webManifest(), ns);
  await waitFor(() => allReady(5), 120_000, '5 ready pods of web');
});

afterAll(async () => {
  await cleanup();
});

describe('kubectl sts rollout', () => {
  let rev1 = '';
  let rev2 = '';

  it('status shows a complete set', async () => {
    const r = await plugin(['rollout', 'status', 'web', '-n', ns]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Strategy: +RollingUpdate, partition 0/);
    expect(r.stdout).toMatch(/rollout complete: 5 pods at revision web-/);
    // MaxUnavailableStatefulSet is off by default on both lines (alpha on 1.31, beta-off on 1.36),
    // so the API server does not default the field
    expect(r.stdout).toMatch(/MaxUnavail\.: +not set/);
    rev1 = (await setJson()).status.currentRevision;
  });

  it('hold + image change rolls nothing', async () => {
    const r = await plugin(['rollout', 'hold', 'web', '-n', ns, '--image', `nginx=${IMG2}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/held: partition 0 -> 5/);
    await waitFor(async () => {
      const s = await setJson();
      return s.status.observedGeneration === s.metadata.generation && s.status.updateRevision !== rev1;
    }, 30_000, 'the new revision');
    const held = await setJson();
    rev2 = held.status.updateRevision;
    // Only the image changed: the API server merged the container by name (strategic merge).
    expect(held.spec.template.spec.containers[0].image).toBe(IMG2);
    expect(held.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, name: 'web', protocol: 'TCP' }]);
    await new Promise((res) => setTimeout(res, 1500));
    expect(Object.values(await podRevisions())).toEqual([rev1, rev1, rev1, rev1, rev1]);
    const st = await plugin(['rollout', 'status', 'web', '-n', ns, '-o', 'json']);
    const out = JSON.parse(st.stdout);
    expect(out).toMatchObject({ held: true, state: 'held', currentRevision: rev1, updateRevision: rev2, counts: { updated: 0 } });
  });

  it('diff shows the image change between current and update revisions', async () => {
    const r = await plugin(['rollout', 'diff', 'web', '-n', ns]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`-    - image: ${IMG1}`);
    expect(r.stdout).toContain(`+    - image: ${IMG2}`);
  });

  it('--step 2 updates exactly ordinals 3 and 4', async () => {
    const r = await plugin(['rollout', 'web', '-n', ns, '--step', '2', '--timeout', '90s', '-o', 'json']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ result: 'ok', partition: { from: 5, to: 3 } });
    expect(out.steps[0].pods).toEqual(['web-4', 'web-3']);
    // GET, PATCH, LIST pods, WATCH pods; no WATCH when KWOK had both pods replaced by the LIST
    // (seen once under load). Never a request per pod.
    expect([3, 4]).toContain(out.requests);
    const revs = await podRevisions();
    expect([0, 1, 2, 3, 4].map((o) => revs[`web-${o}`])).toEqual([rev1, rev1, rev1, rev2, rev2]);
  });

  it('history lists both revisions', async () => {
    const r = await plugin(['rollout', 'history', 'web', '-n', ns]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\n1 +${rev1} +current +3 +nginx=${IMG1.replace(/\./g, '\\.')}`));
    expect(r.stdout).toMatch(new RegExp(`\\n2 +${rev2} +update +2 +nginx=${IMG2.replace(/\./g, '\\.')}`));
  });

  it('--to 0 updates all and currentRevision becomes updateRevision', async () => {
    const r = await plugin(['rollout', 'web', '-n', ns, '--to', '0', '--timeout', '120s']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/rollout of web complete: all 5 pods run/);
    expect(Object.values(await podRevisions())).toEqual([rev2, rev2, rev2, rev2, rev2]);
    await waitFor(async () => {
      const s = await setJson();
      return s.status.currentRevision === s.status.updateRevision && s.status.updateRevision === rev2;
    }, 30_000, 'currentRevision == updateRevision');
  });

  it('undo restores the old image', async () => {
    const r = await plugin(['rollout', 'undo', 'web', '-n', ns, '--yes']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/rolled back to revision 1/);
    expect(r.stdout).toMatch(/template only/);
    const s = await setJson();
    expect(s.spec.template.spec.containers[0].image).toBe(IMG1);
    await waitFor(async () => Object.values(await podImages()).every((i) => i === IMG1) && (await allReady(5)), 120_000, 'pods back on the old image');
  });

  it('a revision that never becomes Ready stops --auto naming the stuck pod; undo --force recovers', async () => {
    await waitFor(async () => {
      const s = await setJson();
      return s.status.currentRevision === s.status.updateRevision && s.status.readyReplicas === 5;
    }, 60_000, 'settled after undo');
    const good = (await setJson()).status.updateRevision;
    // hold, then a template no node can schedule (requests.cpu 100k; nodes have 1k)
    expect((await plugin(['rollout', 'hold', 'web', '-n', ns])).exitCode).toBe(0);
    await kubectl([
      '-n', ns, 'patch', 'sts', 'web', '--type=strategic', '-p',
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'nginx', resources: { requests: { cpu: '100k' } } }] } } } }),
    ]);
    await waitFor(async () => {
      const s = await setJson();
      return s.status.observedGeneration === s.metadata.generation && s.status.updateRevision !== good;
    }, 30_000, 'the broken revision');
    const r = await plugin(['rollout', 'web', '-n', ns, '--auto', '--interval', '1s', '--timeout', '8s']);
    expect(r.exitCode, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(/web-4 did not become Ready/);
    expect(r.stdout).toMatch(/Unschedulable|Insufficient cpu/);
    expect(r.stdout).toMatch(/the partition stays at 4/);
    expect((await setJson()).spec.updateStrategy.rollingUpdate.partition).toBe(4);

    const u = await plugin(['rollout', 'undo', 'web', '-n', ns, '--force', '--yes']);
    expect(u.exitCode, u.stderr + u.stdout).toBe(0);
    expect(u.stdout).toMatch(/deleted web-4/);
    await waitFor(async () => {
      const s = await setJson();
      const revs = await podRevisions();
      return s.status.readyReplicas === 5 && s.status.currentRevision === s.status.updateRevision && Object.values(revs).every((x) => x === good);
    }, 120_000, 'recovered: every pod Ready on the good revision');
  });

  it('a missing set exits 1 with a clear message', async () => {
    const r = await plugin(['rollout', 'status', 'wbe', '-n', ns]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/statefulsets.apps "wbe" not found/);
    expect(r.stderr).toMatch(/Did you mean: web/);
  });
});

// After the rollout sequence above, so its extra set does not change that sequence's timing.
describe('kubectl sts rollout status on this server version', () => {
  it(`a maxUnavailable the API server dropped (gate off, kubernetes 1.${kubeMinor}) is named, not shown as "not set"`, async () => {
    await apply(
      fixture('web.yaml', (d) => {
        if (d.kind !== 'StatefulSet') return undefined;
        d.metadata.name = 'par';
        d.spec.replicas = 0;
        // Its own selector, apart from web's pods and revisions.
        d.spec.selector = { matchLabels: { app: 'par' } };
        d.spec.template.metadata.labels = { app: 'par' };
        d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } };
        delete d.spec.volumeClaimTemplates;
        delete d.spec.template.spec.containers[0].volumeMounts;
        return d;
      }),
      ns,
    );
    const set = await getJson(['-n', ns, 'statefulset', 'par']);
    expect(set.spec.updateStrategy.rollingUpdate?.maxUnavailable).toBeUndefined();
    const r = await plugin(['rollout', 'status', 'par', '-n', ns]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('MaxUnavail.:  2 was applied, but the API server dropped it: the MaxUnavailableStatefulSet feature gate is off on this cluster, so pods are replaced one at a time');
    const j = await plugin(['rollout', 'status', 'par', '-n', ns, '-o', 'json']);
    expect(JSON.parse(j.stdout).maxUnavailable).toMatchObject({ honoured: false, dropped: 2, effective: 1 });
    await kubectl(['-n', ns, 'delete', 'statefulset', 'par', '--wait=false']);
  });
});
