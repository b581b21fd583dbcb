import { describe, expect, it } from 'vitest';
import { durationFlag, parseDryRun } from '../../src/commands/flags.js';
import { UsageError } from '../../src/errors.js';

describe('shared flags', () => {
  it.each([
    [undefined, 'none'],
    [false, 'none'],
    ['none', 'none'],
    ['', 'client'],
    [true, 'client'],
    ['client', 'client'],
    ['server', 'server'],
  ])('--dry-run %j -> %s', (v, want) => expect(parseDryRun(v)).toBe(want));

  it('an unknown --dry-run value is a usage error', () => {
    expect(() => parseDryRun('maybe')).toThrow(UsageError);
    expect(() => parseDryRun('maybe')).toThrow('invalid --dry-run value "maybe": use none, client or server');
  });

  it('durations name their flag when malformed', () => {
    expect(durationFlag('timeout', '5m')).toBe(300_000);
    expect(() => durationFlag('timeout', '5')).toThrow(/^--timeout: invalid duration "5"/);
  });
});
