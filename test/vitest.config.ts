import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

export default defineConfig({
  root,
  define: { __KSTS_VERSION__: JSON.stringify(pkg.version) },
  test: {
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
        // Release archives + Krew round trip (scripts/release.mjs, scripts/krew/); no cluster needed.
        test: { name: 'release', include: ['test/release/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 3_600_000, fileParallelism: false },
      },
    ],
  },
});
