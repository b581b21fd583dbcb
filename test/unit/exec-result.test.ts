import { describe, expect, it } from 'vitest';
import { exitCodeFromMessage, exitCodeFromStatus } from '../../src/core/exec-result.js';

describe('exec results', () => {
  it.each([
    [{ status: 'Success' }, { exitCode: 0 }],
    [{ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }, { exitCode: 3 }],
    // KWOK's local exec: the exit status only in the message (recorded on the e2e cluster)
    [{ status: 'Failure', message: 'Internal error occurred: error executing command in container: cmd wait: nslookup web-9.nginx: exit status 1' }, { exitCode: 1 }],
    [
      { status: 'Failure', message: 'Internal error occurred: error executing command in container: cmd start: nosuchcmd : exec: "nosuchcmd": executable file not found in $PATH' },
      { exitCode: -1, failure: 'Internal error occurred: error executing command in container: cmd start: nosuchcmd : exec: "nosuchcmd": executable file not found in $PATH' },
    ],
    [{ status: 'Failure', reason: 'InternalError' }, { exitCode: -1, failure: 'InternalError' }],
  ])('%j -> %j', (status, want) => expect(exitCodeFromStatus(status)).toEqual(want));

  it('reads "exit status N" and "exit code N" from messages', () => {
    expect(exitCodeFromMessage('cmd wait: x: exit status 2')).toBe(2);
    expect(exitCodeFromMessage('command terminated with exit code 7')).toBe(7);
    expect(exitCodeFromMessage('connection reset')).toBeUndefined();
    expect(exitCodeFromMessage(undefined)).toBeUndefined();
  });
});
