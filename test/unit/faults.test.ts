/**
 * Ctrl-C and lost answers, on the handlers and pure helpers: where a rollout stands when it stops
 * early, a PATCH whose answer was lost is not applied twice, the confirmation prompt stops on
 * Ctrl-C and on EOF, and interrupts print as "interrupted: …" with exit 130.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runStep, type StepArgs } from '../../src/commands/rollout-step.js';
import { runStatus } from '../../src/commands/rollout-status.js';
import { askYesNo, formatError } from '../../src/cli.js';
import { ExitCode, InterruptedError, KubeApiError } from '../../src/errors.js';
import { patchLanded } from '../../src/core/patch-landed.js';
import { standingText } from '../../src/core/rollout-standing.js';
import { markTransport } from '../../src/kube/retry.js';
import type { GlobalArgs } from '../../src/commands/command.js';
import { FakeCluster } from '../fixtures/rollout/fake-cluster.js';
import { fakeDeps, globals } from '../fixtures/rollout/deps.js';
import { pods, revision, sts } from '../fixtures/rollout/objects.js';

const A = 'web-aaa';
const B = 'web-bbb';
const held = () =>
  new FakeCluster(sts({ partition: 5, current: A, update: B, updatedReplicas: 0, currentReplicas: 5, image: 'n:2' }), pods(5, A), [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')]);
const stepArgs = (over: Partial<StepArgs & GlobalArgs> = {}) => ({
  ...globals(),
  name: 'web',
  auto: false,
  interval: '0',
  timeout: '5s',
  wait: true,
  deletePods: false,
  yes: false,
  ...over,
});
const reset = () => markTransport(new KubeApiError('cannot reach the API server https://fake: other side closed', { exitCode: 3 }), 'UND_ERR_SOCKET');

describe('standingText', () => {
  it('says what moved and what did not', () => {
    const base = { name: 'web', namespace: 'ns', from: 5, partition: 5, updated: [] as string[] };
    expect(standingText(base)).toBe('partition of web is still 5; nothing was changed');
    expect(standingText({ ...base, partition: 3, updated: ['web-4'], pending: 'web-3' })).toBe(
      'partition of web is 3 (was 5); web-4 updated and Ready; web-3 was not yet (the StatefulSet controller goes on replacing it); nothing else was changed',
    );
    expect(standingText({ ...base, partition: 4, updated: ['web-4'], inFlight: true })).toMatch(
      /^a change of the partition of web \(from 4\) was sent but not confirmed: it may or may not have been applied \(see kubectl sts rollout status web -n ns\); web-4 updated and Ready; nothing else was changed$/,
    );
  });
});

describe('patchLanded', () => {
  it('matches merge patches, nulls and containers by name', () => {
    const obj = { metadata: { resourceVersion: '9' }, spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3 } }, template: { spec: { containers: [{ name: 'a', image: 'x:1', ports: [] }, { name: 'b', image: 'y:2' }] } } } };
    expect(patchLanded({ spec: { updateStrategy: { rollingUpdate: { partition: 3 } } } }, obj)).toBe(true);
    expect(patchLanded({ spec: { updateStrategy: { rollingUpdate: { partition: 2 } } } }, obj)).toBe(false);
    expect(patchLanded({ spec: { template: { spec: { containers: [{ name: 'b', image: 'y:2' }] } } } }, obj)).toBe(true);
    expect(patchLanded({ spec: { template: { spec: { containers: [{ name: 'b', image: 'y:3' }] } } } }, obj)).toBe(false);
    expect(patchLanded({ metadata: { finalizers: null } }, obj)).toBe(true);
    expect(patchLanded({ metadata: { resourceVersion: null } }, obj)).toBe(false);
  });
});

describe('a PATCH whose answer is lost', () => {
  it('re-reads, sees it landed, and does not step a second time', async () => {
    const c = held();
    const patch = c.patch.bind(c);
    let cut = 1;
    c.patch = (async (...a: Parameters<typeof patch>) => {
      const r = await patch(...a);
      if (cut-- > 0) throw reset(); // applied, but the connection broke before the answer
      return r;
    }) as typeof c.patch;
    const r = await runStep(stepArgs({ step: '1' }), fakeDeps(c));
    expect(r.exitCode).toBe(0);
    expect(c.sts.spec.updateStrategy!.rollingUpdate!.partition).toBe(4);
    expect(c.patches).toHaveLength(1);
    expect(r.output).toMatch(/partition 4: web-4 updated and Ready/);
  });

  it('re-reads, sees it did not land, and sends it again under the new resourceVersion', async () => {
    const c = held();
    const patch = c.patch.bind(c);
    let cut = 1;
    c.patch = (async (...a: Parameters<typeof patch>) => {
      if (cut-- > 0) {
        c.patches.push({ body: a[1], type: String(a[2]), dryRun: 'lost' });
        throw reset(); // never reached the object
      }
      return patch(...a);
    }) as typeof c.patch;
    const r = await runStep(stepArgs({ step: '1' }), fakeDeps(c));
    expect(r.exitCode).toBe(0);
    expect(c.sts.spec.updateStrategy!.rollingUpdate!.partition).toBe(4);
    expect(c.patches.map((p) => p.body.spec.updateStrategy.rollingUpdate.partition)).toEqual([4, 4]);
  });
});

describe('the API server gone past --timeout', () => {
  it('exits 3 saying where the rollout stands and how to resume', async () => {
    const c = held();
    c.controllerOn = false;
    // the watch and the re-lists fail from the start of the wait: the server is gone
    c.watch = async function* () {
      throw markTransport(new KubeApiError('the API server https://fake (context "test") refused the connection', { exitCode: 3 }), 'ECONNREFUSED');
    } as never;
    const err = await runStep(stepArgs({ step: '1', timeout: '300ms' }), fakeDeps(c)).catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/refused the connection/);
    const hints = err.hints.join('\n');
    expect(hints).toMatch(/Where it stands: partition of web is 4 \(was 5\); nothing else was changed\./);
    expect(hints).toMatch(/Resume once the API server answers: kubectl sts rollout web -n default --to 4/);
  });
});

describe('Ctrl-C', () => {
  it('rollout status -w: the last status and exit 130', async () => {
    const c = new FakeCluster(sts({ partition: 3, current: A, update: B, updatedReplicas: 0, currentReplicas: 5, image: 'n:2' }), pods(5, A), [revision(A, 1, 'n:1'), revision(B, 2, 'n:2')]);
    c.controllerOn = false;
    const deps = fakeDeps(c);
    setTimeout(() => deps.abort.abort(new InterruptedError()), 50);
    const r = await runStatus({ ...globals(), name: 'web', watch: true, timeout: '0' }, deps);
    expect(r.exitCode).toBe(ExitCode.Interrupted);
    expect(r.output).toMatch(/^interrupted: stopped watching web: /);
  });

  it('prints as "interrupted: …" with exit 130', () => {
    expect(formatError(new InterruptedError('partition of web is still 5; nothing was changed', ['Resume: x']))).toEqual({
      text: 'interrupted: partition of web is still 5; nothing was changed\n  Resume: x\n',
      exitCode: 130,
    });
    expect(formatError(Object.assign(new Error('x'), { name: 'AbortError' })).exitCode).toBe(130);
  });

  const tty = () => Object.assign(new EventEmitter(), { isTTY: true, resume() {}, pause() {} });
  const sink = () => {
    const out: string[] = [];
    return { out, stream: { write: (s: string) => void out.push(s) } };
  };

  it('the prompt: y accepts, EOF declines, Ctrl-C rejects with the interrupt', async () => {
    const yes = tty();
    const err1 = sink();
    const p1 = askYesNo({ stdin: yes as never, stderr: err1.stream as never, signal: new AbortController().signal }, 'delete 2 pods?');
    yes.emit('data', Buffer.from('y\n'));
    expect(await p1).toBe(true);
    expect(err1.out.join('')).toBe('delete 2 pods? [y/N] ');

    const eof = tty();
    const p2 = askYesNo({ stdin: eof as never, stderr: sink().stream as never, signal: new AbortController().signal }, 'q?');
    eof.emit('end');
    expect(await p2).toBe(false);

    const ac = new AbortController();
    const p3 = askYesNo({ stdin: tty() as never, stderr: sink().stream as never, signal: ac.signal }, 'q?');
    ac.abort(new InterruptedError());
    const e = await p3.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InterruptedError);
    expect((e as InterruptedError).message).toBe('at the confirmation prompt; nothing was changed');
  });
});

describe('a second writer during --step', () => {
  it('a template change seen on the pods: one GET, then a clear stop naming the change; nothing more is changed', async () => {
    const c = held();
    c.controllerOn = false;
    const deps = fakeDeps(c);
    setTimeout(() => {
      c.controllerOn = true;
      // someone else: kubectl set image, no precondition
      void c.patch('/apis/apps/v1/namespaces/default/statefulsets/web', { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'n:3' }] } } } }, 'strategic');
    }, 50);
    const r = await runStep(stepArgs({ step: '1' }), deps);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/statefulset web was changed by someone else during the step \(template \(generation \d+ -> \d+\)\); stopped without changing anything more: the partition is 4/);
    expect(r.output).toMatch(/review what changed before stepping again: kubectl sts rollout diff web -n default/);
    // our PATCH only; the other writer's patch has no precondition
    expect(c.patches.filter((p) => p.body.metadata?.resourceVersion)).toHaveLength(1);
    expect(c.calls.filter((x) => x.startsWith('GET')).length).toBe(2); // the first read, and the one that checked
  });

  it('a scale-down behind a stuck pod: at the timeout, says the set changed rather than blaming the pod', async () => {
    const c = held();
    c.brokenImages.add('n:2');
    const deps = fakeDeps(c);
    setTimeout(() => {
      c.sts.spec.replicas = 3;
      c.sts.metadata.generation = (c.sts.metadata.generation ?? 1) + 1;
    }, 50);
    const r = await runStep(stepArgs({ step: '1', timeout: '300ms' }), deps);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/changed by someone else during the step \(replicas 5 -> 3\)/);
  });
});

describe('mongo-status -w outlives a lost API server', () => {
  it('a round that cannot reach the server is skipped (the client said so once); the next one reports', async () => {
    const { mongoStatusCommand } = await import('../../src/commands/mongo-status.js');
    const fs = await import('node:fs');
    const healthy = fs.readFileSync(new URL('../fixtures/mongo/e2e/healthy.json', import.meta.url), 'utf8').replaceAll('__NS__', 'prod');
    const mongoSts = {
      metadata: { name: 'mongo', namespace: 'prod', uid: 'u1' },
      spec: { replicas: 3, serviceName: 'mongo-service', selector: { matchLabels: { role: 'mongo-pod' } }, template: { spec: { containers: [] } } },
    };
    const mongoPod = (i: number) => ({
      metadata: { name: `mongo-${i}`, namespace: 'prod', labels: { role: 'mongo-pod' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'mongo', uid: 'u1', controller: true }] },
      spec: { containers: [{ name: 'mongo', image: 'mongo:latest', command: ['mongod', '--replSet', 'rs0'] }] },
      status: { phase: 'Running', podIP: `10.0.0.${i}`, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    let lists = 0;
    const kube = {
      namespace: 'prod',
      contextName: 'test',
      server: 'https://example',
      client: {
        getNamed: async () => mongoSts,
        list: async () => {
          if (++lists === 1) throw markTransport(new KubeApiError('the API server https://example refused the connection', { exitCode: 3 }), 'ECONNREFUSED');
          return { items: [0, 1, 2].map(mongoPod), resourceVersion: '1' };
        },
      },
      exec: async () => ({ stdout: healthy, stderr: '', exitCode: 0 }),
    };
    const written: string[] = [];
    const ac = new AbortController();
    let sleeps = 0;
    const deps = {
      ...fakeDeps(held()),
      kube: async () => kube as never,
      write: (t: string) => void written.push(t),
      sleep: async () => {
        if (++sleeps >= 3) {
          ac.abort(new InterruptedError());
          throw new InterruptedError();
        }
      },
      signal: ac.signal,
    };
    const r = await mongoStatusCommand.run!(
      { name: 'mongo', each: false, authDb: 'admin', tls: false, watch: true, interval: '5s', maxLag: '10s', timeout: '30s', ...globals() } as never,
      deps as never,
    );
    expect(lists).toBe(3);
    expect(written).toHaveLength(2); // the round without a server printed nothing; two rounds reported
    expect(written[0]).toMatch(/Replica set rs0/);
    expect(r.exitCode).toBe(0);
  });
});
