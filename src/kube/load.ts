/**
 * Loads the Kubernetes access layer on first use. It carries client-node, undici and ws (about
 * 1 MB of JavaScript), so it lives outside the main bundle: `--help`, `version --client` and
 * usage errors never parse it. In the built binary it is the asset kube.cjs, loaded by
 * src/boot.ts with its code cache; run from dist/kubectl-sts.cjs it is the file next to it; from
 * source (tests) it is an ordinary dynamic import.
 *
 * src/kube/index.ts exports only light values, so commands may import it statically;
 * create/client/config/exec pull in client-node and are reached only through here.
 */
import { compileCommonJs, installedBoot, runCommonJs } from '../commonjs.js';

declare const __KSTS_BUNDLED__: boolean | undefined;
declare const __filename: string;

export type KubeModule = typeof import('./create.js');

let loading: Promise<KubeModule> | undefined;

export function loadKube(): Promise<KubeModule> {
  loading ??= typeof __KSTS_BUNDLED__ !== 'undefined' && __KSTS_BUNDLED__ ? loadBundled() : import('./create.js');
  return loading;
}

async function loadBundled(): Promise<KubeModule> {
  const boot = installedBoot();
  if (boot) return boot.load('kube.cjs') as KubeModule;
  const [fs, path] = await Promise.all([import('node:fs'), import('node:path')]);
  const code = fs.readFileSync(path.join(path.dirname(__filename), 'kube.cjs'), 'utf8');
  return runCommonJs(compileCommonJs(code, 'kube.cjs'), __filename) as KubeModule;
}
