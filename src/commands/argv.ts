/**
 * The command line as kubectl users write it, made unambiguous before yargs reads it.
 *
 * yargs resolves subcommands greedily: a StatefulSet named `db` or `status` could be taken for the
 * subcommand `diff` (by its "did you mean" recommender) or `status`. kubectl's own rules apply here:
 *   - A word is a subcommand only where a subcommand may stand (right after its parent, before any
 *     name); no fuzzy matching ever turns a name into a subcommand.
 *   - `--` ends the subcommand search: every word after it is a name (operand), so
 *     `kubectl sts rollout --step -- status` steps the set named "status". Flags may still follow.
 *   - Flags whose value is optional (`--step [N]`, `--dry-run[=MODE]`) take the next word only when
 *     it is a value of theirs, so `rollout --step web` steps web by one.
 * Typos are still helped where they cannot be names: an unknown top-level command, or a rollout
 * "subcommand" followed by a second word (`rollout stats web`).
 * Pure: takes argv and the command specs, returns the argv for yargs or throws a UsageError.
 */
import { UsageError } from '../errors.js';
import { closestNames } from '../core/names.js';
import type { CommandSpec } from './command.js';

interface FlagInfo {
  /** The flag consumes the next word as its value (string/number/array options). */
  takesValue: boolean;
}

/** Flags whose value is optional, and which words they accept as that value when separated by a space. */
const OPTIONAL_VALUE: Record<string, RegExp> = {
  step: /^[-+]?\d+(\.\d+)?$/,
  'dry-run': /^(none|client|server|true|false)$/,
};

export function commandWords(spec: CommandSpec<any>): string[] {
  const word = String(Array.isArray(spec.command) ? spec.command[0] : spec.command).split(' ')[0]!;
  return [word, ...(spec.aliases ?? [])].filter((w) => !w.startsWith('$0') && w !== '*' && !w.startsWith('['));
}

/**
 * The options a builder declares, read without yargs: the builder is run against a recorder that
 * accepts any chained call. Cheap (no parsing), so it can run on every invocation.
 */
export function declaredFlags(builder: ((y: any) => unknown) | undefined): Map<string, FlagInfo> {
  const flags = new Map<string, FlagInfo>();
  if (!builder) return flags;
  const recorder: any = new Proxy(
    {},
    {
      get(_t, prop) {
        return (...args: unknown[]) => {
          if (prop === 'option' || prop === 'options') {
            const entries: [string, Record<string, unknown>][] =
              typeof args[0] === 'string' ? [[args[0], (args[1] ?? {}) as Record<string, unknown>]] : Object.entries((args[0] ?? {}) as Record<string, Record<string, unknown>>);
            for (const [name, o] of entries) {
              const info = { takesValue: o.type !== 'boolean' && o.type !== 'count' };
              flags.set(name, info);
              const aliases = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
              for (const a of aliases as string[]) flags.set(a, info);
            }
          }
          return recorder;
        };
      },
    },
  );
  try {
    builder(recorder);
  } catch {
    // A builder that does more than declare options: its flags are simply unknown here.
  }
  return flags;
}

function suggestion(word: string, candidates: string[]): string[] {
  return closestNames(word, candidates, 2);
}

export interface NormalizeOptions {
  program: string;
  /** Global flags (kubectl's): read from the same recorder. */
  globalBuilder: (y: any) => unknown;
}

/**
 * Returns the argv yargs should parse. Throws a UsageError for an unknown top-level command and
 * for a rollout-level word that is neither a subcommand nor the only name.
 */
export function normalizeArgv(argv: readonly string[], commands: CommandSpec<any>[], o: NormalizeOptions): string[] {
  // kubectl's `help [command...]`: the same page as `[command...] --help`.
  if (argv[0] === 'help') return normalizeArgv([...argv.slice(1), '--help'], commands, o);
  const globals = declaredFlags(o.globalBuilder);
  const out: string[] = [];
  let level: CommandSpec<any>[] = commands;
  const path: { spec: CommandSpec<any>; index: number }[] = [];
  let flags = new Map(globals);
  const positionals: string[] = []; // operands of the deepest command so far
  let i = 0;
  let sawHelp = false;
  for (; i < argv.length; i++) {
    const t = argv[i]!;
    if (t === '--') break;
    if (t === '--help' || t === '-h') sawHelp = true;
    if (t.startsWith('-') && t.length > 1 && !/^-\d/.test(t)) {
      out.push(t);
      if (t.includes('=')) continue;
      const name = t.startsWith('--') ? t.slice(2) : t.slice(1);
      if (!t.startsWith('--') && name.length > 1) continue; // -n5, -v9: value attached
      const info = flags.get(name.startsWith('no-') && !flags.has(name) ? name.slice(3) : name);
      if (!info?.takesValue) continue;
      const next = argv[i + 1];
      const optional = OPTIONAL_VALUE[name];
      if (optional) {
        if (next !== undefined && optional.test(next)) out.push(argv[++i]!);
        else out[out.length - 1] = `--${name}=`; // the bare flag: its default value
        continue;
      }
      if (next !== undefined && next !== '--') out.push(argv[++i]!);
      continue;
    }
    // A word: a (sub)command where one may stand, else an operand of the current command.
    const sub = positionals.length === 0 ? level.find((s) => commandWords(s).includes(t)) : undefined;
    if (sub) {
      path.push({ spec: sub, index: out.length });
      out.push(t);
      level = sub.subcommands ?? [];
      flags = new Map([...flags, ...declaredFlags(sub.builder as never)]);
      continue;
    }
    if (path.length === 0 && !sawHelp && t !== '__complete') {
      const near = suggestion(t, commands.flatMap(commandWords));
      throw new UsageError(`unknown command "${t}" for "${o.program}"`, [
        ...(near.length ? [`Did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`] : []),
        `See '${o.program} --help' for the commands.`,
      ]);
    }
    positionals.push(t);
    out.push(t);
  }
  const operands = argv.slice(i + 1);
  const deepest = path[path.length - 1]?.spec;
  if (operands.length && deepest?.subcommands?.length && positionals.length === 0 && deepest.defaultSubcommand) {
    // `rollout --step -- status`: the word after `--` is a name, never a subcommand.
    out.splice(path[path.length - 1]!.index + 1, 0, deepest.defaultSubcommand);
  }
  if (deepest?.subcommands?.length && positionals.length >= 2 && !sawHelp) {
    // `rollout stats web`: a name takes one word; the first looks like a mistyped subcommand.
    const words = deepest.subcommands.flatMap(commandWords);
    const near = suggestion(positionals[0]!, words);
    const cmd = `${o.program} ${commandWords(deepest)[0]}`;
    throw new UsageError(`${cmd} takes one StatefulSet name, got ${positionals.length} words: ${positionals.map((p) => `"${p}"`).join(' ')}`, [
      ...(near.length ? [`"${positionals[0]}" is not a subcommand of ${cmd}. Did you mean: ${cmd} ${near[0]} ${positionals.slice(1).join(' ')}?`] : []),
      `Subcommands: ${words.join(', ')}. A set whose name is a subcommand: ${cmd} ${deepest.defaultSubcommand ?? words[0]} NAME, or ${cmd} [flags] -- NAME.`,
    ]);
  }
  return [...out, ...operands];
}
