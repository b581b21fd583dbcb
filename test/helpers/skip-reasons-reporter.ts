/**
 * Lists, after vitest's own summary, every test that was skipped with a reason (`ctx.skip(reason)`):
 * the default reporter only counts skipped tests, and a check that could not run must say so in
 * the test report itself, not only on stderr.
 */
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests('skipped')) {
        const r = t.result();
        const note = r.state === 'skipped' ? r.note : undefined;
        if (note) lines.push(`  ↓ [${m.project.name}] ${path.relative(process.cwd(), m.moduleId)} > ${t.fullName}\n      skipped: ${note}`);
      }
    }
    if (lines.length) process.stdout.write(`\n Skipped, with the reason each could not run:\n${lines.join('\n')}\n\n`);
  }
}
