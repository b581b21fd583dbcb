// The code caches of the binary's two bundles (kubectl-sts.cache, kube.cache), made by a training
// run: the Node the binary is built on runs dist/boot.cjs with the binary's own start-up flags, and
// the program runs the read-only commands people run most against a stand-in API server (plain
// HTTP on 127.0.0.1, a small world: one rolled-out StatefulSet, its pods, claims and local
// volumes, one claim left over by a scale-down, one volume stuck Terminating). When the process
// ends, src/boot.ts writes each bundle's cache: every function that run compiled is in it, so a
// real run of those paths compiles next to nothing (issue 15).
//
// The world only has to make the commands take their usual paths; its answers are never shown.
// A command that fails here trains its error path instead, so the build checks each exit code.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const NS = 'train';
const UID = (n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CREATED = '2026-01-01T00:00:00Z';
const meta = (name, extra = {}) => ({ name, namespace: NS, uid: UID(name.length * 97 + name.charCodeAt(name.length - 1)), resourceVersion: '100', creationTimestamp: CREATED, ...extra });

function world() {
  const rev = 'web-6fc99cfb7';
  const claimSpec = { accessModes: ['ReadWriteOnce'], storageClassName: 'local-storage', resources: { requests: { storage: '1Gi' } } };
  const sts = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta('web', { generation: 2, labels: { app: 'web' } }),
    spec: {
      replicas: 3,
      serviceName: 'web',
      podManagementPolicy: 'OrderedReady',
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] }] } },
      volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'www' }, spec: claimSpec }],
    },
    status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, currentRevision: rev, updateRevision: rev, collisionCount: 0 },
  };
  const owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true };
  const pods = [0, 1, 2].map((i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(`web-${i}`, { labels: { app: 'web', 'controller-revision-hash': rev, 'apps.kubernetes.io/pod-index': String(i), 'statefulset.kubernetes.io/pod-name': `web-${i}` }, ownerReferences: [owner] }),
    spec: { hostname: `web-${i}`, subdomain: 'web', nodeName: `node-${i}`, containers: sts.spec.template.spec.containers, volumes: [{ name: 'www', persistentVolumeClaim: { claimName: `www-web-${i}` } }] },
    status: {
      phase: 'Running',
      podIP: `10.0.0.${i + 10}`,
      startTime: CREATED,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: CREATED }],
      containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, image: 'registry.k8s.io/nginx-slim:0.8', state: { running: { startedAt: CREATED } } }],
    },
  }));
  const pv = (i, extra = {}) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `local-pv-${i}`, uid: UID(500 + i), resourceVersion: '100', creationTimestamp: CREATED, finalizers: ['kubernetes.io/pv-protection'], ...extra },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'local-storage',
      local: { path: `/mnt/disks/vol${i}` },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [`node-${i % 3}`] }] }] } },
      claimRef: { kind: 'PersistentVolumeClaim', namespace: NS, name: `www-web-${i}`, uid: UID(900 + i) },
    },
    status: { phase: i === 3 ? 'Released' : 'Bound' },
  });
  const claims = [0, 1, 2, 3].map((i) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: meta(`www-web-${i}`, { uid: UID(900 + i), labels: { app: 'web' }, finalizers: ['kubernetes.io/pvc-protection'] }),
    spec: { ...claimSpec, volumeName: `local-pv-${i}` },
    status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] },
  }));
  const volumes = [0, 1, 2, 3].map((i) => pv(i));
  volumes.push(pv(4, { deletionTimestamp: CREATED, deletionGracePeriodSeconds: 0 }));
  const revision = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta(rev, { labels: { app: 'web', 'controller.kubernetes.io/hash': '6fc99cfb7' }, ownerReferences: [owner] }), revision: 2, data: { spec: { template: sts.spec.template } } };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: meta('web', { labels: { app: 'web' } }), spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'web', port: 80 }] } };
  const list = (kind, apiVersion, items) => ({ kind: `${kind}List`, apiVersion, metadata: { resourceVersion: '100' }, items });
  return {
    '/version': { major: '1', minor: '36', gitVersion: 'v1.36.0', platform: 'linux/amd64' },
    [`/apis/apps/v1/namespaces/${NS}/statefulsets/web`]: sts,
    [`/apis/apps/v1/namespaces/${NS}/statefulsets`]: list('StatefulSet', 'apps/v1', [sts]),
    '/apis/apps/v1/statefulsets': list('StatefulSet', 'apps/v1', [sts]),
    [`/apis/apps/v1/namespaces/${NS}/controllerrevisions`]: list('ControllerRevision', 'apps/v1', [revision]),
    [`/api/v1/namespaces/${NS}/pods`]: list('Pod', 'v1', pods),
    '/api/v1/pods': list('Pod', 'v1', pods),
    [`/api/v1/namespaces/${NS}/persistentvolumeclaims`]: list('PersistentVolumeClaim', 'v1', claims),
    '/api/v1/persistentvolumeclaims': list('PersistentVolumeClaim', 'v1', claims),
    '/api/v1/persistentvolumes': list('PersistentVolume', 'v1', volumes),
    [`/api/v1/namespaces/${NS}/services/web`]: service,
    [`/api/v1/namespaces/${NS}/services`]: list('Service', 'v1', [service]),
    [`/api/v1/namespaces/${NS}/events`]: list('Event', 'v1', []),
    '/api/v1/events': list('Event', 'v1', []),
  };
}

/** The invocations trained, each with the exit codes that mean it ran its usual path. */
export const TRAINING_RUNS = [
  { argv: ['rollout', 'status', 'web', '-n', NS], ok: [0] },
  { argv: ['rollout', 'history', 'web', '-n', NS], ok: [0] },
  { argv: ['pvc-orphans', '-n', NS], ok: [0, 1] },
  { argv: ['pvc-orphans', '-A', '-o', 'json'], ok: [0, 1] },
  { argv: ['finalize-localpv'], ok: [0, 1] },
  { argv: ['finalize-localpv', '-o', 'yaml'], ok: [0, 1] },
  { argv: ['doctor', 'web', '-n', NS], ok: [0, 1] },
  { argv: ['version'], ok: [0] },
];

function standInApi() {
  const objects = world();
  const seen = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    seen.push(`${req.method} ${url.pathname}`);
    const body = req.method === 'GET' ? objects[url.pathname] : undefined;
    res.setHeader('Content-Type', 'application/json');
    if (body) {
      res.end(JSON.stringify(body));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${url.pathname} not found`, reason: 'NotFound', code: 404 }));
    }
  });
  return { server, seen };
}

/**
 * Trains and writes `dir`/kubectl-sts.cache and `dir`/kube.cache. `dir` holds boot.cjs,
 * kubectl-sts.cjs and kube.cjs; `node` is the Node the binary is made from (the same version),
 * `execArgv` the flags the binary starts with (V8 rejects a cache made under other flags).
 */
export async function trainCodeCaches({ node, dir, execArgv }) {
  const { server, seen } = standInApi();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-train-'));
  try {
    const kubeconfig = path.join(home, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: train\n  cluster:\n    server: http://127.0.0.1:${server.address().port}\n    insecure-skip-tls-verify: true`,
        'users:',
        '- name: train\n  user:\n    token: training-run',
        'contexts:',
        `- name: train\n  context:\n    cluster: train\n    user: train\n    namespace: ${NS}`,
        'current-context: train',
        '',
      ].join('\n'),
    );
    const runs = path.join(home, 'runs.json');
    fs.writeFileSync(runs, JSON.stringify(TRAINING_RUNS.map((r) => r.argv)));
    const caches = { main: path.join(dir, 'kubectl-sts.cache'), kube: path.join(dir, 'kube.cache') };
    for (const f of Object.values(caches)) fs.rmSync(f, { force: true });
    // No NODE_OPTIONS (its V8 flags would end up in the cache's flag hash) and no user settings.
    const env = { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig, NO_COLOR: '1', LANG: 'C' };
    const stdout = await new Promise((resolve, reject) =>
      execFile(node, [...execArgv, path.join(dir, 'boot.cjs'), '__train-code-cache', runs, dir], { env, cwd: home, timeout: 120_000 }, (e, out, err) =>
        e ? reject(new Error(`the code-cache training run failed (${e.code ?? e.signal}): ${err || out}`)) : resolve(out),
      ),
    );
    const codes = JSON.parse(stdout.trim().split('\n').pop());
    const wrong = TRAINING_RUNS.map((r, i) => ({ ...r, code: codes[i] })).filter((r) => !r.ok.includes(r.code));
    if (wrong.length) {
      throw new Error(`code-cache training: ${wrong.map((r) => `\`${r.argv.join(' ')}\` exited ${r.code}`).join(', ')} (expected its usual path); requests seen: ${seen.join(', ')}`);
    }
    for (const f of Object.values(caches)) {
      if (!fs.existsSync(f)) throw new Error(`code-cache training wrote no ${path.basename(f)}`);
    }
    return { ...caches, requests: seen.length };
  } finally {
    server.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
