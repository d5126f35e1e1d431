import { defineConfig } from 'vitest/config';
import { LongFilesFirst } from './test/helpers/sequencer.js';
import { bundleTestFiles, isolatedUnitFiles, processTestFiles } from './test/helpers/suite-files.js';

// Test files that run the dist bundles (decided by what they do: test/helpers/suite-files.ts).
// They spawn node and talk to the local emulator over HTTP, so they get long timeouts. Files that
// start a server or a process themselves (the emulator, the test S3, bash) get a middle one; every
// other test file is a unit test and keeps vitest's default 5 s.
const bundles = bundleTestFiles(import.meta.dirname);
const processes = processTestFiles(import.meta.dirname);
// Unit files that mock a module or a client, fake the clock or change the environment run in a
// process each; the other unit files share their worker's process (test/helpers/suite-files.ts).
const isolatedUnits = isolatedUnitFiles(import.meta.dirname);
// The README IAM policy check reads what every other test file of the run recorded: its own project, run last.
const iam = ['test/iam/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    // The bundles run on the Node release action.yml declares (test/helpers/bundle-node.ts).
    globalSetup: ['test/helpers/bundle-node.ts'],
    // Vitest's default is one worker per core minus one: a single worker on CI's 2 cores. Most of
    // the suite waits on child processes and the local emulator, so 3 workers halve the wall time
    // (438 s → 208 s for the whole suite on the 2-core machine, 2026-11-27).
    maxWorkers: 4,
    // The longest files start first, so none runs on alone at the end (test/helpers/sequencer.ts).
    sequence: { sequencer: LongFilesFirst },
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    // VITEST_JSON_REPORT: another file for .ci/run's second pass (the bundles on Node 24); CLI
    // --outputFile does not override a reporter's own option.
    reporters: ['default', ['json', { outputFile: process.env.VITEST_JSON_REPORT ?? '.tmp/vitest-results.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...bundles, ...processes, ...isolatedUnits, ...iam],
          // One process per worker for all these files: a process start and the imports (the SDK, zod)
          // once per worker, not once per file — the unit files' CPU time went from 107 s to 44 s.
          isolate: false,
          setupFiles: ['test/helpers/assertions-required.ts'],
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        extends: true,
        test: {
          name: 'unit-isolated',
          include: isolatedUnits,
          setupFiles: ['test/helpers/assertions-required.ts'],
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        extends: true,
        test: {
          name: 'processes',
          include: processes,
          exclude: iam,
          testTimeout: 30_000,
          hookTimeout: 30_000,
          setupFiles: ['test/helpers/assertions-required.ts'],
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        extends: true,
        test: {
          name: 'bundles',
          include: bundles,
          exclude: iam,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          setupFiles: ['test/helpers/assertions-required.ts'],
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        extends: true,
        test: {
          name: 'iam',
          include: iam,
          // Runs after every other project: the IAM log (test/iam/recording.ts) is complete by then.
          sequence: { groupOrder: 1 },
          // The log's directory, set before any worker starts (workers inherit it).
          globalSetup: ['test/iam/setup.ts'],
          // Run alone, the policy test first runs the representative e2e files it needs (minutes on a busy machine).
          testTimeout: 60_000,
          hookTimeout: 1_200_000,
          setupFiles: ['test/helpers/assertions-required.ts'],
        },
      },
    ],
  },
});
