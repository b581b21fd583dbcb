#!/usr/bin/env node
// npm run bench — speed and memory checks, each printed as a ratio against a baseline measured
// in the same run on the same machine (never absolute timings in unit tests).
//   node scripts/bench.mjs [section...]    sections: startup rollout oneshot dns orphans (default: all);
//                                          orphans-scale on demand only (20,000 claims; a cluster of its own)
// The cluster sections start (or reuse) the local control plane with scripts/cluster/up.sh and
// work in namespaces of their own named bench-..., deleted (--wait=false) when they end.
// Environment:
//   BENCH_BINARY         the plugin binary to measure (default dist/kubectl-sts, built if missing)
//   BENCH_RUNS           startup: runs per command (default 15)
//   BENCH_ROLLOUT_RUNS   rollout: timed steps per size and method (default 11: with 5, one slow step moved the median by 0.2x)
//   BENCH_ONESHOT_RUNS   oneshot: timed runs per command (default 15)
//   BENCH_ORPHANS_RUNS   orphans: timed runs per command (default 5)
//   BENCH_DNS_RUNS       dns: timed runs per command (default 3; one baseline loop takes ~1 min)
//   BENCH_KEEP           orphans-scale: leave its 200 namespaces in place (measure other builds on them)
// Sections run in the order given; by default orphans runs last because deleting its 50
// namespaces (7,000 objects) keeps the API server busy for a while after it ends.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRssKb, pendingCleanups, sample, target, targets } from './bench/util.mjs';
import { rollout } from './bench/rollout.mjs';
import { orphans, orphansScale } from './bench/orphans.mjs';
import { dns } from './bench/dns.mjs';
import { oneshot } from './bench/oneshot.mjs';

export { median, peakRssKb, sample, timeOnce } from './bench/util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.env.BENCH_BINARY ? path.resolve(process.env.BENCH_BINARY) : path.join(root, 'dist', 'kubectl-sts');

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
  const met = target('startup', '--help <= 1.0x kubectl version --client', help / kubectl <= 1.0, `${(help / kubectl).toFixed(2)}x`);
  console.log(`binary size: ${(fs.statSync(bin).size / 1e6).toFixed(1)} MB; peak RSS of --help: ${(peakRssKb(bin, ['--help']) / 1024).toFixed(0)} MB`);
  return met;
}

const SECTIONS = { startup, rollout, oneshot, dns, orphans };
// On demand only (never in the default run): see scripts/bench/orphans.mjs.
const ON_DEMAND = { 'orphans-scale': orphansScale };

function runCleanups() {
  for (const c of [...pendingCleanups]) c();
}

async function main() {
  if (!fs.existsSync(bin)) {
    if (process.env.BENCH_BINARY) throw new Error(`BENCH_BINARY ${bin} does not exist`);
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
  console.log(`binary under test: ${bin}`);
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SECTIONS);
  Object.assign(SECTIONS, Object.fromEntries(Object.entries(ON_DEMAND).filter(([k]) => wanted.includes(k))));
  for (const name of wanted) {
    if (!SECTIONS[name]) throw new Error(`unknown bench section "${name}"; known: ${Object.keys(SECTIONS).join(', ')}, ${Object.keys(ON_DEMAND).join(', ')} (on demand)`);
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      console.error(`\n${signal}: deleting the bench namespaces (--wait=false)`);
      runCleanups();
      process.exit(130);
    });
  }
  for (const name of wanted) {
    const t0 = Date.now();
    try {
      await SECTIONS[name]({ root, bin });
    } catch (e) {
      console.log(`\n## ${name}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${e.message}`);
      targets.push({ section: name, what: `section ${name} ran`, met: false, detail: e.message.split('\n')[0].slice(0, 300) });
    } finally {
      runCleanups();
    }
  }
  console.log('\n## summary');
  for (const t of targets) console.log(`${t.met ? 'met    ' : 'NOT met'}  ${t.section}: ${t.what} (${t.detail})`);
  const ok = targets.every((t) => t.met);
  console.log(`\n${ok ? 'all targets met' : 'some targets NOT met'}`);
  process.exitCode = ok ? 0 : 1;
}

main()
  .catch((e) => {
    console.error(`bench failed: ${e.message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    runCleanups();
    // Keep-alive sockets to the API server would hold the process open.
    setImmediate(() => process.exit());
  });
