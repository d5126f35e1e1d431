/**
 * Demo step, scenario gate-fails only: a blue/green service `backend-bg` with a PAUSE hook at
 * POST_TEST_TRAFFIC_SHIFT, and a local test listener that answers for whatever revision ECS routes test
 * traffic to. The new revision is broken (HEALTHY=false: the listener answers 503), so deploy-ecs's gate
 * fails at the pause, sends ContinueServiceDeployment ROLLBACK, and the service stays on the old revision
 * — users never got the broken one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestListener } from '../../../test/helpers/test-listener.js';
import type { DemoStep } from '../context.js';

const step: DemoStep = {
  action: 'deploy-ecs',
  title: 'Test-traffic gate on a blue/green service (scenario gate-fails)',
  scenarios: {
    'gate-fails':
      'a blue/green release answers 503 on the test listener while paused at POST_TEST_TRAFFIC_SHIFT; deploy-ecs sends ROLLBACK and users never get it',
  },
  async run(ctx) {
    if (ctx.scenario !== 'gate-fails') {
      ctx.log('nothing to do on the happy path (npm run demo -- --scenario gate-fails plays it)');
      return;
    }
    const { names, emu } = ctx;
    const cluster = names.cluster.test;
    const base = emu.ecs.services.find(cluster, 'backend');
    const current = base?.deployments.at(-1)?.def.taskDefinitionArn;
    const renderedPath = ctx.shared.rendered['core/test/backend'];
    if (!base || !current || !renderedPath) throw new Error('the deploy step must have deployed core/test/backend first');
    emu.ecs.createService({
      cluster,
      serviceName: 'backend-bg',
      taskDefinition: current,
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: names.networkConfiguration,
      deploymentConfiguration: {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 0,
        lifecycleHooks: [
          {
            targetType: 'PAUSE',
            lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
            timeoutConfiguration: { timeoutInMinutes: 30, action: 'ROLLBACK' },
          },
        ],
      },
    });
    emu.scenarios.nextRollout({ cluster, service: 'backend-bg' }, { result: 'success', afterSeconds: 3 });
    // The broken release: same task definition, but its container reports unhealthy.
    const def = JSON.parse(readFileSync(renderedPath, 'utf8')) as {
      containerDefinitions: { environment?: { name: string; value: string }[] }[];
    };
    const env = def.containerDefinitions[0]!.environment ?? [];
    def.containerDefinitions[0]!.environment = [...env.filter((e) => e.name !== 'HEALTHY'), { name: 'HEALTHY', value: 'false' }];
    writeFileSync(join(ctx.workspace, 'backend-broken.json'), JSON.stringify(def, null, 2));

    const listener = await startTestListener(emu);
    try {
      ctx.log(`backend-bg: BLUE_GREEN, PAUSE hook at POST_TEST_TRAFFIC_SHIFT; test listener ${listener.url(cluster, 'backend-bg')}`);
      await ctx.runAction('deploy-ecs', {
        label: `deploy a broken backend revision to ${cluster}/backend-bg (gate fails, ROLLBACK)`,
        inputs: {
          'task-definition': 'backend-broken.json',
          cluster,
          services: 'backend-bg',
          'poll-interval-seconds': '0.5',
          'timeout-minutes': '2',
          'gate-url': `${listener.url(cluster, 'backend-bg')}?token=demo-smoke-token`,
          'gate-successes': '3',
          'gate-interval-seconds': '0.5',
          'gate-timeout-seconds': '3',
        },
        expectFailure: true,
      });
      const after = emu.ecs.services.find(cluster, 'backend-bg')!.deployments.at(-1)!.def.taskDefinitionArn;
      const answered = listener.hits.map((h) => h.status).join(', ');
      ctx.log(
        `test listener answered: ${answered}; backend-bg runs ${after.split('/').pop()} (as before the run: ${current.split('/').pop()})`,
      );
      ctx.halt('deploy-ecs failed: the test-traffic gate blocked the release');
    } finally {
      await listener.stop();
    }
  },
};

export default step;
