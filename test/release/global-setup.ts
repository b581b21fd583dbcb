/**
 * The release suite's setup: the current line's cluster, started (or reused) exactly as the e2e
 * suites start it (test/e2e/global-setup.ts), for the read command every release binary runs
 * against it; and the suite's wall time, printed at the end (CI's budget is 90 minutes in all).
 */
import type { TestProject } from 'vitest/node';
import clusterSetup from '../e2e/global-setup.js';

export default async function setup(project: TestProject) {
  const started = Date.now();
  const teardown = await clusterSetup(project);
  return async () => {
    await teardown?.();
    process.stderr.write(`[release] release suite finished in ${((Date.now() - started) / 1000).toFixed(0)}s (cluster start included)\n`);
  };
}
