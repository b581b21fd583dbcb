// Bench section `dns` (issue 6): `kubectl sts dns-check web` on a 50-pod set (default probe
// pattern) against a sequential loop of `kubectl exec POD -- nslookup NAME` over the same lookups,
// measured in the same run.
//
// The lookups are derived here by the rules of src/core/dns-plan.ts (buildPlan, default mode):
// each Ready pod, in ordinal order, looks up its own FQDN and the next ordinal's (the last wraps
// to the first), the Service name, and the SRV name of each named Service port; names are fully
// qualified with a trailing dot, as the plugin asks them. For web.yaml (one named port `web`) that
// is 4 lookups per pod, 200 in all. The zone is cluster.local (the local CoreDNS's zone).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { cluster, createNamespaces, runId } from './cluster.mjs';
import { fmtMs, fmtS, fmtX, median, row, runChecked, target, timeAsync, waitUntil } from './util.mjs';

const REPLICAS = 50;
const ZONE = 'cluster.local';

/** web.yaml as the bench runs it: no claim templates (nor their mounts), 50 replicas, Parallel. */
function manifests(root, ns) {
  const docs = loadAll(fs.readFileSync(path.join(root, 'test/fixtures/manifests/web.yaml'), 'utf8')).filter(Boolean);
  for (const d of docs) {
    d.metadata.namespace = ns;
    if (d.kind !== 'StatefulSet') continue;
    delete d.spec.volumeClaimTemplates;
    d.spec.replicas = REPLICAS;
    d.spec.podManagementPolicy = 'Parallel';
    for (const c of d.spec.template.spec.containers) delete c.volumeMounts;
  }
  return docs;
}

/** The (pod, type, name) lookups the plugin's default probe pattern runs (see the header). */
export function defaultLookups(sts, service, pods, ns) {
  const isReady = (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const svc = sts.spec.serviceName;
  const names = pods.map((p) => p.metadata.name);
  const fqdn = (pod) => `${pod}.${svc}.${ns}.svc.${ZONE}.`.toLowerCase();
  const out = [];
  for (const probe of pods.filter(isReady).map((p) => p.metadata.name)) {
    const i = names.indexOf(probe);
    const targets = names.length > 1 ? [probe, names[(i + 1) % names.length]] : [probe];
    for (const t of targets) out.push([probe, 'A', fqdn(t)]);
    out.push([probe, 'A', `${svc}.${ns}.svc.${ZONE}.`.toLowerCase()]);
    for (const port of service.spec.ports ?? []) {
      if (port.name) out.push([probe, 'SRV', `_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${svc}.${ns}.svc.${ZONE}.`.toLowerCase()]);
    }
  }
  return out;
}

// One bash process runs the whole loop, one `kubectl exec` per lookup; prints "<lookups> <failed>".
const LOOP = `f=0; n=0
while read -r pod type name; do
  n=$((n+1))
  if [ "$type" = SRV ]; then
    kubectl -n "$NS" exec "$pod" -- nslookup -type=srv "$name" </dev/null >/dev/null 2>&1 || f=$((f+1))
  else
    kubectl -n "$NS" exec "$pod" -- nslookup "$name" </dev/null >/dev/null 2>&1 || f=$((f+1))
  fi
done < "$LIST"
echo "$n $f"`;

export async function dns({ root, bin }) {
  const runs = Number(process.env.BENCH_DNS_RUNS ?? 3);
  const started = Date.now();
  const ctx = cluster(root);
  const { kube, env } = ctx;
  const ns = `bench-dns-${runId}`;
  // Its ClusterExec (exec in its pods) comes from the cluster's namespace reconciler, scripts/cluster/ns-exec.sh.
  const cleanup = await createNamespaces(ctx, [ns], 'dns');
  const list = path.join(os.tmpdir(), `ksts-bench-dns-${runId}.txt`);
  try {
    await kube.createAll(manifests(root, ns));
    await waitUntil(
      `${REPLICAS} Ready pods of ${ns}/web`,
      async () => (await kube.get(`/apis/apps/v1/namespaces/${ns}/statefulsets/web`)).status?.readyReplicas === REPLICAS,
      180_000,
      250,
    );
    await waitUntil(
      `EndpointSlices of ${ns}/nginx to list ${REPLICAS} ready pods with hostnames`,
      async () => {
        const slices = await kube.list(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { labelSelector: 'kubernetes.io/service-name=nginx' });
        return slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready && e.hostname).length === REPLICAS;
      },
      120_000,
      250,
    );
    const sts = await kube.get(`/apis/apps/v1/namespaces/${ns}/statefulsets/web`);
    const service = await kube.get(`/api/v1/namespaces/${ns}/services/nginx`);
    const pods = (await kube.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: 'app=nginx' }))
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === sts.metadata.uid))
      .sort((a, b) => Number(a.metadata.name.split('-').pop()) - Number(b.metadata.name.split('-').pop()));
    const lookups = defaultLookups(sts, service, pods, ns);
    fs.writeFileSync(list, lookups.map((l) => l.join(' ')).join('\n') + '\n');
    const setupMs = Date.now() - started;

    const pluginArgs = ['dns-check', 'web', '-n', ns, '-o', 'json'];
    const loopEnv = { ...env, NS: ns, LIST: list };
    const runPlugin = async () => {
      const r = await timeAsync(bin, pluginArgs, env, { stdout: 'pipe' });
      let out;
      try {
        out = JSON.parse(r.stdout);
      } catch {
        /* reported below */
      }
      if (!out || (r.code !== 0 && r.code !== 1 && r.code !== 4)) {
        throw new Error(`kubectl-sts dns-check web -n ${ns} -o json failed (exit ${r.code}); stderr: ${r.stderr.trim().slice(0, 1500) || '(empty)'}; stdout: ${r.stdout.trim().slice(0, 300) || '(empty)'}`);
      }
      return { ms: r.ms, code: r.code, out };
    };
    const runLoop = async () => {
      const r = await runChecked('bash', ['-c', LOOP], loopEnv, { stdout: 'pipe' });
      const [n, failed] = r.stdout.trim().split(/\s+/).map(Number);
      return { ms: r.ms, n, failed };
    };

    // Warm-up (page cache, CoreDNS caches): the plugin once, and one kubectl exec.
    const warm = await runPlugin();
    await runChecked('kubectl', ['-n', ns, 'exec', lookups[0][0], '--', 'nslookup', lookups[0][2]], env);
    const plugin = [];
    const loop = [];
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? ['loop', 'plugin'] : ['plugin', 'loop'];
      for (const which of order) (which === 'plugin' ? plugin : loop).push(which === 'plugin' ? await runPlugin() : await runLoop());
    }
    const live = (o) => o.checks.filter((c) => c.kind === 'live');
    const base = median(loop.map((x) => x.ms));
    const mine = median(plugin.map((x) => x.ms));

    console.log(`\n## dns (${REPLICAS}-pod set, default probe pattern; median of ${runs} runs each, interleaved; setup ${fmtS(setupMs)})`);
    console.log(`lookups: ${lookups.length} (${new Set(lookups.map((l) => l[0])).size} probe pods x ${lookups.length / new Set(lookups.map((l) => l[0])).size})`);
    const last = plugin[plugin.length - 1];
    console.log(
      `plugin: exit ${last.code}, ${live(last.out).length} live checks (the bench's list has ${lookups.length}), summary ${JSON.stringify(last.out.summary)}; warm-up run: exit ${warm.code}, ${JSON.stringify(warm.out.summary)}`,
    );
    const bad = last.out.checks.filter((c) => c.status !== 'ok');
    if (bad.length) console.log(`plugin checks not ok (first 5): ${bad.slice(0, 5).map((c) => `${c.status} ${c.subject}: ${c.reason}`).join(' | ')}`);
    console.log(`baseline loop: ${loop.map((x) => `${x.n} lookups, ${x.failed} failed`).join('; ')}`);
    row('kubectl exec POD -- nslookup NAME loop (baseline)', fmtMs(base).padStart(9), '1.00x');
    row('kubectl-sts dns-check web -o json', fmtMs(mine).padStart(9), fmtX(mine / base), `(${fmtX(base / mine)} faster)`);
    console.log(`all runs (ms): plugin [${plugin.map((x) => x.ms.toFixed(0))}] loop [${loop.map((x) => x.ms.toFixed(0))}]`);

    let ok = target('dns', 'sanity: dns-check finds no problem on the healthy set (last timed run)', last.code === 0 && last.out.summary.fail === 0, `exit ${last.code}, ${JSON.stringify(last.out.summary)}`);
    // Issue 6 asked for 5x; issue 15 raised it to 10x, with no lookup lost (the sanity check above).
    ok = target('dns', 'dns-check >= 10x faster than a sequential kubectl exec nslookup loop', base / mine >= 10, `${fmtX(base / mine)} faster: ${fmtMs(mine)} vs ${fmtMs(base)}`) && ok;
    console.log(`section dns took ${fmtS(Date.now() - started)}`);
    return ok;
  } finally {
    fs.rmSync(list, { force: true });
    cleanup();
  }
}
