// Bench section `rollout` (issue 4): one `--step 1` costs the same number of API requests (plus
// at most one watch) at 5 and at 40 replicas, is at least as fast as the manual way (kubectl
// patch of the partition, then `kubectl rollout status --watch`, which understands partitions),
// and reports soon after the awaited pod turns Ready.
//
// Each size gets two identical sets, p<N> for the plugin and k<N> for the baseline. A round holds
// both with a fresh image (`kubectl sts rollout hold --image`, untimed, then waits until the
// controller observed it), so the highest ordinal is the one pod a step replaces; then both are
// stepped, in alternating order. Meanwhile the bench watches that pod itself (an API watch from
// this process, on its own connection) and notes when it is first seen Ready on the update
// revision; "lag" is the command's exit minus that moment. Both watchers see the same event from
// the same API server, so the lag is honest to within a few ms of event delivery.
import { cluster, createNamespaces, KWOK_TOLERATION, runId } from './cluster.mjs';
import { fmtMs, fmtX, median, row, runChecked, target, waitUntil } from './util.mjs';

const IMAGE = 'registry.k8s.io/nginx-slim';
const SIZES = [5, 40];

function statefulSet(ns, name, replicas) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: ns },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 10, tolerations: [KWOK_TOLERATION], containers: [{ name: 'nginx', image: `${IMAGE}:0.8` }] },
      },
    },
  };
}

/** Kinds of the requests in a -v 6 log (GET sts, PATCH sts, LIST pods, WATCH pods) and the time to the first. */
function requestTrace(r) {
  const kinds = [];
  let firstSentMs;
  for (const { at, line } of r.lines) {
    const m = /^(GET|POST|PUT|PATCH|DELETE) (\S+) .* in (\d+) milliseconds$/.exec(line);
    if (!m) continue;
    const u = new URL(m[2]);
    // /api/v1/... or /apis/GROUP/VERSION/..., then [namespaces/NS/]PLURAL[/NAME[/SUBRESOURCE]]
    let rest = u.pathname.split('/').slice(u.pathname.startsWith('/api/') ? 3 : 4);
    if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
    const watch = u.searchParams.get('watch') === '1' || u.searchParams.get('watch') === 'true';
    const verb = m[1] === 'GET' ? (watch ? 'WATCH' : rest.length === 1 ? 'LIST' : 'GET') : m[1];
    kinds.push(`${verb} ${rest[0]}`);
    // A line is logged when the response headers arrive: the request went out `in` ms earlier.
    firstSentMs ??= at - Number(m[3]) - r.t0;
  }
  return { kinds, firstSentMs, totalMs: r.t1 - r.t0 };
}

const isReady = (pod) => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits until the controller observed the set's spec and every pod exists and is Ready. */
async function settled(kube, ns, name, replicas) {
  return waitUntil(
    `${ns}/${name} to settle`,
    async () => {
      const s = await kube.get(`/apis/apps/v1/namespaces/${ns}/statefulsets/${name}`);
      const st = s.status ?? {};
      return (st.observedGeneration ?? 0) >= s.metadata.generation && st.replicas === replicas && st.readyReplicas === replicas ? s : undefined;
    },
    120_000,
    100,
  );
}

export async function rollout({ root, bin }) {
  const runs = Number(process.env.BENCH_ROLLOUT_RUNS ?? 11);
  const started = Date.now();
  const ctx = cluster(root);
  const { kube, env } = ctx;
  const ns = `bench-rollout-${runId}`;
  const cleanup = await createNamespaces(ctx, [ns], 'rollout');
  try {
    const sets = SIZES.flatMap((n) => [`p${n}`, `k${n}`].map((name) => ({ name, n })));
    await kube.createAll(sets.map(({ name, n }) => statefulSet(ns, name, n)));
    await Promise.all(sets.map(({ name, n }) => settled(kube, ns, name, n)));
    const setupMs = Date.now() - started;

    /**
     * Runs one step of `name` the given way; returns { ms, lag, requests?, patchMs?, trace?, kinds? }.
     * The plugin runs as `--step 1 -o json -v 6`: the JSON carries its request count (rendering it
     * instead of text costs microseconds), the request log which requests they were and when the
     * first one was sent.
     */
    async function step(name, replicas, how, rev) {
      const podName = `${name}-${replicas - 1}`;
      let readyAt;
      const w = await kube.watch(`/api/v1/namespaces/${ns}/pods`, { fieldSelector: `metadata.name=${podName}` }, (ev, at) => {
        const p = ev.object;
        if (readyAt === undefined && ev.type !== 'DELETED' && p?.metadata?.labels?.['controller-revision-hash'] === rev && isReady(p)) readyAt = at;
      });
      try {
        let t0;
        let t1;
        let requests;
        let patchMs;
        let traced;
        if (how === 'plugin') {
          // -v 6 on every run (a few stderr lines): which requests a run made, not just how many.
          const r = await runChecked(bin, ['rollout', name, '-n', ns, '--step', '1', '-o', 'json', '-v', '6'], env, { stdout: 'pipe', stamps: true });
          ({ t0, t1 } = r);
          requests = JSON.parse(r.stdout).requests;
          traced = requestTrace(r);
        } else {
          const patch = JSON.stringify({ spec: { updateStrategy: { rollingUpdate: { partition: replicas - 1 } } } });
          const a = await runChecked('kubectl', ['-n', ns, 'patch', 'sts', name, '-p', patch], env);
          const b = await runChecked('kubectl', ['-n', ns, 'rollout', 'status', `sts/${name}`, '--watch', '--timeout=60s'], env);
          t0 = a.t0;
          t1 = b.t1;
          patchMs = a.ms;
        }
        // The command may exit a hair before our own watch delivers the same event.
        await waitUntil(`${podName} Ready on ${rev} (seen by the bench's watch)`, () => readyAt !== undefined, 10_000, 5);
        return { ms: t1 - t0, lag: t1 - readyAt, requests, patchMs, trace: traced, kinds: traced?.kinds };
      } finally {
        w.close();
      }
    }

    async function holdAll(tag) {
      await Promise.all(sets.map(({ name }) => runChecked(bin, ['rollout', 'hold', name, '-n', ns, '--image', `nginx=${IMAGE}:${tag}`], env)));
      const after = await Promise.all(sets.map(({ name, n }) => settled(kube, ns, name, n)));
      return Object.fromEntries(after.map((s) => [s.metadata.name, s.status.updateRevision]));
    }

    const res = Object.fromEntries(SIZES.map((n) => [n, { plugin: [], kubectl: [], pluginLag: [], kubectlLag: [], patch: [], requests: [], kinds: [], trace: undefined }]));
    // Round 0 warms up (page cache, connections) and traces the plugin's requests with -v 6; not timed.
    for (let round = 0; round <= runs; round++) {
      const revs = await holdAll(`bench-${round}`);
      for (const n of SIZES) {
        const r = res[n];
        const order = round % 2 ? ['kubectl', 'plugin'] : ['plugin', 'kubectl'];
        for (const how of order) {
          const name = `${how === 'plugin' ? 'p' : 'k'}${n}`;
          const s = await step(name, n, how, revs[name]);
          if (s.requests !== undefined) r.requests.push(s.requests);
          if (s.kinds) r.kinds.push(s.kinds.join(', '));
          if (s.trace && round === 0) r.trace = s.trace;
          if (round === 0) continue;
          r[how].push(s.ms);
          if (s.patchMs !== undefined) r.patch.push(s.patchMs);
          r[`${how}Lag`].push(s.lag);
        }
      }
    }

    console.log(`\n## rollout (one --step 1 on ${SIZES.join(' and ')} replicas; median of ${runs} runs each, interleaved; setup ${(setupMs / 1000).toFixed(1)} s)`);
    for (const n of SIZES) {
      const t = res[n].trace;
      row(`${n} replicas: API requests per step (.requests of ${res[n].requests.length} runs)`, `[${res[n].requests}]`);
      row(`${n} replicas: requests of one step (-v 6)`, `${t.kinds.join(', ')}; first sent ${fmtMs(t.firstSentMs)} after spawn, exit at ${fmtMs(t.totalMs)}`);
      const tally = new Map();
      for (const k of res[n].kinds) tally.set(k, (tally.get(k) ?? 0) + 1);
      for (const [k, c] of tally) row(`${n} replicas: ${c} of ${res[n].kinds.length} runs made`, k);
    }
    for (const n of SIZES) {
      const r = res[n];
      const base = median(r.kubectl);
      const mine = median(r.plugin);
      row(`${n} replicas: kubectl patch + rollout status --watch (baseline)`, fmtMs(base).padStart(8), '1.00x', `(patch alone: ${fmtMs(median(r.patch))})`);
      row(`${n} replicas: kubectl sts rollout NAME --step 1`, fmtMs(mine).padStart(8), fmtX(mine / base));
      row(`${n} replicas: lag after pod Ready, plugin (min / median / max)`, [Math.min(...r.pluginLag), median(r.pluginLag), Math.max(...r.pluginLag)].map(fmtMs).join(' / '));
      row(`${n} replicas: lag after pod Ready, baseline (min / median / max)`, [Math.min(...r.kubectlLag), median(r.kubectlLag), Math.max(...r.kubectlLag)].map(fmtMs).join(' / '));
    }
    console.log(`all runs (ms): ${SIZES.map((n) => `${n}: plugin [${res[n].plugin.map((x) => x.toFixed(0))}] baseline [${res[n].kubectl.map((x) => x.toFixed(0))}] plugin lag [${res[n].pluginLag.map((x) => x.toFixed(0))}]`).join('; ')}`);

    // The claim: a constant number of requests, whatever the replica count, plus one watch per
    // collection the step waits on. The traced run gives the non-watch requests (GET, PATCH, LIST
    // pods). Then a WATCH of the pods, unless the LIST already shows the pod done (KWOK can replace
    // it that fast); and a WATCH of the set, from the PATCH response's resourceVersion (no LIST),
    // when the controller had not yet observed a template change made just before the step (the
    // bench makes one before every round). So each run costs base, base + 1 or base + 2.
    const base = SIZES.map((n) => res[n].trace.kinds.filter((k) => !k.startsWith('WATCH')).length);
    const constant = base.every((b) => b === base[0]) && SIZES.every((n) => res[n].requests.every((x) => x >= base[0] && x <= base[0] + 2));
    let ok = target(
      'rollout',
      'step costs a constant number of requests plus a watch per collection waited on (pods; the set while its template change is unobserved), at 5 and 40 replicas',
      constant,
      SIZES.map((n, i) => `${n} replicas: ${base[i]} + watches; runs [${res[n].requests}]`).join(', '),
    );
    const ratios = SIZES.map((n) => median(res[n].plugin) / median(res[n].kubectl));
    // Issue 15: a fresh `--step` costs no more than the two kubectl commands it replaces.
    ok = target(
      'rollout',
      '--step wall time <= 1.0x kubectl patch + kubectl rollout status, at 5 and 40 replicas',
      ratios.every((r) => r <= 1.0),
      SIZES.map((n, i) => `${n} replicas: ${fmtX(ratios[i])}`).join(', '),
    ) && ok;
    const maxLag = Math.max(...SIZES.flatMap((n) => res[n].pluginLag));
    ok = target('rollout', '--step reports within 1 s after the awaited pod is Ready', maxLag <= 1000, `max lag ${fmtMs(maxLag)} over ${runs * SIZES.length} steps`) && ok;
    console.log(`section rollout took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return ok;
  } finally {
    cleanup();
  }
}
