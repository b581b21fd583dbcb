import { describe, expect, it } from 'vitest';
import { cells, fleetContexts, mergeTables, splitFirstTable, worstExit } from '../../src/commands/fleet.js';
import { renderTable } from '../../src/render/table.js';
import type { GlobalArgs } from '../../src/commands/command.js';

const args = (o: Partial<GlobalArgs> & { allContexts?: boolean }): GlobalArgs & { allContexts?: boolean } =>
  ({ allNamespaces: false, output: 'table', requestTimeout: '0', color: false, verbose: 0, ...o }) as GlobalArgs & { allContexts?: boolean };

describe('fleetContexts', () => {
  it.each([
    [{}, undefined],
    [{ context: 'prod' }, undefined],
    [{ context: 'a,b' }, ['a', 'b']],
    [{ context: 'a, b,a' }, ['a', 'b']],
    [{ allContexts: true }, 'all'],
  ] as const)('%j -> %j', (o, want) => expect(fleetContexts(args(o))).toEqual(want));
  it.each([[{ context: 'a,,b' }, /an empty name in the list/], [{ context: 'a', allContexts: true }, /cannot be used together/]] as const)('refuses %j', (o, msg) => {
    expect(() => fleetContexts(args(o))).toThrow(msg);
  });
});

describe('worstExit', () => {
  it.each([
    [[0, 0], 0],
    [[0, 4], 4],
    [[4, 1, 0], 1],
    [[1, 3, 4], 3],
    [[], 0],
  ])('%j -> %i (3 unreachable > 1 problems > 4 could not check > 0)', (codes, want) => expect(worstExit(codes)).toBe(want));
});

describe('merging tables', () => {
  const table = renderTable(['name', 'reason', 'leaves behind / reason'], [
    ['pvc/a', 'ScaledDown', 'volume pv-a stays'],
    ['pvc/bb', '', 'x'],
  ]);
  it('finds the first table after a heading, up to a blank line or a line that does not fit the columns', () => {
    const t = splitFirstTable(`StatefulSet ns/web\n  Strategy: x\n\n${table}2 claims found, 1 in use by a pod\n`);
    expect(t.before).toBe('StatefulSet ns/web\n  Strategy: x\n\n');
    expect(t.header).toBe('NAME     REASON       LEAVES BEHIND / REASON');
    expect(t.rows).toHaveLength(2);
    expect(t.after).toBe('2 claims found, 1 in use by a pod\n');
    expect(splitFirstTable('No PersistentVolume is stuck.\n')).toEqual({ before: 'No PersistentVolume is stuck.\n', header: undefined, rows: [], after: '' });
  });
  it('cuts rows at the header offsets, keeping empty cells and a status column without a header', () => {
    expect(cells('NAME     REASON       LEAVES BEHIND / REASON', 'pvc/bb                x')).toEqual({ names: ['NAME', 'REASON', 'LEAVES BEHIND / REASON'], values: ['pvc/bb', '', 'x'] });
    expect(cells('    CHECK   RESULT', '✓   a       ok')).toEqual({ names: ['', 'CHECK', 'RESULT'], values: ['✓', 'a', 'ok'] });
  });
  it('one table with a CONTEXT column, then each context with its exit, its other output, or why it could not be checked', () => {
    const other = renderTable(['name', 'reason', 'leaves behind / reason'], [['pvc/long-name-here', 'SetDeleted', 'y']]);
    const text = mergeTables([
      { context: 'eu', exitCode: 1, output: `${table}\nFound 2.\n` },
      { context: 'us-east', exitCode: 1, output: `${other}\nFound 1.\n` },
      { context: 'dead', exitCode: 3, error: 'the API server refused the connection' },
      { context: 'empty', exitCode: 0, output: 'Nothing found.\n' },
    ]);
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'CONTEXT   NAME                 REASON       LEAVES BEHIND / REASON',
      'eu        pvc/a                ScaledDown   volume pv-a stays',
      'eu        pvc/bb                            x',
      'us-east   pvc/long-name-here   SetDeleted   y',
    ]);
    expect(text).toContain('\n=== context eu: exit 1\nFound 2.\n');
    expect(text).toContain('\n=== context dead: could not be checked (exit 3): the API server refused the connection\n');
    expect(text).toContain('\n=== context empty: exit 0\nNothing found.\n');
  });
});
