import { describe, expect, it } from 'vitest';
import { revisionsOf, setDrift, unknownRevision } from '../../src/core/rollout-drift.js';
import type { Pod, StatefulSet } from '../../src/core/types.js';

const sts = (o: { gen?: number; replicas?: number; partition?: number; image?: string; uid?: string } = {}): StatefulSet =>
  ({
    metadata: { name: 'web', namespace: 'ns', uid: o.uid ?? 'u1', generation: o.gen ?? 3 },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 2 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: o.image ?? 'nginx:1' }] } },
    },
    status: { observedGeneration: o.gen ?? 3, currentRevision: 'web-cur', updateRevision: 'web-upd', replicas: 3 },
  }) as unknown as StatefulSet;
const pod = (name: string, rev?: string): Pod => ({ metadata: { name, namespace: 'ns', labels: rev ? { 'controller-revision-hash': rev } : {} } }) as unknown as Pod;

describe('unknownRevision', () => {
  it.each<[string, Pod[], string[], string | undefined]>([
    ['current and update revisions are known', [pod('web-0', 'web-cur'), pod('web-2', 'web-upd')], [], undefined],
    ['a third revision is not', [pod('web-0', 'web-cur'), pod('web-1', 'web-old')], [], 'web-old'],
    ['unless it was seen when the wait started', [pod('web-1', 'web-old')], ['web-old'], undefined],
    ['a pod without the label says nothing', [pod('web-1')], [], undefined],
  ])('%s', (_n, pods, known, want) => expect(unknownRevision(sts(), pods, new Set(known))).toBe(want));
});

describe('revisionsOf', () => {
  it('the distinct revisions the pods run, unlabelled pods skipped', () => {
    expect(revisionsOf([pod('a', 'r1'), pod('b', 'r2'), pod('c', 'r1'), pod('d')]).sort()).toEqual(['r1', 'r2']);
  });
});

describe('setDrift', () => {
  it.each<[string, StatefulSet, string[]]>([
    ['nothing', sts(), []],
    ['template', sts({ gen: 4, image: 'nginx:2' }), ['template (generation 3 -> 4)']],
    ['replicas and partition', sts({ replicas: 5, partition: 1 }), ['replicas 3 -> 5', 'partition 2 -> 1']],
    ['deleted and created again', sts({ uid: 'u2', image: 'nginx:2' }), ['deleted and created again']],
  ])('%s', (_n, now, want) => expect(setDrift(sts(), now)).toEqual(want));
});
