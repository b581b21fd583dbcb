import { describe, expect, it } from 'vitest';
import { age, formatDuration, humanDuration, parseDuration } from '../../src/core/duration.js';
import { mapSelectorMatches, parseSelector, selectorMatches, selectorToString } from '../../src/core/labels.js';
import { closestNames, editDistance } from '../../src/core/names.js';
import { claimUsers, claimsOfPod, isPodAvailable, isPodReady, ordinalOf, ordinalRange, ownedBy, podsOfSet } from '../../src/core/pods.js';
import type { Pod, StatefulSet } from '../../src/core/types.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['0', 0],
    ['1500000us', 1500],
    ['1500000\u00b5s', 1500],
    ['1500000\u03bcs', 1500],
  ])('%s -> %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['30', 'abc', '5 m', '1x', ''])('rejects %j', (text) => expect(() => parseDuration(text)).toThrow(/invalid duration/));
});

describe('humanDuration (kubectl AGE column)', () => {
  it.each([
    [5_000, '5s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [600_000, '10m'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [10 * 3600_000, '10h'],
    [3 * 86400_000 + 2 * 3600_000, '3d2h'],
    [40 * 86400_000, '40d'],
    [3 * 365 * 86400_000, '3y'],
  ])('%i ms -> %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
  it('age of a timestamp', () => {
    expect(age('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:01:00Z'))).toBe('60s');
    expect(age(undefined, 0)).toBe('<unknown>');
  });
  it('formatDuration round-trips common flags', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(3600_000)).toBe('1h');
  });
});

describe('label selectors', () => {
  const labels = { app: 'nginx', tier: 'web' };
  it.each([
    [{ matchLabels: { app: 'nginx' } }, true],
    [{ matchLabels: { app: 'mongo' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['web', 'db'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' as const }] }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'Exists' as const }] }, false],
    [{}, true],
  ])('%j selects %j: %s', (sel, want) => expect(selectorMatches(sel, labels)).toBe(want));
  it('a Service selector that is empty selects nothing', () => {
    expect(mapSelectorMatches({}, labels)).toBe(false);
    expect(mapSelectorMatches({ app: 'nginx' }, labels)).toBe(true);
  });
  it('parses and prints the -l syntax', () => {
    const s = parseSelector('app=nginx,tier in (web, db),!legacy,env!=prod,zone');
    expect(s.matchLabels).toEqual({ app: 'nginx' });
    expect(s.matchExpressions).toEqual([
      { key: 'tier', operator: 'In', values: ['web', 'db'] },
      { key: 'legacy', operator: 'DoesNotExist' },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'zone', operator: 'Exists' },
    ]);
    expect(selectorToString({ matchLabels: { b: '2', a: '1' } })).toBe('a=1,b=2');
    expect(() => parseSelector('a==b==c')).toThrow(/unable to parse/);
  });
});

describe('closest names', () => {
  it('edit distance', () => {
    expect(editDistance('web', 'wbe')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests close and containing names, closest first', () => {
    expect(closestNames('wbe', ['web', 'mongo', 'web-canary'])).toEqual(['web']);
    expect(closestNames('mongo', ['mongo-arbiter', 'mongodb', 'nginx'])).toEqual(['mongodb', 'mongo-arbiter']);
    expect(closestNames('zzz', ['web'])).toEqual([]);
  });
});

describe('pods', () => {
  const sts = { metadata: { name: 'web', uid: 'u1' }, spec: { replicas: 3, selector: {}, template: { spec: { containers: [] } }, ordinals: { start: 2 } } } as StatefulSet;
  const pod = (name: string, extra: Partial<Pod> = {}): Pod => ({
    metadata: { name, namespace: 'ns', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true }] },
    spec: { containers: [], volumes: [{ name: 'www', persistentVolumeClaim: { claimName: `www-${name}` } }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    ...extra,
  });
  it('ordinals', () => {
    expect(ordinalOf('web-3', 'web')).toBe(3);
    expect(ordinalOf('web-canary-0', 'web')).toBeUndefined();
    expect(ordinalOf('web-03', 'web')).toBeUndefined();
    expect(ordinalRange(sts)).toEqual({ start: 2, end: 5 });
  });
  it('readiness and availability', () => {
    const p = pod('web-2');
    expect(isPodReady(p)).toBe(true);
    expect(isPodAvailable(p, 10, Date.parse('2026-01-01T00:00:05Z'))).toBe(false);
    expect(isPodAvailable(p, 10, Date.parse('2026-01-01T00:00:10Z'))).toBe(true);
  });
  it('ownership and claim users', () => {
    expect(ownedBy(pod('web-2'), sts)).toBe(true);
    expect(ownedBy(pod('web-2'), { ...sts, metadata: { name: 'web', uid: 'other' } })).toBe(false);
    const users = claimUsers([pod('web-2'), pod('web-3')]);
    expect([...users.keys()]).toEqual(['ns/www-web-2', 'ns/www-web-3']);
  });
});

describe('podsOfSet: the one rule for "the set\'s pods"', () => {
  const set = { metadata: { name: 'db', namespace: 'ns', uid: 'set-uid' }, spec: { selector: { matchLabels: { app: 'db' } }, template: { spec: { containers: [] } } } } as never;
  const p = (name: string, o: { owner?: { kind: string; name: string; uid: string }; labels?: Record<string, string>; ns?: string } = {}) =>
    ({
      metadata: { name, namespace: o.ns ?? 'ns', labels: o.labels ?? { app: 'db' }, ...(o.owner ? { ownerReferences: [{ ...o.owner, controller: true, apiVersion: 'apps/v1' }] } : {}) },
      spec: { containers: [] },
    }) as never;
  const mine = { kind: 'StatefulSet', name: 'db', uid: 'set-uid' };
  it.each([
    ['controlled by the set', p('db-0', { owner: mine }), true],
    ['no controller, selector matches (adoptable)', p('db-1'), true],
    ['no controller, selector does not match', p('db-2', { labels: { app: 'other' } }), false],
    ['controlled by another set of the same name (old uid)', p('db-3', { owner: { ...mine, uid: 'old-uid' } }), false],
    ['controlled by something else', p('db-4', { owner: { kind: 'ReplicaSet', name: 'db-abc', uid: 'x' } }), false],
    ['not named <set>-<ordinal>', p('db-backup', { owner: mine }), false],
    ['a look-alike prefix', p('db-0-extra'), false],
    ['another namespace', p('db-5', { ns: 'other' }), false],
  ])('%s', (_what, pod, expected) => {
    expect(podsOfSet(set, [pod]).length === 1).toBe(expected);
  });
  it('sorts by ordinal, numerically', () => {
    expect(podsOfSet(set, [p('db-10'), p('db-2'), p('db-0')]).map((x: { metadata: { name: string } }) => x.metadata.name)).toEqual(['db-0', 'db-2', 'db-10']);
  });
  it('claimsOfPod: persistentVolumeClaim volumes and generic ephemeral volumes', () => {
    const pod = { metadata: { name: 'db-0' }, spec: { containers: [], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }, { name: 'scratch', ephemeral: {} }, { name: 'cfg', configMap: {} }] } } as never;
    expect(claimsOfPod(pod)).toEqual(['data-db-0', 'db-0-scratch']);
  });
});
