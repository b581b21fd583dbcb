/**
 * Every invalid flag value, global or per-command, exits 2 and names the flag — before any
 * kubeconfig is read (the fake cluster here fails the test if it is ever asked for).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { ExitCode } from '../../src/errors.js';
import { fakeIo } from '../helpers/fake-io.js';

const untouchable = {
  client: new Proxy({}, { get: () => { throw new Error('the cluster was asked although a flag value was invalid'); } }) as never,
};

describe('invalid flag values: exit 2, the flag named, nothing asked of the cluster', () => {
  it.each([
    // global flags
    [['pvc-orphans', '--request-timeout', 'never'], '--request-timeout'],
    [['pvc-orphans', '--request-timeout=5x'], '--request-timeout'],
    [['pvc-orphans', '-v', 'x'], '-v'],
    [['pvc-orphans', '-v', '11'], '-v'],
    [['pvc-orphans', '-o', 'xml'], '-o/--output'],
    [['rollout', 'status', 'web', '-o', 'csv'], '-o/--output'],
    // rollout
    [['rollout', 'web', '--to', 'abc'], '--to'],
    [['rollout', 'web', '--to', '-1'], '--to'],
    [['rollout', 'web', '--to', '1.5'], '--to'],
    [['rollout', 'web', '--step', '0'], '--step'],
    [['rollout', 'web', '--step', '1.5'], '--step'],
    [['rollout', 'web', '--auto', '--interval', '5x'], '--interval'],
    [['rollout', 'web', '--step', '--timeout', 'forever'], '--timeout'],
    [['rollout', 'web', '--step', '--dry-run=bogus'], '--dry-run'],
    [['rollout', 'status', 'web', '-w', '--timeout', '1y'], '--timeout'],
    [['rollout', 'history', 'web', '--revision', 'x'], '--revision'],
    [['rollout', 'diff', 'web', '--revision', '0'], '--revision'],
    [['rollout', 'undo', 'web', '--to-revision', 'two'], '--to-revision'],
    [['rollout', 'hold', 'web', '--dry-run=maybe'], '--dry-run'],
    // dns-check
    [['dns-check', 'web', '--exec-timeout', 'soon'], '--exec-timeout'],
    [['dns-check', 'web', '--concurrency', '0'], '--concurrency'],
    [['dns-check', 'web', '--concurrency', 'many'], '--concurrency'],
    // mongo-status
    [['mongo-status', 'mongo', '--interval', 'x'], '--interval'],
    [['mongo-status', 'mongo', '--max-lag', '10'], '--max-lag'],
    [['mongo-status', 'mongo', '--timeout', 'x'], '--timeout'],
    // doctor
    [['doctor', '--stuck-after', 'long'], '--stuck-after'],
    [['doctor', 'web', '-w', '--interval', '5'], '--interval'],
    // pvc-orphans
    [['pvc-orphans', '--older-than', 'old'], '--older-than'],
    [['pvc-orphans', '--delete', '--dry-run=maybe'], '--dry-run'],
    [['pvc-orphans', '-l', 'app in (a'], '--selector'],
    // finalize-localpv
    [['finalize-localpv', '--dry-run=maybe'], '--dry-run'],
  ])('%j → names %s', async (argv, flag) => {
    const f = fakeIo(argv, { kube: untouchable });
    const code = await runCli(f.io);
    expect(f.err()).not.toMatch(/bug in kubectl-sts|asked although/);
    expect(code).toBe(ExitCode.Usage);
    expect(f.err()).toContain(flag);
  });

  it('-v 9 and -v9 are the same level', async () => {
    const seen: number[] = [];
    for (const argv of [['version', '-v', '9'], ['version', '-v9'], ['version', '--v=9'], ['version', '--verbose', '9']]) {
      const f = fakeIo(argv);
      f.io.kube = async (args) => {
        seen.push(args.verbose);
        return { client: { get: async () => ({ gitVersion: 'v1.36.3' }) } } as never;
      };
      expect(await runCli(f.io), f.err()).toBe(ExitCode.Ok);
    }
    expect(seen).toEqual([9, 9, 9, 9]);
  });

  it('-y works wherever --yes does', async () => {
    for (const argv of [['finalize-localpv', 'pv-1', '-y'], ['pvc-orphans', '--delete', '-y'], ['rollout', 'undo', 'web', '-y'], ['rollout', 'web', '--delete-pods', '--step', '-y']]) {
      const f = fakeIo(argv, { kube: { client: { get: async () => { throw new Error('stop'); }, list: async () => { throw new Error('stop'); }, getNamed: async () => { throw new Error('stop'); } } as never } });
      expect(await runCli(f.io), `${argv.join(' ')}: ${f.err()}`).not.toBe(ExitCode.Usage);
    }
  });
});
