import { describe, expect, it } from 'vitest';
import { formatError, parseRequestTimeout, runCli } from '../../src/cli.js';
import { CliError, ExitCode, KubeApiError, UsageError } from '../../src/errors.js';
import { colorEnabled, palette } from '../../src/render/color.js';
import { renderStructured } from '../../src/render/output.js';
import { renderTable } from '../../src/render/table.js';
import { fakeIo } from '../helpers/fake-io.js';

describe('kubectl sts (program)', () => {
  it('--help lists the commands under "kubectl sts" and the exit codes', async () => {
    const f = fakeIo(['--help']);
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.out()).toContain('Usage: kubectl sts <command> [flags]');
    expect(f.out()).toContain('kubectl sts version');
    expect(f.out()).toContain('--kubeconfig');
    expect(f.out()).toContain('Exit codes: 0 ok');
  });

  it('no command is a usage error', async () => {
    const f = fakeIo([]);
    expect(await runCli(f.io)).toBe(ExitCode.Usage);
    expect(f.err()).toContain('a command is required');
  });

  it('a mistyped command suggests the right one, exit 2', async () => {
    const f = fakeIo(['verison']);
    expect(await runCli(f.io)).toBe(ExitCode.Usage);
    expect(f.err()).toContain('unknown command "verison" for "kubectl sts"');
    expect(f.err()).toContain('Did you mean "version"?');
  });

  it('an unknown flag is a usage error', async () => {
    const f = fakeIo(['version', '--bogus']);
    expect(await runCli(f.io)).toBe(ExitCode.Usage);
    expect(f.err()).toContain('bogus');
  });

  it('an invalid -o value is a usage error', async () => {
    const f = fakeIo(['version', '--client', '-o', 'xml']);
    expect(await runCli(f.io)).toBe(ExitCode.Usage);
    expect(f.err()).toContain('invalid value "xml" for -o/--output: use one of table, wide, json, yaml, name');
  });

  it('version --client needs no cluster; -o json has the documented shape', async () => {
    const f = fakeIo(['version', '--client', '-o', 'json']);
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    const v = JSON.parse(f.out());
    expect(v.clientVersion.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    expect(v.serverVersion).toBeUndefined();
  });

  it('version asks the server through the injected client', async () => {
    const f = fakeIo(['version'], { kube: { client: { get: async () => ({ gitVersion: 'v1.36.3' }) } as never } });
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.out()).toMatch(/Plugin Version: v\d/);
    expect(f.out()).toContain('Server Version: v1.36.3');
  });

  it('an interrupt while the command was finishing: its output, then the interrupt said, exit 130', async () => {
    const ac = new AbortController();
    // The server answers; the Ctrl-C lands while the command builds its answer from it.
    const f = fakeIo(['version'], { kube: { client: { get: async () => (ac.abort(Object.assign(new Error('stopped by Ctrl-C'), { name: 'Interrupted' })), { gitVersion: 'v1.36.3' }) } as never } });
    f.io.signal = ac.signal;
    expect(await runCli(f.io)).toBe(ExitCode.Interrupted);
    expect(f.out()).toContain('Server Version: v1.36.3');
    expect(f.err()).toBe('interrupted: stopped by Ctrl-C, as the command was finishing; its output above may be incomplete\n');
  });

  it('an interrupt after the command had finished leaves its answer and exit code as they are', async () => {
    const ac = new AbortController();
    const f = fakeIo(['version'], { kube: { client: { get: async () => ({ gitVersion: 'v1.36.3' }) } as never } });
    f.io.signal = ac.signal;
    const write = f.io.stdout.write.bind(f.io.stdout);
    f.io.stdout.write = ((s: string, cb?: () => void) => (ac.abort(new Error('late')), write(s, cb))) as never;
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.err()).toBe('');
  });

  it('a cluster that cannot be reached prints the mapped error and exits 3', async () => {
    const f = fakeIo(['version'], {
      kube: {
        client: {
          get: async () => {
            throw new KubeApiError('the API server https://x:6443 (context "test") refused the connection', { exitCode: ExitCode.Unreachable, hints: ['Check it'] });
          },
        } as never,
      },
    });
    expect(await runCli(f.io)).toBe(ExitCode.Unreachable);
    expect(f.err()).toBe('error: the API server https://x:6443 (context "test") refused the connection\n  Check it\n');
    expect(f.out()).toBe('');
  });

  it('an unexpected exception is reported without a stack trace, exit 1', async () => {
    const f = fakeIo(['version'], { kube: { client: { get: async () => { throw new TypeError('x is undefined'); } } as never } });
    expect(await runCli(f.io)).toBe(ExitCode.Problems);
    expect(f.err()).toContain('error: unexpected failure: x is undefined');
    expect(f.err()).not.toMatch(/\n\s+at /);
  });

  it('completion: cobra protocol for kubectl_complete-sts', async () => {
    const f = fakeIo(['__complete', 'ver']);
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.out()).toBe('version\n:4\n');
    const g = fakeIo(['__complete', '']);
    await runCli(g.io);
    expect(g.out().split('\n')).toEqual(expect.arrayContaining(['version', 'completion', ':4']));
  });

  it.each([
    [['rollout', 's'], ['status', 'step']],
    [['-o', 'j'], ['json']],
    [['pvc-orphans', '--in'], ['--include-pvs']],
    [['finalize-localpv', '--all-s'], ['--all-safe']],
    [['nosuch', 'x', ''], []],
  ])('completion of %j', async (words, want) => {
    const f = fakeIo(['__complete', ...words]);
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.out()).toBe(`${want.map((w) => `${w}\n`).join('')}:4\n`);
  });

  it('completes StatefulSet names from the cluster after a command that takes one', async () => {
    const list = async (path: string) => {
      expect(path).toBe('/apis/apps/v1/namespaces/db/statefulsets');
      return { items: [{ metadata: { name: 'web' } }, { metadata: { name: 'mongo' } }], resourceVersion: '1' };
    };
    const f = fakeIo(['__complete', 'rollout', 'status', 'm'], { kube: { namespace: 'db', client: { list } as never } });
    await runCli(f.io);
    expect(f.out()).toBe('mongo\n:4\n');
    const g = fakeIo(['__complete', 'rollout', 'web', 'x'], { kube: { namespace: 'db', client: { list } as never } });
    await runCli(g.io);
    expect(g.out()).toBe(':4\n'); // the name is already given
  });

  it('completion never fails, even when the cluster is unreachable', async () => {
    const f = fakeIo(['__complete', 'dns-check', ''], { kube: { client: { list: async () => { throw new Error('refused'); } } as never } });
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.out()).toBe(':4\n');
  });

  it('completion bash prints a script that calls __complete', async () => {
    const f = fakeIo(['completion', 'bash']);
    expect(await runCli(f.io)).toBe(ExitCode.Ok);
    expect(f.out()).toContain('kubectl-sts __complete');
    expect(f.out()).toContain('complete -F _kubectl_sts kubectl-sts');
  });
});

describe('errors and exit codes', () => {
  it.each([
    [new UsageError('bad'), ExitCode.Usage],
    [new CliError('found problems'), ExitCode.Problems],
    [new KubeApiError('gone', { exitCode: ExitCode.Unreachable }), ExitCode.Unreachable],
  ])('%s -> %i', (e, code) => expect(formatError(e).exitCode).toBe(code));
  it('exit codes are stable', () => expect(ExitCode).toEqual({ Ok: 0, Problems: 1, Usage: 2, Unreachable: 3, Incomplete: 4, Interrupted: 130 }));
});

describe('flags and rendering', () => {
  it.each([
    ['0', 0],
    ['30', 30_000],
    ['30s', 30_000],
    ['1m', 60_000],
  ])('--request-timeout %s', (v, ms) => expect(parseRequestTimeout(v)).toBe(ms));

  it.each([
    [true, {}, false, true],
    [false, {}, false, false],
    [true, { NO_COLOR: '' }, false, false],
    [true, {}, true, false],
    [true, { TERM: 'dumb' }, false, false],
  ])('color on tty=%s env=%j --no-color=%s -> %s', (tty, env, flag, want) => expect(colorEnabled(tty, env, flag)).toBe(want));

  it('palette is identity without color', () => {
    expect(palette(false).red('x')).toBe('x');
    expect(palette(true).red('x')).toBe('\u001b[31mx\u001b[39m');
  });

  it('tables look like kubectl: upper-case headers, 3-space gaps, no trailing blanks', () => {
    expect(renderTable(['name', 'ready'], [['web-0', '1/1'], ['web-10', '0/1']])).toBe('NAME     READY\nweb-0    1/1\nweb-10   0/1\n');
  });

  it('colored cells do not break alignment', () => {
    const p = palette(true);
    const t = renderTable(['a', 'b'], [[p.green('ok'), 'x'], ['long-cell', 'y']]);
    const plain = t.replace(/\u001b\[\d+m/g, '');
    expect(plain).toBe('A           B\nok          x\nlong-cell   y\n');
  });

  it('structured output', () => {
    expect(renderStructured({ a: 1 }, 'json')).toBe('{\n  "a": 1\n}\n');
    expect(renderStructured({ a: [1, 2] }, 'yaml')).toBe('a:\n  - 1\n  - 2\n');
  });
});

describe('the two bundles', () => {
  it('errors thrown by another copy of the error classes are still recognised (instanceof by brand)', async () => {
    // Simulate the second bundle: a fresh module instance of errors.ts.
    const other = await import('../../src/errors.js?copy' as string);
    const e = new other.KubeApiError('x', { status: 404, exitCode: 3 });
    expect(e).toBeInstanceOf(KubeApiError);
    expect(e).toBeInstanceOf(CliError);
    expect(new CliError('y')).not.toBeInstanceOf(KubeApiError);
    expect(formatError(e).exitCode).toBe(3);
  });
});

describe('static answers (start-up fast path)', () => {
  it('keys only build-static invocations', async () => {
    const { staticKey } = await import('../../src/static-answers.js');
    expect(staticKey(['--help'])).toBe('--help');
    expect(staticKey(['-h'])).toBe('--help');
    expect(staticKey(['rollout', 'status', '-h'])).toBe('rollout status --help');
    expect(staticKey(['version', '--client'])).toBe('version --client');
    expect(staticKey(['help'])).toBe('--help');
    expect(staticKey(['help', 'rollout', 'status'])).toBe('rollout status --help');
    expect(staticKey(['-n', 'x', 'rollout', '--help'])).toBeUndefined();
    expect(staticKey(['version'])).toBeUndefined();
    expect(staticKey(['rollout', 'web', '--step'])).toBeUndefined();
  });

  it('serves nothing outside the single binary', async () => {
    const { staticAnswer } = await import('../../src/static-answers.js');
    expect(staticAnswer(['--help'], { isTTY: false })).toBeUndefined();
  });

  it('renders every command page with the live CLI, at the width the fast path assumes', async () => {
    const { renderStaticAnswers, HELP_WIDTH } = await import('../../src/cli.js');
    const src = await import('node:fs').then((fs) => fs.readFileSync(new URL('../../src/static-answers.ts', import.meta.url), 'utf8'));
    expect(src).toContain(`const HELP_WIDTH = ${HELP_WIDTH};`);
    const answers = await renderStaticAnswers();
    for (const key of ['--help', 'rollout --help', 'rollout status --help', 'pvc-orphans --help', 'cleanup-pv --help', 'dns-check --help', 'finalize-localpv --help', 'mongo-status --help', 'version --client']) {
      expect(answers[key], key).toBeTruthy();
    }
    const live = fakeIo(['dns-check', '--help']);
    await runCli(live.io);
    expect(answers['dns-check --help']).toBe(live.out());
    // kubectl's `help COMMAND` is the same page.
    const viaHelp = fakeIo(['help', 'dns-check']);
    expect(await runCli(viaHelp.io)).toBe(0);
    expect(viaHelp.out()).toBe(live.out());
    expect(Math.max(...answers['--help']!.split('\n').map((l) => l.length))).toBeLessThanOrEqual(HELP_WIDTH);
  });
});
