/** Where `kubectl sts completion install` writes the helper by default (Krew runs the plugin through a symlink). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDir } from '../../src/commands/completion.js';

let tmp: string;
let store: string;
let bin: string;
let exe: string;

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-compdir-')));
  store = path.join(tmp, 'store', 'sts', 'v1');
  bin = path.join(tmp, 'bin');
  fs.mkdirSync(store, { recursive: true });
  fs.mkdirSync(bin);
  exe = path.join(store, 'kubectl-sts');
  fs.writeFileSync(exe, '', { mode: 0o755 });
  fs.symlinkSync(exe, path.join(bin, 'kubectl-sts'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('installDir', () => {
  const cases: { name: string; argv0: () => string; envPath: () => string; want: () => string }[] = [
    { name: 'kubectl passes the full path of the symlink: its directory', argv0: () => path.join(bin, 'kubectl-sts'), envPath: () => '', want: () => bin },
    { name: 'a bare name found on PATH through a symlink: that PATH entry', argv0: () => 'kubectl-sts', envPath: () => ['/nonexistent', bin].join(path.delimiter), want: () => bin },
    { name: 'a bare name not on PATH: the real executable directory', argv0: () => 'kubectl-sts', envPath: () => '/nonexistent', want: () => store },
    { name: 'a relative path: resolved from the working directory', argv0: () => path.relative(process.cwd(), path.join(bin, 'kubectl-sts')), envPath: () => '', want: () => bin },
  ];
  it.each(cases)('$name', ({ argv0, envPath, want }) => {
    expect(installDir(argv0(), exe, envPath())).toBe(want());
  });

  it('does not take a different program of the same name on PATH', () => {
    const other = path.join(tmp, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'kubectl-sts'), '');
    expect(installDir('kubectl-sts', exe, [other, bin].join(path.delimiter))).toBe(bin);
  });
});
