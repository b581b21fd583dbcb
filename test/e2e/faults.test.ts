/**
 * Fault injection on the real control plane: the kube-apiserver is killed and started again
 * (scripts/cluster/apiserver.sh, which restarts it alone from its recorded command line) while
 * the plugin waits; etcd is compacted so a resumed watch gets 410 Gone; a second writer changes
 * the set during a step; SIGINT and Ctrl-C arrive during a wait, a watch and a confirmation prompt. The API server is always left
 * running (afterAll starts it again even when a test fails).
 */
import { execa, type ResultPromise } from 'execa';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, clusterKind, createNamespace, getJson, kubeconfig, kubeLine, kubectl, pluginBinary, root, waitFor, webWithoutClaims } from './harness.js';

const kwok = clusterKind === 'kwok';
const IMG2 = 'registry.k8s.io/nginx-slim:0.9';
const script = path.join(root, 'scripts/cluster/apiserver.sh');

let ns = '';
let cleanup: () => Promise<void> = async () => {};
const gate = () => `ksts-faults-gate-${ns}`.slice(0, 63);

/** The cluster's apiserver script; the cluster name comes from KSTS_CLUSTER_NAME like every cluster script. */
async function apiserver(...args: string[]): Promise<string> {
  const r = await execa('bash', [script, ...args], { reject: false, all: true, stdin: 'ignore', timeout: 170_000, env: { KSTS_KUBE_LINE: kubeLine } });
  if (r.exitCode !== 0) throw new Error(`apiserver.sh ${args.join(' ')} failed (${r.exitCode}):\n${r.all}`);
  return String(r.stdout ?? '');
}

interface Bg {
  child: ResultPromise;
  out: () => string;
  err: () => string;
  running: () => boolean;
}

/** The plugin in the background, its output collected as it comes. */
function background(args: string[], timeoutMs = 170_000): Bg {
  const child = execa(pluginBinary, args, { reject: false, env: { KUBECONFIG: kubeconfig, NO_COLOR: '1' }, stdin: 'ignore', timeout: timeoutMs });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  void child.then(() => (exited = true));
  return { child, out: () => out, err: () => err, running: () => !exited };
}

async function setJson(): Promise<any> {
  return getJson(['-n', ns, 'statefulset', 'web']);
}

async function settled(): Promise<boolean> {
  const s = await setJson();
  return s.status?.observedGeneration === s.metadata.generation && s.status?.updateRevision === s.status?.currentRevision && (s.status?.readyReplicas ?? 0) === s.spec.replicas;
}

async function podRevisions(): Promise<string[]> {
  const l = await getJson<{ items: any[] }>(['-n', ns, 'pods', '-l', 'app=nginx']);
  return l.items.map((p) => p.metadata.labels['controller-revision-hash']);
}

const mergePatch = (p: unknown) => kubectl(['-n', ns, 'patch', 'statefulset', 'web', '--type', 'merge', '-p', JSON.stringify(p)]);

beforeAll(async () => {
  if (!kwok) return;
  ({ ns, cleanup } = await createNamespace('faults'));
  await apply(webWithoutClaims(4), ns);
  await waitFor(settled, 120_000, '4 ready pods of web');
});

afterAll(async () => {
  if (!kwok) return;
  // Whatever happened above, the shared API server runs again.
  await apiserver('start').catch((e) => process.stderr.write(`[faults] could not restart the API server: ${e}\n`));
  await kubectl(['label', 'node', 'kwok-node-0', `${gate()}-`], { allowFail: true });
  await cleanup();
});

describe.skipIf(!kwok)('under faults (API server restarts, compaction, Ctrl-C)', () => {
  it('1. API server killed and restarted during rollout --auto: exit 0, every pod updated, partition 0', async () => {
    const hold = await execa(pluginBinary, ['rollout', 'hold', 'web', '-n', ns, '--image', `nginx=${IMG2}`], { reject: false, env: { KUBECONFIG: kubeconfig } });
    expect(hold.exitCode, String(hold.stderr)).toBe(0);
    await waitFor(async () => {
      const s = await setJson();
      return s.status?.observedGeneration === s.metadata.generation && s.status.updateRevision !== s.status.currentRevision;
    }, 30_000, 'the new revision');
    const run = background(['rollout', 'web', '-n', ns, '--auto', '--interval', '2s', '--timeout', '2m']);
    // Kill it once the rollout is under way, keep it down 8 s, start it again.
    await waitFor(async () => (await setJson()).spec.updateStrategy.rollingUpdate.partition <= 3, 60_000, 'the first step');
    await apiserver('restart', '8');
    const r = await run.child;
    expect(r.exitCode, `${run.out()}\n${run.err()}`).toBe(0);
    expect(run.out()).toMatch(/rollout of web complete: all 4 pods run web-\w+ and are Ready/);
    expect(run.err()).toMatch(/warning: lost the API server at https:\/\/127\.0\.0\.1:\d+ \((connection refused|connection reset)\); reconnecting for up to \d/);
    expect(run.err()).toMatch(/warning: reconnected to the API server at .* after \d+/);
    expect(run.err().match(/lost the API server/g)!.length).toBeLessThanOrEqual(2); // once per outage, not spammed
    const s = await setJson();
    expect(s.spec.updateStrategy.rollingUpdate.partition).toBe(0);
    expect(new Set(await podRevisions())).toEqual(new Set([s.status.updateRevision]));
  });

  it('2+4. rollout status -w across a restart whose etcd was compacted meanwhile: 410 Gone, re-list, reports completion', async () => {
    // The update revision needs a node label no node has yet: web-3 stays Pending, status -w waits.
    await mergePatch({ spec: { updateStrategy: { rollingUpdate: { partition: 2 } }, template: { spec: { nodeSelector: { [gate()]: 'yes' } } } } });
    // --timeout 4m: the restart includes waiting for KWOK's informers (client-go backoff, seen up to
    // 29 s, jittered up to 60 s), then the controllers roll two pods; 2m left under 30 s to spare.
    const run = background(['rollout', 'status', 'web', '-n', ns, '-w', '--timeout', '4m', '-v', '6'], 290_000);
    await waitFor(async () => /watch=1/.test(run.err()), 30_000, 'status -w to watch');
    const listsBefore = (run.err().match(/\/pods\?[^ ]*limit=/g) ?? []).length;
    // Writes elsewhere move etcd's revision past the one the watch holds; compaction then drops it.
    for (const i of [1, 2, 3]) await kubectl(['-n', ns, 'create', 'configmap', `bump-${i}`]);
    await apiserver('stop');
    await apiserver('compact-etcd'); // every resourceVersion the watch held is history now
    await new Promise((r) => setTimeout(r, 3000));
    await apiserver('start');
    await kubectl(['label', 'node', 'kwok-node-0', `${gate()}=yes`, '--overwrite']);
    const r = await run.child;
    expect(r.exitCode, `${run.out()}\n${run.err()}`).toBe(0);
    expect(run.out()).toMatch(/partitioned: 2 of 4 pods updated/);
    expect(run.err()).toMatch(/warning: lost the API server/);
    expect(run.err()).toMatch(/warning: reconnected to the API server/);
    // The watch could not resume from its compacted resourceVersion: the pods were listed again.
    const listsAfter = (run.err().match(/\/pods\?[^ ]*limit=/g) ?? []).length;
    expect(listsAfter, run.err()).toBeGreaterThan(listsBefore);
    const s = await setJson();
    const byName = await getJson<{ items: any[] }>(['-n', ns, 'pods', '-l', 'app=nginx']);
    const updated = byName.items.filter((p) => p.metadata.labels['controller-revision-hash'] === s.status.updateRevision).map((p) => p.metadata.name).sort();
    expect(updated).toEqual(['web-2', 'web-3']);
  }, 300_000);

  it('5a. SIGINT during the wait of rollout --step: exit 130, partition as reported, the command to resume', async () => {
    // Held, with a template whose pods cannot schedule: the step waits on web-3 forever.
    await mergePatch({ spec: { updateStrategy: { rollingUpdate: { partition: 4 } }, template: { spec: { nodeSelector: { [gate()]: 'never' } } } } });
    await waitFor(async () => (await setJson()).status?.observedGeneration === (await setJson()).metadata.generation, 30_000, 'the held template');
    const run = background(['rollout', 'web', '-n', ns, '--step', '--timeout', '2m']);
    await waitFor(async () => (await setJson()).spec.updateStrategy.rollingUpdate.partition === 3, 30_000, 'the step');
    await new Promise((r) => setTimeout(r, 1000));
    run.child.kill('SIGINT');
    const r = await run.child;
    expect(r.exitCode, `${run.out()}\n${run.err()}`).toBe(130);
    expect(run.err()).toMatch(/^interrupted: partition of web is 3 \(was 4\); web-3 was not yet \(the StatefulSet controller goes on replacing it\); nothing else was changed$/m);
    expect(run.err()).toMatch(new RegExp(`Resume: kubectl sts rollout web -n ${ns} --to 3`));
    expect((await setJson()).spec.updateStrategy.rollingUpdate.partition).toBe(3);
  });

  it('5b. SIGINT during rollout status -w: exit 130 with the last status', async () => {
    const run = background(['rollout', 'status', 'web', '-n', ns, '-w']);
    await new Promise((r) => setTimeout(r, 2000));
    run.child.kill('SIGINT');
    const r = await run.child;
    expect(r.exitCode, `${run.out()}\n${run.err()}`).toBe(130);
    expect(run.out()).toMatch(/interrupted: stopped watching web: /);
  });

  it('5d. SIGINT during dns-check (its reads, then its lookups as execs in the pods): exit 130 at once, no stack trace', async () => {
    // One lookup at a time: the lookups then last well past the SIGINT at 450 ms (with 8 in
    // flight the whole check ended at ~470 ms once the binary started faster, and the SIGINT
    // found it finished; it then answered its complete verdict).
    const run = background(['dns-check', 'web', '-n', ns, '--all-pairs', '--concurrency', '1']);
    await new Promise((r) => setTimeout(r, 450));
    expect(run.running(), 'dns-check finished before the SIGINT: the test proves nothing').toBe(true);
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.child;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.exitCode, `${run.out()}\n${run.err()}`).toBe(130);
    expect(`${run.out()}${run.err()}`).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)|unexpected failure/);
    // No verdict from cut-short lookups (they would read as timeouts): it says how far it got.
    expect(run.err()).toMatch(/interrupted: during the lookups in the pods \(\d+ of \d+ had finished\); no verdict is given/);
    expect(run.out()).not.toMatch(/exec-timeout/);
  });

  it('3. a second writer changes the template during --step: exit 1, stopped naming the change, nothing more changed', async () => {
    // State from 5a: partition 3, web-3 stuck Pending on an unschedulable template.
    const run = background(['rollout', 'web', '-n', ns, '--step', '--timeout', '8s']);
    await waitFor(async () => (await setJson()).spec.updateStrategy.rollingUpdate.partition === 2, 30_000, 'the step');
    await mergePatch({ spec: { template: { metadata: { annotations: { 'ksts-faults/second-writer': 'yes' } } } } });
    const r = await run.child;
    expect(r.exitCode, `${run.out()}\n${run.err()}`).toBe(1);
    expect(run.out()).toMatch(/statefulset web was changed by someone else during the step \(template \(generation \d+ -> \d+\)\); stopped without changing anything more: the partition is 2/);
    expect(run.out()).toMatch(new RegExp(`review what changed before stepping again: kubectl sts rollout diff web -n ${ns}`));
    expect((await setJson()).spec.updateStrategy.rollingUpdate.partition).toBe(2);
  });

  it('5c. Ctrl-C and EOF at the confirmation prompt (a real terminal): 130 / declined, nothing changed', async () => {
    const before = (await setJson()).metadata.generation;
    // A pseudo-terminal: the plugin prompts, then gets ^C (the terminal turns it into SIGINT) or ^D (EOF).
    const pty = (key: string) =>
      execa(
        'python3',
        [
          '-c',
          `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execve(sys.argv[1], sys.argv[1:], dict(os.environ))
buf = b''
deadline = time.time() + 60
while b'[y/N]' not in buf and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if r:
        try: buf += os.read(fd, 4096)
        except OSError: break
os.write(fd, ${key === 'ctrl-c' ? "b'\\x03'" : "b'\\x04'"})
while True:
    try:
        d = os.read(fd, 4096)
        if not d: break
        buf += d
    except OSError: break
_, st = os.waitpid(pid, 0)
sys.stdout.write(buf.decode('utf-8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
`,
          pluginBinary,
          'rollout',
          'undo',
          'web',
          '-n',
          ns,
        ],
        { reject: false, env: { KUBECONFIG: kubeconfig, NO_COLOR: '1' }, timeout: 90_000 },
      );
    const c = await pty('ctrl-c');
    expect(c.exitCode, String(c.stdout)).toBe(130);
    expect(String(c.stdout)).toMatch(/interrupted: at the confirmation prompt; nothing was changed/);
    const d = await pty('eof');
    expect(d.exitCode, String(d.stdout)).toBe(1);
    expect(String(d.stdout)).toMatch(/declined: nothing was changed/);
    expect((await setJson()).metadata.generation).toBe(before);
  });
});
