/**
 * The test control plane itself: real kube-apiserver, controller-manager (StatefulSet
 * controller, PV binder), scheduler, etcd; KWOK nodes and pods; CoreDNS from the live API.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, clusterKind, createBoundPVs, createNamespace, fixture, getJson, kubectl, kubeconfig, pluginBinary, waitFor } from './harness.js';
import { execa } from 'execa';

let ns: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ ns, cleanup } = await createNamespace('cluster'));
  await createBoundPVs(ns, ['www-web-0', 'www-web-1', 'www-web-2']);
  await apply(fixture('web.yaml'), ns);
});
afterAll(async () => cleanup?.());

const hashOf = (pod: any) => pod.metadata.labels['controller-revision-hash'];

describe('the e2e control plane', () => {
  it('has 3 Ready nodes labelled like real ones', async () => {
    const nodes = await getJson(['nodes']);
    const ready = nodes.items.filter((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    expect(ready.length).toBeGreaterThanOrEqual(3);
    for (const n of ready) expect(n.metadata.labels['kubernetes.io/hostname']).toBe(n.metadata.name);
  });

  it('runs the seed web set to 3 Ready replicas with Bound claims', async () => {
    await waitFor(async () => (await getJson(['-n', ns, 'sts', 'web'])).status?.readyReplicas === 3, 90_000, 'web 3/3 ready');
    const pvcs = await getJson(['-n', ns, 'pvc']);
    expect(pvcs.items.map((p: any) => `${p.metadata.name}:${p.status.phase}`).sort()).toEqual(['www-web-0:Bound', 'www-web-1:Bound', 'www-web-2:Bound']);
  });

  it('rolls a partition for real: only ordinals >= partition get the new revision', async () => {
    await kubectl(['-n', ns, 'patch', 'sts', 'web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
    const before = await getJson(['-n', ns, 'pods', '-l', 'app=nginx']);
    const oldHash = hashOf(before.items[0]);
    await kubectl(['-n', ns, 'set', 'image', 'sts/web', 'nginx=registry.k8s.io/nginx-slim:0.9']);
    await waitFor(
      async () => {
        const s = await getJson(['-n', ns, 'sts', 'web']);
        return s.status.updatedReplicas === 1 && s.status.readyReplicas === 3 && s.status.updateRevision !== s.status.currentRevision;
      },
      90_000,
      'web-2 updated',
    );
    const pods = await getJson(['-n', ns, 'pods', '-l', 'app=nginx']);
    const byName = Object.fromEntries(pods.items.map((p: any) => [p.metadata.name, p]));
    const sts = await getJson(['-n', ns, 'sts', 'web']);
    expect(hashOf(byName['web-0'])).toBe(oldHash);
    expect(hashOf(byName['web-1'])).toBe(oldHash);
    expect(hashOf(byName['web-2'])).toBe(sts.status.updateRevision);
    expect(oldHash).toBe(sts.status.currentRevision);
    expect(byName['web-2'].spec.containers[0].image).toBe('registry.k8s.io/nginx-slim:0.9');
    expect(byName['web-0'].spec.containers[0].image).toBe('registry.k8s.io/nginx-slim:0.8');
  });

  it('execs in a pod and returns its output', async () => {
    const r = await kubectl(['-n', ns, 'exec', 'web-0', '--', 'sh', '-c', 'echo hello-from-$0'], { allowFail: true });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toMatch(/^hello-from-/);
  });

  it.skipIf(clusterKind !== 'kwok')('resolves web-0.nginx.<ns>.svc.cluster.local from inside a pod to web-0\'s pod IP', async () => {
    const pod = await getJson(['-n', ns, 'pod', 'web-0']);
    const r = await kubectl(['-n', ns, 'exec', 'web-1', '--', 'nslookup', `web-0.nginx.${ns}.svc.cluster.local`]);
    expect(r.stdout).toContain(`Name:\tweb-0.nginx.${ns}.svc.cluster.local`);
    expect(r.stdout).toContain(`Address: ${pod.status.podIP}`);
    const short = await kubectl(['-n', ns, 'exec', 'web-1', '--', 'nslookup', 'web-0.nginx']);
    expect(short.stdout).toContain(`Address: ${pod.status.podIP}`);
  });

  it('is reachable by the plugin through kubectl\'s plugin discovery', async () => {
    const r = await execa('kubectl', ['sts', 'version'], {
      env: { KUBECONFIG: kubeconfig, PATH: `${path.dirname(pluginBinary)}:${process.env.PATH}` },
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Plugin Version: v\d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(/Server Version: v1\.\d+/);
    const help = await execa('kubectl', ['sts', '--help'], { env: { PATH: `${path.dirname(pluginBinary)}:${process.env.PATH}` }, reject: false });
    expect(help.stdout).toContain('kubectl sts <command>');
  });
});
