/**
 * Demo step: deploy the rendered core/test task definitions to delivery-test
 * (backend, then admin-frontend), then run the backend deploy again to show
 * that an unchanged task definition registers and updates nothing. A nightly EventBridge Scheduler
 * job running the backend's task definition moves to the new revision with the release
 * (`scheduled-tasks`), every other field of the schedule unchanged.
 * Scenario rollout-fails: the new backend revision crashes on start; deploy-ecs
 * stops at max-failed-tasks (before ECS's circuit breaker would), rolls back and
 * fails with the reason, the exit code and the tasks' last log lines.
 */
import type { DemoStep } from '../context.js';

// Faster than the 5 s default so the demo does not sit idle; the logic is the same.
const POLL = { 'poll-interval-seconds': '1', 'timeout-minutes': '2' };

const step: DemoStep = {
  action: 'deploy-ecs',
  title: 'Deploy to delivery-test (register only if changed, update, wait, diagnose, roll back)',
  scenarios: {
    'rollout-fails':
      'the new backend revision exits 1 on start (DATABASE_URL missing); deploy-ecs stops at 3 failed tasks, rolls back to the previous revision and shows why (exit code, log lines, hint)',
  },
  async run(ctx) {
    const { names } = ctx;
    const cluster = names.cluster.test;
    const rendered = (template: string) => {
      const path = ctx.shared.rendered[`core/test/${template}`];
      if (!path) throw new Error(`render step did not produce core/test/${template}`);
      return path;
    };

    if (ctx.scenario === 'rollout-fails') {
      ctx.log('Scenario rollout-fails: every task of the new backend revision exits 1 a moment after it starts.');
      ctx.emu.scenarios.nextRollout(
        { cluster, service: 'backend' },
        {
          result: 'fail',
          afterSeconds: 3,
          exitCode: 1,
          logLines: ['delivery-backend 2.14.0 starting', 'Error: DATABASE_URL is not set', '    at loadConfig (/app/dist/config.js:12:11)'],
          circuitBreakerRollback: true,
          rollbackSeconds: 1,
        },
      );
      await ctx.runAction('deploy-ecs', {
        label: `deploy core/test/backend to ${cluster} (fails, rolled back)`,
        inputs: { 'task-definition': rendered('backend'), cluster, services: 'backend', ...POLL },
        expectFailure: true,
      });
      return;
    }

    // A nightly job (EventBridge Scheduler) runs the backend's task definition; it moves with the release.
    const svc = ctx.emu.ecs.services.find(cluster, 'backend');
    const running = svc ? (ctx.emu.ecs.services.view(svc).taskDefinition as string) : '';
    ctx.emu.scheduler.createSchedule('delivery-test-nightly-report', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: `arn:aws:ecs:${names.region}:${names.account}:cluster/${cluster}`,
        RoleArn: `arn:aws:iam::${names.account}:role/delivery-test-scheduler`,
        Input: JSON.stringify({ containerOverrides: [{ name: 'backend', command: ['bin/rails', 'reports:nightly'] }] }),
        EcsParameters: {
          TaskDefinitionArn: running,
          LaunchType: 'FARGATE',
          NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-demo'], AssignPublicIp: 'DISABLED' } },
        },
      },
    });
    ctx.log(`The schedule delivery-test-nightly-report runs ${running.split('/').pop()} (the backend's revision) every night.`);

    for (const template of names.templates) {
      ctx.emu.scenarios.nextRollout({ cluster, service: template }, { result: 'success', afterSeconds: 2 });
      await ctx.runAction('deploy-ecs', {
        label: `deploy core/test/${template} to ${cluster}`,
        inputs: {
          'task-definition': rendered(template),
          cluster,
          services: template,
          ...POLL,
          ...(template === 'backend' ? { 'scheduled-tasks': 'schedule:default/delivery-test-nightly-report' } : {}),
        },
      });
    }
    const moved = ctx.emu.scheduler.getSchedule('delivery-test-nightly-report').Target.EcsParameters.TaskDefinitionArn as string;
    ctx.log(`After the release the schedule runs ${moved.split('/').pop()}: the nightly job runs the new code, not the old one.`);

    ctx.log('', 'Run the backend deploy again with the same file: nothing to register, nothing to update.');
    const before = ctx.emu.counts();
    const again = await ctx.runAction('deploy-ecs', {
      label: `re-deploy core/test/backend to ${cluster} (unchanged)`,
      inputs: { 'task-definition': rendered('backend'), cluster, services: 'backend', ...POLL },
      showSummary: false,
    });
    const after = ctx.emu.counts();
    const delta = (op: string) => (after[op] ?? 0) - (before[op] ?? 0);
    ctx.log(
      `changed=${again.outputs.changed}, status=${again.outputs.status}; RegisterTaskDefinition calls: ${delta('ECS.RegisterTaskDefinition')}, UpdateService calls: ${delta('ECS.UpdateService')}`,
    );
  },
};

export default step;
