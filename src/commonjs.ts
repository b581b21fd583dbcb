/**
 * Running a CommonJS bundle from its text: how src/boot.ts loads the program and the API layer
 * from the binary's assets (with their code caches), and how src/kube/load.ts loads kube.cjs
 * when the program runs from dist/kubectl-sts.cjs without boot. The build's training run goes
 * through boot, so the caches are made from exactly the text compiled here: V8 accepts a cache
 * only for the source it was made from.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** What the program reaches through the global below: the loader of the API layer, and what V8 did with each cache. */
export interface Boot {
  load(name: string): unknown;
  /** name -> 'accepted' | 'rejected' | 'none' (no cache) for every bundle loaded so far. */
  cacheStatus(): Record<string, string>;
}

const BOOT = Symbol.for('kubectl-sts.boot');

export function installBoot(boot: Boot): void {
  (globalThis as Record<symbol, Boot>)[BOOT] = boot;
}

/** The boot loader when the program was started by src/boot.ts (the binary), else undefined. */
export function installedBoot(): Boot | undefined {
  return (globalThis as Record<symbol, Boot | undefined>)[BOOT];
}

export function wrapCommonJs(code: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}

/** Compiles a bundle's text as `name`, with its code cache when there is one. */
export function compileCommonJs(code: string, name: string, cachedData?: Buffer): vm.Script {
  return new vm.Script(wrapCommonJs(code), { filename: name, ...(cachedData?.length ? { cachedData } : {}) });
}

/** Runs a compiled bundle as a module at `filename` (its require resolves from there); its exports. */
export function runCommonJs(script: vm.Script, filename: string): unknown {
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(filename), module, filename, path.dirname(filename));
  return module.exports;
}
