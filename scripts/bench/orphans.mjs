// Bench section `orphans` (issue 5): `kubectl sts pvc-orphans -A` on 50 namespaces, 500
// StatefulSets, 2,000 pods and 5,000 claims, against `kubectl get sts,pvc,pods,pv -A -o json`
// (the same four collections, read by kubectl) in the same run; plus its peak RSS and the API
// requests it sends.
//
// Per namespace: StatefulSets s0..s9 (replicas 4, Parallel, volumeClaimTemplate `data` of class
// `bench-none`, which does not exist, so claims stay Pending and so do the pods: 2,000 pod
// objects all the same) and claims data-s<j>-<0..9> labelled as the controller labels template
// claims. Ordinals 0..3 are the claims of the live pods; 4..9 are 3,000 leftovers of a scale-down,
// which the plugin must report. The bench creates all 5,000 claims itself before the sets (the
// controller finds and uses existing claims of the right name), which halves the controller's
// work; the objects are the same as if the controller had made them.
import { cluster, createNamespaces, KWOK_TOLERATION, runId } from './cluster.mjs';
import { fmtMs, fmtS, fmtX, peakRssKb, pendingCleanups, row, sample, target, waitUntil } from './util.mjs';
import { spawnSync } from 'node:child_process';

const NAMESPACES = 50;
const SETS_PER_NS = 10;
const REPLICAS = 4;
const CLAIM_ORDINALS = 10; // 0..3 in use, 4..9 left over
const CLASS = 'bench-none';

const claimSpec = () => ({ accessModes: ['ReadWriteOnce'], storageClassName: CLASS, resources: { requests: { storage: '1Gi' } } });

/** The claims and StatefulSets of the bench namespaces `names` (see the top of this file). */
function objectsFor(names, runLabel) {
  const claims = [];
  const sets = [];
  for (const ns of names) {
    for (let j = 0; j < SETS_PER_NS; j++) {
      const app = `s${j}`;
      for (let o = 0; o < CLAIM_ORDINALS; o++) {
        claims.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `data-${app}-${o}`, namespace: ns, labels: { ...runLabel, app } }, spec: claimSpec() });
      }
      sets.push({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: app, namespace: ns, labels: runLabel },
        spec: {
          serviceName: app,
          replicas: REPLICAS,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { ...runLabel, app } },
            spec: {
              tolerations: [KWOK_TOLERATION],
              containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
            },
          },
          volumeClaimTemplates: [{ metadata: { name: 'data', labels: runLabel }, spec: claimSpec() }],
        },
      });
    }
  }
  return { claims, sets };
}

/**
 * Bench section `orphans-scale` (issue 15), on demand: the same shape at 4x, 200 namespaces,
 * 2,000 StatefulSets, 8,000 pods and 20,000 claims. It measures at 5,000 claims (the first 50
 * namespaces), adds the other 150 and measures again, so the cost per claim at both sizes comes
 * from one run. Targets at 20,000: <= 0.3x `kubectl get sts,pvc,pods,pv -A -o json`, peak RSS
 * < 300 MB, cost per claim no worse than at 5,000 (10% allowed for noise). Meant for a cluster of
 * its own (KSTS_CLUSTER_NAME=ksts-scale npm run bench -- orphans-scale; then
 * KSTS_CLUSTER_NAME=ksts-scale npm run cluster:down): creating the objects takes many minutes.
 * BENCH_KEEP=1 leaves the 200 namespaces in place (their names are printed), so that other builds
 * can be measured against the same 20,000 claims without creating them again.
 */
export async function orphansScale({ root, bin }) {
  const runs = Number(process.env.BENCH_ORPHANS_RUNS ?? 5);
  const started = Date.now();
  const ctx = cluster(root);
  const { kube, env } = ctx;
  const runLabel = { 'ksts-bench-run': `scale-${runId}` };
  const selector = `ksts-bench-run=scale-${runId}`;
  const names = Array.from({ length: NAMESPACES * 4 }, (_, i) => `bench-scale-${runId}-${String(i).padStart(3, '0')}`);
  const log = (what, t0) => console.error(`[bench orphans-scale] ${what}: ${fmtS(Date.now() - t0)}`);
  const cleanup = await createNamespaces(ctx, names, 'orphans-scale');
  const pluginArgs = ['pvc-orphans', '-A', '-o', 'json'];
  const kubectlArgs = ['get', 'sts,pvc,pods,pv', '-A', '-o', 'json'];
  const measure = async (part) => {
    let t0 = Date.now();
    const { claims, sets } = objectsFor(part, runLabel);
    await kube.createAll(claims, 48);
    await kube.createAll(sets, 48);
    log(`${claims.length} claims + ${sets.length} sets created`, t0);
    t0 = Date.now();
    // The bench's namespaces so far are names[0..upTo).
    const upTo = names.indexOf(part[part.length - 1]) + 1;
    await waitUntil(
      `the ${upTo * SETS_PER_NS * REPLICAS} pods of the bench StatefulSets`,
      async () => (await kube.list('/apis/apps/v1/statefulsets', { labelSelector: selector })).reduce((n, x) => n + (x.status?.replicas ?? 0), 0) >= upTo * SETS_PER_NS * REPLICAS,
      1_800_000,
      2000,
    );
    log('pods created', t0);
    const total = async (p) => ((await kube.get(p, { limit: 1 })).metadata?.remainingItemCount ?? 0) + 1;
    const allClaims = await total('/api/v1/persistentvolumeclaims');
    const allPods = await total('/api/v1/pods');
    const found = spawnSync(bin, pluginArgs, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (found.status !== 0 && found.status !== 1) throw new Error(`kubectl-sts pvc-orphans exited ${found.status}: ${found.stderr.slice(0, 2000)}`);
    const mine = JSON.parse(found.stdout).findings.filter((f) => f.namespace.startsWith(`bench-scale-${runId}-`)).length;
    const [base, plug] = sample([['kubectl', kubectlArgs, env], [bin, pluginArgs, env, { okCodes: [0, 1] }]], runs);
    const rss = Math.max(...[0, 1, 2].map(() => peakRssKb(bin, pluginArgs, env)));
    const kubectlRss = peakRssKb('kubectl', kubectlArgs, env);
    return { claims: allClaims, pods: allPods, found: mine, expected: upTo * SETS_PER_NS * (CLAIM_ORDINALS - REPLICAS), base, plug, rss, kubectlRss };
  };
  try {
    const small = await measure(names.slice(0, NAMESPACES));
    const large = await measure(names.slice(NAMESPACES));
    console.log(`\n## orphans-scale (median of ${runs} runs each, interleaved; whole section ${fmtS(Date.now() - started)})`);
    for (const [label, m] of [['5,000', small], ['20,000', large]]) {
      console.log(`at ${label} bench claims: cluster-wide ${m.claims} claims, ${m.pods} pods; found ${m.found} leftovers (expected ${m.expected})`);
      row(`  kubectl get sts,pvc,pods,pv -A -o json (baseline)`, fmtMs(m.base).padStart(8), '1.00x', `${(m.kubectlRss / 1024).toFixed(0)} MB`);
      row(`  kubectl-sts pvc-orphans -A -o json`, fmtMs(m.plug).padStart(8), fmtX(m.plug / m.base), `${(m.rss / 1024).toFixed(0)} MB`);
      row(`  cost per claim: plugin / baseline`, `${((m.plug / m.claims) * 1000).toFixed(1)} us`, `${((m.base / m.claims) * 1000).toFixed(1)} us`);
    }
    let ok = target('orphans-scale', 'found every leftover claim at both sizes', small.found === small.expected && large.found === large.expected, `${small.found}/${small.expected}, ${large.found}/${large.expected}`);
    ok = target('orphans-scale', 'pvc-orphans -A at 20,000 claims <= 0.3x kubectl get sts,pvc,pods,pv -A -o json', large.plug / large.base <= 0.3, `${fmtX(large.plug / large.base)}: ${fmtMs(large.plug)} vs ${fmtMs(large.base)}`) && ok;
    ok = target('orphans-scale', 'pvc-orphans -A at 20,000 claims peak RSS < 300 MB', large.rss < 300 * 1024, `${(large.rss / 1024).toFixed(0)} MB`) && ok;
    const perSmall = small.plug / small.claims;
    const perLarge = large.plug / large.claims;
    ok = target('orphans-scale', 'cost per claim at 20,000 no worse than at 5,000 (+10% for noise)', perLarge <= perSmall * 1.1, `${(perLarge * 1000).toFixed(1)} us vs ${(perSmall * 1000).toFixed(1)} us per claim`) && ok;
    return ok;
  } finally {
    if (process.env.BENCH_KEEP) {
      pendingCleanups.delete(cleanup);
      console.error(`[bench orphans-scale] BENCH_KEEP: kept namespaces ${names[0]} .. ${names[names.length - 1]}`);
    } else cleanup();
  }
}

export async function orphans({ root, bin }) {
  const runs = Number(process.env.BENCH_ORPHANS_RUNS ?? 5);
  const started = Date.now();
  const ctx = cluster(root);
  const { kube, env } = ctx;
  const runLabel = { 'ksts-bench-run': `orphans-${runId}` };
  const selector = `ksts-bench-run=orphans-${runId}`;
  const names = Array.from({ length: NAMESPACES }, (_, i) => `bench-orphans-${runId}-${String(i).padStart(2, '0')}`);
  const phases = [];
  const phase = async (what, fn) => {
    const t0 = Date.now();
    const v = await fn();
    phases.push(`${what} ${fmtS(Date.now() - t0)}`);
    console.error(`[bench orphans] ${what}: ${fmtS(Date.now() - t0)}`);
    return v;
  };
  const cleanup = await phase(`${NAMESPACES} namespaces + ServiceAccounts`, () => createNamespaces(ctx, names, 'orphans'));
  try {
    const { claims, sets } = objectsFor(names, runLabel);
    await phase(`${claims.length} claims (POST, 48 in flight)`, () => kube.createAll(claims, 48));
    await phase(`${sets.length} StatefulSets (POST, 48 in flight)`, () => kube.createAll(sets, 48));
    const wantPods = NAMESPACES * SETS_PER_NS * REPLICAS;
    await phase(`controller creating ${wantPods} pods`, () =>
      waitUntil(
        `${wantPods} pods of the bench StatefulSets`,
        async () => (await kube.list('/apis/apps/v1/statefulsets', { labelSelector: selector })).reduce((n, s) => n + (s.status?.replicas ?? 0), 0) >= wantPods,
        600_000,
        1000,
      ),
    );
    const pods = await kube.list('/api/v1/pods', { labelSelector: selector });
    const pvcs = await kube.list('/api/v1/persistentvolumeclaims', { labelSelector: selector });
    // Cluster-wide counts (both commands read everything, other namespaces too).
    const total = async (p) => ((await kube.get(p, { limit: 1 })).metadata?.remainingItemCount ?? NaN) + 1;
    const allPods = await total('/api/v1/pods');
    const allClaims = await total('/api/v1/persistentvolumeclaims');
    const setupMs = Date.now() - started;
    const phasesByPod = {};
    for (const p of pods) phasesByPod[p.status?.phase ?? '?'] = (phasesByPod[p.status?.phase ?? '?'] ?? 0) + 1;
    const pvcPhases = {};
    for (const c of pvcs) pvcPhases[c.status?.phase ?? '?'] = (pvcPhases[c.status?.phase ?? '?'] ?? 0) + 1;

    const pluginArgs = ['pvc-orphans', '-A', '-o', 'json'];
    const kubectlArgs = ['get', 'sts,pvc,pods,pv', '-A', '-o', 'json'];
    // What the plugin found (sanity: the timing means nothing if it found nothing).
    const found = spawnSync(bin, pluginArgs, { env, encoding: 'utf8', maxBuffer: 512 << 20 });
    if (found.status !== 0 && found.status !== 1) throw new Error(`kubectl-sts pvc-orphans exited ${found.status}: ${found.stderr.slice(0, 2000)}`);
    const report = JSON.parse(found.stdout);
    const mine = new Set(names);
    const myFindings = report.findings.filter((f) => mine.has(f.namespace));

    const t0 = Date.now();
    const [base, plug] = sample(
      [
        ['kubectl', kubectlArgs, env],
        [bin, pluginArgs, env, { okCodes: [0, 1] }],
      ],
      runs,
    );
    const timingMs = Date.now() - t0;
    const rss = Math.max(...[0, 1, 2].map(() => peakRssKb(bin, pluginArgs, env)));
    const kubectlRss = peakRssKb('kubectl', kubectlArgs, env);
    const v6 = spawnSync(bin, [...pluginArgs, '-v', '6'], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
    const requests = v6.stderr.split('\n').filter((l) => /^(GET|POST|PUT|PATCH|DELETE) https?:\/\//.test(l));
    const byPath = {};
    for (const l of requests) {
      const u = new URL(l.split(' ')[1]);
      const key = `${l.split(' ')[0]} ${u.pathname}`;
      byPath[key] = (byPath[key] ?? 0) + 1;
    }
    const collections = new Set(['/apis/apps/v1/statefulsets', '/api/v1/persistentvolumeclaims', '/api/v1/pods', '/api/v1/persistentvolumes']);
    const onlyLists = requests.length > 0 && Object.keys(byPath).every((k) => k.startsWith('GET ') && collections.has(k.slice(4)));
    const limit = requests.length ? new URL(requests[0].split(' ')[1]).searchParams.get('limit') : null;

    console.log(`\n## orphans (${NAMESPACES} namespaces, ${sets.length} StatefulSets; median of ${runs} runs each, interleaved)`);
    console.log(`setup ${fmtS(setupMs)}: ${phases.join('; ')}`);
    console.log(
      `bench objects: ${sets.length} sets, ${pods.length} pods (${Object.entries(phasesByPod).map(([k, v]) => `${v} ${k}`).join(', ')}), ${pvcs.length} claims (${Object.entries(pvcPhases).map(([k, v]) => `${v} ${k}`).join(', ')}); cluster-wide: ${allPods} pods, ${allClaims} claims`,
    );
    console.log(`plugin found ${myFindings.length} orphaned claims in the bench namespaces (expected ${NAMESPACES * SETS_PER_NS * (CLAIM_ORDINALS - REPLICAS)}), ${report.findings.length} findings cluster-wide; summary ${JSON.stringify(report.summary)}`);
    row('kubectl get sts,pvc,pods,pv -A -o json (baseline)', fmtMs(base).padStart(8), '1.00x');
    row('kubectl-sts pvc-orphans -A -o json', fmtMs(plug).padStart(8), fmtX(plug / base));
    row('peak RSS: kubectl-sts pvc-orphans (max of 3) / kubectl get', `${(rss / 1024).toFixed(0)} MB / ${(kubectlRss / 1024).toFixed(0)} MB`);
    row(`API requests of pvc-orphans -A (-v 6; page limit ${limit})`, `${requests.length}: ${Object.entries(byPath).map(([k, v]) => `${k} x${v}`).join(', ')}`);
    console.log(`timed runs took ${fmtS(timingMs)}`);

    let ok = target('orphans', 'found the 3,000 leftover claims', myFindings.length === NAMESPACES * SETS_PER_NS * (CLAIM_ORDINALS - REPLICAS), `${myFindings.length} found`);
    ok = target('orphans', 'pvc-orphans -A wall time <= 1.3x kubectl get sts,pvc,pods,pv -A -o json', plug / base <= 1.3, `${fmtX(plug / base)}: ${fmtMs(plug)} vs ${fmtMs(base)}`) && ok;
    ok = target('orphans', 'pvc-orphans -A peak RSS < 200 MB', rss < 200 * 1024, `${(rss / 1024).toFixed(0)} MB`) && ok;
    ok = target('orphans', 'only paginated LISTs of the 4 collections, no per-object GET', onlyLists, `${requests.length} requests: ${Object.entries(byPath).map(([k, v]) => `${k} x${v}`).join(', ')}`) && ok;
    console.log(`section orphans took ${fmtS(Date.now() - started)}`);
    return ok;
  } finally {
    cleanup();
  }
}
