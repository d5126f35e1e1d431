/**
 * End-to-end: CODE_DEPLOY services through the committed bundle on the emulator. CodeDeploy
 * deployments advance one step per GetDeployment (no wall-clock windows): a deployment that
 * succeeds, one that fails at a named lifecycle event, a cancel (SIGINT, then SIGTERM 7.5 s later as
 * the runner does) that stops it with rollback, and mixed inputs refused before any write.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { ACCOUNT, awsvpc, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
let n = 0;
const fast = { 'poll-interval-seconds': '0.1', 'timeout-minutes': '1' };
const WRITES = ['RegisterTaskDefinition', 'UpdateService', 'CreateDeployment', 'StopDeployment'];

/** A cluster with one CODE_DEPLOY service behind a load balancer, on revision 1, and its deployment group. */
function seed(controller: 'CODE_DEPLOY' | 'ECS' = 'CODE_DEPLOY') {
  n += 1;
  const cluster = `cd-${n}`;
  const family = `cd-backend-${n}`;
  emu.ecs.createCluster(cluster);
  const first = emu.ecs.registerTaskDefinition(taskDef(family, 'v1'));
  emu.ecs.createService({
    cluster,
    serviceName: 'api',
    taskDefinition: first,
    desiredCount: 2,
    launchType: 'FARGATE',
    networkConfiguration: awsvpc,
    deploymentController: { type: controller },
    loadBalancers: [
      {
        targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/api-blue/0123456789abcdef`,
        containerName: 'backend',
        containerPort: 8080,
      },
    ],
  });
  emu.codedeploy.createDeploymentGroup({ applicationName: `app-${n}`, deploymentGroupName: `dg-${n}`, cluster, service: 'api' });
  return {
    cluster,
    family,
    first,
    inputs: { cluster, services: 'api', 'codedeploy-application': `app-${n}`, 'codedeploy-deployment-group': `dg-${n}` },
  };
}

async function runningRevision(cluster: string): Promise<string | undefined> {
  const env = emu.env();
  const ecs = new ECSClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: ['api'] }));
  ecs.destroy();
  return out.services?.[0]?.taskDefinition;
}

const run = (inputs: Record<string, string>, ws: string, onSpawn?: (child: ChildProcess) => void) =>
  runBundle('deploy-ecs', {
    inputs: { ...fast, 'task-definition': 'taskdef.json', ...inputs },
    env: emu.env(),
    workspace: ws,
    timeoutMs: 60_000,
    onSpawn,
  });

beforeAll(async () => {
  emu = await startDeployEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs deploys CODE_DEPLOY services through CodeDeploy', () => {
  it('a deployment that succeeds: registers, creates the deployment with a generated AppSpec, follows it', async () => {
    const s = seed();
    emu.codedeploy.nextDeployment({ result: 'success' });
    emu.scheduler.createSchedule('cd-nightly', {
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${s.cluster}`,
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/scheduler`,
        EcsParameters: { TaskDefinitionArn: s.first, LaunchType: 'FARGATE' },
      },
    });
    emu.resetCounts();
    const r = await run({ ...s.inputs, 'scheduled-tasks': 'schedule:default/cd-nightly' }, workspaceWith(taskDef(s.family, 'v2')));
    expect(r.code, r.stdout).toBe(0);
    const next = r.outputs['task-definition-arn']!;
    expect(next).toMatch(new RegExp(`${s.family}:2$`));
    expect(r.outputs.status).toBe('succeeded');
    expect(r.outputs['codedeploy-deployment-id']).toMatch(/^d-[0-9A-F]{9}$/);
    const [dep] = emu.codedeploy.list().slice(-1);
    expect(dep!.id).toBe(r.outputs['codedeploy-deployment-id']);
    expect(JSON.parse(dep!.appSpec).Resources[0].TargetService.Properties).toEqual({
      TaskDefinition: next,
      LoadBalancerInfo: { ContainerName: 'backend', ContainerPort: 8080 },
    });
    expect(r.stdout).toContain('AfterAllowTraffic: Succeeded');
    expect(r.stdout).toContain(`CodeDeploy ${dep!.id}: Succeeded`);
    expect(emu.counts()['ECS.UpdateService'] ?? 0).toBe(0);
    expect(await runningRevision(s.cluster)).toBe(next);
    // Scheduled tasks move once the CodeDeploy deployment succeeded.
    expect(emu.scheduler.getSchedule('cd-nightly').Target.EcsParameters.TaskDefinitionArn).toBe(next);
    expect(r.summary).toContain(`CodeDeploy deployment \`${dep!.id}\``);
    expect(r.summary).toMatch(/\| api \| .*:1 \| .*:2 \|/);
  });

  it("a deployment that fails names the failing lifecycle event and CodeDeploy's error information", async () => {
    const s = seed();
    emu.codedeploy.nextDeployment({
      result: 'fail',
      failAt: 'AfterAllowTestTraffic',
      errorCode: 'HEALTH_CONSTRAINTS',
      message: 'smoke-test Lambda reported 3 failed checks',
    });
    const r = await run(s.inputs, workspaceWith(taskDef(s.family, 'v3')));
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('failed');
    expect(r.stdout).toContain('at lifecycle event AfterAllowTestTraffic');
    expect(r.stdout).toContain('errorInformation: HEALTH_CONSTRAINTS: smoke-test Lambda reported 3 failed checks');
    expect(r.summary).toContain('❌ Failed');
    expect(await runningRevision(s.cluster)).toBe(s.first);
  });

  it('a cancel stops the deployment with rollback (SIGINT, then SIGTERM 7.5 s later)', async () => {
    const s = seed();
    emu.codedeploy.nextDeployment({ result: 'hold', holdAt: 'AfterAllowTestTraffic' });
    const r = await run(s.inputs, workspaceWith(taskDef(s.family, 'v2')), (child) => {
      let out = '';
      let term: NodeJS.Timeout | undefined;
      child.on('exit', () => clearTimeout(term));
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('AfterAllowTestTraffic: InProgress') && !term) {
          child.kill('SIGINT');
          term = setTimeout(() => child.kill('SIGTERM'), 7500);
        }
      });
    });
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('cancelled');
    expect(r.outputs['rolled-back']).toBe('true');
    const [dep] = emu.codedeploy.list().slice(-1);
    expect(dep!.status).toBe('Stopped');
    expect(dep!.rollbackInfo).toBeDefined();
    expect(r.stdout).toContain('StopDeployment');
    expect(await runningRevision(s.cluster)).toBe(s.first);
  });

  it('a timeout stops the deployment with rollback', async () => {
    const s = seed();
    emu.codedeploy.nextDeployment({ result: 'hold', holdAt: 'AllowTestTraffic' });
    // The deployment never finishes (it holds until stopped), so the timeout is reached however fast the machine is.
    const r = await run({ ...s.inputs, 'timeout-minutes': '0.02' }, workspaceWith(taskDef(s.family, 'v2')));
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
    expect(r.outputs['rolled-back']).toBe('true');
    const [dep] = emu.codedeploy.list().slice(-1);
    expect(dep!.status).toBe('Stopped');
    expect(dep!.rollbackInfo).toBeDefined();
  });

  it('an AppSpec file keeps its hooks; only the task definition is replaced', async () => {
    const s = seed();
    const ws = workspaceWith(taskDef(s.family, 'v2'));
    writeFileSync(
      join(ws, 'appspec.yaml'),
      [
        'version: 0.0',
        'Resources:',
        '  - TargetService:',
        '      Type: AWS::ECS::Service',
        '      Properties:',
        '        TaskDefinition: <TASK_DEFINITION>',
        '        LoadBalancerInfo:',
        '          ContainerName: backend',
        '          ContainerPort: 8080',
        'Hooks:',
        '  - AfterAllowTestTraffic: arn:aws:lambda:eu-west-1:123456789012:function:smoke',
        '',
      ].join('\n'),
    );
    const r = await run({ ...s.inputs, 'codedeploy-appspec': 'appspec.yaml' }, ws);
    expect(r.code, r.stdout).toBe(0);
    const [dep] = emu.codedeploy.list().slice(-1);
    const spec = JSON.parse(dep!.appSpec);
    expect(spec.Hooks).toEqual([{ AfterAllowTestTraffic: 'arn:aws:lambda:eu-west-1:123456789012:function:smoke' }]);
    expect(spec.Resources[0].TargetService.Properties.TaskDefinition).toBe(r.outputs['task-definition-arn']);
  });

  it('CodeDeploy inputs for an ECS-controller service are refused before any write', async () => {
    const s = seed('ECS');
    emu.resetCounts();
    const r = await run(s.inputs, workspaceWith(taskDef(s.family, 'v2')));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "Service 'api' uses the ECS deployment controller, but codedeploy-application / codedeploy-deployment-group are set",
    );
    expect(emu.requests().filter((q) => WRITES.includes(q.operation))).toEqual([]);
  });

  it('a task definition of another family is refused before any write (family guard)', async () => {
    const s = seed();
    emu.resetCounts();
    const r = await run(s.inputs, workspaceWith(taskDef('someone-elses-family', 'v2')));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`runs task-definition family '${s.family}'; this would move it to 'someone-elses-family'`);
    expect(emu.requests().filter((q) => WRITES.includes(q.operation))).toEqual([]);
  });

  it('a CODE_DEPLOY service without the CodeDeploy inputs is refused before any write', async () => {
    const s = seed();
    emu.resetCounts();
    const r = await run({ cluster: s.cluster, services: 'api' }, workspaceWith(taskDef(s.family, 'v2')));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('uses the CODE_DEPLOY deployment controller');
    expect(r.stdout).toContain('Set codedeploy-application and codedeploy-deployment-group');
    expect(emu.requests().filter((q) => WRITES.includes(q.operation))).toEqual([]);
  });
});
