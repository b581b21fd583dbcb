/**
 * Start-up fast path. `--help` pages and `version --client` depend only on the build, so the
 * build renders them once (renderStaticAnswers in cli.ts) and stores them in the binary as the
 * SEA asset `static-answers.json`. Serving one needs neither yargs nor any command module.
 * Light by design: node:sea only. Outside the binary (tests, `node dist/kubectl-sts.cjs`) there
 * is no asset and everything goes through the CLI.
 */
import { createRequire } from 'node:module';

const HELP_WIDTH = 100; // must equal cli.ts HELP_WIDTH (a unit test keeps them equal)

/** The key an argv is stored under, or undefined when it is not a static invocation. */
export function staticKey(argv: string[]): string | undefined {
  if (argv.length === 2 && argv[0] === 'version' && argv[1] === '--client') return 'version --client';
  if (argv[0] === 'help') return staticKey([...argv.slice(1), '--help']); // kubectl's `help [command...]`
  const last = argv[argv.length - 1];
  if (last !== '--help' && last !== '-h') return undefined;
  const words = argv.slice(0, -1);
  if (words.some((w) => w.startsWith('-'))) return undefined;
  return [...words, '--help'].join(' ');
}

/** The stored answer for this invocation, if the binary carries one and the terminal is wide enough. */
export function staticAnswer(argv: string[], stdout: { isTTY?: boolean; columns?: number }): string | undefined {
  const key = staticKey(argv);
  if (key === undefined) return undefined;
  if (stdout.isTTY && (stdout.columns ?? HELP_WIDTH) < HELP_WIDTH) return undefined; // narrower: let yargs wrap
  try {
    const sea = createRequire(__filename)('node:sea') as typeof import('node:sea');
    if (!sea.isSea()) return undefined;
    const table = JSON.parse(sea.getAsset('static-answers.json', 'utf8')) as Record<string, string>;
    return table[key];
  } catch {
    return undefined;
  }
}

declare const __filename: string;
