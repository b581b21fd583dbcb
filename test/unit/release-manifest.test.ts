/**
 * The release's generated texts: where the download URLs come from (package.json only), which
 * files an archive holds, and the third-party notices made from the bundles' inputs
 * (scripts/release/manifest.mjs, scripts/release/notices.mjs).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module without types
import * as manifestJs from '../../scripts/release/manifest.mjs';
// @ts-expect-error plain JS module without types
import * as noticesJs from '../../scripts/release/notices.mjs';

interface Location {
  homepage: string;
  repository: string;
  downloadUrl: (tag: string, file: string) => string;
}
interface Pkg {
  name: string;
  version: string;
  license: string;
  source?: string;
  texts: { file: string; text: string }[];
}
const { releaseLocation, archiveFiles, krewTemplate, pluginManifest, TARGETS } = manifestJs as {
  releaseLocation: (pkg: object) => Location;
  archiveFiles: (t: { bin: string }) => string[];
  krewTemplate: (o: { location: Location }) => string;
  pluginManifest: (o: { version: string; location: Location; sha256: Record<string, string> }) => string;
  TARGETS: { key: string; os: string; arch: string; bin: string; ext: string }[];
};
const { packageDirOf, bundledPackages, renderNotices } = noticesJs as {
  packageDirOf: (f: string) => string | undefined;
  bundledPackages: (inputs: string[], read: (f: string) => string, list: (d: string) => string[]) => Pkg[];
  renderNotices: (p: Pkg[], o: { product: string; runtime: string }) => string;
};

const base = {
  homepage: 'https://example.org/sts',
  repository: { type: 'git', url: 'git+https://github.com/acme/kubectl-sts.git' },
  kubectlSts: { releaseUrl: '{repository}/releases/download/{tag}/{file}' },
};

describe('releaseLocation: the download URLs from package.json', () => {
  it.each([
    ['git+https URL with .git', base, 'https://github.com/acme/kubectl-sts/releases/download/v1.2.3/a.tar.gz'],
    ['plain string repository', { ...base, repository: 'https://github.com/acme/kubectl-sts' }, 'https://github.com/acme/kubectl-sts/releases/download/v1.2.3/a.tar.gz'],
    ['template without {repository}', { ...base, kubectlSts: { releaseUrl: 'https://dl.example.org/{tag}/{file}' } }, 'https://dl.example.org/v1.2.3/a.tar.gz'],
  ])('%s', (_name, pkg, want) => {
    const l = releaseLocation(pkg);
    expect(l.downloadUrl('v1.2.3', 'a.tar.gz')).toBe(want);
    expect(l.homepage).toBe('https://example.org/sts');
  });

  it.each([
    ['no repository', { ...base, repository: undefined }, /no repository/],
    ['an ssh repository', { ...base, repository: 'git@github.com:acme/kubectl-sts.git' }, /not an https URL/],
    ['no homepage', { ...base, homepage: undefined }, /no homepage/],
    ['no template', { ...base, kubectlSts: undefined }, /no kubectlSts.releaseUrl/],
    ['a template without {file}', { ...base, kubectlSts: { releaseUrl: '{repository}/{tag}' } }, /has no \{file\}/],
  ])('refuses %s', (_name, pkg, err) => {
    expect(() => releaseLocation(pkg)).toThrow(err);
  });

  it('the manifests name every URL from it, and list the archive files', () => {
    const location = releaseLocation(base);
    const sha256 = Object.fromEntries(TARGETS.map((t) => [`kubectl-sts_v1.2.3_${t.os}_${t.arch}.${t.ext}`, 'a'.repeat(64)]));
    const plugin = pluginManifest({ version: '1.2.3', location, sha256 });
    const template = krewTemplate({ location });
    for (const text of [plugin, template]) {
      expect(text).toContain('homepage: https://example.org/sts\n');
      const urls = text.match(/https:\/\/[^\s"]+/g) ?? [];
      expect(urls.filter((u) => u !== 'https://example.org/sts').every((u) => u.startsWith('https://github.com/acme/kubectl-sts/releases/download/'))).toBe(true);
      expect(text.match(/- from: LICENSE.node\n/g)?.length).toBe(TARGETS.length);
      expect(text.match(/- from: THIRD_PARTY_NOTICES\n/g)?.length).toBe(TARGETS.length);
    }
    expect(plugin).toContain('uri: https://github.com/acme/kubectl-sts/releases/download/v1.2.3/kubectl-sts_v1.2.3_windows_amd64.zip\n');
    expect(template).toContain('{{addURIAndSha "https://github.com/acme/kubectl-sts/releases/download/{{ .TagName }}/kubectl-sts_{{ .TagName }}_linux_arm64.tar.gz" .TagName }}');
    expect(archiveFiles({ bin: 'kubectl-sts.exe' })).toEqual(['kubectl-sts.exe', 'LICENSE', 'LICENSE.node', 'THIRD_PARTY_NOTICES']);
  });
});

describe('third-party notices from the bundles\' inputs', () => {
  it.each([
    ['/r/node_modules/yargs/build/index.cjs', '/r/node_modules/yargs'],
    ['/r/node_modules/@kubernetes/client-node/dist/config.js', '/r/node_modules/@kubernetes/client-node'],
    ['/r/node_modules/ora/node_modules/string-width/index.js', '/r/node_modules/ora/node_modules/string-width'],
    ['/r/src/cli.ts', undefined],
  ])('packageDirOf(%s) = %s', (file, dir) => {
    expect(packageDirOf(file)).toBe(dir);
  });

  // A fake file tree: package dir -> its files; package.json given as an object.
  const tree: Record<string, Record<string, unknown>> = {
    '/r/node_modules/b-lib': { 'package.json': { name: 'b-lib', version: '2.0.0', license: 'MIT', repository: { url: 'git+https://x/b.git' } }, 'LICENSE.md': 'MIT b\r\n', 'index.js': '' },
    '/r/node_modules/a-lib': { 'package.json': { name: 'a-lib', version: '1.0.0', license: 'ISC', homepage: 'https://a' }, license: 'ISC a', 'COPYING.txt': 'copying a' },
    '/r/node_modules/x/node_modules/a-lib': { 'package.json': { name: 'a-lib', version: '0.9.0', license: 'ISC' }, LICENCE: 'ISC a old' },
    '/r/node_modules/dup/node_modules/b-lib': { 'package.json': { name: 'b-lib', version: '2.0.0', license: 'MIT' }, LICENSE: 'second copy' },
    '/r/node_modules/bare': { 'package.json': { name: 'bare', version: '1.0.0', license: 'MIT' }, 'index.js': '' },
  };
  const read = (f: string) => {
    const v = tree[path.dirname(f)]?.[path.basename(f)];
    if (v === undefined) throw new Error(`ENOENT ${f}`);
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const list = (d: string) => Object.keys(tree[d] ?? {});

  it('one entry per name@version, sorted, with every licence file', () => {
    const pkgs = bundledPackages(
      ['/r/src/a.ts', '/r/node_modules/b-lib/index.js', '/r/node_modules/b-lib/x.js', '/r/node_modules/a-lib/i.js', '/r/node_modules/x/node_modules/a-lib/i.js', '/r/node_modules/dup/node_modules/b-lib/i.js'],
      read,
      list,
    );
    expect(pkgs.map((p) => `${p.name}@${p.version} ${p.license} ${p.texts.map((t) => t.file).join(',')}`)).toEqual([
      'a-lib@0.9.0 ISC LICENCE',
      'a-lib@1.0.0 ISC COPYING.txt,license',
      'b-lib@2.0.0 MIT LICENSE.md',
    ]);
    const text = renderNotices(pkgs, { product: 'kubectl-sts v1', runtime: 'Node.js 22.23.2' });
    expect(text).toContain('Node.js runtime (Node.js 22.23.2)');
    expect(text).toContain('  a-lib@1.0.0  ISC\n');
    expect(text).toContain(`${'-'.repeat(78)}\nb-lib@2.0.0 (MIT)\ngit+https://x/b.git\n\nLICENSE.md:\n\nMIT b\n`);
    expect(text).not.toContain('\r');
  });

  it('a bundled package without a licence file stops the release', () => {
    expect(() => bundledPackages(['/r/node_modules/bare/index.js'], read, list)).toThrow(/bare@1.0.0 .* has no licence file/);
  });
});
