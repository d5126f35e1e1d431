/**
 * End-to-end: scheduled tasks (EventBridge Scheduler schedules, EventBridge rules) move with the
 * release, through the committed bundle on the emulator: named explicitly or found by `auto`,
 * only the task definition changes, and a failed deploy leaves them where they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { ACCOUNT, Seeder, startDeployEmulator, taskDef, workspaceWith } from './e2e-seed.js';

let emu: Emulator;
const seeder = new Seeder(() => emu, 'sched');
const fast = { 'poll-interval-seconds': '0.2', 'timeout-minutes': '0.5' };
const run = (inputs: Record<string, string>, ws: string) =>
  runBundle('deploy-ecs', { inputs: { ...fast, ...inputs }, env: emu.env(), workspace: ws, timeoutMs: 60_000 });

const clusterArn = (cluster: string) => `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${cluster}`;
const role = `arn:aws:iam::${ACCOUNT}:role/delivery-scheduler`;
const network = {
  awsvpcConfiguration: { Subnets: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'], SecurityGroups: ['sg-0a1b2c3d'], AssignPublicIp: 'DISABLED' },
};

/** A schedule with every field a team sets, so a lost field shows. */
function createSchedule(name: string, cluster: string, taskDefinitionArn: string, group = 'default') {
  return emu.scheduler.createSchedule(name, {
    GroupName: group,
    ScheduleExpression: 'cron(0 3 * * ? *)',
    ScheduleExpressionTimezone: 'Europe/Berlin',
    Description: 'nightly report',
    State: 'ENABLED',
    FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
    ActionAfterCompletion: 'NONE',
    Target: {
      Arn: clusterArn(cluster),
      RoleArn: role,
      Input: JSON.stringify({ containerOverrides: [{ name: 'backend', command: ['bin/rails', 'reports:nightly'] }] }),
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
      DeadLetterConfig: { Arn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:scheduler-dlq` },
      EcsParameters: {
        TaskDefinitionArn: taskDefinitionArn,
        TaskCount: 1,
        LaunchType: 'FARGATE',
        PlatformVersion: '1.4.0',
        NetworkConfiguration: network,
        EnableECSManagedTags: true,
        PropagateTags: 'TASK_DEFINITION',
        Group: 'cron',
        Tags: [{ team: 'delivery' }],
      },
    },
  });
}

function putRule(name: string, cluster: string, taskDefinitionArn: string, bus = 'default') {
  emu.events.putRule({ Name: name, EventBusName: bus, ScheduleExpression: 'rate(1 hour)' });
  emu.events.putTargets(name, bus, [
    { Id: 'cleanup', Arn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:unrelated` },
    {
      Id: 'cleanup-task',
      Arn: clusterArn(cluster),
      RoleArn: role,
      Input: '{"containerOverrides":[{"name":"backend","command":["bin/rails","cleanup"]}]}',
      RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 1 },
      EcsParameters: {
        TaskDefinitionArn: taskDefinitionArn,
        TaskCount: 1,
        LaunchType: 'FARGATE',
        NetworkConfiguration: {
          awsvpcConfiguration: { Subnets: ['subnet-0a1b2c3d'], SecurityGroups: ['sg-0a1b2c3d'], AssignPublicIp: 'DISABLED' },
        },
        PlatformVersion: 'LATEST',
      },
    },
  ]);
}

/** The schedule without what a move may change: the task definition and the modification time (compared deeply: JSON key order is not data). */
function scheduleExceptRevision(name: string, group = 'default') {
  const s = emu.scheduler.getSchedule(name, group);
  return {
    ...s,
    LastModificationDate: undefined,
    Target: { ...s.Target, EcsParameters: { ...s.Target.EcsParameters, TaskDefinitionArn: undefined } },
  };
}
const scheduleRevision = (name: string, group = 'default') =>
  emu.scheduler.getSchedule(name, group).Target.EcsParameters.TaskDefinitionArn as string;
const ruleTarget = (name: string, bus = 'default') => emu.events.targets(name, bus).find((t) => t.Id === 'cleanup-task')!;
const writes = () =>
  emu.requests().filter((q) => ['RegisterTaskDefinition', 'UpdateService', 'UpdateSchedule', 'PutTargets'].includes(q.operation));

beforeAll(async () => {
  emu = await startDeployEmulator();
  emu.events.createEventBus('delivery-jobs');
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs moves scheduled tasks with the release', () => {
  it('named explicitly: a schedule and a rule target move to the new revision, every other field unchanged', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    createSchedule('nightly-report', cluster, first);
    putRule('hourly-cleanup', cluster, first);
    const scheduleBefore = scheduleExceptRevision('nightly-report');
    const ruleBefore = emu.events.targets('hourly-cleanup');
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'scheduled-tasks': 'schedule:default/nightly-report\nrule:default/hourly-cleanup',
      },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code, r.stdout).toBe(0);
    const next = r.outputs['task-definition-arn']!;
    expect(next).toMatch(new RegExp(`${family}:2$`));
    expect(scheduleRevision('nightly-report')).toBe(next);
    expect(scheduleExceptRevision('nightly-report')).toStrictEqual(scheduleBefore);
    const ruleAfter = emu.events.targets('hourly-cleanup');
    expect(ruleAfter.find((t) => t.Id === 'cleanup-task')!.EcsParameters.TaskDefinitionArn).toBe(next);
    expect(
      ruleAfter.map((t) => (t.EcsParameters ? { ...t, EcsParameters: { ...t.EcsParameters, TaskDefinitionArn: first } } : t)),
    ).toStrictEqual(ruleBefore);
    expect(r.summary).toContain('Scheduled tasks');
    expect(r.summary).toMatch(new RegExp(`schedule:default/nightly-report\` \\| ${family}:1 \\| ${family}:2 \\| ✅ moved`));
    expect(r.summary).toMatch(new RegExp(`rule:default/hourly-cleanup\` \\| ${family}:1 \\| ${family}:2 \\| ✅ moved`));
    // The move comes after the services are steady: the last service update precedes the first schedule write.
    const ops = emu.requests().map((q) => q.operation);
    expect(ops.lastIndexOf('DescribeServices')).toBeLessThan(ops.indexOf('UpdateSchedule'));
  });

  it('auto: finds the schedules and rules of this family on this cluster; another family and another cluster stay', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    const other = seeder.seed(['admin']);
    emu.scheduler.createScheduleGroup('delivery');
    createSchedule('auto-report', cluster, first, 'delivery');
    createSchedule('admin-report', cluster, other.first); // another family, same cluster
    createSchedule('other-cluster-report', other.cluster, first); // same family, another cluster
    putRule('auto-cleanup', cluster, first, 'delivery-jobs');
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run(
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'scheduled-tasks': 'auto' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code, r.stdout).toBe(0);
    const next = r.outputs['task-definition-arn']!;
    expect(scheduleRevision('auto-report', 'delivery')).toBe(next);
    expect(ruleTarget('auto-cleanup', 'delivery-jobs').EcsParameters.TaskDefinitionArn).toBe(next);
    expect(scheduleRevision('admin-report')).toBe(other.first);
    expect(scheduleRevision('other-cluster-report')).toBe(first);
    expect(r.summary).toContain('schedule:delivery/auto-report');
    expect(r.summary).toContain('rule:delivery-jobs/auto-cleanup');
    expect(r.summary).not.toContain('admin-report');
  });

  it('a failed deploy leaves them on the old revision and writes neither', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    createSchedule('failing-report', cluster, first);
    putRule('failing-cleanup', cluster, first);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'fail', afterSeconds: 0.6, exitCode: 1 });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'scheduled-tasks': 'schedule:default/failing-report\nrule:default/failing-cleanup',
      },
      workspaceWith(taskDef(family, 'v3')),
    );
    expect(r.code).toBe(1);
    expect(r.outputs['rolled-back']).toBe('true');
    expect(scheduleRevision('failing-report')).toBe(first);
    expect(ruleTarget('failing-cleanup').EcsParameters.TaskDefinitionArn).toBe(first);
    expect(emu.counts()['Scheduler.UpdateSchedule'] ?? 0).toBe(0);
    expect(emu.counts()['EventBridge.PutTargets'] ?? 0).toBe(0);
    expect(r.summary).toMatch(/failing-report` \| .*:1 \| .*:2 \| ↩️ not moved: the deploy failed and was rolled back/);
  });

  it('dry-run lists them and moves nothing', async () => {
    const { cluster, family, first } = seeder.seed(['backend']);
    createSchedule('dry-report', cluster, first);
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'scheduled-tasks': 'schedule:default/dry-report',
        'dry-run': 'true',
      },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`schedule:default/dry-report: would move ${family}:1 → \\(new revision\\)`));
    expect(r.summary).toContain('📝 planned');
    expect(writes()).toEqual([]);
    expect(scheduleRevision('dry-report')).toBe(first);
  });

  it('bad input fails before any write, naming the input and the line', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    emu.resetCounts();
    const r = await run(
      { 'task-definition': 'taskdef.json', cluster, services: 'backend', 'scheduled-tasks': 'schedule:default/ok\nschedule:nightly' },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/scheduled-tasks.*line 2: 'schedule:nightly' names no group and name/);
    expect(emu.requests()).toEqual([]);
  });

  it('a schedule that does not exist or runs another family fails before any write', async () => {
    const { cluster, family } = seeder.seed(['backend']);
    const other = seeder.seed(['admin']);
    createSchedule('admins-job', cluster, other.first);
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'scheduled-tasks': 'schedule:default/missing-job\nschedule:default/admins-job',
      },
      workspaceWith(taskDef(family, 'v2')),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('schedule:default/missing-job was not found');
    expect(r.stdout).toContain(`schedule:default/admins-job: it runs task-definition family '${other.family}', not '${family}'`);
    expect(writes()).toEqual([]);
    expect(scheduleRevision('admins-job')).toBe(other.first);
  });
});
