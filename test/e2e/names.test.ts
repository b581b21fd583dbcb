/**
 * StatefulSets named like the plugin's own words, on the real control plane: `db` (which yargs'
 * recommender once took for `diff`) and `status` (a rollout subcommand). Every documented form
 * reaches the right set, and the change lands on that set only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, createNamespace, fixture, getJson, kubectl, plugin, waitFor } from './harness.js';

let ns = '';
let cleanup: () => Promise<void> = async () => {};

function setNamed(name: string): string {
  return fixture('web.yaml', (d) => {
    if (d.kind !== 'StatefulSet') return undefined;
    d.metadata.name = name;
    d.spec.replicas = 2;
    d.spec.selector.matchLabels = { app: name };
    d.spec.template.metadata.labels = { app: name };
    d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2 } };
    delete d.spec.volumeClaimTemplates;
    delete d.spec.template.spec.containers[0].volumeMounts;
    return d;
  });
}

const partition = async (name: string): Promise<number> => (await getJson<any>(['-n', ns, 'sts', name])).spec.updateStrategy.rollingUpdate.partition;

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('names'));
  await apply(setNamed('db') + '---\n' + setNamed('status'), ns);
  await waitFor(async () => {
    const l = await getJson<{ items: any[] }>(['-n', ns, 'sts']);
    return l.items.length === 2 && l.items.every((s) => (s.status?.readyReplicas ?? 0) === 2);
  }, 120_000, 'db and status to run 2 Ready pods each');
  // A template change held by partition 2: each set has a rollout pending.
  for (const name of ['db', 'status']) await kubectl(['-n', ns, 'set', 'image', `sts/${name}`, 'nginx=registry.k8s.io/nginx-slim:0.9']);
});
afterAll(async () => cleanup());

describe('StatefulSets named db and status', () => {
  it('kubectl sts rollout db --step lowers db\'s partition (not "Did you mean diff?")', async () => {
    const r = await plugin(['rollout', 'db', '--step', '-n', ns]);
    expect(r.stderr).not.toContain('Did you mean');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await partition('db')).toBe(1);
    expect(await partition('status')).toBe(2);
  });

  it('rollout step status and rollout --step -- status step the set named status', async () => {
    const a = await plugin(['rollout', 'step', 'status', '-n', ns]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(await partition('status')).toBe(1);
    const b = await plugin(['rollout', '-n', ns, '--step', '--', 'status']);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(await partition('status')).toBe(0);
    expect(await partition('db')).toBe(1);
  });

  it('rollout status status and rollout history db read the right sets', async () => {
    const s = await plugin(['rollout', 'status', 'status', '-n', ns, '-o', 'json']);
    expect(s.exitCode, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).name).toBe('status');
    const h = await plugin(['rollout', 'history', 'db', '-n', ns]);
    expect(h.exitCode, h.stderr).toBe(0);
    expect(h.stdout).toContain('REVISION');
  });

  it('rollout status --step (a set named status meant) is a usage error showing the unambiguous form; nothing changes', async () => {
    const before = await kubectl(['-n', ns, 'get', 'sts', '-o', 'jsonpath={.items[*].metadata.resourceVersion}']);
    const r = await plugin(['rollout', 'status', '--step', '-n', ns]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('kubectl sts rollout step status');
    const after = await kubectl(['-n', ns, 'get', 'sts', '-o', 'jsonpath={.items[*].metadata.resourceVersion}']);
    expect(after.stdout).toBe(before.stdout);
  });
});
