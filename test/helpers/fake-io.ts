/** A fake process for runCli: captured stdout/stderr, no TTY, and an injectable Kube. */
import { PassThrough } from 'node:stream';
import type { Io } from '../../src/cli.js';
import type { Kube } from '../../src/kube/index.js';

export interface Captured {
  io: Io;
  out: () => string;
  err: () => string;
}

export function fakeIo(argv: string[], o: { kube?: Partial<Kube>; env?: Record<string, string>; tty?: boolean } = {}): Captured {
  let out = '';
  let err = '';
  const stream = (sink: (s: string) => void) =>
    ({
      isTTY: o.tty ?? false,
      columns: 100,
      write: (s: string | Uint8Array, cb?: () => void) => {
        sink(String(s));
        if (typeof cb === 'function') cb();
        return true;
      },
    }) as unknown as NodeJS.WriteStream;
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
  const io: Io = {
    argv,
    env: o.env ?? {},
    stdout: stream((s) => (out += s)),
    stderr: stream((s) => (err += s)),
    stdin,
    signal: new AbortController().signal,
  };
  if (o.kube) io.kube = async () => ({ namespace: 'default', contextName: 'test', server: 'https://test:6443', ...o.kube }) as Kube;
  return { io, out: () => out, err: () => err };
}
