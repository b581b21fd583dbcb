// The third-party notices shipped in every release archive, generated from what was built:
//   LICENSE.node        - Node.js's own LICENSE, from the npm package of the Node binary the
//                         executable is made of (it lists the libraries Node itself bundles)
//   THIRD_PARTY_NOTICES - every npm package esbuild put into the bundles (from its metafile
//                         inputs), with its version, declared licence and licence file(s)
import fs from 'node:fs';
import path from 'node:path';

const LICENSE_FILE = /^(licen[cs]e|copying|notice)([.-].*)?$/i;

/** The package directory of a file inside node_modules (nested and scoped packages included), or undefined. */
export function packageDirOf(file) {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
  return m ? m[1] : undefined;
}

/**
 * The npm packages among the bundles' input files, one entry per name@version, sorted by name.
 * Each has its licence files' texts; a package without one is an error (its notice cannot be
 * shipped from a declaration alone).
 */
export function bundledPackages(inputs, read = (f) => fs.readFileSync(f, 'utf8'), list = (d) => fs.readdirSync(d)) {
  const byId = new Map();
  for (const dir of new Set(inputs.map(packageDirOf).filter(Boolean))) {
    const pkg = JSON.parse(read(path.join(dir, 'package.json')));
    const id = `${pkg.name}@${pkg.version}`;
    if (byId.has(id)) continue;
    const files = list(dir).filter((f) => LICENSE_FILE.test(f)).sort();
    if (!files.length) throw new Error(`${id} (${dir}) has no licence file, so its notice cannot be shipped; declared licence: ${JSON.stringify(pkg.license ?? null)}`);
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'see the licence text');
    const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    byId.set(id, { name: pkg.name, version: pkg.version, license, source: pkg.homepage ?? repo, texts: files.map((f) => ({ file: f, text: read(path.join(dir, f)) })) });
  }
  return [...byId.values()].sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
}

/** THIRD_PARTY_NOTICES: a summary line per package, then each package's licence texts. */
export function renderNotices(packages, { product, runtime }) {
  const rule = '-'.repeat(78);
  const head = [
    `${product} is built from the npm packages below, which are bundled into its executable.`,
    `The executable also contains the Node.js runtime (${runtime}); its licence, which covers the`,
    'libraries Node.js bundles, is in the file LICENSE.node next to this one.',
    '',
    ...packages.map((p) => `  ${p.name}@${p.version}  ${p.license}`),
    '',
  ];
  const body = packages.flatMap((p) => [
    rule,
    `${p.name}@${p.version} (${p.license})${p.source ? `\n${p.source}` : ''}`,
    ...p.texts.flatMap((t) => ['', `${t.file}:`, '', t.text.replace(/\r\n/g, '\n').trimEnd()]),
    '',
  ]);
  return `${[...head, ...body].join('\n')}\n`;
}
