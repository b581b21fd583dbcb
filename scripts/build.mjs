#!/usr/bin/env node
// Builds dist/kubectl-sts: an esbuild bundle of src/main.ts turned into a Node single executable
// application (SEA) on the pinned Node LTS binary from the npm package node-<os>-<arch>.
//   node scripts/build.mjs                 -> dist/kubectl-sts for this machine (linux-x64 here)
//   node scripts/build.mjs --bundle-only   -> just the bundles dist/boot.cjs, kubectl-sts.cjs, kube.cjs (what tests run from source)
// The release script (scripts/release.mjs) reuses bundle() and makeSea() for other platforms.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { trainCodeCaches } from './build/code-cache.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// KSTS_DIST builds elsewhere (parallel work on one checkout); default dist/.
const dist = process.env.KSTS_DIST ? path.resolve(process.env.KSTS_DIST) : path.join(root, 'dist');

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  // KSTS_NO_MINIFY=1 keeps names readable in CPU profiles (NODE_OPTIONS=--cpu-prof dist/kubectl-sts ...).
  minify: !process.env.KSTS_NO_MINIFY,
  keepNames: true,
  legalComments: 'none',
  // ws probes these optional native add-ons inside try/catch; they are not needed.
  external: ['bufferutil', 'utf-8-validate'],
  banner: { js: 'var __ksts_import_meta_url=require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
  metafile: true,
  // import() becomes require(): the bundles run inside vm.Script (src/boot.ts), where a dynamic
  // import has no loader and fails ("A dynamic import callback was not specified").
  supported: { 'dynamic-import': false },
};

/**
 * What a fresh process pays before its first request is mostly module loading (issue 15): the
 * API layer imports `undici` only for fetch, Agent and ProxyAgent, so its barrel (which loads
 * every other dispatcher, mocks, caches, WebSocket, ...) is replaced by src/kube/undici-lite.cjs.
 */
const lighterApiLayer = {
  name: 'lighter-api-layer',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: path.join(root, 'src/kube/undici-lite.cjs') }));
    // client-node's config.js takes two names from the generated barrel (gen/index.js), and with
    // them come every generated model and API class (~770 files, ~360 KB evaluated at load): it
    // gets the two modules that define them instead.
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) => {
      if (!/client-node[\\/]dist[\\/]config\.js$/.test(args.importer)) return undefined;
      return { path: path.join(args.resolveDir, 'gen', 'config-names.js'), namespace: 'cn-gen-names', pluginData: { gen: path.join(args.resolveDir, 'gen') } };
    });
    b.onLoad({ filter: /.*/, namespace: 'cn-gen-names' }, (args) => ({
      resolveDir: args.pluginData.gen,
      loader: 'js',
      contents: "export { createConfiguration } from './configuration.js';\nexport { ServerConfiguration } from './servers.js';\n",
    }));
  },
};

/**
 * Every copy of `string-width` (yargs and cliui, wrap-ansi, ora, cli-table3) builds Unicode
 * property regexes and an Intl.Segmenter (which loads ICU data) when the module loads: tens of
 * ms on every start. Each import gets a wrapper that answers printable ASCII and "\u2026" (width =
 * length in every version; cli-table3 measures that ellipsis for every cell it lays out) itself
 * and loads that real copy only for any other string.
 */
const asciiStringWidth = {
  name: 'ascii-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await b.resolve('string-width', { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: 'ascii-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'ascii-string-width' }, (args) => ({
      resolveDir: path.dirname(args.path),
      loader: 'js',
      contents: `let real;
// Printable ASCII, and the ellipsis cli-table3 measures as its truncation mark on every cell.
const printable = /^[\x20-\x7e\\u2026]*$/;
function stringWidth(s, o) {
  if (typeof s === 'string' && printable.test(s)) return s.length;
  real ??= require(${JSON.stringify(args.path)});
  return (real.default ?? real)(s, o);
}
module.exports = stringWidth;
module.exports.default = stringWidth;
`,
    }));
  },
};

/**
 * A plugin that gives each import of `names` a stand-in loading the real module on first use:
 * its exports are getters that load it; a function export (cli-table3's Table) becomes a
 * function that forwards `new` and calls. The stand-in is CommonJS whatever the real file is (a
 * .mjs path would make esbuild read it as ESM); a Node builtin is required at run time.
 */
function lazyModules(name, names) {
  const builtins = new Set(['assert']);
  return {
    name,
    setup(b) {
      const filter = new RegExp(`^(${names.join('|')})$`);
      b.onResolve({ filter }, async (args) => {
        if (args.pluginData?.real) return undefined;
        if (builtins.has(args.path)) return { path: `node:${args.path}.lazy.cjs`, namespace: name, pluginData: { real: `node:${args.path}`, builtin: true } };
        const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
        if (real.errors.length) return { errors: real.errors };
        return { path: `${real.path}.lazy.cjs`, namespace: name, pluginData: { real: real.path } };
      });
      b.onLoad({ filter: /.*/, namespace: name }, (args) => {
        const { real: file, builtin } = args.pluginData;
        const mod = createRequire(builtin ? import.meta.url : file)(file);
        const keys = Object.keys(mod).filter((k) => k !== '__esModule');
        const load = `let real;\nconst load = () => (real ??= require(${JSON.stringify(file)}));\n`;
        const getters = (target) => `for (const k of ${JSON.stringify(keys)}) Object.defineProperty(${target}, k, { enumerable: true, get: () => load()[k] });\n`;
        const contents =
          typeof mod === 'function'
            ? `${load}function lazy(...a) { const R = load(); return new.target ? new R(...a) : R(...a); }\n${getters('lazy')}module.exports = lazy;\n`
            : `${load}${getters('module.exports')}`;
        return { resolveDir: builtin ? root : path.dirname(file), loader: 'js', contents };
      });
    },
  };
}

/**
 * Modules of the main bundle that most runs never use: js-yaml (-o yaml), diff (rollout diff),
 * cli-table3 (tables) and node:assert (yargs asserts only on misuse).
 */
const lazyInMain = lazyModules('lazy-in-main', ['js-yaml', 'diff', 'cli-table3', 'assert']);

/**
 * client-node's config.js imports the socks proxy support at load time; with it come dns, dgram,
 * debug, tty and ip-address. Only a socks5:// proxy-url needs it.
 */
const lazySocks = lazyModules('lazy-socks', ['socks', 'socks-proxy-agent']);

/**
 * yargs() registers a default --version whose value it guesses by walking up from the bundle's
 * directory, reading every directory up to the root in search of a package.json; in an installed
 * binary it finds none and builds an AssertionError (with its diff) to say so: ~30 ms on every
 * start. Every yargs() in src/cli.ts turns --version off (`.version(false)`) right away, so the
 * bundle skips the guess. The build fails if yargs' text changes.
 */
const noYargsVersionGuess = {
  name: 'no-yargs-version-guess',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      const call = '        yargs.help();\n        yargs.version();\n';
      if (!text.includes(call)) throw new Error(`${args.path} no longer has the default yargs.version() call this build removes (see noYargsVersionGuess)`);
      return { contents: text.replace(call, '        yargs.help();\n'), loader: 'js' };
    });
  },
};

/**
 * Three bundles: boot.cjs (the binary's entry: static answers, and the loader of the other two with
 * their code caches, src/boot.ts), kubectl-sts.cjs (CLI, commands, core, render) and kube.cjs
 * (src/kube with client-node, undici, ws), which the main bundle loads only when a command talks
 * to a cluster.
 */
export async function bundle(outDir = dist) {
  const boot = path.join(outDir, 'boot.cjs');
  const main = path.join(outDir, 'kubectl-sts.cjs');
  const kube = path.join(outDir, 'kube.cjs');
  const b = await build({ ...COMMON, entryPoints: [path.join(root, 'src/boot.ts')], outfile: boot });
  const bootInputs = Object.keys(b.metafile.inputs).filter((f) => f.startsWith('node_modules/'));
  if (bootInputs.length) throw new Error(`boot.cjs must stay tiny (it runs on every start) but bundles ${bootInputs.join(', ')}`);
  const define = { __KSTS_VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__ksts_import_meta_url' };
  const m = await build({ ...COMMON, entryPoints: [path.join(root, 'src/main.ts')], outfile: main, define: { ...define, __KSTS_BUNDLED__: 'true' }, plugins: [asciiStringWidth, noYargsVersionGuess, lazyInMain] });
  const heavy = Object.keys(m.metafile.inputs).filter((f) => /node_modules\/(@kubernetes\/client-node|undici|ws)\//.test(f));
  if (heavy.length) {
    const who = Object.entries(m.metafile.inputs)
      .filter(([, v]) => v.imports.some((i) => /src\/kube\/(create|client|config|exec)\.(ts|js)$/.test(i.path)))
      .map(([f]) => f);
    throw new Error(`the main bundle must not contain the API client (it slows every start); statically imported by: ${who.join(', ') || heavy[0]}. Use deps.kube() / loadKube() instead.`);
  }
  const k = await build({ ...COMMON, entryPoints: [path.join(root, 'src/kube/create.ts')], outfile: kube, define, plugins: [lighterApiLayer, lazySocks] });
  const barrelUsers = Object.entries(k.metafile.inputs)
    .filter(([f, v]) => f !== 'src/kube/undici-lite.cjs' && v.imports.some((i) => i.path === 'node_modules/undici/index.js'))
    .map(([f]) => f);
  if (barrelUsers.length) throw new Error(`kube.cjs: ${barrelUsers.join(', ')} import undici's index directly; only src/kube/undici-lite.cjs may (lazily)`);
  const generated = Object.keys(k.metafile.inputs).filter((f) => /client-node\/dist\/gen\/(models|apis|types)\//.test(f));
  if (generated.length) throw new Error(`kube.cjs: client-node's generated models/APIs are bundled again (${generated.length} files, e.g. ${generated[0]}); something imports gen/index.js: import the one module it needs`);
  // Every file either bundle was made from (absolute paths; the release lists the npm packages among them).
  const inputs = [...new Set([...Object.keys(b.metafile.inputs), ...Object.keys(m.metafile.inputs), ...Object.keys(k.metafile.inputs)])]
    .map((f) => f.replace(/^[a-z-]+:/, ''))
    .map((f) => path.resolve(f));
  return { boot, main, kube, inputs };
}

/** Every --help page and `version --client`, rendered by the bundle itself (src/static-answers.ts). */
export function staticAnswers(mainBundle, out) {
  fs.writeFileSync(out, execFileSync(process.execPath, [mainBundle, '__static-answers'], { encoding: 'utf8' }));
  return out;
}

/**
 * Node flags every SEA starts with (NODE_OPTIONS still adds to them). The young generation is
 * capped at 16 MB semi-spaces: V8 otherwise grows it to 64 MB ones (128 MB committed) while a
 * command parses page after page of a large LIST, and gives nothing back before the process
 * ends. Measured at 20,000 claims (issue 15, README "Measured figures"): pvc-orphans -A peak RSS
 * 320-335 MB -> 254-268 MB (with the projections and one connection pool), CPU time unchanged.
 * Only startup flags do this: V8 sizes its heap when the process starts, so
 * v8.setFlagsFromString() in the bundle comes too late.
 */
export const SEA_EXEC_ARGV = ['--max-semi-space-size=16'];

/**
 * Makes a SEA from `script` on the Node binary `nodeBinary` (a copy is written to `out`).
 * `codeCache` only when the target runs the same V8 as the builder (same version/platform/arch).
 * `postInject(out)` runs after injection (macOS re-signing in the release).
 * `seaNode` makes the blob (default: this Node; it must be the same Node version as `nodeBinary`).
 * `macho` marks a macOS target (default: `out` contains "darwin").
 */
export function makeSea({ script, nodeBinary, out, codeCache, preInject, postInject, assets = {}, seaNode = process.execPath, macho = out.includes('darwin') }) {
  const work = fs.mkdtempSync(path.join(dist, '.sea-'));
  const blob = path.join(work, 'sea.blob');
  const config = path.join(work, 'sea-config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false, assets, execArgv: SEA_EXEC_ARGV }),
  );
  // The blob's code cache is made under the flags the binary starts with, or V8 rejects it at run
  // time ("Warning: Code cache data rejected." on stderr, and a full compile).
  quiet(seaNode, [...SEA_EXEC_ARGV, '--experimental-sea-config', config]);
  fs.copyFileSync(nodeBinary, out);
  fs.chmodSync(out, 0o755);
  if (preInject) preInject(out);
  const postject = path.join(root, 'node_modules/postject/dist/cli.js');
  const args = [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE];
  if (macho) args.push('--macho-segment-name', 'NODE_SEA');
  quiet(process.execPath, args);
  if (postInject) postInject(out);
  fs.rmSync(work, { recursive: true, force: true });
  return out;
}

/** The SEA base binary from the pinned npm package node-<platform>-<arch>; its version must equal the builder's. */
export function nodeBinaryFor(platform, arch) {
  const name = `node-${platform === 'win32' ? 'win' : platform}-${arch}`;
  const dir = path.join(root, 'node_modules', name);
  const bin = platform === 'win32' ? path.join(dir, 'bin', 'node.exe') : path.join(dir, 'bin', 'node');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run npm ci (package ${name})`);
  const v = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  if (`v${v}` !== process.version) {
    throw new Error(`${name} is ${v} but the build runs on Node ${process.version}: the SEA blob must be made by the same Node version (run through npm, which uses the pinned node)`);
  }
  return bin;
}

/** Runs a build tool, showing its chatter (e.g. postject's ELF section warnings) only if it fails. */
function quiet(cmd, args) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} failed (exit ${e.status})`);
  }
}

/** Strips debug symbols from a Linux node binary copy before injection (about 100 MB smaller). */
export function stripElf(file) {
  try {
    execFileSync('strip', ['--strip-all', file], { stdio: 'ignore' });
  } catch {
    // strip is optional: without it the binary is just larger.
  }
}

async function main() {
  fs.mkdirSync(dist, { recursive: true });
  const { boot, main: script, kube } = await bundle();
  if (process.argv.includes('--bundle-only')) return;
  const out = path.join(dist, 'kubectl-sts');
  const caches = await trainCodeCaches({ node: process.execPath, dir: dist, execArgv: SEA_EXEC_ARGV });
  const answers = staticAnswers(script, path.join(dist, 'static-answers.json'));
  makeSea({
    script: boot,
    nodeBinary: nodeBinaryFor('linux', 'x64'),
    out,
    codeCache: true,
    preInject: stripElf,
    assets: seaAssets({ main: script, kube, caches, answers }),
  });
  checkCodeCaches(out);
  // The completion helper comes from the binary itself, so there is one source for it.
  execFileSync(out, ['completion', 'install', '--dir', dist], { stdio: 'ignore' });
  console.error(`built ${path.relative(root, out)} (${(fs.statSync(out).size / 1e6).toFixed(1)} MB)`);
}

/** The SEA's assets (src/boot.ts reads them); `caches` only for a binary of the build machine's own Node. */
export function seaAssets({ main, kube, caches, answers }) {
  return {
    'kubectl-sts.cjs': main,
    'kube.cjs': kube,
    'static-answers.json': answers,
    ...(caches ? { 'kubectl-sts.cache': caches.main, 'kube.cache': caches.kube } : {}),
  };
}

/** Fails unless V8 accepts both code caches in the built binary (a rejected cache means a full compile on every run). */
export function checkCodeCaches(binary) {
  const status = JSON.parse(execFileSync(binary, ['__code-cache-status'], { encoding: 'utf8', env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const bad = Object.entries(status).filter(([, v]) => v !== 'accepted');
  if (bad.length || Object.keys(status).length !== 2) throw new Error(`${binary}: code caches not accepted by V8: ${JSON.stringify(status)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(`build failed: ${e.message}`);
    process.exit(1);
  });
}
