/**
 * The yargs program: global flags (kubectl's), every command, usage errors with exit 2, and the
 * one place where results and errors are printed. Commands never print or exit themselves.
 */
import yargs, { type Argv } from 'yargs';
import { CliError, ExitCode, InterruptedError, UsageError } from './errors.js';
import type { Deps } from './deps.js';
import { sleep } from './deps.js';
import { toYargs, type CommandResult, type CommandSpec, type GlobalArgs, type Host } from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { normalizeArgv } from './commands/argv.js';
import { OUTPUT_FORMATS, isStructured } from './render/output.js';
import { colorEnabled, palette } from './render/color.js';
import { makeSpinner } from './render/spinner.js';
import { parseRequestTimeout } from './commands/flags.js';
import type { Kube } from './kube/index.js';
import { loadKube } from './kube/load.js';

export interface Io {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Read only at a confirmation prompt: making process.stdin costs a few ms on every start. */
  stdin: NodeJS.ReadStream;
  /** Whether stdin is a terminal, known without touching `stdin` (main.ts: isatty(0)); else stdin.isTTY. */
  stdinIsTTY?: boolean;
  signal: AbortSignal;
  /** Overrides the API access (tests); by default built from the flags. */
  kube?: (args: GlobalArgs) => Promise<Kube>;
}

export const PROGRAM = 'kubectl sts';
/** Help is wrapped at this width (or the terminal's, when narrower). */
export const HELP_WIDTH = 100;

export { parseRequestTimeout };

export function globalOptions<T>(y: Argv<T>): Argv<T & GlobalArgs> {
  return y
    .option('kubeconfig', { type: 'string', describe: 'Path to the kubeconfig file to use', global: true })
    .option('context', { type: 'string', describe: 'The name of the kubeconfig context to use', global: true })
    .option('cluster', { type: 'string', describe: 'The name of the kubeconfig cluster to use', global: true })
    .option('user', { type: 'string', describe: 'The name of the kubeconfig user to use', global: true })
    .option('namespace', { alias: 'n', type: 'string', describe: 'The namespace scope for this request', global: true })
    .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'Act across all namespaces', global: true })
    .option('output', {
      alias: 'o',
      choices: OUTPUT_FORMATS,
      default: 'table' as const,
      describe: 'Output format',
      global: true,
    })
    .option('request-timeout', {
      type: 'string',
      default: '0',
      describe: 'Time to wait for one API request (e.g. 30s, 1m); 0 waits as long as it takes',
      global: true,
    })
    .option('color', { type: 'boolean', default: true, describe: 'Color output on a terminal (--no-color, or NO_COLOR, turns it off)', global: true })
    .option('verbose', { alias: 'v', type: 'number', default: 0, describe: 'Log level; 6 prints every API request', global: true }) as unknown as Argv<
    T & GlobalArgs
  >;
}

/**
 * y/N on the terminal. Declined on anything but y/yes, and on EOF (Ctrl-D, closed stdin); Ctrl-C
 * rejects with the interrupt (exit 130): the prompt always comes before any change.
 */
export function askYesNo(io: Pick<Io, 'stdin' | 'stderr' | 'signal'>, question: string): Promise<boolean> {
  if (!io.stdin.isTTY) return Promise.resolve(false);
  if (io.signal.aborted) return Promise.reject(interruptedAtPrompt());
  return new Promise((resolve, reject) => {
    io.stderr.write(`${question} [y/N] `);
    const done = () => {
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.off('close', onEnd);
      io.signal.removeEventListener('abort', onAbort);
      io.stdin.pause();
    };
    const onData = (buf: Buffer) => {
      done();
      resolve(/^y(es)?$/i.test(buf.toString().trim()));
    };
    const onEnd = () => {
      done();
      io.stderr.write('\n');
      resolve(false);
    };
    const onAbort = () => {
      done();
      io.stderr.write('\n');
      reject(interruptedAtPrompt());
    };
    io.signal.addEventListener('abort', onAbort, { once: true });
    io.stdin.on('end', onEnd);
    io.stdin.on('close', onEnd);
    io.stdin.resume();
    io.stdin.on('data', onData);
  });
}

function interruptedAtPrompt(): InterruptedError {
  return new InterruptedError('at the confirmation prompt; nothing was changed');
}

export function makeDeps(io: Io, args: GlobalArgs): Deps {
  let kube: Promise<Kube> | undefined;
  const personal = !isStructured(args.output) && args.output !== 'name';
  return {
    kube: () => {
      if (!kube) {
        kube = io.kube
          ? io.kube(args)
          : loadKube().then((m) =>
              m.createKube(
                {
                  kubeconfig: args.kubeconfig,
                  context: args.context,
                  cluster: args.cluster,
                  user: args.user,
                  namespace: args.namespace,
                  requestTimeoutMs: parseRequestTimeout(args.requestTimeout),
                  verbosity: args.verbose,
                  env: io.env,
                  signal: io.signal,
                },
                (l) => io.stderr.write(`${l}\n`),
              ),
            );
      }
      return kube;
    },
    now: () => Date.now(),
    sleep,
    write: (t) => void io.stdout.write(t),
    log: (l) => void io.stderr.write(`${l}\n`),
    spinner: () => makeSpinner(io.stderr, personal),
    confirm: (q) => askYesNo(io, q),
    interactive: io.stdinIsTTY ?? Boolean(io.stdin.isTTY),
    stdoutIsTTY: Boolean(io.stdout.isTTY),
    color: palette(colorEnabled(io.stdout.isTTY, io.env, !args.color)),
    signal: io.signal,
  };
}

export function buildParser(io: Io, onResult: (r: CommandResult) => void): Argv<GlobalArgs> {
  const host: Host = { deps: (a) => makeDeps(io, a), done: onResult, rawArgv: io.argv };
  let y = globalOptions(yargs(io.argv))
    .scriptName(PROGRAM)
    .usage(
      `${PROGRAM}: operate StatefulSets safely — partition rollouts, orphaned volumes, DNS checks, stuck local PVs, MongoDB replica sets.\n\nUsage: ${PROGRAM} <command> [flags]`,
    )
    .version(false)
    .help('help')
    .alias('help', 'h')
    .strict()
    // No .recommendCommands(): its fuzzy match took StatefulSet names for subcommands (`rollout db`
    // became "Did you mean diff?"). Typos are suggested by normalizeArgv where no name can stand.
    .demandCommand(1, `a command is required; see '${PROGRAM} --help'`)
    .wrap(Math.min(HELP_WIDTH, io.stdout.columns || HELP_WIDTH))
    .epilogue(`Exit codes: 0 ok, 1 problems found or operation failed, 2 usage error, 3 cluster unreachable or credentials rejected.`)
    // yargs renders the full help text before every command handler "in case it fails later"
    // (usage.cacheHelpMessage); our failures never print help, so skip that work on every run.
    // (@types/yargs describes middleware with one argument; yargs passes the instance second.)
    .middleware(((_argv: unknown, y: unknown) => {
      const usage = (y as { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage?: () => void } } })
        .getInternalMethods?.()
        .getUsageInstance();
      if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => {};
    }) as never, true)
    .fail((msg, err) => {
      if (err) throw err;
      throw usageFromYargs(msg ?? 'invalid command line', io.argv);
    });
  for (const spec of COMMANDS) y = y.command(toYargs(spec, host));
  return y;
}

/** yargs' own validation messages, said the way the rest of the CLI says things (exit 2). */
export function usageFromYargs(msg: string, argv: readonly string[]): UsageError {
  const words = argv.filter((a) => !a.startsWith('-'));
  const cmd = [PROGRAM, ...words.slice(0, words[0] === 'rollout' && words.length > 1 ? 2 : 1)].join(' ');
  if (words[0] === 'completion' && /^Not enough non-option arguments/.test(msg)) {
    return new UsageError('a shell is required: kubectl sts completion bash|zsh|fish', [`See '${cmd} --help'.`]);
  }
  if (/^Not enough non-option arguments/.test(msg) || /^Missing required argument: name/.test(msg)) {
    const hints = [`See '${cmd} --help'.`];
    // `rollout status --step`: perhaps a set named "status" was meant.
    const sub = words[0] === 'rollout' ? words[1] : undefined;
    if (sub) hints.unshift(`For a StatefulSet named "${sub}", name it after "step" or "--": ${PROGRAM} rollout step ${sub} [flags], or ${PROGRAM} rollout [flags] -- ${sub}`);
    return new UsageError(`a StatefulSet name is required: ${cmd} NAME`, hints);
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown) {
    const names = unknown[1]!.split(', ').map((n) => (n.length === 1 ? `-${n}` : /^[a-z][\w-]*$/i.test(n) && argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`)) ? `--${n}` : n));
    return new UsageError(`unknown flag or argument: ${names.join(', ')}`, [`See '${cmd} --help' for the flags it takes.`]);
  }
  const choice = /^Invalid values:\s*Argument: ([\w-]+), Given: (".*?"|\S+), Choices: (.*)$/s.exec(msg);
  if (choice) {
    const flag = choice[1]!.length === 1 ? `-${choice[1]}` : `--${choice[1]}`;
    const alias = choice[1] === 'output' ? '-o/--output' : flag;
    const choices = choice[3]!.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    return new UsageError(`invalid value ${choice[2]} for ${alias}: use one of ${choices.join(', ')}`, [`For example: ${alias.split('/')[0]} ${choices[0]}.`]);
  }
  return new UsageError(msg, [`See '${cmd} --help'.`]);
}

/** Commands whose positional is a StatefulSet name, for completion. */
const STS_NAME_COMMANDS = new Set(['rollout', 'rollout step', 'rollout status', 'rollout hold', 'rollout diff', 'rollout history', 'rollout undo', 'dns-check', 'mongo-status', 'doctor']);
/** Global flags that take a value (the word after them is not a command word). */
const VALUE_FLAGS = new Set(['--kubeconfig', '--context', '--cluster', '--user', '-n', '--namespace', '-o', '--output', '--request-timeout', '-v', '--verbose']);

function specWords(spec: CommandSpec<any>): string[] {
  const word = String(Array.isArray(spec.command) ? spec.command[0] : spec.command).split(' ')[0]!;
  return [word, ...(spec.aliases ?? [])].filter((w) => !w.startsWith('$0') && w !== '*' && !w.startsWith('['));
}

/** The flags a command (path) accepts, read from its yargs builder. */
function flagsOf(path: CommandSpec<any>[]): string[] {
  let y = globalOptions(yargs([]).version(false));
  const positionals = new Set<string>();
  for (const spec of path) {
    if (spec.builder) y = spec.builder(y) as never;
    for (const m of String(Array.isArray(spec.command) ? spec.command[0] : spec.command).matchAll(/[<[]([\w-]+)(?:\.\.)?[>\]]/g)) positionals.add(m[1]!);
  }
  const opts = (y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  const names = new Set<string>();
  for (const k of Object.keys(opts.key)) if (!positionals.has(k)) names.add(k.length === 1 ? `-${k}` : `--${k}`);
  names.add('--no-color');
  for (const aliases of Object.values(opts.alias)) for (const a of aliases) names.add(a.length === 1 ? `-${a}` : `--${a}`);
  return [...names].filter((n) => !/[A-Z]/.test(n) && n !== '--$0' && n !== '--_').sort();
}

/**
 * cobra's completion protocol, which kubectl's plugin completion speaks: one candidate a line,
 * then `:4` (no file completion). Commands, subcommands and flags come from the command specs;
 * StatefulSet and namespace names from the cluster (best effort, 3s). Never fails.
 */
async function complete(io: Io, words: string[]): Promise<number> {
  const current = words.length ? words[words.length - 1]! : '';
  const before = words.slice(0, -1);
  let cands: string[] = [];
  try {
    // Walk the command words, skipping flags and their values.
    const path: CommandSpec<any>[] = [];
    let level: CommandSpec<any>[] = COMMANDS;
    let positionals = 0;
    for (let i = 0; i < before.length; i++) {
      const w = before[i]!;
      if (w.startsWith('-')) {
        if (VALUE_FLAGS.has(w)) i++;
        continue;
      }
      const next = level.find((s) => specWords(s).includes(w));
      if (next) {
        path.push(next);
        level = next.subcommands ?? [];
      } else positionals++;
    }
    const prev = before[before.length - 1];
    const cmdPath = path.map((s) => specWords(s)[0]).join(' ');
    const flagArgs = globalOptions(yargs(before)).help(false).version(false).parseSync() as unknown as GlobalArgs;
    const fromCluster = async (what: 'namespaces' | 'statefulsets'): Promise<string[]> => {
      try {
        const kube = await makeDeps(io, { ...flagArgs, requestTimeout: '3s' }).kube();
        const { Resources, resourcePath } = await import('./kube/resources.js');
        const p = what === 'namespaces' ? resourcePath(Resources.namespaces) : resourcePath(Resources.statefulsets, { namespace: kube.namespace });
        return (await kube.client.list<{ metadata: { name: string } }>(p)).items.map((i) => i.metadata.name);
      } catch {
        return []; // no cluster, no names: the static candidates still count
      }
    };
    if (prev === '-n' || prev === '--namespace') cands = await fromCluster('namespaces');
    else if (prev === '-o' || prev === '--output') cands = [...OUTPUT_FORMATS];
    else if (prev === '--sts') cands = await fromCluster('statefulsets');
    else if (prev && VALUE_FLAGS.has(prev)) cands = [];
    else if (current.startsWith('-')) cands = flagsOf(path);
    else if (positionals === 0) {
      cands = level.flatMap(specWords);
      if (STS_NAME_COMMANDS.has(cmdPath)) cands = [...cands, ...(await fromCluster('statefulsets'))];
    }
  } catch {
    cands = [];
  }
  const matching = [...new Set(cands.filter((c) => c.startsWith(current) && !c.startsWith('__')))];
  io.stdout.write(`${matching.join('\n')}${matching.length ? '\n' : ''}:4\n`);
  return ExitCode.Ok;
}

/** Runs one command line; resolves to the exit code. Prints the result, or the error, once. */
export async function runCli(io: Io): Promise<number> {
  let result: CommandResult | undefined;
  let interruptedBeforeResult = false;
  if (io.argv[0] === '__complete') return complete(io, io.argv.slice(1));
  try {
    const argv = normalizeArgv(io.argv, COMMANDS, { program: PROGRAM, globalBuilder: globalOptions });
    // Not `{ ...io, argv }`: a spread calls main.ts's lazy `stdin` getter, which makes process.stdin (~2 ms).
    const parserIo = Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(io), argv: { value: argv, enumerable: true } }) as Io;
    const parser = buildParser(parserIo, (r) => {
      result = r;
      interruptedBeforeResult = io.signal.aborted;
    });
    let helpText = '';
    await parser.parseAsync(argv, {}, (err, _argv, output) => {
      if (!err && output) helpText = output;
    });
    if (helpText) io.stdout.write(helpText.endsWith('\n') ? helpText : `${helpText}\n`);
    if (!result) return ExitCode.Ok;
    io.stdout.write(result.output);
    // An interrupt that came after the command had finished changes nothing: its answer stands.
    if (!interruptedBeforeResult) return result.exitCode;
    // Interrupted: whatever the command made of it (a watch that reports where it stopped), 130.
    // A command that answered as if nothing happened gets the interrupt said for it.
    if (result.exitCode !== ExitCode.Interrupted) {
      const why = (io.signal.reason as Error | undefined)?.message ?? 'stopped by Ctrl-C';
      io.stderr.write(`interrupted: ${why}, as the command was finishing; its output above may be incomplete\n`);
    }
    return ExitCode.Interrupted;
  } catch (e) {
    // An error raised by the interrupt itself (an aborted request, a closed stream) is the interrupt.
    if (io.signal.aborted && !(e instanceof InterruptedError)) return reportError(io, io.signal.reason ?? new InterruptedError());
    return reportError(io, e);
  }
}

export function formatError(e: unknown, verbose = false): { text: string; exitCode: number } {
  if (e instanceof CliError) {
    const lines = [`${e instanceof InterruptedError ? 'interrupted' : 'error'}: ${e.message}`, ...e.hints.map((h) => `  ${h}`)];
    return { text: `${lines.join('\n')}\n`, exitCode: e.exitCode };
  }
  if ((e as { name?: string })?.name === 'AbortError' || (e as { name?: string })?.name === 'Interrupted') {
    return { text: 'interrupted: stopped by Ctrl-C\n', exitCode: ExitCode.Interrupted };
  }
  const msg = e instanceof Error ? e.message : String(e);
  const detail = verbose && e instanceof Error && e.stack ? `\n${e.stack}` : '';
  return {
    text: `error: unexpected failure: ${msg}${detail}\n  This is a bug in kubectl-sts; please report it with the command line (rerun with -v 9 for details).\n`,
    exitCode: ExitCode.Problems,
  };
}

function reportError(io: Io, e: unknown): number {
  const verbose = io.argv.some((a) => /^(-v|--verbose)(=)?[6-9]$/.test(a) || a === '-v9' || a === '--v=9');
  const { text, exitCode } = formatError(e, verbose);
  io.stderr.write(text);
  return exitCode;
}

/**
 * Answers that depend on nothing but the build: every `--help` page and `version --client`.
 * The build stores them in the binary (see src/static-answers.ts), so those invocations start
 * without loading yargs or any command. Rendered here by the same runCli, so they are identical.
 */
export async function renderStaticAnswers(): Promise<Record<string, string>> {
  const paths: string[][] = [[]];
  const walk = (specs: CommandSpec<any>[], prefix: string[]) => {
    for (const spec of specs) {
      const word = String(Array.isArray(spec.command) ? spec.command[0] : spec.command).split(' ')[0]!;
      if (word.startsWith('$0') || word === '*') continue;
      for (const w of [word, ...(spec.aliases ?? [])]) {
        paths.push([...prefix, w]);
        if (spec.subcommands) walk(spec.subcommands, [...prefix, w]);
      }
    }
  };
  walk(COMMANDS, []);
  const render = async (argv: string[]): Promise<string | undefined> => {
    const { code, out } = await runCaptured(argv, {});
    return code === ExitCode.Ok ? out : undefined;
  };
  const out: Record<string, string> = {};
  for (const p of paths) {
    const text = await render([...p, '--help']);
    if (text !== undefined) out[[...p, '--help'].join(' ')] = text;
  }
  const version = await render(['version', '--client']);
  if (version !== undefined) out['version --client'] = version;
  return out;
}

/**
 * Runs one invocation with stdout captured, stderr discarded and no terminal: the build uses it
 * to render the static answers and to train the code caches (src/boot.ts).
 */
export async function runCaptured(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = {
    isTTY: false,
    columns: undefined,
    write: (s: string, cb?: () => void) => {
      out += s;
      cb?.();
      return true;
    },
  };
  const code = await runCli({
    argv,
    env,
    stdout: sink as unknown as NodeJS.WriteStream,
    stderr: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream,
    stdin: { isTTY: false } as unknown as NodeJS.ReadStream,
    signal: new AbortController().signal,
  });
  return { code, out };
}
