/**
 * The release as users get it: `npm run release` output (every platform archive, SHA256SUMS,
 * plugin.yaml, krew-manifest.yaml), checked with Krew itself (krew and validate-krew-manifest
 * built from sigs.k8s.io/krew by scripts/krew/build-tools.sh). Krew runs offline: install from
 * --manifest/--archive, no index fetch, no upgrade check, and (where `unshare -n` works) in a
 * network namespace with no network at all.
 *
 * KSTS_RELEASE_DIR=<dir> reuses a finished release instead of building one;
 * KSTS_RELEASE_TARGETS=linux/amd64,... limits the build (the checks adapt to what was built).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; homepage: string };
const TAG = `v${pkg.version}`;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1';

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
let rcodesign: string | undefined;
let toolsBin: string;
let offline: boolean;
/** Whether only some platforms were built (KSTS_RELEASE_TARGETS, or macOS left out without rcodesign). */
let partialTargets = false;

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
  return offline ? run(which('unshare'), ['-n', kubectlBin, ...args], { env }) : run(kubectlBin, args, { env });
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
  // When it is not built yet, check the other three platforms and say so; `npm run release`
  // (and this test, once rcodesign is cached or KSTS_RELEASE_TARGETS names darwin) covers macOS.
  let targets = process.env.KSTS_RELEASE_TARGETS;
  if (!targets && !process.env.KSTS_RELEASE_DIR) {
    const cached = run('bash', [path.join(root, 'scripts/krew/build-tools.sh'), 'rcodesign', '--cached-only']);
    if (cached.status !== 0) {
      targets = 'linux/amd64,linux/arm64,windows/amd64';
      process.stderr.write(
        '[release] rcodesign is not built on this machine: checking linux/amd64, linux/arm64, windows/amd64; the macOS archives are NOT checked in this run (build it once with: bash scripts/krew/build-tools.sh rcodesign)\n',
      );
    }
  }
  partialTargets = Boolean(targets);
  if (process.env.KSTS_RELEASE_DIR) {
    release = path.resolve(process.env.KSTS_RELEASE_DIR);
  } else {
    const dist = path.join(tmp, 'dist');
    const args = [path.join(root, 'scripts/release.mjs'), '--no-repo-manifests', ...(targets ? ['--targets', targets] : [])];
    must(run(process.execPath, args, { cwd: root, env: { ...process.env, KSTS_DIST: dist } }), 'npm run release');
    release = path.join(dist, 'release');
  }
  // The release built rcodesign for its macOS targets (cached), so this only looks it up.
  if (readManifest(path.join(release, 'plugin.yaml')).spec.platforms.some((p) => p.selector.matchLabels.os === 'darwin')) {
    const rc = run('bash', [path.join(root, 'scripts/krew/build-tools.sh'), 'rcodesign']);
    rcodesign = rc.status === 0 ? path.join(rc.stdout.trim().split('\n').pop()!, 'rcodesign') : undefined;
  }

  toolsBin = path.join(tmp, 'tools-bin');
  fs.mkdirSync(toolsBin);
  fs.symlinkSync(which('kubectl'), path.join(toolsBin, 'kubectl'));
  fs.symlinkSync(path.join(krewTools, 'krew'), path.join(toolsBin, 'kubectl-krew'));
  fs.symlinkSync(which('sh'), path.join(toolsBin, 'sh'));
  offline = run('unshare', ['-n', 'true']).status === 0;
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
    if (!partialTargets) expect(m.spec.platforms.length).toBe(5);
    for (const p of m.spec.platforms) {
      const { os: o, arch } = p.selector.matchLabels;
      const name = `kubectl-sts_${TAG}_${o}_${arch}.${o === 'windows' ? 'zip' : 'tar.gz'}`;
      expect(p.uri).toBe(`${pkg.homepage}/releases/download/${TAG}/${name}`);
      expect(p.sha256).toBe(sums[name]);
      expect(sha256(path.join(release, name))).toBe(p.sha256);
      expect(p.bin).toBe(o === 'windows' ? 'kubectl-sts.exe' : 'kubectl-sts');
      expect(p.files).toEqual([
        { from: p.bin, to: '.' },
        { from: 'LICENSE', to: '.' },
      ]);
    }
  });

  it('krew-manifest.yaml is the krew-release-bot form of plugin.yaml, and the committed files are current', () => {
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
    if (!partialTargets) expect(expanded).toBe(plugin);

    // The committed copies: the template exactly; plugin.yaml up to the checksums of the last `npm run release`.
    expect(fs.readFileSync(path.join(root, 'krew-manifest.yaml'), 'utf8')).toBe(template);
    const committed = fs.readFileSync(path.join(root, 'plugin.yaml'), 'utf8');
    const noSums = (s: string) => s.replace(/sha256: [0-9a-f]{64}/g, 'sha256: X');
    if (!partialTargets) expect(noSums(committed)).toBe(noSums(plugin));
    expect(readManifest(path.join(root, 'plugin.yaml')).spec.version).toBe(TAG);
  });

  it('validate-krew-manifest accepts the generated and the committed plugin.yaml', () => {
    for (const src of [path.join(release, 'plugin.yaml'), path.join(root, 'plugin.yaml')]) {
      // The validator takes the plugin name from the file name, as in krew-index (plugins/sts.yaml).
      const dir = fs.mkdtempSync(path.join(tmp, 'validate-'));
      fs.copyFileSync(src, path.join(dir, 'sts.yaml'));
      // -skip-install: its install step downloads the uris; the next test installs every archive offline instead.
      const r = run(path.join(krewTools, 'validate-krew-manifest'), ['-manifest', path.join(dir, 'sts.yaml'), '-skip-install']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('structural validation OK');
      expect(r.stderr).toContain('no overlapping spec.platform[].selector');
    }
  });

  it('every platform archive installs with krew (KREW_OS/KREW_ARCH) and holds a SEA binary and LICENSE', () => {
    const m = readManifest(path.join(release, 'plugin.yaml'));
    for (const p of m.spec.platforms) {
      const { os: o, arch } = p.selector.matchLabels;
      const krewRoot = newKrewRoot(`${o}-${arch}`);
      const { file } = archiveFor(m, o, arch);
      const r = kubectl(krewRoot, ['krew', 'install', `--manifest=${path.join(release, 'plugin.yaml')}`, `--archive=${file}`], {
        KREW_OS: o,
        KREW_ARCH: arch,
      });
      expect(r.status, `${o}/${arch}: ${r.stderr}`).toBe(0);
      const store = path.join(krewRoot, 'store', 'sts', TAG);
      expect(fs.readdirSync(store).sort()).toEqual([p.bin, 'LICENSE'].sort());
      expect(fs.readFileSync(path.join(store, 'LICENSE'), 'utf8')).toContain('Apache License');
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
        if (rcodesign) {
          const info = must(run(rcodesign, ['print-signature-info', path.join(store, p.bin)]), 'rcodesign print-signature-info');
          expect(info).toContain('CodeSignatureFlags(ADHOC)');
        }
      }
      expect(fs.existsSync(path.join(krewRoot, 'receipts', 'sts.yaml'))).toBe(true);
    }
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

  it('installs from plugin.yaml and the archive, offline, with no node on PATH', () => {
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
    expect(fs.readdirSync(dir).sort()).toEqual(['LICENSE', 'kubectl-sts']);
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const r = run(path.join(dir, 'kubectl-sts'), ['version', '--client'], { cwd: empty, env: { PATH: '/nonexistent' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Plugin Version: ${TAG}\n`);
    expect(r.stderr).toBe('');
    expect(fs.readdirSync(empty)).toEqual([]);
  });
});
