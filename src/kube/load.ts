/**
 * Loads the Kubernetes access layer on first use. It carries client-node, undici and ws (about
 * 1.2 MB of JavaScript), so it lives outside the main bundle: `--help`, `version --client` and
 * usage errors never parse it. In the built binary it is a SEA asset (kube.cjs) compiled on
 * demand; from source (tests) it is an ordinary dynamic import.
 *
 * src/kube/index.ts exports only light values, so commands may import it statically;
 * create/client/config/exec pull in client-node and are reached only through here.
 */
declare const __KSTS_BUNDLED__: boolean | undefined;
declare const __filename: string;

export type KubeModule = typeof import('./create.js');

let loading: Promise<KubeModule> | undefined;

export function loadKube(): Promise<KubeModule> {
  loading ??= typeof __KSTS_BUNDLED__ !== 'undefined' && __KSTS_BUNDLED__ ? loadBundled() : import('./create.js');
  return loading;
}

async function loadBundled(): Promise<KubeModule> {
  const vm = await import('node:vm');
  const { createRequire } = await import('node:module');
  let code: string;
  let cachedData: Buffer | undefined;
  let sea: typeof import('node:sea') | undefined;
  try {
    sea = await import('node:sea');
  } catch {
    sea = undefined;
  }
  if (sea?.isSea()) {
    code = sea.getAsset('kube.cjs', 'utf8');
    try {
      cachedData = Buffer.from(sea.getAsset('kube.cache'));
    } catch {
      cachedData = undefined;
    }
  } else {
    const fs = await import('node:fs');
    const path = await import('node:path');
    code = fs.readFileSync(path.join(path.dirname(__filename), 'kube.cjs'), 'utf8');
  }
  const script = new vm.Script(wrapCommonJs(code), { filename: 'kube.cjs', ...(cachedData ? { cachedData } : {}) });
  const mod = { exports: {} as KubeModule };
  (script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, createRequire(__filename), mod, __filename, '.');
  return mod.exports;
}

/** The CommonJS function wrapper; the build compiles the same text to make the code cache. */
export function wrapCommonJs(code: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}
