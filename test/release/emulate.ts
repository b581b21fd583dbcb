/**
 * Runs the release binaries this machine cannot run natively: linux/arm64 under qemu-aarch64
 * (user-mode emulation, the arm64 glibc as its -L root) and windows/amd64 under Wine. The
 * emulators come from scripts/release/emulators.sh (apt-get as root, as the cluster scripts do).
 *
 * Wine, as found here (Debian wine64 8.0):
 * - Node refuses Windows versions older than 10, so each prefix is set to win10 (`winecfg /v win10`).
 * - Node fails at start-up with `open EBADF` when its stdout or stderr is a pipe (libuv cannot open
 *   Wine's pipe handles), so the binary writes to files that are read afterwards, as a user's
 *   console or redirection would give it.
 * - Wine creates every socket inside the wineserver, so the wineserver's network namespace is the
 *   one every connection of every process of that prefix uses. A wineserver first started inside
 *   `unshare -n` (as the Krew checks run kubectl) makes later processes' connections to 127.0.0.1
 *   fail (ENETUNREACH, or ECONNREFUSED when lo is up there). Each prefix therefore gets its own
 *   persistent wineserver, started here outside any namespace, and stopped by `stop`.
 * - `connect UNKNOWN` (issue 17): Wine 8.0's setsockopt does not know the Windows option
 *   IPPROTO_TCP/TCP_KEEPALIVE (3) (`WINEDEBUG=+winsock`: "Unknown IPPROTO_TCP optname 0x00000003"),
 *   which libuv sets for `socket.setKeepAlive(true, delay)`. Asked for before the connection is
 *   made, libuv applies it while connecting and fails the connect (UNKNOWN, errno -4094); asked for
 *   afterwards, the failure is ignored. undici's connector asks before (right after net/tls.connect);
 *   the binary's transport for a plain kubeconfig (node:https, src/kube/undici-lite.cjs) only after,
 *   so its API commands work under Wine, and the pvc-orphans test in krew.test.ts would catch a change.
 *   Reproduced with the release's own node.exe under Wine: undici.fetch and net.connect followed by
 *   setKeepAlive fail, net.connect alone and setKeepAlive on 'connect' succeed. A kubeconfig that
 *   goes through the real undici (proxy-url, socks5) should fail the same way under Wine (not run
 *   here); Windows has the option since Windows 10 1709 (as TCP_KEEPIDLE, the same number).
 * - Wine maps `/` to drive Z:. A Linux absolute path (a kubeconfig's certificate paths) resolves
 *   only while the current directory is on Z: (Node on Windows puts a rootless path on the current
 *   drive), so the tests hand the binary Windows paths (`Z:\...`) and self-contained kubeconfigs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Emulators {
  QEMU_AARCH64: string;
  QEMU_LD_PREFIX: string;
  WINE64: string;
  WINESERVER: string;
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Installs (root + apt) or finds the emulators; `{ gap }` says why they are not there. */
export function emulators(root: string): Emulators | { gap: string } {
  const r = spawnSync('bash', [path.join(root, 'scripts/release/emulators.sh')], { encoding: 'utf8' });
  if (r.status !== 0) return { gap: `scripts/release/emulators.sh exited ${r.status}: ${r.stderr.trim()}` };
  const kv = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  return kv as unknown as Emulators;
}

/** A Linux path as the Windows binary under Wine names it (Wine maps `/` to drive Z:). */
export function winPath(p: string): string {
  return `Z:${path.resolve(p).replaceAll('/', '\\')}`;
}

/** A Wine prefix of its own, set to Windows 10, with a persistent wineserver started outside any namespace. */
export class WinePrefix {
  readonly env: NodeJS.ProcessEnv;
  constructor(
    readonly tools: Emulators,
    readonly dir: string,
  ) {
    // mscoree,mshtml disabled: wineboot would otherwise look for Wine Mono and Gecko (downloads, prompts).
    this.env = { ...process.env, WINEPREFIX: dir, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
  }

  init(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    // -p: the server stays until `wineserver -k`, so it is this one, outside any namespace, that every run uses.
    this.must(this.tools.WINESERVER, ['-p'], 30_000);
    this.must(this.tools.WINE64, ['wineboot', '-i'], 180_000);
    this.must(this.tools.WINE64, ['winecfg', '/v', 'win10'], 60_000);
  }

  stop(): void {
    spawnSync(this.tools.WINESERVER, ['-k'], { env: this.env });
  }

  /** Runs a Windows executable with stdout and stderr on files (a pipe makes Node fail under Wine). */
  run(exe: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Result {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-wine-out-'));
    const out = fs.openSync(path.join(dir, 'stdout'), 'w');
    const err = fs.openSync(path.join(dir, 'stderr'), 'w');
    try {
      const r = spawnSync(this.tools.WINE64, [exe, ...args], { cwd: o.cwd, env: { ...this.env, ...o.env }, stdio: ['ignore', out, err], timeout: 120_000 });
      if (r.error) throw r.error;
      return { status: r.status, stdout: fs.readFileSync(path.join(dir, 'stdout'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'stderr'), 'utf8') };
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Runs a setup command with its output on a file: the wineserver and the processes wineboot starts
   * stay running and would hold a pipe open (spawnSync would then wait for them).
   */
  private must(cmd: string, args: string[], timeout: number): void {
    const log = path.join(this.dir, 'setup.log');
    const fd = fs.openSync(log, 'a');
    try {
      const r = spawnSync(cmd, args, { env: this.env, stdio: ['ignore', fd, fd], timeout });
      if (r.error || r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} (WINEPREFIX=${this.dir}) failed: ${r.error?.message ?? `exit ${r.status}`}\n${fs.readFileSync(log, 'utf8').slice(-2000)}`);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Runs a linux/arm64 executable under qemu-aarch64. */
export function runArm64(tools: Emulators, exe: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const r = spawnSync(tools.QEMU_AARCH64, ['-L', tools.QEMU_LD_PREFIX, exe, ...args], { cwd: o.cwd, env: { ...process.env, ...o.env }, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
