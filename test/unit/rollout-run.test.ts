/** The rollout commands' `run` against a fake cluster (fake KubeClient + a toy StatefulSet controller). */
import { describe, expect, it } from 'vitest';
import { runStep, parseStep, validateStepArgs, type StepArgs } from '../../src/commands/rollout-step.js';
import { runHold, runStatus } from '../../src/commands/rollout-status.js';
import { runDiff, runHistory, runUndo } from '../../src/commands/rollout-revisions.js';
import { CliError, UsageError } from '../../src/errors.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import { FakeCluster } from '../fixtures/rollout/fake-cluster.js';
import { fakeDeps, globals } from '../fixtures/rollout/deps.js';
import { pod, pods, revision, sts } from '../fixtures/rollout/objects.js';

const A = 'web-aaa';
const B = 'web-bbb';

function heldCluster(partition = 5) {
  // template already changed to n:2 (revision web-bbb), every pod still on web-aaa
  return new FakeCluster(
    sts({ partition, current: A, update: B, updatedReplicas: 0, currentReplicas: 5, image: 'n:2' }),
    pods(5, A),
    [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')],
  );
}

function stepArgs(over: Partial<StepArgs & GlobalArgs> = {}) {
  return { ...globals(), name: 'web', auto: false, interval: '0', timeout: '5s', wait: true, deletePods: false, yes: false, ...over };
}

const revOf = (c: FakeCluster, name: string) => c.pods.get(name)!.metadata.labels!['controller-revision-hash'];

describe('argument parsing', () => {
  it('--step without a value is 1', () => {
    expect(parseStep('')).toBe(1);
    expect(parseStep('3')).toBe(3);
    expect(() => parseStep('0')).toThrow(UsageError);
    expect(() => parseStep('x')).toThrow(UsageError);
  });
  it('one form is required and forms are exclusive', () => {
    expect(() => validateStepArgs(stepArgs())).toThrow(/--step \[N\], --to PARTITION or --auto/);
    expect(() => validateStepArgs(stepArgs({ step: '1', to: 2 }))).toThrow(/alternatives/);
    expect(validateStepArgs(stepArgs({ auto: true, step: '2' }))).toEqual({ mode: 'auto', step: 2 });
    expect(() => validateStepArgs(stepArgs({ to: -1 }))).toThrow(/0 or more/);
  });
});

describe('rollout NAME --step', () => {
  it('--step 2 updates exactly ordinals 4 and 3, with a constant request count', async () => {
    const c = heldCluster();
    const deps = fakeDeps(c);
    const r = await runStep(stepArgs({ step: '2' }), deps);
    expect(r.exitCode).toBe(0);
    expect([0, 1, 2, 3, 4].map((o) => revOf(c, `web-${o}`))).toEqual([A, A, A, B, B]);
    expect(c.sts.spec.updateStrategy!.rollingUpdate!.partition).toBe(3);
    expect(r.output).toMatch(/partition 3: web-4, web-3 updated and Ready/);
    // GET, PATCH (with the resourceVersion precondition), LIST pods, WATCH pods
    expect(c.calls.map((x) => x.split(' ')[0])).toEqual(['GET', 'PATCH', 'LIST', 'WATCH']);
    expect(c.patches[0]!.body).toEqual({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3 } } }, metadata: { resourceVersion: '100' } });
    expect(deps.spins.some((s) => /waiting for web-4/.test(s))).toBe(true);
  });

  it('the request count does not grow with replicas', async () => {
    const counts: number[] = [];
    for (const n of [3, 30]) {
      const c = new FakeCluster(sts({ replicas: n, partition: n, current: A, update: B, updatedReplicas: 0, image: 'n:2' }), pods(n, A), [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')]);
      const r = await runStep(stepArgs({ step: '2', output: 'json' }), fakeDeps(c));
      counts.push(JSON.parse(r.output).requests);
    }
    expect(counts).toEqual([4, 4]);
  });

  it('retries on a 409 conflict by re-reading the set', async () => {
    const c = heldCluster();
    c.conflicts = 1;
    const r = await runStep(stepArgs({ step: '1' }), fakeDeps(c));
    expect(r.exitCode).toBe(0);
    expect(c.calls.filter((x) => x.startsWith('PATCH')).length).toBe(2);
    expect(c.calls.filter((x) => x.startsWith('GET')).length).toBe(2);
  });

  it('nothing pending: says so and changes nothing', async () => {
    const c = new FakeCluster(sts({ partition: 2 }), pods(5, A), [revision(A, 1, 'n:1')]);
    const r = await runStep(stepArgs({ step: '1' }), fakeDeps(c));
    expect(r.exitCode).toBe(0);
    expect(r.output).toMatch(/nothing to roll out/);
    expect(c.patches).toEqual([]);
  });

  it('--dry-run=client prints the patch and sends none', async () => {
    const c = heldCluster();
    const r = await runStep(stepArgs({ step: '2', dryRun: 'client' }), fakeDeps(c));
    expect(r.output).toMatch(/would set the partition of web from 5 to 3; pods to update: web-4, web-3/);
    expect(r.output).toMatch(/"partition":3/);
    expect(c.patches).toEqual([]);
  });

  it('--dry-run=server sends the patch with dryRun', async () => {
    const c = heldCluster();
    await runStep(stepArgs({ to: 0, dryRun: 'server' }), fakeDeps(c));
    expect(c.patches.map((p) => p.dryRun)).toEqual(['server']);
    expect(c.sts.spec.updateStrategy!.rollingUpdate!.partition).toBe(5);
  });

  it('--to 0 finishes the rollout', async () => {
    const c = heldCluster();
    const r = await runStep(stepArgs({ to: 0, output: 'json' }), fakeDeps(c));
    const out = JSON.parse(r.output);
    expect(out).toMatchObject({ kind: 'RolloutStep', result: 'ok', partition: { from: 5, to: 0 }, warnings: [] });
    expect([...c.pods.values()].every((p) => p.metadata.labels!['controller-revision-hash'] === B)).toBe(true);
    expect(c.sts.status!.currentRevision).toBe(B);
  });

  it('times out naming the stuck pod, its condition and last event; exit 1; partition stays', async () => {
    const c = heldCluster();
    c.brokenImages.add('n:2');
    c.events.push({ metadata: { name: 'e1', creationTimestamp: '2025-01-01T00:00:00Z' }, involvedObject: { kind: 'Pod', name: 'web-4' }, type: 'Warning', reason: 'FailedScheduling', message: '0/3 nodes are available: 3 Insufficient cpu.', lastTimestamp: '2025-01-01T00:00:00Z' });
    const r = await runStep(stepArgs({ step: '1', timeout: '300ms' }), fakeDeps(c));
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/timed out after 300ms: web-4 did not become Ready.*PodScheduled=False Unschedulable/);
    expect(r.output).toMatch(/last event of web-4: Warning FailedScheduling/);
    expect(r.output).toMatch(/continue: {2}kubectl sts rollout web -n default --to 4/);
    expect(c.sts.spec.updateStrategy!.rollingUpdate!.partition).toBe(4);
  });

  it('Ctrl-C while waiting: partition stays, prints the command that continues', async () => {
    const c = heldCluster();
    c.controllerOn = false;
    const deps = fakeDeps(c);
    setTimeout(() => deps.abort.abort(Object.assign(new Error('interrupted'), { name: 'AbortError' })), 50);
    const err = await runStep(stepArgs({ step: '1', timeout: '0' }), deps).catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err.exitCode).toBe(130);
    expect(err.message).toBe('partition of web is 4 (was 5); web-4 was not yet (the StatefulSet controller goes on replacing it); nothing else was changed');
    expect(err.hints.join('\n')).toMatch(/Resume: kubectl sts rollout web -n default --to 4/);
  });

  it('OnDelete: explains and offers --delete-pods', async () => {
    const c = new FakeCluster(sts({ strategy: 'OnDelete', current: A, update: B, updatedReplicas: 0 }), pods(5, A), [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')]);
    const err = await runStep(stepArgs({ step: '1' }), fakeDeps(c)).catch((e) => e);
    expect(err.message).toMatch(/OnDelete/);
    expect(err.hints.join('\n')).toMatch(/--delete-pods/);
  });

  it('not found lists close names via getNamed', async () => {
    const c = heldCluster();
    const err = await runStep(stepArgs({ name: 'wbe', step: '1' }), fakeDeps(c)).catch((e) => e);
    expect(err.message).toMatch(/not found/);
  });
});

describe('rollout NAME --auto', () => {
  it('steps to 0 with a constant cost per step', async () => {
    const c = heldCluster(3);
    // ordinals 3, 4 already rolled
    c.pods.set('web-3', pod(3, { rev: B }));
    c.pods.set('web-4', pod(4, { rev: B }));
    const r = await runStep(stepArgs({ auto: true, interval: '20ms', output: 'json' }), fakeDeps(c));
    const out = JSON.parse(r.output);
    expect(r.exitCode).toBe(0);
    expect(out.steps.map((s: { partition: number }) => s.partition)).toEqual([2, 1, 0]);
    expect(c.patches.map((p) => p.body.spec.updateStrategy.rollingUpdate.partition)).toEqual([2, 1, 0]);
    // per step: GET, PATCH, LIST+WATCH; between steps: LIST+WATCH for the interval
    expect(out.requests).toBe(3 * 4 + 2 * 2);
  });

  it('stops at a restart during --interval and leaves the partition', async () => {
    const c = heldCluster(5);
    const deps = fakeDeps(c);
    const run = runStep(stepArgs({ auto: true, interval: '400ms' }), deps);
    setTimeout(() => c.restart('web-4'), 150);
    const r = await run;
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/stopped: web-4 restarted \(0 -> 1 restarts\)/);
    expect(c.sts.spec.updateStrategy!.rollingUpdate!.partition).toBe(4);
  });

  it('stops at a pod that never becomes Ready', async () => {
    const c = heldCluster(5);
    c.brokenImages.add('n:2');
    const r = await runStep(stepArgs({ auto: true, timeout: '200ms', output: 'json' }), fakeDeps(c));
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.output);
    expect(out).toMatchObject({ result: 'stopped', stuck: { pod: 'web-4' }, partition: { to: 4 } });
    expect(out.continueWith).toMatch(/--auto/);
  });
});

describe('rollout NAME --delete-pods (OnDelete)', () => {
  const onDelete = () => new FakeCluster(sts({ strategy: 'OnDelete', current: A, update: B, updatedReplicas: 0, image: 'n:2' }), pods(5, A), [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')]);
  it('refuses without --yes when not interactive', async () => {
    const c = onDelete();
    const err = await runStep(stepArgs({ step: '2', deletePods: true }), fakeDeps(c)).catch((e) => e);
    expect(err.message).toMatch(/without confirmation/);
    expect(err.hints.join('\n')).toMatch(/web-4.*\n.*web-3/);
    expect(c.deleted).toEqual([]);
  });
  it('deletes from the highest ordinal down, waiting for each', async () => {
    const c = onDelete();
    const r = await runStep(stepArgs({ step: '2', deletePods: true, yes: true }), fakeDeps(c));
    expect(r.exitCode).toBe(0);
    expect(c.deleted).toEqual(['web-4', 'web-3']);
    expect(revOf(c, 'web-4')).toBe(B);
    expect(revOf(c, 'web-2')).toBe(A);
    expect(r.output).toMatch(/3 outdated pod\(s\) left/);
  });
  it('--dry-run=server sends each delete with dryRun (and its preconditions); nothing is deleted or waited for', async () => {
    const c = onDelete();
    const r = await runStep(stepArgs({ step: '2', deletePods: true, dryRun: 'server', output: 'json' }), fakeDeps(c));
    expect(r.exitCode).toBe(0);
    expect(c.calls.filter((x) => x.startsWith('DELETE'))).toEqual([
      'DELETE /api/v1/namespaces/default/pods/web-4 (dryRun=All)',
      'DELETE /api/v1/namespaces/default/pods/web-3 (dryRun=All)',
    ]);
    expect(c.deleted).toEqual([]);
    expect(JSON.parse(r.output)).toMatchObject({ result: 'planned', dryRun: 'server' });
  });
  it('--dry-run=client sends nothing', async () => {
    const c = onDelete();
    await runStep(stepArgs({ step: '2', deletePods: true, dryRun: 'client' }), fakeDeps(c));
    expect(c.calls.filter((x) => x.startsWith('DELETE'))).toEqual([]);
  });
  it('asks when interactive and stops when declined', async () => {
    const c = onDelete();
    const deps = fakeDeps(c, { interactive: true, answer: false });
    const err = await runStep(stepArgs({ step: '1', deletePods: true }), deps).catch((e) => e);
    expect(deps.questions[0]).toMatch(/delete 1 pod/);
    expect(err.message).toMatch(/declined: nothing was changed/);
  });
});

describe('rollout hold', () => {
  it('sets partition to replicas and the image in one patch', async () => {
    const c = new FakeCluster(sts({ partition: 0 }), pods(5, A), [revision(A, 1, 'registry.k8s.io/nginx-slim:0.8')]);
    const r = await runHold({ ...globals(), name: 'web', image: ['nginx=n:2'] }, fakeDeps(c));
    expect(r.output).toMatch(/held: partition 0 -> 5; no pod is replaced until you step; image nginx: registry.k8s.io\/nginx-slim:0.8 -> n:2/);
    expect(c.patches[0]!.body.spec).toEqual({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 5 } },
      template: { spec: { containers: [{ name: 'nginx', image: 'n:2' }] } },
    });
    await new Promise((res) => setTimeout(res, 10));
    expect([...c.pods.values()].every((p) => p.metadata.labels!['controller-revision-hash'] === A)).toBe(true);
  });
  it('changes only the image: the rest of the container (ports, mounts) survives the patch', async () => {
    const set = sts({ partition: 0 });
    set.spec.template.spec.containers[0]!.ports = [{ name: 'web', containerPort: 80 }];
    set.spec.template.spec.containers[0]!.volumeMounts = [{ name: 'www', mountPath: '/usr/share/nginx/html' }];
    const c = new FakeCluster(set, pods(5, A), [revision(A, 1, 'registry.k8s.io/nginx-slim:0.8')]);
    await runHold({ ...globals(), name: 'web', image: ['nginx=n:2'] }, fakeDeps(c));
    // A JSON merge patch would replace the containers list; only a strategic merge keys it by name.
    expect(c.patches[0]!.type).toBe('strategic');
    expect(c.sts.spec.template.spec.containers[0]).toMatchObject({
      name: 'nginx',
      image: 'n:2',
      ports: [{ name: 'web', containerPort: 80 }],
      volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
    });
  });
  it('already held and no image: noop', async () => {
    const c = new FakeCluster(sts({ partition: 7 }), pods(5, A));
    const r = await runHold({ ...globals(), name: 'web' }, fakeDeps(c));
    expect(r.output).toMatch(/already held/);
    expect(c.patches).toEqual([]);
  });
  it('unknown container is a usage error', async () => {
    const c = new FakeCluster(sts(), pods(5, A));
    await expect(runHold({ ...globals(), name: 'web', image: ['db=x'] }, fakeDeps(c))).rejects.toThrow(/no container "db"/);
  });
  it('dry-run prints the patch', async () => {
    const c = new FakeCluster(sts(), pods(5, A));
    const r = await runHold({ ...globals(), name: 'web', image: ['nginx=n:2'], dryRun: 'client' }, fakeDeps(c));
    expect(r.output).toMatch(/would be held/);
    expect(r.output).toMatch(/"resourceVersion":"100"/);
    expect(c.patches).toEqual([]);
  });
});

describe('rollout status', () => {
  it('table with header facts and per-pod revisions', async () => {
    const c = new FakeCluster(sts({ partition: 3, current: A, update: B, updatedReplicas: 2 }), [...pods(3, A), pod(3, { rev: B }), pod(4, { rev: B })]);
    const r = await runStatus({ ...globals(), name: 'web', watch: false, timeout: '0' }, fakeDeps(c));
    expect(r.output).toMatch(/Strategy: +RollingUpdate, partition 3 \(updates ordinals 3\.\.4\), OrderedReady/);
    expect(r.output).toMatch(/Revisions: +web-aaa \(current\) -> web-bbb \(update\)/);
    expect(r.output).toMatch(/MaxUnavail\.: +not set/);
    expect(r.output).toMatch(/\n4 +web-4 +bbb \(update\) +yes +1\/1 +Running/);
    expect(r.output).toMatch(/\n0 +web-0 +aaa \(current\) +no/);
  });
  it('json shape', async () => {
    const c = new FakeCluster(sts({ partition: 5, current: A, update: B, updatedReplicas: 0 }), pods(5, A));
    const r = await runStatus({ ...globals({ output: 'json' }), name: 'web', watch: false, timeout: '0' }, fakeDeps(c));
    const out = JSON.parse(r.output);
    expect(out).toMatchObject({ kind: 'RolloutStatus', held: true, state: 'held', partition: 5, counts: { updated: 0 }, maxUnavailable: { honoured: false }, complete: true, warnings: [] });
    expect(out.pods).toHaveLength(5);
    expect(out.pods[0]).toMatchObject({ ordinal: 0, revisionKind: 'current' });
  });
  it('-w follows until the partition is done', async () => {
    const c = heldCluster(5);
    const deps = fakeDeps(c);
    // lower the partition behind the watcher's back
    setTimeout(() => {
      c.sts.spec.updateStrategy!.rollingUpdate!.partition = 4;
      c.sts.metadata.generation = 3;
      c.reconcile();
    }, 30);
    c.sts.spec.updateStrategy!.rollingUpdate!.partition = 4; // already lowered in the spec, controller lagging
    c.sts.metadata.generation = 3;
    const r = await runStatus({ ...globals(), name: 'web', watch: true, timeout: '5s' }, deps);
    expect(r.exitCode).toBe(0);
    expect(deps.written.join('')).toMatch(/web-4/);
    expect(r.output).toMatch(/partitioned: 1 of 5 pods updated; 4 below partition 4 wait \(kubectl sts rollout web -n [a-z0-9-]+ --step\)/);
  });
});

describe('rollout history / diff / undo', () => {
  const revs = () => [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')];
  const stuck = () => {
    const c = new FakeCluster(sts({ partition: 4, current: A, update: B, updatedReplicas: 1, image: 'n:2' }), [...pods(4, A), pod(4, { rev: B, unschedulable: true })], revs());
    c.brokenImages.add('n:2');
    return c;
  };
  it('history lists owned revisions', async () => {
    const r = await runHistory({ ...globals(), name: 'web' }, fakeDeps(stuck()));
    expect(r.output).toMatch(/^statefulset.apps\/web\nREVISION +CONTROLLERREVISION/);
    expect(r.output).toMatch(/\n1 +web-aaa +current +4 +nginx=n:1/);
    expect(r.output).toMatch(/\n2 +web-bbb +update +1 +nginx=n:2/);
  });
  it('history --revision shows the template', async () => {
    const r = await runHistory({ ...globals(), name: 'web', revision: 1 }, fakeDeps(stuck()));
    expect(r.output).toMatch(/with revision #1 \(web-aaa\)/);
    expect(r.output).toMatch(/image: n:1/);
  });
  it('diff shows the image change', async () => {
    const r = await runDiff({ ...globals(), name: 'web' }, fakeDeps(stuck()));
    expect(r.output).toMatch(/^--- web-aaa \(revision 1, current\)/m);
    expect(r.output).toMatch(/^-    - image: n:1$/m);
    expect(r.output).toMatch(/^\+    - image: n:2$/m);
  });
  it('undo needs --yes when not interactive', async () => {
    const c = stuck();
    await expect(runUndo({ ...globals(), name: 'web', toRevision: 0, force: false, yes: false }, fakeDeps(c))).rejects.toThrow(/without confirmation/);
    expect(c.patches).toEqual([]);
  });
  it('undo restores the template with a strategic patch guarded by resourceVersion', async () => {
    const c = stuck();
    const r = await runUndo({ ...globals(), name: 'web', toRevision: 0, force: false, yes: true }, fakeDeps(c));
    expect(c.patches[0]!.type).toBe('strategic');
    expect(c.patches[0]!.body.metadata).toEqual({ resourceVersion: '100' });
    expect(c.patches[0]!.body.spec.template.$patch).toBe('replace');
    expect(c.sts.spec.template.spec.containers[0]!.image).toBe('n:1');
    expect(r.output).toMatch(/rolled back to revision 1/);
    expect(r.output).toMatch(/never became Ready.*--force/);
    expect(r.output).toMatch(/template only/);
  });
  it('undo --force deletes the pods of the bad revision and recovers', async () => {
    const c = stuck();
    const r = await runUndo({ ...globals(), name: 'web', toRevision: 0, force: true, yes: true }, fakeDeps(c));
    expect(c.deleted).toEqual(['web-4']);
    expect(r.output).toMatch(/deleted web-4/);
    await new Promise((res) => setTimeout(res, 20));
    expect(revOf(c, 'web-4')).toBe(A);
  });
  it('undo --dry-run=client changes nothing and shows the diff', async () => {
    const c = stuck();
    const r = await runUndo({ ...globals(), name: 'web', toRevision: 0, force: true, yes: false, dryRun: 'client' }, fakeDeps(c));
    expect(r.output).toMatch(/would restore the pod template of revision 1.*and delete web-4/);
    expect(r.output).toMatch(/^\+    - image: n:1$/m);
    expect(c.patches).toEqual([]);
    expect(c.deleted).toEqual([]);
  });
  it('undo to an unknown revision fails with the list', async () => {
    const err = await runUndo({ ...globals(), name: 'web', toRevision: 9, force: false, yes: true }, fakeDeps(stuck())).catch((e) => e);
    expect(err.message).toMatch(/no revision 9/);
    expect(err.hints.join()).toMatch(/1, 2/);
  });
});
