// Mutation testing (npm run mutate): does a one-line break of a decision make a unit test fail?
// Scoped to the modules that decide; the surviving mutants accepted as equivalent are listed in
// README.md ("Mutation testing"). One module while working: npm run mutate -- --mutate <file>.
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'actions/deploy-ecs/judge.ts',
    'actions/deploy-ecs/native.ts',
    'actions/deploy-ecs/services.ts',
    'actions/deploy-ecs/rollback-target.ts',
    'actions/deploy-ecs/previous.ts',
    'actions/deploy-ecs/plan.ts',
    // Split off deploy(): the read and register phases (which container gets the image, register or
    // reuse the revision) and the results (each service's, the run's status).
    'actions/deploy-ecs/deploy-read.ts',
    'actions/deploy-ecs/deploy-results.ts',
    'actions/deploy-static/plan.ts',
    'actions/deploy-static/deploy.ts',
    'actions/deploy-static/deploy-invalidation.ts',
    'actions/deploy-static/record.ts',
    'actions/deploy-static/record-store.ts',
    'actions/deploy-static/lock.ts',
    'actions/deploy-static/lock-document.ts',
    'actions/deploy-static/lock-fence.ts',
    'actions/deploy-static/locked-run.ts',
    'actions/deploy-static/rules.ts',
    'actions/deploy-static/fingerprint.ts',
    'actions/deploy-static/releases.ts',
    // Split off planning and releases: record entries, snapshot planning, rollback planning (its delete guard).
    'actions/deploy-static/entries.ts',
    'actions/deploy-static/snapshots.ts',
    'actions/deploy-static/rollback-plan.ts',
    'actions/render-taskdef/config.ts',
    'actions/render-taskdef/config-load.ts',
    'actions/render-taskdef/render-checks.ts',
    'actions/render-taskdef/check-values.ts',
    'actions/render-taskdef/validate.ts',
    'actions/render-taskdef/foreign.ts',
    'actions/migrate-db/outcome.ts',
    'lib/taskdef*.ts',
  ],
  // The machine is shared and has 2 cores.
  concurrency: 2,
  // Re-tests only mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: '.tmp/stryker-incremental.json',
  ignorePatterns: ['dist', 'bench', '.tmp', 'coverage', 'reports'],
  tempDirName: '.tmp/stryker',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.tmp/mutation/index.html' },
  jsonReporter: { fileName: '.tmp/mutation/mutation.json' },
  thresholds: { high: 85, low: 70, break: null },
};
