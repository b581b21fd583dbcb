// Bench section `oneshot` (issue 15): the read-only commands people run by hand, each in a fresh
// process, against the kubectl command that reads the same thing, in the same run, interleaved:
//   rollout status NAME            vs  kubectl rollout status sts/NAME   (3 replicas, rolled out)
//   pvc-orphans -n NS              vs  kubectl get pvc -n NS -o json      (10 claims, 2 left over)
//   finalize-localpv (none stuck)  vs  kubectl get pv -o json
// Each must cost <= 1.0x. Wall time is what a user waits for; CPU time (user + sys of the child,
// by GNU time) is printed next to it because on a shared, loaded machine it is the steadier figure.
// The runtime floor rows (no target) send each command's requests from a bare node:https program:
// what Node itself costs for them, against the same kubectl baseline.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cluster, createNamespaces, KWOK_TOLERATION, runId } from './cluster.mjs';
import { fmtMs, fmtX, median, row, target, waitUntil } from './util.mjs';

/** Wall and CPU ms of one run (GNU time), throwing when the exit code is not in okCodes. */
function timeCpu(cmd, args, env, okCodes = [0]) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'ksts-cpu %U %S', cmd, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okCodes.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 2000)}`);
  const m = /ksts-cpu ([\d.]+) ([\d.]+)\s*$/.exec(String(r.stderr));
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

/** Medians of n interleaved runs of each command (after one warm-up each). */
function sampleCpu(cmds, n) {
  const runs = cmds.map(() => ({ wall: [], cpu: [] }));
  cmds.forEach(([c, a, e, ok]) => timeCpu(c, a, e, ok));
  for (let i = 0; i < n; i++) {
    cmds.forEach(([c, a, e, ok], j) => {
      const t = timeCpu(c, a, e, ok);
      runs[j].wall.push(t.wall);
      runs[j].cpu.push(t.cpu);
    });
  }
  return runs.map((r) => ({ wall: median(r.wall), cpu: median(r.cpu) }));
}

export async function oneshot({ root, bin }) {
  const runs = Number(process.env.BENCH_ONESHOT_RUNS ?? 15);
  const started = Date.now();
  const ctx = cluster(root);
  const { kube, env } = ctx;
  const ns = `bench-oneshot-${runId}`;
  const cleanup = await createNamespaces(ctx, [ns], 'oneshot');
  try {
    const claim = (name, app) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: ns, labels: { app } },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'bench-none', resources: { requests: { storage: '1Gi' } } },
    });
    // 10 claims: data-db-0..2 (the claims of set db), data-db-3..4 (left over by a scale-down), 5
    // unrelated. db's pods stay Pending (its class does not exist); web is the rolled-out set.
    const claims = [...[0, 1, 2, 3, 4].map((i) => claim(`data-db-${i}`, 'db')), ...[0, 1, 2, 3, 4].map((i) => claim(`scratch-${i}`, 'other'))];
    await kube.createAll(claims);
    await kube.createAll([
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: ns },
        spec: {
          serviceName: 'db',
          replicas: 3,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { tolerations: [KWOK_TOLERATION], containers: [{ name: 'db', image: 'registry.k8s.io/nginx-slim:0.8', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
          },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: claim('x', 'db').spec }],
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'web', namespace: ns },
        spec: {
          serviceName: 'web',
          replicas: 3,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { tolerations: [KWOK_TOLERATION], containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8' }] } },
        },
      },
    ]);
    await waitUntil(
      `${ns}/web rolled out`,
      async () => {
        const s = await kube.get(`/apis/apps/v1/namespaces/${ns}/statefulsets/web`);
        const st = s.status ?? {};
        return (st.observedGeneration ?? 0) >= s.metadata.generation && st.readyReplicas === 3 && st.updatedReplicas === 3;
      },
      120_000,
      200,
    );
    // Sanity: the plugin's answers are about what the bench set up (else the timing means nothing).
    const orphans = JSON.parse(spawnSync(bin, ['pvc-orphans', '-n', ns, '-o', 'json'], { env, encoding: 'utf8' }).stdout || '{}');
    const found = (orphans.findings ?? []).map((f) => f.name).sort();

    const pairs = [
      ['rollout status NAME', ['kubectl', ['rollout', 'status', 'sts/web', '-n', ns], env], [bin, ['rollout', 'status', 'web', '-n', ns], env]],
      ['pvc-orphans -n NS (10 claims)', ['kubectl', ['get', 'pvc', '-n', ns, '-o', 'json'], env], [bin, ['pvc-orphans', '-n', ns], env, [0, 1]]],
      ['finalize-localpv (nothing stuck)', ['kubectl', ['get', 'pv', '-o', 'json'], env], [bin, ['finalize-localpv'], env, [0, 1]]],
    ];
    const results = pairs.map(([what, base, mine]) => ({ what, base, mine, t: sampleCpu([base, mine], runs) }));
    // The runtime's own floor: the requests each command sends, by the smallest Node program that
    // can send them (node:https, one keep-alive agent and TLS context, the credentials read from a
    // JSON file, every body parsed; the requests in parallel, as the plugin sends them), on the
    // Node the binary is built from. What is above it is the plugin's; the floor is Node's.
    const floorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-floor-'));
    const creds = path.join(floorDir, 'creds.json');
    const o = kube.agent.options;
    fs.writeFileSync(creds, JSON.stringify({ ca: o.ca?.toString(), cert: o.cert?.toString(), key: o.key?.toString(), headers: kube.headers }));
    const floorScript = path.join(floorDir, 'floor.cjs');
    fs.writeFileSync(
      floorScript,
      `const c = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const https = require('node:https');
const agent = new https.Agent({ keepAlive: true, secureContext: require('node:tls').createSecureContext({ ca: c.ca, cert: c.cert, key: c.key }) });
let left = process.argv.length - 3;
for (const url of process.argv.slice(3)) {
  https.get(url, { agent, headers: { ...c.headers, Accept: 'application/json' } }, (res) => {
    let b = ''; res.setEncoding('utf8'); res.on('data', (d) => (b += d)); res.on('end', () => { JSON.parse(b); if (--left === 0) process.exit(0); });
  }).on('error', (e) => { console.error(e.message); process.exit(3); });
}
`,
    );
    const at = (p) => new URL(p, kube.server).href;
    const floors = [
      ['1 LIST, as kubectl get pvc -n NS', [at(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)], 1],
      ['2 requests, as rollout status NAME', [at(`/apis/apps/v1/namespaces/${ns}/statefulsets/web`), at(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb&limit=500`)], 0],
      ['4 LISTs, as pvc-orphans -n NS', ['pods', 'persistentvolumeclaims'].map((r) => at(`/api/v1/namespaces/${ns}/${r}?limit=500`)).concat(at(`/apis/apps/v1/namespaces/${ns}/statefulsets?limit=500`), at('/api/v1/persistentvolumes?limit=500')), 1],
    ].map(([what, urls, pair]) => ({ what, pair, t: sampleCpu([pairs[pair][1], [process.execPath, [floorScript, creds, ...urls], env]], runs) }));
    fs.rmSync(floorDir, { recursive: true, force: true });
    const extraCa = process.env.NODE_EXTRA_CA_CERTS;

    console.log(`\n## oneshot (fresh process each; median of ${runs} runs each, interleaved; load average ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.split(' ').slice(0, 3).join(' ')})`);
    console.log(`pvc-orphans -n ${ns} found: ${JSON.stringify(found)}`);
    let ok = target('oneshot', 'sanity: pvc-orphans -n NS finds the 2 leftover claims', JSON.stringify(found) === JSON.stringify(['data-db-3', 'data-db-4']), JSON.stringify(found));
    if (extraCa) console.log(`note: NODE_EXTRA_CA_CERTS=${extraCa} is set here: every Node process parses that file when it makes its first TLS context (kubectl does not read it)`);
    for (const { what, pair, t } of floors) {
      const [b, f] = t;
      const base = pairs[pair][1];
      row(`runtime floor: Node ${process.version} https, ${what} (vs ${base[0]} ${base[1].join(' ').replace(ns, 'NS')}; no target)`, `${fmtMs(f.wall).padStart(8)} wall ${fmtX(f.wall / b.wall)}`, `${fmtMs(f.cpu).padStart(7)} cpu ${fmtX(f.cpu / b.cpu)}`);
    }
    for (const { what, base, mine, t } of results) {
      const [b, m] = t;
      row(`${base[0]} ${base[1].join(' ').replace(ns, 'NS')} (baseline)`, `${fmtMs(b.wall).padStart(8)} wall`, `${fmtMs(b.cpu).padStart(7)} cpu`);
      row(`kubectl-sts ${mine[1].join(' ').replace(ns, 'NS')}`, `${fmtMs(m.wall).padStart(8)} wall ${fmtX(m.wall / b.wall)}`, `${fmtMs(m.cpu).padStart(7)} cpu ${fmtX(m.cpu / b.cpu)}`);
      ok = target('oneshot', `${what} <= 1.0x ${base[0]} ${base[1][0]} ${base[1][1]}`, m.wall / b.wall <= 1.0, `${fmtX(m.wall / b.wall)} wall, ${fmtX(m.cpu / b.cpu)} cpu`) && ok;
    }
    console.log(`section oneshot took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return ok;
  } finally {
    cleanup();
  }
}
