/**
 * Demo step: run the backend's database migration as a one-off task in
 * delivery-test, with the new (rendered) task definition and the backend
 * service's network, streaming its log lines; then show that the step is
 * retry-safe (the same step again follows the same task, starts nothing).
 * Scenario migration-fails: the migration exits 1; the action fails with the
 * exit code and the last log lines, and the pipeline stops before deploying.
 */
import type { DemoStep } from '../context.js';

// Faster than the 2 s default so the demo does not sit idle; the logic is the same.
const POLL = { 'poll-interval-seconds': '0.5', 'timeout-minutes': '2' };
const PRISMA_OK = [
  'Prisma schema loaded from prisma/schema.prisma',
  'Datasource "db": PostgreSQL database "delivery", schema "public" at "db.delivery-test.internal:5432"',
  '3 migrations found in prisma/migrations',
  'Applying migration `20260112093000_add_delivery_window`',
  'Applying migration `20260118141500_menu_items_soft_delete`',
  'The following migration(s) have been applied:',
  'migrations/',
  '  └─ 20260112093000_add_delivery_window/',
  '  └─ 20260118141500_menu_items_soft_delete/',
  'All migrations have been successfully applied.',
];
const PRISMA_FAILS = [
  'Prisma schema loaded from prisma/schema.prisma',
  'Datasource "db": PostgreSQL database "delivery", schema "public" at "db.delivery-test.internal:5432"',
  'Applying migration `20260118141500_menu_items_soft_delete`',
  'Error: P3018',
  'A migration failed to apply. New migrations cannot be applied before the error is recovered from.',
  'Migration name: 20260118141500_menu_items_soft_delete',
  'Database error code: 42701',
  'Database error: ERROR: column "deleted_at" of relation "menu_items" already exists',
];

const step: DemoStep = {
  action: 'migrate-db',
  title: 'Migrate the delivery-test database (one-off ECS task, live logs, exit code of the right container)',
  scenarios: {
    'migration-fails':
      'prisma migrate deploy exits 1 (column already exists); the action fails with the exit code and the last log lines, no deploy follows',
  },
  async run(ctx) {
    const cluster = ctx.names.cluster.test;
    const taskDefinition = ctx.shared.rendered['core/test/backend'];
    if (!taskDefinition) throw new Error('render step did not produce core/test/backend');
    const family = ctx.names.family('test', 'backend');
    const inputs = {
      cluster,
      service: 'backend',
      'task-definition': taskDefinition,
      container: 'backend',
      command: '["npx","prisma","migrate","deploy"]',
      ...POLL,
    };

    if (ctx.scenario === 'migration-fails') {
      ctx.log('Scenario migration-fails: the migration task exits 1 after printing the Prisma error.');
      ctx.emu.scenarios.nextTask({ family }, { afterSeconds: 2, exitCode: 1, logLines: PRISMA_FAILS });
      await ctx.runAction('migrate-db', { label: `prisma migrate deploy in ${cluster} (fails)`, inputs, expectFailure: true });
      ctx.halt('the migration failed (exit code 1): the services keep running the old image');
      return;
    }

    ctx.emu.scenarios.nextTask({ family }, { afterSeconds: 2, exitCode: 0, logLines: PRISMA_OK });
    const run = await ctx.runAction('migrate-db', { label: `prisma migrate deploy in ${cluster}`, inputs });

    ctx.log('', 'Run the same step again (a retried step in the same run attempt): same client token, so ECS returns the task');
    ctx.log('it already started; no second migration runs.');
    const before = ctx.emu.counts()['ECS.RunTask'] ?? 0;
    const again = await ctx.runAction('migrate-db', { label: 'the same step, retried', inputs, showLog: false, showSummary: false });
    const tasksStarted = [...ctx.emu.ecs.tasks.all.values()].filter((t) => t.startedBy === 'migrate/backend').length;
    ctx.log(
      `task-arn the same: ${again.outputs['task-arn'] === run.outputs['task-arn']}; RunTask calls: ${(ctx.emu.counts()['ECS.RunTask'] ?? 0) - before} (answered idempotently); migration tasks started in total: ${tasksStarted}`,
    );
  },
};
export default step;
