import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests spawn bundles and talk to the local emulator over HTTP.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: a single worker on CI's 2 cores. Most of
    // the suite waits on child processes and the local emulator, so 3 workers halve the wall time
    // (438 s → 208 s for the whole suite on the 2-core machine, 2026-11-27).
    maxWorkers: 3,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    // VITEST_JSON_REPORT: another file for .ci/run's second (Node 24) pass (issue 15); CLI
    // --outputFile does not override a reporter's own option.
    reporters: ['default', ['json', { outputFile: process.env.VITEST_JSON_REPORT ?? '.tmp/vitest-results.json' }]],
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
