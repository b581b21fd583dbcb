/** Entry point of the kubectl-sts binary: wires the process to the CLI and sets the exit code. */
import { isatty } from 'node:tty';
import { installedBoot } from './commonjs.js';
import { interruptHandler } from './interrupt.js';

function exit(code: number): void {
  process.exitCode = code;
  // Open handles (keep-alive sockets, a paused stdin) must not hold the process.
  // Flush stdout first: on pipes outside Linux writes are asynchronous.
  process.stdout.write('', () => process.exit(code));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // (The static answers, --help and version --client, were served by src/boot.ts already.)
  // Ctrl-C and SIGTERM: see src/interrupt.ts (installed before the CLI loads).
  const controller = new AbortController();
  const errors = import('./errors.js');
  let InterruptedError: (typeof import('./errors.js'))['InterruptedError'] | undefined;
  void errors.then((m) => (InterruptedError = m.InterruptedError));
  const onSignal = interruptHandler({
    abort: (reason) => controller.abort(reason),
    exit: (code) => process.exit(code),
    write: (text) => process.stderr.write(text),
    now: () => Date.now(),
    later: (fn, ms) => setTimeout(fn, ms).unref(),
    reason: (text) => (InterruptedError ? new InterruptedError(text) : Object.assign(new Error(text), { name: 'Interrupted' })),
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => onSignal(sig));
  // Everything else loads the CLI (yargs, the commands) only now.
  const { runCli, renderStaticAnswers, runCaptured } = await import('./cli.js');
  // Hidden build steps (scripts/build.mjs, scripts/build/code-cache.mjs).
  if (argv[0] === '__static-answers') {
    process.stdout.write(JSON.stringify(await renderStaticAnswers()));
    return exit(0);
  }
  if (argv[0] === '__train-code-cache') {
    // The invocations whose compiled functions the code caches keep (src/boot.ts writes them at exit).
    const fs = await import('node:fs');
    const runs = JSON.parse(fs.readFileSync(argv[1]!, 'utf8')) as string[][];
    const codes = [];
    for (const run of runs) codes.push((await runCaptured(run, process.env)).code);
    process.stdout.write(`${JSON.stringify(codes)}\n`);
    return exit(0);
  }
  if (argv[0] === '__code-cache-status') {
    const { loadKube } = await import('./kube/load.js');
    await loadKube();
    process.stdout.write(`${JSON.stringify(installedBoot()?.cacheStatus() ?? {})}\n`);
    return exit(0);
  }
  const code = await runCli({
    argv,
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin is made on first access (a stream, a few ms): only a confirmation prompt reads it.
    get stdin() {
      return process.stdin;
    },
    stdinIsTTY: isatty(0),
    signal: controller.signal,
  });
  exit(code);
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error)?.message ?? e}\n`);
  process.exit(1);
});
