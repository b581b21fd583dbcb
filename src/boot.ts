/**
 * The single binary's entry point (its SEA main script). It does two things before any command
 * code runs:
 *  - serves the build-static answers (`--help` pages, `version --client`) straight from the
 *    binary (src/static-answers.ts);
 *  - loads the program (kubectl-sts.cjs) and, on first use, the API layer (kube.cjs) from the
 *    binary's assets, each with a V8 code cache made by a training run at build time.
 *
 * Why not let Node's SEA code cache do it: that cache is made by compiling the main script without
 * running it, so it holds only the functions V8 compiles eagerly; every other function is compiled
 * on first call, in every run. A cache made after a run (scripts/build/code-cache.mjs runs the
 * commands against a stand-in API server) holds the functions that run used, and a cached function
 * costs nothing to compile. Measured on `finalize-localpv` (issue 15): 121 -> 99 ms wall.
 *
 * A cache that does not match (another V8, other flags, another source) is rejected by V8 and the
 * code is compiled as usual: slower, never wrong. `kubectl-sts __code-cache-status` (src/main.ts) reports
 * what V8 accepted, and the build fails when a cache is rejected.
 *
 * Outside the binary (`node dist/boot.cjs`, the build's training run) the files are read from
 * this script's directory instead of the assets.
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type vm from 'node:vm';
import { compileCommonJs, installBoot, runCommonJs } from './commonjs.js';
import { staticAnswer } from './static-answers.js';

declare const __filename: string;

type Sea = typeof import('node:sea');

const scripts = new Map<string, vm.Script>();

/** kubectl-sts.cjs -> kubectl-sts.cache */
export function cacheName(name: string): string {
  return name.replace(/\.cjs$/, '.cache');
}

function reader(): (name: string) => Buffer | undefined {
  let sea: Sea | undefined;
  try {
    sea = createRequire(__filename)('node:sea') as Sea;
  } catch {
    sea = undefined;
  }
  if (sea?.isSea()) {
    const s = sea;
    return (name) => {
      try {
        // The asset's bytes where they lie in the binary (read-only, not copied).
        return Buffer.from(s.getRawAsset(name));
      } catch {
        return undefined; // no such asset: a binary built without a cache for it
      }
    };
  }
  const dir = path.dirname(__filename);
  return (name) => {
    try {
      return fs.readFileSync(path.join(dir, name));
    } catch {
      return undefined;
    }
  };
}

export function startBoot(argv: string[]): void {
  const read = reader();
  const load = (name: string): unknown => {
    const code = read(name);
    if (!code) throw new Error(`the binary has no ${name}: it was built incompletely (rebuild it)`);
    const cachedData = read(cacheName(name));
    // The minified bundles are ASCII (esbuild escapes the rest), and decoding ASCII as latin1 is a plain copy.
    const script = compileCommonJs(code.toString(isAscii(code) ? 'latin1' : 'utf8'), name, cachedData);
    scripts.set(name, script);
    return runCommonJs(script, __filename);
  };
  const cacheStatus = () =>
    Object.fromEntries([...scripts].map(([name, s]) => [name, s.cachedDataRejected === undefined ? 'none' : s.cachedDataRejected ? 'rejected' : 'accepted']));
  installBoot({ load, cacheStatus });

  if (argv[0] === '__train-code-cache') {
    // Build step: the program runs the commands listed in argv[1] (see main.ts); when the process
    // ends, every bundle it loaded leaves the cache of what that run compiled in the directory argv[2].
    const out = argv[2]!;
    process.on('exit', () => {
      for (const [name, script] of scripts) fs.writeFileSync(path.join(out, cacheName(name)), script.createCachedData());
    });
  } else {
    const answer = staticAnswer(argv, process.stdout);
    if (answer !== undefined) {
      process.stdout.write(answer, () => process.exit(0));
      return;
    }
  }
  load('kubectl-sts.cjs');
}

startBoot(process.argv.slice(2));
