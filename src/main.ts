/** Entry point of the kubectl-sts binary: wires the process to the CLI and sets the exit code. */
import { runCli } from './cli.js';

const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    const err = new Error('interrupted');
    err.name = 'Interrupted';
    controller.abort(err);
  });
}

const argv = process.argv.slice(2);
runCli({
  argv,
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
    // Open handles (keep-alive sockets, a paused stdin) must not hold the process.
    // Flush stdout first: on pipes outside Linux writes are asynchronous.
    process.stdout.write('', () => process.exit(code));
  },
  (e) => {
    process.stderr.write(`error: ${(e as Error)?.message ?? e}\n`);
    process.exit(1);
  },
);
