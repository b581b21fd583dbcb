#!/usr/bin/env node
// npm run bench — speed and memory checks, each printed as a ratio against a baseline measured
// in the same run on the same machine (never absolute timings in unit tests).
//   node scripts/bench.mjs [section...]    sections: startup (default: all)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'dist', 'kubectl-sts');

/** Wall time (ms) and peak RSS (KB) of one run, via GNU time when present. */
export function timeOnce(cmd, args, env = process.env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of n runs, after one warm-up run (page cache). Runs are interleaved by the caller for fairness. */
export function sample(cmds, n) {
  const times = cmds.map(() => []);
  cmds.forEach(([c, a, e]) => timeOnce(c, a, e));
  for (let i = 0; i < n; i++) cmds.forEach(([c, a, e], j) => times[j].push(timeOnce(c, a, e)));
  return times.map(median);
}

export function peakRssKb(cmd, args, env = process.env) {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const line = r.stderr.trim().split('\n').pop();
  return Number(line);
}

function startup() {
  const runs = Number(process.env.BENCH_RUNS ?? 15);
  const [help, version, kubectl] = sample(
    [
      [bin, ['--help']],
      [bin, ['version', '--client']],
      ['kubectl', ['version', '--client']],
    ],
    runs,
  );
  const rows = [
    ['kubectl version --client (baseline)', kubectl, 1],
    ['kubectl-sts --help', help, help / kubectl],
    ['kubectl-sts version --client', version, version / kubectl],
  ];
  console.log(`\n## startup (median of ${runs} runs each, interleaved)`);
  for (const [name, ms, ratio] of rows) console.log(`${name.padEnd(40)} ${ms.toFixed(1).padStart(8)} ms   ${ratio.toFixed(2)}x`);
  const target = help / kubectl <= 1.0;
  console.log(`target --help <= 1.0x kubectl: ${target ? 'met' : 'NOT met'} (${(help / kubectl).toFixed(2)}x)`);
  console.log(`binary size: ${(fs.statSync(bin).size / 1e6).toFixed(1)} MB; peak RSS of --help: ${(peakRssKb(bin, ['--help']) / 1024).toFixed(0)} MB`);
  return target;
}

const SECTIONS = { startup };

async function main() {
  if (!fs.existsSync(bin)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SECTIONS);
  let ok = true;
  for (const name of wanted) {
    const fn = SECTIONS[name];
    if (!fn) throw new Error(`unknown bench section "${name}"; known: ${Object.keys(SECTIONS).join(', ')}`);
    ok = (await fn()) && ok;
  }
  console.log(`\n${ok ? 'all targets met' : 'some targets NOT met'}`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  console.error(`bench failed: ${e.message}`);
  process.exit(1);
});
