import { describe, expect, it } from 'vitest';
import { diagnoseClaims, diagnoseVolume, diagnoseVolumes } from '../../src/core/finalize.js';
import { colorDiff, makeAction, metadataDiff, renderAction, renderDetails, toOutput } from '../../src/render/finalize.js';
import { palette } from '../../src/render/color.js';
import { loadCluster, NOW } from '../fixtures/finalize/load.js';

const inputs = loadCluster();
const plain = palette(false);

describe('render/finalize', () => {
  it('the metadata diff removes only the finalizers and hides kubectl last-applied noise', () => {
    const d = diagnoseVolume(
      {
        metadata: {
          name: 'pv-x',
          resourceVersion: '7',
          deletionTimestamp: '2025-01-01T00:05:00Z',
          finalizers: ['kubernetes.io/pv-protection'],
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}\n', keep: 'me' },
        },
        spec: { local: { path: '/d' } },
        status: { phase: 'Released' },
      },
      inputs,
      NOW,
    );
    expect(metadataDiff(d)).toBe(
      [
        '--- persistentvolume/pv-x\tbefore',
        '+++ persistentvolume/pv-x\tafter',
        '@@ -1,8 +1,6 @@',
        ' metadata:',
        '   name: pv-x',
        "   resourceVersion: '7'",
        "   deletionTimestamp: '2025-01-01T00:05:00Z'",
        '-  finalizers:',
        '-    - kubernetes.io/pv-protection',
        '   annotations:',
        '     keep: me',
        '',
      ].join('\n'),
    );
  });

  it('colors added/removed lines but not the file headers', () => {
    const c = palette(true);
    const out = colorDiff('--- a\n+++ b\n-x\n+y\n z', c);
    expect(out).toBe(`--- a\n+++ b\n${c.red('-x')}\n${c.green('+y')}\n z`);
  });

  it('details of a claim', () => {
    const d = diagnoseClaims(inputs, { now: NOW, namespace: 'ns1', names: ['data-busy'], onlyNamed: true })[0]!;
    const text = renderDetails(d, plain);
    expect(text).toContain('persistentvolumeclaim/data-busy -n ns1: phase Bound; Terminating for 5m');
    expect(text).toContain('    removed by: the pvc-protection controller (kube-controller-manager)');
    expect(text).toContain('  volume pv-busy');
    expect(text).toContain('  verdict: blocked by pod ns1/busy (Running on node n1)');
  });

  it('json keys come in the documented order, without the metadata copies', () => {
    const d = diagnoseVolumes(inputs, { now: NOW, allTypes: false, names: ['pv-blocked'], onlyNamed: true })[0]!;
    expect(Object.keys(toOutput(d))).toEqual([
      'kind',
      'name',
      'uid',
      'resourceVersion',
      'volumeType',
      'path',
      'reclaimPolicy',
      'phase',
      'deletionTimestamp',
      'terminatingForSeconds',
      'terminatingFor',
      'finalizers',
      'claim',
      'pods',
      'node',
      'verdict',
      'reason',
      'blockingPods',
      'action',
      'risks',
      'dataLocation',
    ]);
    const a = makeAction(d, 'finalized', 'removed', 1);
    expect(Object.keys(a)).toEqual(['kind', 'name', 'result', 'message', 'risks', 'diff', 'dataLeft', 'attempts']);
    expect(renderAction(a, plain)).toBe(
      'persistentvolume/pv-blocked finalized: removed\n  the data is still at /mnt/disks/web-0 on node n1: Kubernetes never wipes it; only a person or a cleanup job on that node can\n',
    );
    // A refused PV has no "data left" line: nothing happened to it.
    expect(makeAction(d, 'refused', 'no')).not.toHaveProperty('dataLeft');
  });
});
