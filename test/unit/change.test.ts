/**
 * The one mutation path (src/commands/change.ts: the gate and the apply loop) and the pure planners every write goes through
 * (core podDeletion, claimDeletion, volumeDeletion, finalizeWrite, debugContainerAdd).
 */
import { describe, expect, it } from 'vitest';
import { confirmChange, MAX_ATTEMPTS, writeOne } from '../../src/commands/change.js';
import { AbortedError, KubeApiError } from '../../src/errors.js';
import { markTransport } from '../../src/kube/retry.js';
import { podDeletion } from '../../src/core/pods.js';
import { claimDeletion, volumeDeletion, type DeleteTarget } from '../../src/core/orphans-delete.js';
import { finalizeWrite, type Diagnosis } from '../../src/core/finalize.js';
import { debugContainerAdd, type EphemeralPod } from '../../src/core/debug-container.js';
import type { Pod, PersistentVolume, PersistentVolumeClaim, StatefulSet } from '../../src/core/types.js';
import { recordingDeps } from '../helpers/fake-deps.js';
import type { Kube } from '../../src/kube/index.js';

const conflict = () => new KubeApiError('the object has been modified', { status: 409 });
const reset = () => markTransport(new KubeApiError('socket hang up', {}), 'ECONNRESET');

/** An object with a counter: each write is "set value", planned against the version read. */
function store(initial: number) {
  const obj = { rv: 1, value: initial };
  const sent: { rv: number; value: number; mode: string }[] = [];
  return { obj, sent };
}

describe('writeOne: plan, send with the precondition, re-read and re-plan on conflict', () => {
  const cases: {
    name: string;
    mode: 'none' | 'client' | 'server';
    /** What each send does, in order: 'ok', 'conflict', 'lost-landed', 'lost', 'gone', 'forbidden'. */
    sends: string[];
    want: string;
    wantSent: number;
    wantAttempts?: number;
    /** GETs: the first read, and one after each conflict or lost answer that is retried. */
    wantReads: number;
  }[] = [
    { name: 'sent once under the version read', mode: 'none', sends: ['ok'], want: 'applied', wantSent: 1, wantAttempts: 1, wantReads: 1 },
    { name: 'client dry run: planned, nothing sent', mode: 'client', sends: [], want: 'planned', wantSent: 0, wantReads: 1 },
    { name: 'server dry run: sent in server mode, accepted', mode: 'server', sends: ['ok'], want: 'accepted', wantSent: 1, wantReads: 1 },
    { name: 'one conflict: re-read, re-planned, sent under the new version', mode: 'none', sends: ['conflict', 'ok'], want: 'applied', wantSent: 2, wantAttempts: 2, wantReads: 2 },
    { name: 'answer lost, and the write landed: not sent again', mode: 'none', sends: ['lost-landed'], want: 'applied', wantSent: 1, wantAttempts: 1, wantReads: 2 },
    { name: 'answer lost, the write did not land: sent again', mode: 'none', sends: ['lost', 'ok'], want: 'applied', wantSent: 2, wantReads: 2 },
    { name: 'gone (404) with goneIsNone: none', mode: 'none', sends: ['gone'], want: 'none', wantSent: 1, wantReads: 1 },
    { name: `conflicts ${MAX_ATTEMPTS} times: the last 409 propagates`, mode: 'none', sends: Array(MAX_ATTEMPTS).fill('conflict'), want: 'throws 409', wantSent: MAX_ATTEMPTS, wantReads: 5 },
    { name: 'a 403 is not retried', mode: 'none', sends: ['forbidden'], want: 'throws 403', wantSent: 1, wantReads: 1 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { obj, sent } = store(0);
      let reads = 0;
      let i = 0;
      const run = writeOne<{ rv: number; value: number }, { rv: number; value: number }, string>(
        {
          read: async () => {
            reads++;
            return { ...obj };
          },
          plan: (s) => (s.value === 5 ? { none: 'already 5' } : { write: { rv: s.rv, value: 5 } }),
          send: async (w, mode) => {
            sent.push({ ...w, mode });
            const what = c.sends[i++];
            if (w.rv !== obj.rv) throw conflict(); // the precondition
            switch (what) {
              case 'ok':
                if (mode === 'none') Object.assign(obj, { rv: obj.rv + 1, value: w.value });
                return 'done';
              case 'conflict':
                obj.rv++; // someone else wrote meanwhile
                throw conflict();
              case 'lost-landed':
                Object.assign(obj, { rv: obj.rv + 1, value: w.value });
                throw reset();
              case 'lost':
                throw reset();
              case 'gone':
                throw new KubeApiError('not found', { status: 404 });
              default:
                throw new KubeApiError('forbidden', { status: 403 });
            }
          },
          landed: (w, now) => now.value === w.value,
          goneIsNone: 'already gone',
        },
        c.mode,
      );
      if (c.want.startsWith('throws')) {
        await expect(run).rejects.toMatchObject({ status: Number(c.want.split(' ')[1]) });
      } else {
        const r = await run;
        expect(r.result).toBe(c.want);
        if (c.wantAttempts) expect(r.attempts).toBe(c.wantAttempts);
      }
      expect(sent).toHaveLength(c.wantSent);
      if (c.mode === 'server') expect(sent.every((s) => s.mode === 'server')).toBe(true);
      expect(reads).toBe(c.wantReads);
    });
  }

  it('the re-plan can say the change no longer applies, or is no longer safe', async () => {
    for (const [fresh, want] of [
      [{ none: 'done by someone else' }, 'none'],
      [{ refuse: 'now in use' }, 'refused'],
    ] as const) {
      let n = 0;
      const r = await writeOne<number, number, void>(
        {
          read: async () => ++n,
          plan: (s) => (s === 1 ? { write: s } : fresh),
          send: async () => {
            throw conflict();
          },
        },
        'none',
      );
      expect(r).toMatchObject({ result: want, attempts: 2 });
    }
  });
});

describe('confirmChange: the one gate', () => {
  it('no terminal and no --yes: the same refusal text, nothing asked', async () => {
    const { deps, questions } = recordingDeps({} as Kube);
    const err = await confirmChange(deps, { action: 'delete 2 object(s)', lines: ['  pvc/a', '  pvc/b'] }).catch((e) => e);
    expect(err.message).toBe('refusing to delete 2 object(s) without confirmation: there is no terminal to ask on');
    expect(err.hints).toEqual(['  pvc/a', '  pvc/b', 'Nothing was changed. Pass -y/--yes to proceed without asking, or --dry-run=server to have the API server check it first.']);
    expect(questions).toEqual([]);
  });
  it('a terminal: the list on stderr, then the question; "no" is declined', async () => {
    const { deps, questions, logged } = recordingDeps({} as Kube, { interactive: true, answer: false });
    await expect(confirmChange(deps, { action: 'delete 1 object(s)', lines: ['  pvc/a'] })).rejects.toBeInstanceOf(AbortedError);
    expect(logged).toEqual(['  pvc/a']);
    expect(questions).toEqual(['delete 1 object(s)?']);
  });
  it('--yes and dry runs do not ask', async () => {
    const { deps, questions } = recordingDeps({} as Kube);
    await confirmChange(deps, { action: 'x', lines: [], yes: true });
    await confirmChange(deps, { action: 'x', lines: [], dryRun: 'server' });
    await confirmChange(deps, { action: 'x', lines: [], dryRun: 'client' });
    expect(questions).toEqual([]);
  });
});

// ---------------------------------------------------------------- the planners

const pod = (name: string, uid: string, rev: string, extra: Partial<Pod['metadata']> = {}): Pod =>
  ({ metadata: { name, uid, resourceVersion: `${uid}-rv`, labels: { 'controller-revision-hash': rev }, ...extra }, spec: { containers: [] } }) as unknown as Pod;

describe('podDeletion (undo --force, --delete-pods)', () => {
  const judged = { name: 'web-2', uid: 'u1' };
  const stale = (rev: string) => rev === 'web-bad';
  it.each([
    ['the same pod on the bad revision: delete with its uid and version', pod('web-2', 'u1', 'web-bad'), { write: { uid: 'u1', resourceVersion: 'u1-rv' } }],
    ['gone', undefined, { none: 'web-2 is already gone' }],
    ['being deleted', pod('web-2', 'u1', 'web-bad', { deletionTimestamp: '2026-01-01T00:00:00Z' }), { none: 'web-2 is already being deleted' }],
    ['replaced by the controller (new uid)', pod('web-2', 'u2', 'web-bad'), { none: 'web-2 was replaced meanwhile (new uid)' }],
    ['moved to another revision', pod('web-2', 'u1', 'web-good'), { none: 'web-2 runs revision web-good now' }],
  ])('%s', (_n, now, want) => {
    expect(podDeletion(judged, now, stale)).toEqual(want);
  });
});

describe('claimDeletion / volumeDeletion (pvc-orphans --delete)', () => {
  const target = (kind: 'PersistentVolumeClaim' | 'PersistentVolume', role: DeleteTarget['role'] = 'orphan'): DeleteTarget =>
    ({ kind, namespace: 'ns', name: 'www-web-3', uid: 'c1', resourceVersion: '10', role, leavesBehind: '', finding: {} }) as unknown as DeleteTarget;
  const claim = (uid: string, rv: string, extra: Record<string, unknown> = {}): PersistentVolumeClaim =>
    ({ metadata: { name: 'www-web-3', namespace: 'ns', uid, resourceVersion: rv, labels: { app: 'nginx' }, ...extra }, spec: {}, status: { phase: 'Bound' } }) as unknown as PersistentVolumeClaim;
  const sts = { metadata: { name: 'web', namespace: 'ns' }, spec: { replicas: 2, selector: { matchLabels: { app: 'nginx' } }, volumeClaimTemplates: [{ metadata: { name: 'www' } }], template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [] } } } } as unknown as StatefulSet;
  const none = { pods: [], statefulSets: [sts], now: Date.parse('2026-01-01T00:00:00Z') };

  it('still orphaned: deleted under the version just read', () => {
    expect(claimDeletion(target('PersistentVolumeClaim'), claim('c1', '11'), none)).toEqual({ write: { uid: 'c1', resourceVersion: '11' } });
  });
  it('a new claim of that name, one being deleted, or none: not deleted', () => {
    expect(claimDeletion(target('PersistentVolumeClaim'), claim('c2', '11'), none)).toMatchObject({ none: expect.stringContaining('replaced since it was listed') });
    expect(claimDeletion(target('PersistentVolumeClaim'), claim('c1', '11', { deletionTimestamp: 'x' }), none)).toEqual({ none: 'already being deleted' });
    expect(claimDeletion(target('PersistentVolumeClaim'), undefined, none)).toEqual({ none: 'already gone' });
  });
  it('the set was scaled back up over its ordinal: no longer orphaned', () => {
    const up = { ...none, statefulSets: [{ ...sts, spec: { ...sts.spec, replicas: 4 } }] };
    expect(claimDeletion(target('PersistentVolumeClaim'), claim('c1', '11'), up)).toEqual({ none: 'no longer orphaned: claim of web ordinal 3' });
  });
  it('a volume bound again is not deleted; its claim\'s own Retain volume is', () => {
    const pv = (phase: string) => ({ metadata: { name: 'www-web-3', uid: 'c1', resourceVersion: '5' }, spec: { claimRef: { namespace: 'ns', name: 'other' } }, status: { phase } }) as unknown as PersistentVolume;
    expect(volumeDeletion(target('PersistentVolume'), pv('Bound'))).toEqual({ none: 'bound again (to ns/other)' });
    expect(volumeDeletion(target('PersistentVolume'), pv('Released'))).toEqual({ write: { uid: 'c1', resourceVersion: '5' } });
    expect(volumeDeletion(target('PersistentVolume', 'volumeOfClaim'), pv('Bound'))).toEqual({ write: { uid: 'c1', resourceVersion: '5' } });
  });
});

describe('finalizeWrite (finalize-localpv, after a conflict)', () => {
  const d = (verdict: string, finalizers = ['kubernetes.io/pv-protection']): Diagnosis =>
    ({ kind: 'PersistentVolume', name: 'pv1', resourceVersion: '9', verdict, reason: `verdict ${verdict}`, finalizers: finalizers.map((name) => ({ name })) }) as unknown as Diagnosis;
  it.each([
    ['still safe: patched', d('safe'), { force: false, named: false }, 'write'],
    ['gone meanwhile', undefined, { force: false, named: true }, 'none'],
    ['finalizers removed by their controllers', d('safe', []), { force: false, named: true }, 'none'],
    ['a pod uses it now, no --force: refused', d('blocked-by-pod'), { force: false, named: true }, 'refuse'],
    ['a pod uses it now, --force: patched', d('blocked-by-pod'), { force: true, named: true }, 'write'],
  ])('%s', (_n, diag, o, want) => {
    expect(Object.keys(finalizeWrite(diag, o))).toEqual([want]);
  });
});

describe('debugContainerAdd (dns-check --debug-image)', () => {
  const p = (ephemeral: { name: string; image: string; running?: boolean }[] = []): EphemeralPod =>
    ({
      metadata: { name: 'web-0', resourceVersion: '42' },
      spec: { containers: [{ name: 'nginx' }], ephemeralContainers: ephemeral.map(({ name, image }) => ({ name, image })) },
      status: { ephemeralContainerStatuses: ephemeral.map((e) => ({ name: e.name, state: e.running ? { running: {} } : { waiting: {} } })) },
    }) as unknown as EphemeralPod;
  it('adds one under the pod\'s resourceVersion', () => {
    const r = debugContainerAdd(p(), 'busybox:1.36', 'nginx', 'ksts-dns-abcde');
    expect(r).toEqual({
      write: {
        name: 'ksts-dns-abcde',
        body: { metadata: { resourceVersion: '42' }, spec: { ephemeralContainers: [{ name: 'ksts-dns-abcde', image: 'busybox:1.36', command: ['sleep', '3600'], stdin: false, tty: false, targetContainerName: 'nginx', terminationMessagePolicy: 'File' }] } },
      },
    });
  });
  it('reuses a running one of ours with that image; not one that is not running, nor another image or name', () => {
    expect(debugContainerAdd(p([{ name: 'ksts-dns-x', image: 'busybox:1.36', running: true }]), 'busybox:1.36', 'nginx', 'ksts-dns-y')).toEqual({ none: 'debug container ksts-dns-x (busybox:1.36) already runs in pod web-0' });
    for (const e of [{ name: 'ksts-dns-x', image: 'busybox:1.36' }, { name: 'ksts-dns-x', image: 'alpine', running: true }, { name: 'debugger', image: 'busybox:1.36', running: true }]) {
      expect(debugContainerAdd(p([e]), 'busybox:1.36', 'nginx', 'ksts-dns-y')).toHaveProperty('write');
    }
  });
});
