import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

/**
 * The fault suite (test/e2e/faults.test.ts) kills and restarts its line's API server; it runs last
 * in its project, so no other suite starts on a control plane still recovering from it (KWOK's
 * informers were seen to take up to 30 s to reconnect; apiserver.sh start also waits for them).
 */
class FaultsLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => (f.moduleId.endsWith('/test/e2e/faults.test.ts') ? 1 : 0);
    return [...sorted].sort((a, b) => last(a) - last(b));
  }
}

export default defineConfig({
  root,
  define: { __KSTS_VERSION__: JSON.stringify(pkg.version) },
  test: {
    sequence: { sequencer: FaultsLastSequencer },
    // The default summary counts skipped tests; this also lists each one skipped with a reason.
    reporters: ['default', './test/helpers/skip-reasons-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      // The same e2e suites on two control planes: `e2e` on the current minor (KUBE_VERSION in
      // scripts/cluster/versions.env), `e2e-old` on the oldest supported one (KUBE_VERSION_OLD), each
      // its own cluster (test/e2e/global-setup.ts picks the line from the project's name).
      ...(['e2e', 'e2e-old'] as const).map((name) => ({
        extends: true as const,
        test: {
          name,
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // One cluster, two cores: files run one after another; tests inside use their own namespaces.
          fileParallelism: false,
        },
      })),
      {
        extends: true,
        // Release archives + Krew round trip (scripts/release.mjs, scripts/krew/), and the linux/arm64
        // and windows/amd64 binaries run under qemu and Wine, with one read against the current line's cluster.
        test: {
          name: 'release',
          include: ['test/release/**/*.test.ts'],
          globalSetup: ['test/release/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
