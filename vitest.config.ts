import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests spawn bundles and talk to the local emulator over HTTP.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    // VITEST_JSON_REPORT: another file for .ci/run's second (Node 24) pass (issue 15); CLI
    // --outputFile does not override a reporter's own option.
    reporters: ['default', ['json', { outputFile: process.env.VITEST_JSON_REPORT ?? '.tmp/vitest-results.json' }]],
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
