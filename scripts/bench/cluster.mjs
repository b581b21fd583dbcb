// The local control plane for the bench sections: started (or reused) by scripts/cluster/up.sh,
// driven directly over HTTPS from Node for setup (bulk creates, watches) — no client library.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { pendingCleanups, sleep, waitUntil } from './util.mjs';

let cached;

/** Brings the cluster up (reusing a running one) and returns { kubeconfig, env, kube }. */
export function cluster(root) {
  if (cached) return cached;
  const t0 = Date.now();
  const r = spawnSync('bash', [path.join(root, 'scripts/cluster/up.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`scripts/cluster/up.sh exited ${r.status}:\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
  const kubeconfig = r.stdout.trim().split('\n').pop();
  if (!kubeconfig || !fs.existsSync(kubeconfig)) throw new Error(`scripts/cluster/up.sh printed no kubeconfig path (last line: "${kubeconfig}")`);
  console.log(`(cluster: ${kubeconfig}, up.sh took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const env = { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
  cached = { kubeconfig, env, kube: new Kube(kubeconfig) };
  return cached;
}

// Collection paths by kind (what the bench creates).
const KINDS = {
  Namespace: { prefix: '/api/v1', plural: 'namespaces', cluster: true },
  Service: { prefix: '/api/v1', plural: 'services' },
  PersistentVolumeClaim: { prefix: '/api/v1', plural: 'persistentvolumeclaims' },
  Pod: { prefix: '/api/v1', plural: 'pods' },
  StatefulSet: { prefix: '/apis/apps/v1', plural: 'statefulsets' },
};

export function collectionPath(kind, namespace) {
  const k = KINDS[kind];
  if (!k) throw new Error(`bench: no path known for kind ${kind}`);
  return k.cluster || !namespace ? `${k.prefix}/${k.plural}` : `${k.prefix}/namespaces/${namespace}/${k.plural}`;
}

export class Kube {
  constructor(kubeconfig) {
    const cfg = JSON.parse(execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'config', 'view', '--raw', '--minify', '-o', 'json'], { encoding: 'utf8' }));
    const cl = cfg.clusters[0].cluster;
    const user = cfg.users[0].user ?? {};
    const base = path.dirname(kubeconfig);
    const read = (data, file) => (data ? Buffer.from(data, 'base64') : file ? fs.readFileSync(path.resolve(base, file)) : undefined);
    this.server = new URL(cl.server);
    this.headers = user.token ? { Authorization: `Bearer ${user.token}` } : {};
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 64,
      ca: read(cl['certificate-authority-data'], cl['certificate-authority']),
      cert: read(user['client-certificate-data'], user['client-certificate']),
      key: read(user['client-key-data'], user['client-key']),
      rejectUnauthorized: !cl['insecure-skip-tls-verify'],
    });
  }

  #url(p, query) {
    const u = new URL(p, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** One request; resolves to the parsed body; throws on HTTP errors not in o.ok. */
  request(method, p, o = {}) {
    return new Promise((resolve, reject) => {
      const body = o.body === undefined ? undefined : JSON.stringify(o.body);
      const req = https.request(
        this.#url(p, o.query),
        {
          method,
          agent: this.agent,
          headers: { ...this.headers, Accept: 'application/json', ...(body ? { 'Content-Type': o.contentType ?? 'application/json' } : {}) },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = { message: text.slice(0, 300) };
            }
            if (res.statusCode >= 400 && !(o.ok ?? []).includes(res.statusCode)) {
              reject(new Error(`${method} ${p} -> ${res.statusCode}: ${json?.message ?? text.slice(0, 300)}`));
            } else resolve(json);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  }

  get(p, query) {
    return this.request('GET', p, { query });
  }

  /** All items of a collection, following continue tokens. */
  async list(p, query = {}) {
    const items = [];
    let cont;
    do {
      const page = await this.get(p, { limit: 500, ...query, continue: cont });
      items.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  create(obj, o = {}) {
    return this.request('POST', collectionPath(obj.kind, obj.metadata.namespace), { body: obj, ok: o.ok });
  }

  /** Creates many objects with `concurrency` POSTs in flight; resolves when all are created. */
  async createAll(objs, concurrency = 32) {
    let next = 0;
    const worker = async () => {
      while (next < objs.length) {
        const obj = objs[next++];
        for (let attempt = 0; ; attempt++) {
          try {
            await this.create(obj);
            break;
          } catch (e) {
            // Freshly created namespaces may still lack their default ServiceAccount, and a loaded
            // server may time out: retry a few times before giving up.
            if (attempt >= 5) throw e;
            await sleep(200 * (attempt + 1));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, objs.length) }, worker));
  }

  /**
   * Watches a collection; calls onEvent(event, arrivedAtMs) for each event as it arrives
   * (performance.now() stamp). Resolves once the response headers arrived; returns { close }.
   */
  watch(p, query, onEvent) {
    return new Promise((resolve, reject) => {
      const req = https.request(this.#url(p, { ...query, watch: 1, allowWatchBookmarks: false }), { method: 'GET', agent: this.agent, headers: { ...this.headers, Accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${p} -> ${res.statusCode}`));
          res.resume();
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          const at = performance.now();
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.trim()) onEvent(JSON.parse(line), at);
          }
        });
        res.on('error', () => {});
        resolve({ close: () => req.destroy() });
      });
      req.on('error', (e) => {
        if (!req.destroyed) reject(e);
      });
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

/**
 * Creates namespaces (labelled ksts-bench=<section>), waits for their default ServiceAccounts,
 * and registers their deletion (kubectl delete --wait=false) for the end of the section or Ctrl-C.
 */
export async function createNamespaces(ctx, names, section, extra = []) {
  const { kube, kubeconfig } = ctx;
  const cleanup = () => {
    spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', ...names, '--wait=false', '--ignore-not-found'], { stdio: 'ignore' });
    for (const [kind, name] of extra) spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', kind, name, '--wait=false', '--ignore-not-found'], { stdio: 'ignore' });
    pendingCleanups.delete(cleanup);
  };
  pendingCleanups.add(cleanup);
  await kube.createAll(names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'ksts-bench': section } } })));
  const want = new Set(names);
  await waitUntil(
    `default ServiceAccounts in ${names.length} namespace(s)`,
    async () => (await kube.list('/api/v1/serviceaccounts', { fieldSelector: 'metadata.name=default' })).filter((s) => want.has(s.metadata.namespace)).length === names.length,
    120_000,
    300,
  );
  return cleanup;
}

/** A short id that keeps this run's namespaces apart from an earlier run's still terminating. */
export const runId = Date.now().toString(36).slice(-5);

export const KWOK_TOLERATION = { key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' };
