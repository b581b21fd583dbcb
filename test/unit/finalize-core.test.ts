import { claimsOfPod } from '../../src/core/pods.js';
import { describe, expect, it } from 'vitest';
import {
  CSI_PROVISIONER_FINALIZER,
  INTREE_PV_FINALIZER,
  PV_PROTECTION,
  PVC_PROTECTION,
  describePodUse,
  diagnoseClaims,
  diagnoseVolume,
  diagnoseVolumes,
  explainFinalizer,
  keyOf,
  planFinalize,
  pvNodeNames,
  stillAllowed,
  volumeType,
  withoutFinalizers,
  type Diagnosis,
  type FinalizerContext,
  type PodUse,
} from '../../src/core/finalize.js';
import { parseSelector } from '../../src/core/labels.js';
import { loadCluster, NOW } from '../fixtures/finalize/load.js';

const inputs = loadCluster();
const all = diagnoseVolumes(inputs, { now: NOW, allTypes: true });
const byName = (name: string): Diagnosis => {
  const d = all.find((x) => x.name === name);
  if (!d) throw new Error(`no diagnosis for ${name}`);
  return d;
};

describe('diagnoseVolumes: verdict per stuck PV', () => {
  it.each([
    ['pv-blocked', 'blocked-by-pod', 'blocked by pod ns1/web-0 (Running on node n1)'],
    ['pv-pending', 'blocked-by-pod', 'blocked by pod ns1/web-1 (Pending, not scheduled)'],
    ['pv-eph', 'blocked-by-pod', 'blocked by pod ns1/eph (Running, terminating, on node host-2)'],
    ['pv-nodegone', 'node-gone', 'node n-gone no longer exists'],
    ['pv-orphan-pod', 'node-gone', 'node n-gone2 no longer exists'],
    ['example-pv', 'waiting-for-controller', 'waiting for the pv-protection controller (kube-controller-manager): the PV is Bound to claim ns1/local-vol-local-test-0, which still exists'],
    ['pv-safe', 'safe', 'no pod uses it and its claim is gone or being deleted'],
    ['pv-claim-terminating', 'safe', 'no pod uses it and its claim is gone or being deleted'],
    ['pv-replaced', 'safe', 'no pod uses it and its claim is gone or being deleted'],
    ['pv-csi', 'waiting-for-controller', 'waiting for the CSI external-provisioner (driver ebs.csi.aws.com): the backing volume has not been deleted (or the deletion failed)'],
    ['pv-intree', 'waiting-for-controller', 'waiting for the in-tree PV controller (kube-controller-manager): the in-tree plugin has not deleted the backing volume yet'],
    ['pv-attached', 'waiting-for-controller', 'waiting for the CSI external-attacher (driver ebs-csi-aws-com): the volume may still be attached to a node'],
    ['pv-unknown', 'waiting-for-controller', 'waiting for the component that added "backup.example.com/protect": unknown'],
  ])('%s -> %s', (name, verdict, reason) => {
    const d = byName(name);
    expect(d.verdict).toBe(verdict);
    expect(d.reason).toBe(reason);
  });

  it('never reports a PV that is not Terminating', () => {
    expect(all.map((d) => d.name)).not.toContain('pv-live');
  });

  it('is sorted by name and measures how long each has been Terminating', () => {
    expect(all.map((d) => d.name)).toEqual([...all.map((d) => d.name)].sort());
    expect(byName('pv-blocked').terminatingFor).toBe('5m');
    expect(byName('pv-blocked').terminatingForSeconds).toBe(300);
  });

  it('by default only local and hostPath volumes; --all-types adds the rest', () => {
    const local = diagnoseVolumes(inputs, { now: NOW, allTypes: false }).map((d) => d.name);
    expect(local).not.toContain('pv-csi');
    expect(local).not.toContain('pv-intree');
    expect(local).toContain('pv-blocked');
    expect(local).toContain('pv-claim-terminating');
  });

  it('a PV named explicitly is considered whatever its type; onlyNamed drops the rest', () => {
    const named = diagnoseVolumes(inputs, { now: NOW, allTypes: false, names: ['pv-csi'], onlyNamed: true }).map((d) => d.name);
    expect(named).toEqual(['pv-csi']);
    const both = diagnoseVolumes(inputs, { now: NOW, allTypes: false, names: ['pv-csi'] }).map((d) => d.name);
    expect(both).toContain('pv-csi');
    expect(both).toContain('pv-blocked');
  });

  it('-l limits the sweep to matching labels', () => {
    const sel = diagnoseVolumes(inputs, { now: NOW, allTypes: true, selector: parseSelector('app=web') }).map((d) => d.name);
    expect(sel).toEqual(['pv-blocked', 'pv-safe']);
  });
});

describe('diagnoseVolume: the facts behind a verdict', () => {
  it('blocked: claim, pod with node and phase, node existence, risks', () => {
    const d = byName('pv-blocked');
    expect(d.claim).toEqual({ namespace: 'ns1', name: 'data-web-0', state: 'exists', phase: 'Bound', volumeName: 'pv-blocked' });
    expect(d.pods).toEqual([{ namespace: 'ns1', name: 'web-0', node: 'n1', phase: 'Running', terminating: false, nodeGone: false, holds: true }]);
    expect(d.node).toEqual({ name: 'n1', exists: true });
    expect(d.blockingPods).toEqual(['ns1/web-0']);
    expect(d.action).toContain('delete pod ns1/web-0');
    expect(d.risks[0]).toContain('pod ns1/web-0 (Running on node n1) may still be writing');
    expect(d.risks.join('\n')).toContain('claim ns1/data-web-0 is still bound to it and becomes Lost');
    expect(d.dataLocation).toEqual({ node: 'n1', path: '/mnt/disks/web-0' });
    expect(d.volumeType).toBe('local');
    expect(d.reclaimPolicy).toBe('Delete');
  });

  it('seed 004: the claim outlived its StatefulSet; the action is to delete the claim', () => {
    const d = byName('example-pv');
    expect(d.waitingFor).toEqual(['the pv-protection controller (kube-controller-manager)']);
    expect(d.action).toBe(
      'delete claim ns1/local-vol-local-test-0 once no pod needs it (kubectl delete pvc -n ns1 local-vol-local-test-0): the controller then removes the finalizer by itself',
    );
    // A node found by its kubernetes.io/hostname label, not its object name.
    expect(d.node).toEqual({ name: 'host-2', exists: true });
  });

  it('node gone: pods on the gone node are listed but do not block', () => {
    const d = byName('pv-orphan-pod');
    expect(d.pods[0]).toMatchObject({ name: 'web-5', nodeGone: true, holds: false });
    expect(d.node).toEqual({ name: 'n-gone2', exists: false });
    expect(d.action).toContain('kubectl sts finalize-localpv pv-orphan-pod');
    expect(d.action).toContain('ns1/data-web-5 becomes Lost');
    expect(d.risks.join('\n')).toContain('node n-gone2 is gone: the data at /mnt/disks/web-5 comes back only with that machine');
  });

  it('safe: claim gone, Released; says the controller is overdue', () => {
    const d = byName('pv-safe');
    expect(d.claim).toEqual({ namespace: 'ns1', name: 'data-old', state: 'gone' });
    expect(d.finalizers[0]).toMatchObject({ name: PV_PROTECTION, pending: false, overdue: true });
    expect(d.action).toContain('check that kube-controller-manager is running');
    expect(d.risks).toEqual([]);
  });

  it('safe: a claim being deleted and only a finished pod', () => {
    const d = byName('pv-claim-terminating');
    expect(d.claim?.state).toBe('terminating');
    expect(d.pods).toEqual([{ namespace: 'ns1', name: 'job-x', node: 'n1', phase: 'Succeeded', terminating: false, nodeGone: false, holds: false }]);
    expect(d.volumeType).toBe('hostPath');
    // hostPath has no node affinity: the data is on the node the pods used.
    expect(d.node).toBeUndefined();
    expect(d.dataLocation).toEqual({ node: 'n1', path: '/var/data/job' });
  });

  it('a newer claim of the same name (another uid) means the old claim is gone and its pods are not ours', () => {
    const d = byName('pv-replaced');
    expect(d.claim?.state).toBe('gone');
    expect(d.claim?.note).toBe('a newer claim of that name exists (uid uid-new), bound to pv-web-6-new');
    expect(d.pods).toEqual([]);
  });

  it('CSI: leaking the backing volume is the risk', () => {
    const d = byName('pv-csi');
    expect(d.driver).toBe('ebs.csi.aws.com');
    expect(d.finalizers.map((f) => [f.name, f.pending])).toEqual([
      [PV_PROTECTION, false],
      [CSI_PROVISIONER_FINALIZER, true],
    ]);
    expect(d.risks).toEqual(["removing the CSI provisioner's finalizer skips deleting the backing volume: it leaks on the storage system"]);
    expect(d.dataLocation).toBeUndefined();
  });

  it('metadata after finalizing has no finalizers and nothing else changed', () => {
    const d = byName('pv-blocked');
    expect(d.metadataBefore.finalizers).toEqual([PV_PROTECTION]);
    expect(d.metadataAfter).toEqual({ ...d.metadataBefore, finalizers: undefined });
    expect('finalizers' in d.metadataAfter).toBe(false);
    expect(withoutFinalizers({ name: 'x', finalizers: ['a'] })).toEqual({ name: 'x' });
  });

  it('a PV with no claimRef and no node affinity', () => {
    const d = diagnoseVolume(
      { metadata: { name: 'bare', deletionTimestamp: '2025-01-01T00:09:30Z', finalizers: [PV_PROTECTION] }, spec: { hostPath: { path: '/x' } }, status: { phase: 'Available' } },
      inputs,
      NOW,
    );
    expect(d.verdict).toBe('safe');
    expect(d.claim).toBeUndefined();
    expect(d.terminatingFor).toBe('30s');
    expect(d.dataLocation).toEqual({ path: '/x' });
  });
});

describe('diagnoseClaims (--claims)', () => {
  const claims = diagnoseClaims(inputs, { now: NOW, namespace: 'ns1' });
  const c = (name: string) => claims.find((x) => x.name === name)!;

  it('lists only Terminating claims of the namespace, sorted', () => {
    expect(claims.map((x) => x.name)).toEqual(['data-busy', 'data-free', 'data-job', 'data-snap']);
    expect(diagnoseClaims(inputs, { now: NOW }).map((x) => `${x.namespace}/${x.name}`)).toContain('ns2/other');
  });

  it.each([
    ['data-busy', 'blocked-by-pod', 'blocked by pod ns1/busy (Running on node n1)'],
    ['data-free', 'node-gone', 'node n-gone no longer exists'],
    ['data-job', 'safe', 'no running or pending pod uses it'],
    ['data-snap', 'waiting-for-controller', 'waiting for the CSI snapshot-controller: a snapshot of the claim may be in progress'],
  ])('%s -> %s', (name, verdict, reason) => {
    expect(c(name).verdict).toBe(verdict);
    expect(c(name).reason).toBe(reason);
  });

  it('a finished pod keeps pvc-protection until it is deleted: the action says so', () => {
    const d = c('data-job');
    expect(d.finalizers[0]).toMatchObject({ name: PVC_PROTECTION, pending: false, overdue: false });
    expect(d.action).toContain('delete pod ns1/job-x: the controller then removes the finalizer by itself');
    expect(d.volume).toBe('pv-claim-terminating');
    expect(d.risks).toEqual(['volume pv-claim-terminating is released and handled by its reclaim policy']);
  });

  it('keys name claims with their namespace', () => {
    expect(keyOf(c('data-busy'))).toBe('persistentvolumeclaim/ns1/data-busy');
    expect(keyOf(byName('pv-safe'))).toBe('persistentvolume/pv-safe');
  });
});

describe('explainFinalizer: who removes each finalizer, and when', () => {
  const pv = (over: Partial<FinalizerContext> = {}): FinalizerContext => ({ kind: 'PersistentVolume', ref: 'pv1', pods: [], ...over });

  it('kubernetes.io/pv-protection: the pv-protection controller, once the PV is not Bound', () => {
    const f = explainFinalizer(PV_PROTECTION, pv({ phase: 'Bound', claim: { ref: 'ns/c', state: 'exists' }, boundToClaim: true }));
    expect(f.removedBy).toBe('the pv-protection controller (kube-controller-manager)');
    expect(f.removedWhen).toBe('once the PV is no longer Bound to a claim (its claim was deleted and the PV became Released)');
    expect(f).toMatchObject({ pending: true, overdue: false });
    expect(f.unblock).toContain('kubectl delete pvc -n ns c');
    expect(explainFinalizer(PV_PROTECTION, pv({ phase: 'Released' }))).toMatchObject({ pending: false, overdue: true, now: 'the PV is Released: the controller should remove it right away' });
    expect(explainFinalizer(PV_PROTECTION, pv({ phase: 'Bound', claim: { ref: 'ns/c', state: 'gone' } })).now).toContain('the PV controller marks it Released');
    expect(explainFinalizer(PV_PROTECTION, pv({ phase: 'Bound', claim: { ref: 'ns/c', state: 'terminating' } }))).toMatchObject({ pending: false, overdue: false });
  });

  it('kubernetes.io/pvc-protection: the pvc-protection controller, once no scheduled pod references the claim', () => {
    const running: PodUse = { namespace: 'ns', name: 'p', node: 'n', phase: 'Running', terminating: false, nodeGone: false, holds: true };
    const f = explainFinalizer(PVC_PROTECTION, { kind: 'PersistentVolumeClaim', pods: [running] });
    expect(f.removedBy).toBe('the pvc-protection controller (kube-controller-manager)');
    expect(f.removedWhen).toContain('once no pod scheduled to a node references the claim');
    expect(f).toMatchObject({ pending: true, now: 'pod ns/p uses it' });
    // An unscheduled pod does not keep the finalizer.
    const unscheduled: PodUse = { namespace: 'ns', name: 'q', phase: 'Pending', terminating: false, nodeGone: false, holds: true };
    expect(explainFinalizer(PVC_PROTECTION, { kind: 'PersistentVolumeClaim', pods: [unscheduled] })).toMatchObject({ pending: false, overdue: true });
  });

  it('external-provisioner.volume.kubernetes.io/finalizer: the CSI provisioner, after deleting the backing volume', () => {
    const f = explainFinalizer(CSI_PROVISIONER_FINALIZER, pv({ driver: 'rbd.csi.ceph.com', claim: { ref: 'ns/c', state: 'exists' } }));
    expect(f.removedBy).toBe('the CSI external-provisioner (driver rbd.csi.ceph.com)');
    expect(f.removedWhen).toContain('after it deleted the backing volume');
    expect(f.now).toBe('claim ns/c still exists, so the backing volume is not deleted yet');
    expect(f.pending).toBe(true);
    expect(f.risk).toContain('leaks');
  });

  it('kubernetes.io/pv-controller: the in-tree PV controller, after the plugin deleted the volume', () => {
    const f = explainFinalizer(INTREE_PV_FINALIZER, pv());
    expect(f.removedBy).toBe('the in-tree PV controller (kube-controller-manager)');
    expect(f.removedWhen).toContain('dynamically provisioned in-tree PVs, reclaim policy Delete');
    expect(f.unblock).toContain('kubectl describe pv pv1');
  });

  it('external-attacher/<driver> and unknown finalizers', () => {
    expect(explainFinalizer('external-attacher/csi.example.com', pv()).removedBy).toBe('the CSI external-attacher (driver csi.example.com)');
    const u = explainFinalizer('foo.io/bar', pv());
    expect(u).toMatchObject({ removedBy: 'the component that added "foo.io/bar"', pending: true });
  });

  it('pv-protection on a PVC is not mistaken for the PV rule', () => {
    expect(explainFinalizer(PV_PROTECTION, { kind: 'PersistentVolumeClaim', pods: [] }).removedWhen).toBe('unknown to kubectl-sts');
  });
});

describe('planFinalize', () => {
  const named = (...names: string[]) => new Set(names.map((n) => `persistentvolume/${n}`));

  it('refuses a named PV a pod uses, unless --force', () => {
    const refused = planFinalize(all, { named: named('pv-blocked'), allSafe: false, force: false });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ decision: 'refuse' });
    expect(refused[0]!.why).toBe('blocked by pod ns1/web-0 (Running on node n1); stop the pod first, or pass --force to finalize anyway');
    const forced = planFinalize(all, { named: named('pv-blocked'), allSafe: false, force: true });
    expect(forced[0]).toMatchObject({ decision: 'finalize', why: 'named, --force' });
  });

  it('finalizes named node-gone and waiting PVs (risks are printed), not the others', () => {
    const p = planFinalize(all, { named: named('pv-nodegone', 'example-pv'), allSafe: false, force: false });
    expect(p.map((i) => [i.diagnosis.name, i.decision])).toEqual([
      ['example-pv', 'finalize'],
      ['pv-nodegone', 'finalize'],
    ]);
  });

  it('--all-safe takes only safe ones, never a PV a pod uses, even with --force', () => {
    const p = planFinalize(all, { named: new Set(), allSafe: true, force: true });
    expect(p.map((i) => i.diagnosis.name).sort()).toEqual(['pv-claim-terminating', 'pv-replaced', 'pv-safe']);
    expect(p.every((i) => i.decision === 'finalize' && i.why === '--all-safe')).toBe(true);
  });

  it('skips objects whose finalizers are already gone', () => {
    const d = { ...byName('pv-safe'), finalizers: [] };
    expect(planFinalize([d], { named: named('pv-safe'), allSafe: true, force: false })).toEqual([]);
  });

  it('stillAllowed after a re-diagnosis', () => {
    expect(stillAllowed(byName('pv-blocked'), { force: false, named: true })).toBe(false);
    expect(stillAllowed(byName('pv-blocked'), { force: true, named: true })).toBe(true);
    expect(stillAllowed(byName('pv-nodegone'), { force: false, named: false })).toBe(false);
    expect(stillAllowed(byName('pv-nodegone'), { force: false, named: true })).toBe(true);
    expect(stillAllowed(byName('pv-safe'), { force: false, named: false })).toBe(true);
  });
});

describe('helpers', () => {
  it('volumeType and pvNodeNames', () => {
    const pvs = Object.fromEntries(inputs.pvs.map((p) => [p.metadata.name, p]));
    expect(volumeType(pvs['pv-blocked']!)).toBe('local');
    expect(volumeType(pvs['pv-eph']!)).toBe('hostPath');
    expect(volumeType(pvs['pv-csi']!)).toBe('csi');
    expect(volumeType(pvs['pv-intree']!)).toBe('other');
    expect(pvNodeNames(pvs['pv-blocked']!)).toEqual(['n1']);
    expect(pvNodeNames(pvs['pv-csi']!)).toEqual([]);
  });

  it('claimsOfPod includes generic ephemeral volumes', () => {
    const eph = inputs.pods.find((p) => p.metadata.name === 'eph')!;
    expect(claimsOfPod(eph)).toEqual(['eph-scratch']);
  });

  it('describePodUse', () => {
    const base: PodUse = { namespace: 'a', name: 'p', phase: 'Running', terminating: false, nodeGone: false, holds: true };
    expect(describePodUse({ ...base, node: 'n' })).toBe('a/p (Running on node n)');
    expect(describePodUse({ ...base, node: 'n', nodeGone: true })).toBe('a/p (Running on node n, which no longer exists)');
    expect(describePodUse({ ...base, phase: 'Pending' })).toBe('a/p (Pending, not scheduled)');
    expect(describePodUse({ ...base, phase: 'Pending', terminating: true })).toBe('a/p (Pending, terminating, not scheduled)');
  });
});
