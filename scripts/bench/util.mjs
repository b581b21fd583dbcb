// Timing helpers shared by the bench sections. Every figure the bench prints is a ratio against a
// baseline measured in the same run on the same machine; absolute numbers are context only.
import { spawn, spawnSync } from 'node:child_process';

/**
 * Wall time (ms) of one run, waiting synchronously (nothing else in this process runs meanwhile).
 * Throws when the exit code is not in o.okCodes (default [0]).
 */
export function timeOnce(cmd, args, env = process.env, o = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const ok = o.okCodes ?? [0];
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 2000)}`);
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median of n runs of each command, after one warm-up run of each (page cache), interleaved so
 * that drift in machine load hits every command alike. Each command is [cmd, args, env?, opts?].
 */
export function sample(cmds, n) {
  const times = cmds.map(() => []);
  cmds.forEach(([c, a, e, o]) => timeOnce(c, a, e, o));
  for (let i = 0; i < n; i++) cmds.forEach(([c, a, e, o], j) => times[j].push(timeOnce(c, a, e, o)));
  return times.map(median);
}

/** Peak resident set size (KB) of one run, by GNU time; stdout goes to /dev/null. */
export function peakRssKb(cmd, args, env = process.env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const line = r.stderr.trim().split('\n').pop();
  return Number(line);
}

/**
 * One run without blocking this process's event loop (so watches the bench runs meanwhile see
 * their events on time). Resolves to { ms, code, stdout, stderr, lines, t0, t1 } where t0/t1 are
 * performance.now() stamps of the spawn and the exit; stdout is collected only when o.stdout is
 * 'pipe'; with o.stamps, lines holds each stderr line with its arrival time ({ at, line }).
 */
export function timeAsync(cmd, args, env = process.env, o = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', o.stdout === 'pipe' ? 'pipe' : 'ignore', 'pipe'] });
    const out = [];
    const err = [];
    const lines = []; // with o.stamps: each stderr line and when it arrived ({ at, line })
    let partial = '';
    child.stdout?.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => {
      err.push(d);
      if (!o.stamps) return;
      const at = performance.now();
      const parts = (partial + d.toString('utf8')).split('\n');
      partial = parts.pop();
      for (const line of parts) if (line) lines.push({ at, line });
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const t1 = performance.now();
      if (partial) lines.push({ at: t1, line: partial });
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ ms: t1 - t0, code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr, lines, t0, t1 });
    });
  });
}

/** Like timeAsync, but throws (with stderr) when the exit code is not in okCodes. */
export async function runChecked(cmd, args, env = process.env, o = {}) {
  const r = await timeAsync(cmd, args, env, o);
  if (!(o.okCodes ?? [0]).includes(r.code)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  return r;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const fmtMs = (ms) => `${ms.toFixed(0)} ms`;
export const fmtS = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const fmtX = (x) => `${x.toFixed(2)}x`;

/** A row of a two-column report: label, then right-aligned value(s). */
export function row(label, ...values) {
  console.log(`${label.padEnd(58)} ${values.join('   ')}`);
}

/** The targets seen so far, for the final summary (one line each). */
export const targets = [];

/** Records a target (and prints its line in the section); returns whether it was met. */
export function target(section, what, met, detail) {
  targets.push({ section, what, met, detail });
  console.log(`target ${what}: ${met ? 'met' : 'NOT met'} (${detail})`);
  return met;
}

/** Cleanups still to run (Ctrl-C runs them synchronously before exiting). */
export const pendingCleanups = new Set();

/** Polls `check` every `everyMs` until it returns a truthy value (bench-side waiting only). */
export async function waitUntil(what, check, timeoutMs = 120_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${fmtS(timeoutMs)} waiting for ${what}`);
    await sleep(everyMs);
  }
}
