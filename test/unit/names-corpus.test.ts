/**
 * Any valid StatefulSet name reaches the command as a name (issue: `rollout db --step` was
 * answered "Did you mean diff?"). Table-driven over a corpus: every command and subcommand word,
 * each subcommand's prefixes and one-letter edits, and common data-store names; every command
 * that takes a name, in every documented form. The fake cluster records the paths the command
 * asked for; the name must appear as the StatefulSet's name there (and the exit code is not 2).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { ExitCode } from '../../src/errors.js';
import { COMMANDS } from '../../src/commands/index.js';
import { commandWords, normalizeArgv } from '../../src/commands/argv.js';
import { globalOptions } from '../../src/cli.js';
import { fakeIo } from '../helpers/fake-io.js';

const rollout = COMMANDS.find((c) => commandWords(c).includes('rollout'))!;
const SUBCOMMANDS = rollout.subcommands!.flatMap(commandWords);
const TOP = COMMANDS.flatMap(commandWords);
const DATA_STORES = ['db', 'pg', 'postgres', 'mysql', 'redis', 'zk', 'kafka', 'mongo', 'etcd', 'es', 'nats', 'consul', 'vault', 'minio'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789-';
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function edits(w: string, alphabet: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= w.length; i++) {
    if (i < w.length) out.push(w.slice(0, i) + w.slice(i + 1)); // deletion
    if (i < w.length - 1) out.push(w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2)); // transposition
    for (const c of alphabet) {
      if (i < w.length) out.push(w.slice(0, i) + c + w.slice(i + 1)); // substitution
      out.push(w.slice(0, i) + c + w.slice(i)); // insertion
    }
  }
  return out;
}
const prefixes = (w: string) => Array.from({ length: w.length }, (_, i) => w.slice(0, i + 1));

const valid = (names: string[]) => [...new Set(names.filter((n) => DNS1123.test(n) && n.length <= 63))].sort();
/** Every one-letter edit over the whole DNS alphabet: checked through normalizeArgv (pure, fast). */
const fullCorpus = valid([...SUBCOMMANDS, ...TOP, ...DATA_STORES, ...SUBCOMMANDS.flatMap(prefixes), ...SUBCOMMANDS.flatMap((w) => edits(w, ALPHABET)), 'web', 'a', 'x-1', 'sts-0', 'my-db-2']);
/** The same classes with edits over a smaller alphabet: run end to end through runCli and yargs. */
const corpus = valid([...SUBCOMMANDS, ...TOP, ...DATA_STORES, ...SUBCOMMANDS.flatMap(prefixes), ...SUBCOMMANDS.flatMap((w) => edits(w, 'aeiostx0-')), 'web', 'a', 'x-1', 'sts-0', 'my-db-2']);

/** A cluster that records what was asked and answers nothing: every request fails after being recorded. */
function recordingKube() {
  const paths: string[] = [];
  const client = new Proxy(
    { requestCount: 0 },
    {
      get(t, prop) {
        if (prop === 'requestCount') return t.requestCount;
        if (prop === 'then') return undefined;
        return async (...args: unknown[]) => {
          for (const a of args) if (typeof a === 'string') paths.push(a);
          throw Object.assign(new Error(`recorded ${String(prop)}`), { name: 'Recorded' });
        };
      },
    },
  );
  return { paths, kube: { client: client as never, exec: (async () => ({ stdout: '', stderr: '', exitCode: 0 })) as never } };
}

async function reachesAsName(argv: string[], name: string): Promise<{ ok: boolean; detail: string }> {
  const r = recordingKube();
  const f = fakeIo(argv, { kube: r.kube });
  const code = await runCli(f.io);
  const asked = r.paths.some((p) => p.endsWith(`/statefulsets/${name}`) || p.includes(`/statefulsets/${name}?`));
  return { ok: code !== ExitCode.Usage && asked, detail: `${argv.join(' ')} → exit ${code}; asked ${JSON.stringify(r.paths)}; stderr ${f.err()}` };
}

/** The forms of every name-taking command; `plain` forms cannot carry a name equal to a subcommand. */
const FORMS: { form: (n: string) => string[]; plainOnly?: boolean }[] = [
  { form: (n) => ['rollout', n, '--step'], plainOnly: true },
  { form: (n) => ['rollout', n, '--to', '0', '-n', 'ns1'], plainOnly: true },
  { form: (n) => ['rollout', 'step', n] },
  { form: (n) => ['rollout', 'step', n, '--step', '2'] },
  { form: (n) => ['rollout', '--step', '--', n] },
  { form: (n) => ['rollout', '--auto', '--', n] },
  { form: (n) => ['rollout', 'status', n] },
  { form: (n) => ['rollout', 'status', '--', n] },
  { form: (n) => ['rollout', 'hold', n] },
  { form: (n) => ['rollout', 'diff', n] },
  { form: (n) => ['rollout', 'history', n] },
  { form: (n) => ['rollout', 'undo', n, '--yes'] },
  { form: (n) => ['dns-check', n] },
  { form: (n) => ['dns-check', '--', n] },
  { form: (n) => ['mongo-status', n] },
  { form: (n) => ['doctor', n] },
  { form: (n) => ['doctor', '--', n] },
];

describe(`every valid name reaches the command as a name (${corpus.length} names)`, () => {
  for (const [i, f] of FORMS.entries()) {
    it(`form ${i + 1}: kubectl sts ${f.form('NAME').join(' ')}`, async () => {
      const failures: string[] = [];
      for (const name of corpus) {
        if (f.plainOnly && SUBCOMMANDS.includes(name)) continue;
        const r = await reachesAsName(f.form(name), name);
        if (!r.ok) failures.push(r.detail);
      }
      expect(failures.slice(0, 5)).toEqual([]);
    }, 120_000);
  }

  it('pvc-orphans --sts NAME and finalize-localpv NAME take any name too', async () => {
    for (const name of corpus) {
      const r1 = recordingKube();
      const f1 = fakeIo(['pvc-orphans', '--sts', name], { kube: r1.kube });
      expect(await runCli(f1.io), f1.err()).not.toBe(ExitCode.Usage);
      const r2 = recordingKube();
      const f2 = fakeIo(['finalize-localpv', name], { kube: r2.kube });
      expect(await runCli(f2.io), f2.err()).not.toBe(ExitCode.Usage);
    }
  }, 120_000);
});

describe(`normalizeArgv keeps every name a name (${fullCorpus.length} names, every one-letter edit)`, () => {
  it('in every form, the name is passed through and never rewritten or taken for a subcommand', () => {
    const failures: string[] = [];
    for (const f of FORMS) {
      for (const name of fullCorpus) {
        if (f.plainOnly && SUBCOMMANDS.includes(name)) continue;
        const argv = f.form(name);
        try {
          const out = normalizeArgv(argv, COMMANDS, { program: 'kubectl sts', globalBuilder: globalOptions });
          const cmdWords = out.filter((w) => !w.startsWith('-')).slice(0, argv[0] === 'rollout' ? 2 : 1);
          if (!out.includes(name)) failures.push(`${argv.join(' ')} → ${out.join(' ')}`);
          if (argv[0] === 'rollout' && !f.plainOnly && !SUBCOMMANDS.includes(cmdWords[1]!)) failures.push(`${argv.join(' ')} → ${out.join(' ')} (no subcommand)`);
        } catch (e) {
          failures.push(`${argv.join(' ')} → ${(e as Error).message}`);
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});

describe('a name equal to a subcommand, and real typos', () => {
  it('rollout NAME --step where NAME is a subcommand: the subcommand wins, and the message shows the unambiguous forms', async () => {
    const f = fakeIo(['rollout', 'status', '--step'], { kube: recordingKube().kube });
    expect(await runCli(f.io)).toBe(ExitCode.Usage);
    expect(f.err()).toContain('kubectl sts rollout step status [flags], or kubectl sts rollout [flags] -- status');
  });

  it('a mistyped subcommand followed by a name is suggested', async () => {
    for (const [typo, meant] of [['stats', 'status'], ['hist', 'history'], ['dif', 'diff'], ['undoo', 'undo'], ['hodl', 'hold']]) {
      const f = fakeIo(['rollout', typo!, 'web'], { kube: recordingKube().kube });
      expect(await runCli(f.io)).toBe(ExitCode.Usage);
      expect(f.err()).toContain(`Did you mean: kubectl sts rollout ${meant} web?`);
    }
  });

  it('a mistyped top-level command is suggested; a name is never taken for one', async () => {
    const f = fakeIo(['rollot', 'web']);
    expect(await runCli(f.io)).toBe(ExitCode.Usage);
    expect(f.err()).toContain('unknown command "rollot" for "kubectl sts"');
    expect(f.err()).toContain('Did you mean "rollout"?');
  });

  it('--step takes only a number as its separate value: `rollout --step web` steps web by one', async () => {
    expect((await reachesAsName(['rollout', '--step', 'web'], 'web')).ok).toBe(true);
    expect((await reachesAsName(['rollout', '--dry-run', 'web', '--step'], 'web')).ok).toBe(true);
    expect((await reachesAsName(['rollout', 'web', '--dry-run', 'server', '--step', '2'], 'web')).ok).toBe(true);
  });
});
