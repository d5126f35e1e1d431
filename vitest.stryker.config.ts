import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant (stryker.config.mjs): in-process unit tests only.
 * Bundle-running and emulator tests are left out: a mutant is judged by the unit tests of the
 * module that decides, and a run stays minutes long instead of hours on a 2-core machine.
 */
export default defineConfig({
  test: {
    // STRYKER_TESTS=deploy-static/plan,deploy-static/plan-edges runs only those files: a module's score
    // against its own tests (a lower bound of the full run's), minutes instead of an hour on a busy machine.
    include: process.env.STRYKER_TESTS
      ? process.env.STRYKER_TESTS.split(',').map((name) => `test/${name}.test.ts`)
      : ['test/{deploy-ecs,deploy-static,render-taskdef,migrate-db,lib}/*.test.ts'],
    exclude: [
      '**/*e2e*',
      // Spawn gate commands, a generator script, or start s3rver / the emulator / a bundle.
      'test/deploy-ecs/gate.test.ts',
      'test/deploy-ecs/gate-hook.test.ts',
      'test/deploy-ecs/example-app.test.ts',
      'test/deploy-static/listing.test.ts',
      'test/render-taskdef/legacy.test.ts',
      // Run the render-taskdef bundle: Stryker's sandbox has no dist/ (ignorePatterns), and a bundle
      // holds none of the mutated source anyway.
      'test/render-taskdef/foreign.test.ts',
      'test/render-taskdef/terraform.test.ts',
      'test/render-taskdef/typed-placeholders.test.ts',
      'test/lib/taskdef-shapes.test.ts',
      'test/lib/runner.test.ts',
    ],
    pool: 'forks',
    // Stryker's initial run on a loaded 2-core machine: a few S3 tests (s3.test.ts, multipart on
    // real timers) exceed vitest's 5 s default there and would abort the whole run. Mutants are
    // still cut by Stryker's own timeout, measured from that initial run.
    testTimeout: 30_000,
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
