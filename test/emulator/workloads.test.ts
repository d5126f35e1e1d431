/**
 * The emulator's EventBridge Scheduler, EventBridge and CodeDeploy through the real SDK v3 clients:
 * the wire protocols (restJson1 / awsJson1_1), typed errors, and the behaviours the actions rely on.
 */
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  DeploymentGroupDoesNotExistException,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import {
  EventBridgeClient,
  ListRuleNamesByTargetCommand,
  ListTargetsByRuleCommand,
  PutTargetsCommand,
  ResourceNotFoundException as EventsNotFound,
} from '@aws-sdk/client-eventbridge';
import {
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';

let emu: Emulator;
let scheduler: SchedulerClient;
let events: EventBridgeClient;
let codedeploy: CodeDeployClient;
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/jobs';
const target = (td: string) => ({
  Arn: CLUSTER,
  RoleArn: 'arn:aws:iam::123456789012:role/s',
  EcsParameters: { TaskDefinitionArn: td, NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-1'] } } },
});

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  const env = emu.env();
  const base = {
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    maxAttempts: 1,
  };
  scheduler = new SchedulerClient(base);
  events = new EventBridgeClient(base);
  codedeploy = new CodeDeployClient(base);
});
afterAll(async () => {
  await emu?.stop();
});

describe('EventBridge Scheduler', () => {
  it('GetSchedule returns what was created; an unknown schedule is ResourceNotFoundException', async () => {
    emu.scheduler.createSchedule('a', {
      ScheduleExpression: 'rate(1 day)',
      Description: 'kept',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: target('td:1'),
    });
    const got = await scheduler.send(new GetScheduleCommand({ Name: 'a' }));
    expect(got.Description).toBe('kept');
    expect(got.Target?.EcsParameters?.NetworkConfiguration?.awsvpcConfiguration?.Subnets).toEqual(['subnet-1']);
    expect(got.CreationDate).toBeInstanceOf(Date);
    await expect(scheduler.send(new GetScheduleCommand({ Name: 'missing' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('UpdateSchedule replaces the whole schedule: a field left out is gone', async () => {
    emu.scheduler.createSchedule('b', {
      ScheduleExpression: 'rate(1 day)',
      Description: 'lost on a partial update',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: target('td:1'),
    });
    await scheduler.send(
      new UpdateScheduleCommand({
        Name: 'b',
        ScheduleExpression: 'rate(1 day)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: CLUSTER, RoleArn: 'arn:aws:iam::123456789012:role/s', EcsParameters: { TaskDefinitionArn: 'td:2' } },
      }),
    );
    const got = await scheduler.send(new GetScheduleCommand({ Name: 'b' }));
    expect(got.Description).toBeUndefined();
    expect(got.Target?.EcsParameters).toEqual({ TaskDefinitionArn: 'td:2' });
  });

  it('ListSchedules pages through every group, naming only the target ARN', async () => {
    emu.scheduler.createScheduleGroup('g');
    emu.scheduler.createSchedule('c', {
      GroupName: 'g',
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: target('td:1'),
    });
    const first = await scheduler.send(new ListSchedulesCommand({ MaxResults: 2 }));
    expect(first.Schedules).toHaveLength(2);
    const rest = await scheduler.send(new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken }));
    const all = [...first.Schedules!, ...rest.Schedules!];
    expect(all.map((s) => `${s.GroupName}/${s.Name}`).sort()).toEqual(['default/a', 'default/b', 'g/c']);
    expect(all[0]!.Target).toEqual({ Arn: CLUSTER });
  });
});

describe('EventBridge rules', () => {
  it('PutTargets replaces a target by Id; ListRuleNamesByTarget finds the rule; an unknown rule is ResourceNotFoundException', async () => {
    emu.events.putRule({ Name: 'r', ScheduleExpression: 'rate(1 hour)' });
    emu.events.putTargets('r', undefined, [{ Id: 't', ...target('td:1'), Input: '{}' }]);
    await events.send(
      new PutTargetsCommand({ Rule: 'r', Targets: [{ Id: 't', Arn: CLUSTER, EcsParameters: { TaskDefinitionArn: 'td:2' } }] }),
    );
    const got = await events.send(new ListTargetsByRuleCommand({ Rule: 'r' }));
    expect(got.Targets).toEqual([{ Id: 't', Arn: CLUSTER, EcsParameters: { TaskDefinitionArn: 'td:2' } }]);
    expect((await events.send(new ListRuleNamesByTargetCommand({ TargetArn: CLUSTER }))).RuleNames).toEqual(['r']);
    await expect(events.send(new ListTargetsByRuleCommand({ Rule: 'nope' }))).rejects.toBeInstanceOf(EventsNotFound);
  });
});

describe('CodeDeploy', () => {
  it('a deployment moves one lifecycle event per GetDeployment; StopDeployment stops it with rollback', async () => {
    emu.codedeploy.createDeploymentGroup({ applicationName: 'app', deploymentGroupName: 'dg', cluster: 'jobs', service: 'api' });
    await expect(
      codedeploy.send(new GetDeploymentGroupCommand({ applicationName: 'app', deploymentGroupName: 'nope' })),
    ).rejects.toBeInstanceOf(DeploymentGroupDoesNotExistException);
    emu.codedeploy.nextDeployment({ result: 'hold', holdAt: 'Install' });
    const content = JSON.stringify({ Resources: [{ TargetService: { Properties: { TaskDefinition: 'td:2' } } }] });
    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: 'app',
        deploymentGroupName: 'dg',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
      }),
    );
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!.status!);
    expect(statuses).toEqual(['InProgress', 'InProgress', 'InProgress', 'InProgress']);
    const t = await codedeploy.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'jobs:api' }));
    expect(t.deploymentTarget?.ecsTarget?.lifecycleEvents?.slice(0, 3).map((e) => e.status)).toEqual([
      'Succeeded',
      'InProgress',
      'Pending',
    ]);
    await codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true }));
    const info = (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
    expect(info.status).toBe('Stopped');
    expect(info.rollbackInfo?.rollbackMessage).toContain('rolled it back');
  });
});
