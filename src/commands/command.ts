/**
 * The shape of a kubectl-sts command: a yargs module whose `run` returns `{ output, exitCode }`
 * and prints nothing itself. `toYargs` adapts it; the host (src/cli.ts) prints the result.
 */
import type { Argv, CommandModule } from 'yargs';
import type { Deps } from '../deps.js';
import type { OutputFormat } from '../render/output.js';
import { UsageError } from '../errors.js';
import { validateFlagValues } from './flags.js';
import { fleetContexts, runFleet } from './fleet.js';

export interface GlobalArgs {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  cluster?: string | undefined;
  user?: string | undefined;
  namespace?: string | undefined;
  allNamespaces: boolean;
  output: OutputFormat;
  requestTimeout: string;
  color: boolean;
  verbose: number;
}

export interface CommandResult {
  /** Printed to stdout as is. */
  output: string;
  exitCode: number;
}

export interface CommandSpec<A = object> {
  command: string | readonly string[];
  describe: string;
  aliases?: readonly string[];
  builder?: (y: Argv<GlobalArgs>) => Argv<A>;
  /** Subcommands, each a spec of its own (e.g. `rollout status`). */
  subcommands?: CommandSpec<any>[];
  /**
   * For a command with subcommands and a name of its own (`rollout [name]`): the explicit
   * subcommand that means "the command itself" (`rollout step NAME`). It is also what `--` selects
   * (`rollout --step -- status`), so a name equal to a subcommand always has an unambiguous form.
   */
  defaultSubcommand?: string;
  run?: (args: A & GlobalArgs, deps: Deps) => Promise<CommandResult>;
  /**
   * A read command that may run against several contexts at once (`--context a,b`,
   * `--all-contexts`; see fleet.ts). `refuse` returns why these flags cannot go to a fleet (a
   * change, a watch), or undefined.
   */
  fleet?: { refuse?: (args: A & GlobalArgs) => string | undefined };
}

export interface Host {
  deps(args: GlobalArgs): Deps;
  /** The command line as typed, to quote a bad flag value back. */
  rawArgv?: readonly string[];
  done(result: CommandResult): void;
}

export function defineCommand<A>(spec: CommandSpec<A>): CommandSpec<A> {
  return spec;
}

export function toYargs(spec: CommandSpec<any>, host: Host): CommandModule<GlobalArgs, any> {
  const mod: CommandModule<GlobalArgs, any> = {
    command: spec.command as string | string[],
    describe: spec.describe,
    builder: (y: Argv<GlobalArgs>) => {
      let out: Argv<any> = spec.builder ? spec.builder(y) : y;
      for (const sub of spec.subcommands ?? []) out = out.command(toYargs(sub, host));
      return out;
    },
    handler: async (argv: any) => {
      if (!spec.run) return;
      // Flag values are checked before anything else runs: a bad one is exit 2, never a late failure.
      validateFlagValues(argv, host.rawArgv);
      const contexts = spec.fleet ? fleetContexts(argv) : undefined;
      if (contexts) {
        const why = spec.fleet!.refuse?.(argv);
        if (why) throw new UsageError(`fleet mode (--context a,b / --all-contexts) only reads: ${why}`);
        host.done(await runFleet(spec, argv, host, contexts));
        return;
      }
      host.done(await spec.run(argv, host.deps(argv)));
    },
  };
  if (spec.aliases) mod.aliases = spec.aliases as string[];
  return mod;
}
