/**
 * The release as users get it: `npm run release` output (every platform archive, SHA256SUMS,
 * plugin.yaml, krew-manifest.yaml), checked with Krew itself (krew and validate-krew-manifest
 * built from sigs.k8s.io/krew by scripts/krew/build-tools.sh). Krew installs from --manifest/--archive,
 * with no index fetch and no upgrade check, inside a network namespace with no network at all
 * (`unshare -n`, or `unshare -rn` without root); one test proves that. The linux/arm64 and
 * windows/amd64 binaries are run under qemu and Wine (./emulate.ts) against the cluster the
 * project's global setup starts (./global-setup.ts); macOS binaries are not run (no emulator).
 *
 * A check that cannot run here is reported as SKIPPED with its reason (never passed quietly); with
 * CI=true it fails instead, unless its cause is one README says CI cannot run (CI_CANNOT_RUN).
 *
 * KSTS_RELEASE_DIR=<dir> reuses a finished release instead of building one;
 * KSTS_RELEASE_TARGETS=linux/amd64,... limits the build (the checks adapt to what was built).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { apply, createBoundPVs, createNamespace, fixture, getJson, kubeconfig, kubectl as kubectlE2e, waitFor } from '../e2e/harness.js';
import { emulators, runArm64, winPath, WinePrefix, type Emulators, type Result } from './emulate.js';
// @ts-expect-error plain JavaScript module without types (scripts/release/manifest.mjs)
import { archiveFiles, releaseLocation } from '../../scripts/release/manifest.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; homepage: string; repository: { url: string } };
const location = releaseLocation(pkg) as { homepage: string; repository: string; downloadUrl: (tag: string, file: string) => string };
const TAG = `v${pkg.version}`;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1';
const ALL_PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/amd64', 'darwin/arm64', 'windows/amd64'];

/** Why a check cannot run on this machine: `cause` is looked up in CI_CANNOT_RUN. */
interface Gap {
  cause: string;
  reason: string;
}

/**
 * The causes for which CI may skip a release check, each explained in README.md ("Tests and the
 * local control plane", the paragraph "Release checks CI does not run"). Keep the two in step.
 */
const CI_CANNOT_RUN: Record<string, string> = {
  // scripts/krew/build-tools.sh rcodesign: a cold cargo build of over 30 min on 2 cores, on top of
  // the cold control-plane build (~20 min) in CI's 90 minutes on a new machine.
  rcodesign: 'the macOS archives need rcodesign, which CI does not build',
  // No emulator runs macOS executables on Linux: qemu-user emulates Linux processes, Wine Windows ones.
  'no-macos-emulator': 'the macOS binaries are not run anywhere (no emulator); they are checked for structure and signature',
};

/** Reports a check that cannot run as skipped with its reason; in CI, fails unless CI_CANNOT_RUN lists the cause. */
function cannotRun(ctx: TestContext, gap: Gap): never {
  if (process.env.CI === 'true' && !(gap.cause in CI_CANNOT_RUN)) {
    throw new Error(`this check could not run: ${gap.reason}. CI must run it: it is not one README lists as CI cannot run (CI_CANNOT_RUN in ${path.relative(root, fileURLToPath(import.meta.url))})`);
  }
  ctx.skip(gap.reason);
  throw new Error('unreachable: ctx.skip returned');
}

/** How to run a command with no network: a network namespace of its own, or why there is none. */
function probeNetns(): { argv: string[] } | { gap: Gap } {
  const tries = [['unshare', '-n'], ['unshare', '-rn']]; // -r: a user namespace, for non-root users
  let last = '';
  for (const argv of tries) {
    const r = spawnSync(argv[0]!, [...argv.slice(1), 'true'], { encoding: 'utf8' });
    if (r.error) return { gap: { cause: 'unshare', reason: `unshare is not installed (util-linux), so krew could not be run with no network: ${r.error.message}` } };
    if (r.status === 0) return { argv };
    last = `${argv.join(' ')}: ${r.stderr.trim()}`;
  }
  return { gap: { cause: 'unshare', reason: `no network namespace could be made (${last}), so krew could not be run with no network` } };
}
const netns = probeNetns();

interface Platform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
  files: { from: string; to: string }[];
}
interface PluginManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { version: string; homepage: string; shortDescription: string; description: string; caveats?: string; platforms: Platform[] };
}

let tmp: string;
let release: string;
let krewTools: string;
/** The rcodesign binary, or why it is not available (looked up only when macOS archives were built). */
let rcodesign: string | { gap: Gap } | undefined;
let toolsBin: string;
/** Why only some platforms were built (KSTS_RELEASE_TARGETS, KSTS_RELEASE_DIR, or no rcodesign for macOS). */
let partial: Gap | undefined;

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function which(cmd: string): string {
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(d, cmd);
    if (d && fs.existsSync(f)) return f;
  }
  throw new Error(`${cmd} is not on PATH`);
}

/** Unpacks a release archive (python3's zipfile drops the file mode: Wine runs an .exe without it). */
function extract(file: string, dir: string): void {
  if (file.endsWith('.zip')) must(run('python3', ['-m', 'zipfile', '-e', file, dir]), 'unzip');
  else must(run('tar', ['-xzf', file, '-C', dir]), 'tar');
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const readManifest = (file: string) => load(fs.readFileSync(file, 'utf8')) as PluginManifest;

/**
 * Runs kubectl like a user whose PATH holds only $KREW_ROOT/bin and a directory with kubectl,
 * the krew plugin and sh (for the completion helper): no node anywhere.
 */
function kubectl(krewRoot: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const env = {
    HOME: path.join(krewRoot, '..'),
    KREW_ROOT: krewRoot,
    KREW_NO_UPGRADE_CHECK: '1',
    PATH: [path.join(krewRoot, 'bin'), toolsBin].join(path.delimiter),
    ...extraEnv,
  };
  const kubectlBin = path.join(toolsBin, 'kubectl');
  return 'argv' in netns ? run(which(netns.argv[0]!), [...netns.argv.slice(1), kubectlBin, ...args], { env }) : run(kubectlBin, args, { env });
}

function newKrewRoot(name: string): string {
  const home = fs.mkdtempSync(path.join(tmp, `${name}-`));
  const krewRoot = path.join(home, 'krew');
  fs.mkdirSync(krewRoot);
  return krewRoot;
}

function archiveFor(m: PluginManifest, osName: string, arch: string): { platform: Platform; file: string } {
  const platform = m.spec.platforms.find((p) => p.selector.matchLabels.os === osName && p.selector.matchLabels.arch === arch);
  if (!platform) throw new Error(`plugin.yaml has no ${osName}/${arch} platform`);
  return { platform, file: path.join(release, path.basename(new URL(platform.uri).pathname)) };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ksts-release-test-'));
  krewTools = must(run('bash', [path.join(root, 'scripts/krew/build-tools.sh'), 'krew']), 'building krew').trim().split('\n').pop()!;
  // macOS archives need rcodesign, whose cold build (cargo) takes over half an hour on 2 cores.
  // When it is not built yet, the other three platforms are built and checked, and every macOS
  // check is reported as skipped with that reason.
  let targets = process.env.KSTS_RELEASE_TARGETS;
  if (targets) partial = { cause: 'targets', reason: `KSTS_RELEASE_TARGETS=${targets} limited the build` };
  if (!targets && !process.env.KSTS_RELEASE_DIR) {
    const cached = run('bash', [path.join(root, 'scripts/krew/build-tools.sh'), 'rcodesign', '--cached-only']);
    if (cached.status !== 0) {
      targets = 'linux/amd64,linux/arm64,windows/amd64';
      partial = {
        cause: 'rcodesign',
        reason: 'rcodesign is not built on this machine, so the macOS archives were not built (build it once, 30+ min cold: bash scripts/krew/build-tools.sh rcodesign)',
      };
    }
  }
  if (process.env.KSTS_RELEASE_DIR) {
    release = path.resolve(process.env.KSTS_RELEASE_DIR);
    const built = readManifest(path.join(release, 'plugin.yaml')).spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`);
    const missing = ALL_PLATFORMS.filter((p) => !built.includes(p));
    if (missing.length) partial = { cause: 'release-dir', reason: `KSTS_RELEASE_DIR=${release} holds no ${missing.join(', ')} archive` };
  } else {
    const dist = path.join(tmp, 'dist');
    const args = [path.join(root, 'scripts/release.mjs'), '--no-repo-manifests', ...(targets ? ['--targets', targets] : [])];
    must(run(process.execPath, args, { cwd: root, env: { ...process.env, KSTS_DIST: dist } }), 'npm run release');
    release = path.join(dist, 'release');
  }
  // A release with macOS archives built (or found) rcodesign, so this only looks it up.
  if (readManifest(path.join(release, 'plugin.yaml')).spec.platforms.some((p) => p.selector.matchLabels.os === 'darwin')) {
    const rc = run('bash', [path.join(root, 'scripts/krew/build-tools.sh'), 'rcodesign', '--cached-only']);
    rcodesign =
      rc.status === 0
        ? path.join(rc.stdout.trim().split('\n').pop()!, 'rcodesign')
        : { gap: { cause: 'rcodesign', reason: 'rcodesign is not built on this machine, so it did not read the macOS signatures (the test\'s own Mach-O check did)' } };
  }

  toolsBin = path.join(tmp, 'tools-bin');
  fs.mkdirSync(toolsBin);
  fs.symlinkSync(which('kubectl'), path.join(toolsBin, 'kubectl'));
  fs.symlinkSync(path.join(krewTools, 'krew'), path.join(toolsBin, 'kubectl-krew'));
  fs.symlinkSync(which('sh'), path.join(toolsBin, 'sh'));
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('release artifacts', () => {
  it('has an archive per platform in plugin.yaml, with matching SHA256SUMS', () => {
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const sums = Object.fromEntries(
      fs
        .readFileSync(path.join(release, 'SHA256SUMS'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).reverse() as [string, string]),
    );
    expect(m.spec.version).toBe(TAG);
    expect(m.spec.platforms.length).toBe(Object.keys(sums).length);
    for (const p of m.spec.platforms) {
      const { os: o, arch } = p.selector.matchLabels;
      const name = `kubectl-sts_${TAG}_${o}_${arch}.${o === 'windows' ? 'zip' : 'tar.gz'}`;
      expect(p.uri).toBe(location.downloadUrl(TAG, name));
      expect(p.uri.startsWith(`${location.repository}/`), `${p.uri} is under package.json's repository`).toBe(true);
      expect(p.sha256).toBe(sums[name]);
      expect(sha256(path.join(release, name))).toBe(p.sha256);
      expect(p.bin).toBe(o === 'windows' ? 'kubectl-sts.exe' : 'kubectl-sts');
      expect(p.files).toEqual([p.bin, 'LICENSE', 'LICENSE.node', 'THIRD_PARTY_NOTICES'].map((from) => ({ from, to: '.' })));
    }
  });

  it('every archive carries Node.js\'s LICENSE and THIRD_PARTY_NOTICES for each bundled npm package, from the lockfile\'s versions', () => {
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    // Runtime dependencies the bundles are made of (package.json "dependencies"), and some of theirs.
    const expected = ['@kubernetes/client-node', 'cli-table3', 'diff', 'js-yaml', 'ora', 'undici', 'yargs', 'ws', 'jose', 'openid-client'];
    let first: { node: string; notices: string } | undefined;
    for (const p of m.spec.platforms) {
      const { os: o, arch } = p.selector.matchLabels;
      const dir = fs.mkdtempSync(path.join(tmp, `notices-${o}-${arch}-`));
      const file = archiveFor(m, o, arch).file;
      extract(file, dir);
      expect(fs.readdirSync(dir).sort(), `${o}/${arch}`).toEqual([...(archiveFiles({ bin: p.bin }) as string[])].sort());
      const node = fs.readFileSync(path.join(dir, 'LICENSE.node'), 'utf8');
      const notices = fs.readFileSync(path.join(dir, 'THIRD_PARTY_NOTICES'), 'utf8');
      expect(node).toMatch(/^Node\.js is licensed for use as follows:/);
      expect(node).toContain('The externally maintained libraries used by Node.js are:');
      for (const name of expected) {
        const version = lock.packages[`node_modules/${name}`]?.version;
        expect(version, `${name} in package-lock.json`).toBeTruthy();
        expect(notices.includes(`\n${'-'.repeat(78)}\n${name}@${version} (`), `${o}/${arch}: THIRD_PARTY_NOTICES has ${name}@${version}`).toBe(true);
      }
      expect(notices).toContain('Permission is hereby granted, free of charge'); // an MIT text, verbatim
      expect(notices).toContain(`Node.js runtime (Node.js `);
      // Every platform ships the same notices (the bundles and Node's version are the same).
      first ??= { node, notices };
      expect(node === first.node && notices === first.notices, `${o}/${arch} notices equal the first archive's`).toBe(true);
    }
  });

  it('covers all five platforms', (ctx) => {
    if (partial) cannotRun(ctx, partial);
    const m = readManifest(path.join(release, 'plugin.yaml'));
    expect(m.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`).sort()).toEqual([...ALL_PLATFORMS].sort());
  });

  it('krew-manifest.yaml is the krew-release-bot form of plugin.yaml, and the committed files are current', (ctx) => {
    const template = fs.readFileSync(path.join(release, 'krew-manifest.yaml'), 'utf8');
    const plugin = fs.readFileSync(path.join(release, 'plugin.yaml'), 'utf8');
    expect(template).toContain('version: {{ .TagName }}');
    // Expand the template the way krew-release-bot does, with this release's checksums.
    const sums = new Map(readManifest(path.join(release, 'plugin.yaml')).spec.platforms.map((p) => [p.uri, p.sha256]));
    const expanded = template
      .replace(/^( *)\{\{addURIAndSha "([^"]+)" \.TagName \}\}$/gm, (_l, indent: string, url: string) => {
        const uri = url.replaceAll('{{ .TagName }}', TAG);
        return `${indent}uri: ${uri}\n${indent}sha256: ${sums.get(uri) ?? 'MISSING'}`;
      })
      .replaceAll('{{ .TagName }}', TAG);

    // The committed copies: the template exactly; plugin.yaml up to the checksums of the last `npm run release`.
    expect(fs.readFileSync(path.join(root, 'krew-manifest.yaml'), 'utf8')).toBe(template);
    expect(readManifest(path.join(root, 'plugin.yaml')).spec.version).toBe(TAG);
    // Both comparisons need every platform's archive.
    if (partial) cannotRun(ctx, { ...partial, reason: `${partial.reason}: the expanded template and the committed plugin.yaml were not compared with this release's plugin.yaml` });
    expect(expanded).toBe(plugin);
    const committed = fs.readFileSync(path.join(root, 'plugin.yaml'), 'utf8');
    const noSums = (s: string) => s.replace(/sha256: [0-9a-f]{64}/g, 'sha256: X');
    expect(noSums(committed)).toBe(noSums(plugin));
  });

  it('validate-krew-manifest accepts the generated and the committed plugin.yaml', () => {
    for (const src of [path.join(release, 'plugin.yaml'), path.join(root, 'plugin.yaml')]) {
      // The validator takes the plugin name from the file name, as in krew-index (plugins/sts.yaml).
      const dir = fs.mkdtempSync(path.join(tmp, 'validate-'));
      fs.copyFileSync(src, path.join(dir, 'sts.yaml'));
      // -skip-install: its install step downloads the uris; the tests below install every archive from the local files instead.
      const r = run(path.join(krewTools, 'validate-krew-manifest'), ['-manifest', path.join(dir, 'sts.yaml'), '-skip-install']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('structural validation OK');
      expect(r.stderr).toContain('no overlapping spec.platform[].selector');
    }
  });

  it.for(ALL_PLATFORMS)('the %s archive installs with krew (KREW_OS/KREW_ARCH) and holds a SEA binary and the licence files', (platform, ctx) => {
    const [o, arch] = platform.split('/') as [string, string];
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const p = m.spec.platforms.find((x) => x.selector.matchLabels.os === o && x.selector.matchLabels.arch === arch);
    if (!p) cannotRun(ctx, partial ?? { cause: 'bug', reason: `plugin.yaml has no ${platform} platform` });
    const krewRoot = newKrewRoot(`${o}-${arch}`);
    const { file } = archiveFor(m, o, arch);
    const r = kubectl(krewRoot, ['krew', 'install', `--manifest=${path.join(release, 'plugin.yaml')}`, `--archive=${file}`], {
      KREW_OS: o,
      KREW_ARCH: arch,
    });
    expect(r.status, `${o}/${arch}: ${r.stderr}`).toBe(0);
    const store = path.join(krewRoot, 'store', 'sts', TAG);
    expect(fs.readdirSync(store).sort()).toEqual([p.bin, 'LICENSE', 'LICENSE.node', 'THIRD_PARTY_NOTICES'].sort());
    expect(fs.readFileSync(path.join(store, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(fs.readFileSync(path.join(store, 'LICENSE.node'), 'utf8')).toMatch(/^Node\.js is licensed for use as follows:/);
    const bin = fs.readFileSync(path.join(store, p.bin));
    expect(bin.includes(FUSE), `${o}/${arch}: SEA fuse not flipped`).toBe(true);
    if (o === 'linux') expect(bin.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    if (o === 'windows') {
      expect(bin.subarray(0, 2).toString('latin1')).toBe('MZ');
      const opt = bin.readUInt32LE(0x3c) + 24;
      expect(bin.readUInt16LE(opt)).toBe(0x20b);
      expect(bin.readUInt32LE(opt + 112 + 4 * 8), 'the broken Authenticode signature was removed').toBe(0);
    }
    if (o === 'darwin') {
      expect(bin.readUInt32LE(0)).toBe(0xfeedfacf);
      // Signed again, ad hoc, over the whole injected binary (what macOS checks for ad-hoc code).
      expect(adHocSignature(bin), `${o}/${arch}`).toEqual({ adHoc: true, identifier: 'kubectl-sts', coversFile: true, pagesMatch: true });
    }
    expect(fs.existsSync(path.join(krewRoot, 'receipts', 'sts.yaml'))).toBe(true);
  });

  it('rcodesign reads an ad-hoc signature on both macOS binaries', (ctx) => {
    if (rcodesign === undefined) cannotRun(ctx, partial ?? { cause: 'bug', reason: 'the release has no macOS archive' });
    if (typeof rcodesign !== 'string') cannotRun(ctx, rcodesign.gap);
    const m = readManifest(path.join(release, 'plugin.yaml'));
    for (const arch of ['amd64', 'arm64']) {
      const dir = fs.mkdtempSync(path.join(tmp, `darwin-${arch}-`));
      must(run('tar', ['-xzf', archiveFor(m, 'darwin', arch).file, '-C', dir]), 'tar');
      const info = must(run(rcodesign, ['print-signature-info', path.join(dir, 'kubectl-sts')]), 'rcodesign print-signature-info');
      expect(info, `darwin/${arch}`).toContain('CodeSignatureFlags(ADHOC)');
    }
  });

  it('kubectl krew install works with no network at all (a network namespace holding only lo)', (ctx) => {
    if ('gap' in netns) cannotRun(ctx, netns.gap);
    // /proc/net/dev lists the interfaces of the reading process's network namespace.
    const dev = must(run(which(netns.argv[0]!), [...netns.argv.slice(1), 'cat', '/proc/net/dev']), 'cat /proc/net/dev in the namespace');
    expect(dev.split('\n').slice(2).filter((l) => l.trim()).map((l) => l.split(':')[0]!.trim())).toEqual(['lo']);
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const krewRoot = newKrewRoot('no-network');
    const r = kubectl(krewRoot, ['krew', 'install', `--manifest=${path.join(release, 'plugin.yaml')}`, `--archive=${archiveFor(m, 'linux', 'amd64').file}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(krewRoot, 'store', 'sts', TAG, 'kubectl-sts'))).toBe(true);
  });
});

/**
 * Reads the Mach-O code signature (LC_CODE_SIGNATURE -> SuperBlob -> CodeDirectory, big-endian)
 * and checks every page hash against the file. rcodesign's own `verify` is documented as
 * unreliable, so the test checks the hashes itself.
 */
function adHocSignature(bin: Buffer) {
  let sig: { dataoff: number; datasize: number } | undefined;
  for (let i = 0, off = 32, n = bin.readUInt32LE(16); i < n; i++) {
    if (bin.readUInt32LE(off) === 0x1d) sig = { dataoff: bin.readUInt32LE(off + 8), datasize: bin.readUInt32LE(off + 12) };
    off += bin.readUInt32LE(off + 4);
  }
  if (!sig) return undefined;
  const sb = sig.dataoff;
  if (bin.readUInt32BE(sb) !== 0xfade0cc0) throw new Error('no embedded signature SuperBlob');
  let cd = -1;
  for (let i = 0, n = bin.readUInt32BE(sb + 8); i < n; i++) {
    if (bin.readUInt32BE(sb + 12 + i * 8) === 0) cd = sb + bin.readUInt32BE(sb + 16 + i * 8);
  }
  if (cd < 0 || bin.readUInt32BE(cd) !== 0xfade0c02) throw new Error('no CodeDirectory');
  const flags = bin.readUInt32BE(cd + 12);
  const hashOffset = bin.readUInt32BE(cd + 16);
  const identOffset = bin.readUInt32BE(cd + 20);
  const nCodeSlots = bin.readUInt32BE(cd + 28);
  const codeLimit = bin.readUInt32BE(cd + 32);
  const hashSize = bin[cd + 36]!;
  const hashType = bin[cd + 37]!;
  const pageSize = 1 << bin[cd + 39]!;
  const algo = hashType === 2 ? 'sha256' : hashType === 1 ? 'sha1' : undefined;
  if (!algo) throw new Error(`unexpected hash type ${hashType}`);
  let pagesMatch = nCodeSlots === Math.ceil(codeLimit / pageSize);
  for (let i = 0; i < nCodeSlots && pagesMatch; i++) {
    const page = bin.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
    const want = bin.subarray(cd + hashOffset + i * hashSize, cd + hashOffset + (i + 1) * hashSize);
    pagesMatch = crypto.createHash(algo).update(page).digest().subarray(0, hashSize).equals(want);
  }
  const identifier = bin.toString('utf8', cd + identOffset, bin.indexOf(0, cd + identOffset));
  return { adHoc: (flags & 0x2) !== 0, identifier, coversFile: codeLimit === sig.dataoff, pagesMatch };
}

describe('kubectl krew install sts (linux/amd64), then use it through kubectl', () => {
  let krewRoot: string;
  beforeAll(() => {
    krewRoot = newKrewRoot('roundtrip');
  });

  it('installs from plugin.yaml and the archive, with no node on PATH', () => {
    for (const d of [path.join(krewRoot, 'bin'), toolsBin]) expect(fs.existsSync(path.join(d, 'node'))).toBe(false);
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const { file } = archiveFor(m, 'linux', 'amd64');
    const r = kubectl(krewRoot, ['krew', 'install', `--manifest=${path.join(release, 'plugin.yaml')}`, `--archive=${file}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Installed plugin: sts');
    expect(r.stderr).toContain('kubectl sts completion install'); // the caveat is shown
    expect(fs.readlinkSync(path.join(krewRoot, 'bin', 'kubectl-sts'))).toBe(path.join(krewRoot, 'store', 'sts', TAG, 'kubectl-sts'));
  });

  it('kubectl sts version --client', () => {
    const r = kubectl(krewRoot, ['sts', 'version', '--client']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Plugin Version: ${TAG}\n`);
    const j = kubectl(krewRoot, ['sts', 'version', '--client', '-o', 'json']);
    expect(JSON.parse(j.stdout)).toEqual({ clientVersion: { gitVersion: TAG, platform: 'linux/x64' } });
  });

  it('kubectl sts --help', () => {
    const r = kubectl(krewRoot, ['sts', '--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: kubectl sts <command>');
    expect(r.stdout).toMatch(/kubectl sts version/);
  });

  it('kubectl sts completion install puts kubectl_complete-sts next to the plugin, and kubectl completes with it', () => {
    const r = kubectl(krewRoot, ['sts', 'completion', 'install']);
    expect(r.status, r.stderr).toBe(0);
    const helper = path.join(krewRoot, 'bin', 'kubectl_complete-sts');
    expect(r.stdout).toContain(`Wrote ${helper}.`);
    expect(fs.statSync(helper).mode & 0o111).not.toBe(0);
    // kubectl (>= 1.26) runs the helper from PATH to complete plugin arguments.
    const c = kubectl(krewRoot, ['__complete', 'sts', 'vers']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout.split('\n')).toContain('version');
    expect(c.stderr).toContain(`About to call: ${helper}`);
  });

  it('kubectl krew uninstall sts', () => {
    // list/uninstall refuse to run without a plugin index; an empty local one needs no network.
    must(run('git', ['init', '-q', path.join(krewRoot, 'index', 'default')]), 'git init');
    const l = kubectl(krewRoot, ['krew', 'list']);
    expect(l.status, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/sts/);
    const r = kubectl(krewRoot, ['krew', 'uninstall', 'sts']);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(krewRoot, 'bin', 'kubectl-sts'))).toBe(false);
    expect(fs.existsSync(path.join(krewRoot, 'store', 'sts'))).toBe(false);
    expect(kubectl(krewRoot, ['sts', 'version', '--client']).status).not.toBe(0);
  });
});

describe('the linux/amd64 binary on its own', () => {
  it('runs from an empty directory with no node on PATH and no HOME', () => {
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const { file } = archiveFor(m, 'linux', 'amd64');
    const dir = fs.mkdtempSync(path.join(tmp, 'direct-'));
    must(run('tar', ['-xzf', file, '-C', dir]), 'tar');
    expect(fs.readdirSync(dir).sort()).toEqual(['LICENSE', 'LICENSE.node', 'THIRD_PARTY_NOTICES', 'kubectl-sts']);
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const r = run(path.join(dir, 'kubectl-sts'), ['version', '--client'], { cwd: empty, env: { PATH: '/nonexistent' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Plugin Version: ${TAG}\n`);
    expect(r.stderr).toBe('');
    expect(fs.readdirSync(empty)).toEqual([]);
  });
});

/**
 * The linux/arm64 and windows/amd64 binaries, run: under qemu-aarch64 and under Wine (see
 * test/release/emulate.ts), each from its archive and from Krew's install layout (installed with
 * KREW_OS/KREW_ARCH, run as $KREW_ROOT/bin/kubectl-sts[.exe]: kubectl on Linux runs neither an
 * arm64 executable nor an .exe as a plugin itself). Each answers version --client, --help, a usage
 * error (2), an unreachable cluster (3), and pvc-orphans against the current line's cluster, whose
 * answer must equal the linux/amd64 release binary's. macOS has no emulator here: its archives
 * stay checked for structure and signature above.
 */
describe.each([
  { platform: 'linux/arm64', layout: 'archive' },
  { platform: 'linux/arm64', layout: 'krew' },
  { platform: 'windows/amd64', layout: 'archive' },
  { platform: 'windows/amd64', layout: 'krew' },
] as const)('the $platform binary from its $layout, run under emulation', ({ platform, layout }) => {
  const [o, arch] = platform.split('/') as [string, string];
  const win = o === 'windows';
  let exe: string | undefined;
  let gap: Gap | undefined;
  let ns: string;
  let kubeconfigFile: string;
  let unreachable: string;
  let work: string;

  const pathArg = (p: string) => (win ? winPath(p) : p);
  function sts(args: string[]): Result {
    if (!exe || !tools || 'gap' in tools) throw new Error('not set up');
    const env = { NO_COLOR: '1', KUBECONFIG: '' };
    return win ? wine!.run(exe, args, { cwd: work, env }) : runArm64(tools, exe, args, { cwd: work, env });
  }
  const need = (ctx: TestContext) => {
    if (gap) cannotRun(ctx, gap);
  };

  beforeAll(async () => {
    const m = readManifest(path.join(release, 'plugin.yaml'));
    const p = m.spec.platforms.find((x) => x.selector.matchLabels.os === o && x.selector.matchLabels.arch === arch);
    if (!p) {
      gap = partial ?? { cause: 'bug', reason: `plugin.yaml has no ${platform} platform` };
      return;
    }
    tools ??= emulators(root);
    if ('gap' in tools) {
      gap = { cause: 'emulator', reason: `the ${platform} binary could not be run: ${tools.gap}` };
      return;
    }
    if (win && !wine) {
      wine = new WinePrefix(tools, path.join(tmp, 'wine-prefix'));
      wine.init();
    }
    work = fs.mkdtempSync(path.join(tmp, `run-${o}-${arch}-${layout}-`));
    if (layout === 'archive') {
      const dir = path.join(work, 'archive');
      fs.mkdirSync(dir);
      const { file } = archiveFor(m, o, arch);
      extract(file, dir);
      exe = path.join(dir, p.bin);
    } else {
      const krewRoot = newKrewRoot(`run-${o}-${arch}`);
      const r = kubectl(krewRoot, ['krew', 'install', `--manifest=${path.join(release, 'plugin.yaml')}`, `--archive=${archiveFor(m, o, arch).file}`], { KREW_OS: o, KREW_ARCH: arch });
      expect(r.status, r.stderr).toBe(0);
      exe = path.join(krewRoot, 'bin', p.bin);
      expect(fs.realpathSync(exe)).toBe(path.join(krewRoot, 'store', 'sts', TAG, p.bin));
    }
    ({ ns, kubeconfigFile, unreachable } = await scenario());
  }, 600_000);

  it('version --client', (ctx) => {
    need(ctx);
    const r = sts(['version', '--client']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Plugin Version: ${TAG}\n`);
    expect(r.stderr).toBe('');
    const j = sts(['version', '--client', '-o', 'json']);
    expect(JSON.parse(j.stdout)).toEqual({ clientVersion: { gitVersion: TAG, platform: win ? 'win32/x64' : 'linux/arm64' } });
  });

  it('--help', (ctx) => {
    need(ctx);
    const r = sts(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: kubectl sts <command>');
    expect(r.stdout).toContain('kubectl sts pvc-orphans');
  });

  it('a usage error exits 2 naming the flag', (ctx) => {
    need(ctx);
    const r = sts(['pvc-orphans', '-o', 'xml']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: invalid value "xml" for -o/--output: use one of table, wide, json, yaml, name');
  });

  it('an unreachable cluster exits 3', (ctx) => {
    need(ctx);
    const r = sts(['--kubeconfig', pathArg(unreachable), 'pvc-orphans', '-n', 'default']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^error: the API server https:\/\/127\.0\.0\.1:\d+ \(context "[^"]+"\) refused the connection/);
  });

  it('pvc-orphans against the cluster: exit 1, the left-behind claim, the same answer as linux/amd64', (ctx) => {
    need(ctx);
    const r = sts(['--kubeconfig', pathArg(kubeconfigFile), 'pvc-orphans', '-n', ns]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^pvc\/www-web-1 +web +1 +ScaledDown +1Gi /m);
    expect(r.stdout).toContain(`Found 1 orphaned claim in namespace ${ns} (2 claims checked, 1 in use by pods and left alone).`);
    const j = sts(['--kubeconfig', pathArg(kubeconfigFile), 'pvc-orphans', '-n', ns, '-o', 'json']);
    expect(j.status, j.stderr).toBe(1);
    const native = run(amd64Binary(), ['--kubeconfig', kubeconfigFile, 'pvc-orphans', '-n', ns, '-o', 'json'], { env: { PATH: '/nonexistent', NO_COLOR: '1' } });
    expect(native.status, native.stderr).toBe(1);
    // `age` moves between the two runs; everything else must be the same answer.
    const noAge = (s: string) => JSON.parse(s, (k, v: unknown) => (k === 'age' ? undefined : v)) as { findings: { name: string }[] };
    expect(noAge(j.stdout).findings.map((f) => f.name)).toEqual(['www-web-1']);
    expect(noAge(j.stdout)).toEqual(noAge(native.stdout));
  });
});

describe('the macOS binaries', () => {
  it.for(['darwin/amd64', 'darwin/arm64'])('the %s binary is run', (platform, ctx) => {
    cannotRun(ctx, {
      cause: 'no-macos-emulator',
      reason: `${platform} is not run: no emulator for macOS executables exists on Linux (qemu-user runs Linux processes, Wine Windows ones); what is checked instead is its archive: installed with Krew, Mach-O format, ad-hoc signature over every page (the darwin tests of "release artifacts")`,
    });
  });
});

let tools: Emulators | { gap: string } | undefined;
let wine: WinePrefix | undefined;
let amd64Dir: string | undefined;
let shared: Promise<{ ns: string; cleanup: () => Promise<void>; kubeconfigFile: string; unreachable: string }> | undefined;
afterAll(async () => {
  wine?.stop();
  await (await shared?.catch(() => undefined))?.cleanup();
});

/**
 * What every emulated binary reads, made once: a namespace where a set scaled 2 -> 1 left one claim
 * (www-web-1) behind while the other is in use; self-contained kubeconfigs (certificates inline, so
 * no Linux path has to resolve under Wine) for the cluster and for a loopback port nothing listens on.
 */
function scenario() {
  shared ??= (async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cluster-'));
    const kubeconfigFile = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfigFile, must(run('kubectl', ['--kubeconfig', kubeconfig, 'config', 'view', '--raw', '--flatten']), 'kubectl config view'));
    const unreachable = path.join(dir, 'kubeconfig-unreachable');
    fs.writeFileSync(unreachable, fs.readFileSync(kubeconfigFile, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${await closedPort()}`));
    const { ns, cleanup } = await createNamespace('release-run');
    await createBoundPVs(ns, ['www-web-0', 'www-web-1'], { reclaimPolicy: 'Retain' });
    await apply(fixture('web.yaml', (d) => (d.kind === 'StatefulSet' ? { ...d, spec: { ...d.spec, replicas: 2 } } : d)), ns);
    const bound = async () => (await getJson<{ items: { status?: { phase?: string } }[] }>(['-n', ns, 'pvc'])).items.filter((c) => c.status?.phase === 'Bound').length === 2;
    await waitFor(bound, 120_000, 'two Bound claims');
    await kubectlE2e(['-n', ns, 'scale', 'sts', 'web', '--replicas=1']);
    await waitFor(async () => (await getJson<{ items: unknown[] }>(['-n', ns, 'pods'])).items.length === 1, 60_000, 'web-1 to go');
    return { ns, cleanup, kubeconfigFile, unreachable };
  })();
  return shared;
}

/** The linux/amd64 release binary, extracted once: the reference answer for the emulated ones. */
function amd64Binary(): string {
  if (!amd64Dir) {
    amd64Dir = fs.mkdtempSync(path.join(tmp, 'amd64-'));
    must(run('tar', ['-xzf', archiveFor(readManifest(path.join(release, 'plugin.yaml')), 'linux', 'amd64').file, '-C', amd64Dir]), 'tar');
  }
  return path.join(amd64Dir, 'kubectl-sts');
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
