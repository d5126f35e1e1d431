/**
 * e2e on the committed bundle: a PAUSE hook whose timeout action is CONTINUE expires while the gate has
 * not passed. ECS then goes on with the release by itself (pause-lifecycle-hooks.html: the deployment
 * stays paused "until you call ContinueServiceDeployment … or until the configured timeout is reached";
 * API_DeploymentLifecycleHookTimeoutConfiguration: the action taken then). Nothing vouched for the
 * revision, so the run fails with gate=expired and rolls back with StopServiceDeployment.
 *
 * Hook timeouts are minutes: this file's emulator runs on a clock the test moves forward once the gate is
 * running (the event), so the hook expires without waiting for it.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServiceDeploymentsCommand, ECSClient, ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { Seeder, describe as describeServices, taskDef } from './e2e-seed.js';

let emu: Emulator;
let ecs: ECSClient;
let ahead = 0;
const seeder = new Seeder(() => emu, 'gate-expiry');

beforeAll(async () => {
  emu = await startEmulator({ s3: false, clock: () => Date.now() + ahead });
  emu.ecr.putImage('delivery/backend', 'v1');
  emu.ecr.putImage('delivery/backend', 'v2');
  const env = emu.env();
  ecs = new ECSClient({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs gate and the hook expiry', () => {
  it('a hook with timeout action CONTINUE expires while the gate has not passed: failure gate=expired, rolled back with StopServiceDeployment, no "cancel" in the log', async () => {
    const { cluster, family } = seeder.seed(['backend'], {
      strategy: 'BLUE_GREEN',
      deployment: {
        bakeTimeInMinutes: 0,
        lifecycleHooks: [
          {
            targetType: 'PAUSE',
            lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
            timeoutConfiguration: { timeoutInMinutes: 10, action: 'CONTINUE' },
          },
        ],
      },
    });
    // 6 s: after the pause (at 60 %) the production shift and bake take ~2.4 s, the time ECS goes on alone.
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 6 });
    const ws = mkdtempSync(join(tmpdir(), 'deploy-ecs-expiry-'));
    writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(taskDef(family, 'v2')));
    const started = join(ws, 'gate-started');
    const running = runBundle('deploy-ecs', {
      inputs: {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'poll-interval-seconds': '0.1',
        'timeout-minutes': '0.5',
        'gate-command': `echo probing the green target group; touch ${started}; sleep 600`,
        'gate-timeout-seconds': '300',
      },
      env: emu.env(),
      workspace: ws,
      timeoutMs: 60_000,
    });
    // Once the gate runs at the pause, the hook's 10 minutes pass: the clock moves to its expiresAt.
    while (!existsSync(started)) await new Promise((r) => setTimeout(r, 50));
    const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
    const sd = (
      await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [list.serviceDeployments![0]!.serviceDeploymentArn!] }))
    ).serviceDeployments![0]!;
    const expiresAt = sd.lifecycleHookDetails![0]!.expiresAt!.getTime();
    ahead = expiresAt - Date.now() + 1;
    const r = await running;
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.gate).toBe('expired');
    expect(r.outputs.status).toBe('failed');
    expect(r.outputs['rolled-back'], r.stdout).toBe('true');
    expect(r.errors.join('\n')).toMatch(
      /test-traffic gate expired at the POST_TEST_TRAFFIC_SHIFT pause hook: the pause ended before the gate passed: hook ecs-pause-[\w-]+ is TIMED_OUT \(its timeout action CONTINUE ran\)/,
    );
    expect(r.stdout, r.stdout).toMatch(/StopServiceDeployment \(ROLLBACK\)/);
    expect(r.stdout).not.toMatch(/ContinueServiceDeployment (CONTINUE|ROLLBACK) sent/);
    expect(r.stdout).not.toContain('cancel');
    const [svc] = await describeServices(emu, cluster, ['backend']);
    expect(svc!.taskDefinition!.split('/').pop()).toBe(`${family}:1`);
    // The diagnosis of the failure carries the gate as any failed gate does: where it was, its output, a hint.
    const why = r.summary.slice(r.summary.indexOf('#### Why backend failed'));
    expect(why, r.summary).toMatch(/^#### Why backend failed\n\n\*\*Hint:\*\* The pause ended before the gate passed/);
    expect(why).toMatch(/gate expired \(POST_TEST_TRAFFIC_SHIFT pause hook\): the pause ended before the gate passed/);
    expect(why).toContain('│ probing the green target group');
  });
});
