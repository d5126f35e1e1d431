import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { diagnose, formatDiagnosis, hintFor } from '../../actions/deploy-ecs/diagnose.js';

describe('hintFor', () => {
  it.each([
    ['CannotPullContainerError: pull image manifest has been retried 5 time(s)', /could not be pulled/],
    [
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm',
      /Secrets could not be fetched/,
    ],
    [
      'ResourceInitializationError: failed to fetch ssm parameter /delivery/prod/DATABASE_URL: AccessDeniedException',
      /Secrets could not be fetched/,
    ],
    ['Essential container in task exited — backend exit code 137', /memory/],
    ['Task failed ELB health checks in (target-group arn:…)', /Health checks failed/],
    ['Essential container in task exited — backend exit code 1', /exited on its own/],
  ])('%s', (text, hint) => {
    expect(hintFor([text])).toMatch(hint);
  });

  it.each([
    ['boom: config missing', /exited on its own/],
    ['zoom level invalid', undefined],
    ['cannot reach Melbourne office', undefined],
    ['container killed by the OOM killer', /memory/],
    ['OOMKilled', /memory/],
  ])('is word-bounded: %s', (text, hint) => {
    const texts = hint?.source === 'exited on its own' ? [text, 'exit code 1'] : [text];
    if (hint) expect(hintFor(texts)).toMatch(hint);
    else expect(hintFor(texts)).toBeUndefined();
  });

  it('gives no hint for unknown causes', () => {
    expect(hintFor(['something else'])).toBeUndefined();
  });
});

describe('diagnose', () => {
  const TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7';
  const ecsMock = mockClient(ECSClient);
  const logsMock = mockClient(CloudWatchLogsClient);

  it('collects stopped tasks of our revision only, their exit codes and last log lines', async () => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: ['arn:t/1', 'arn:t/2'] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        {
          taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/aaa',
          taskDefinitionArn: TD,
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          stoppedAt: new Date(2000),
          containers: [{ name: 'api', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
        },
        {
          taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/old',
          taskDefinitionArn: TD.replace(':7', ':6'),
          stopCode: 'ServiceSchedulerInitiated',
          stoppedReason: 'Scaling activity',
          containers: [],
        },
      ],
    });
    logsMock.on(GetLogEventsCommand).resolves({ events: [{ message: 'booting' }, { message: 'java.lang.OutOfMemoryError' }] });
    const d = await diagnose(
      { ecs: new ECSClient({ region: 'eu-west-1' }), logs: new CloudWatchLogsClient({ region: 'eu-west-1' }) },
      {
        cluster: 'prod',
        service: 'api',
        reason: 'rollout FAILED',
        since: 10_000,
        targetArn: TD,
        region: 'eu-west-1',
        svc: {
          events: [
            { createdAt: new Date(5000), message: 'old event' },
            { createdAt: new Date(12_000), message: '(service api) deployment failed: tasks failed to start.' },
          ],
        },
        taskDefinition: {
          containerDefinitions: [
            {
              name: 'api',
              logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/prod', 'awslogs-stream-prefix': 'api' } },
            },
          ],
        },
      },
    );
    expect(d.tasks.map((t) => t.taskId)).toEqual(['aaa']);
    expect(logsMock.commandCalls(GetLogEventsCommand)[0]!.args[0].input).toMatchObject({
      logGroupName: '/ecs/prod',
      logStreamName: 'api/api/aaa',
    });
    expect(d.events).toHaveLength(1);
    expect(d.hint).toMatch(/memory/);
    const text = formatDiagnosis(d).join('\n');
    expect(text).toContain('api exit 137 (OutOfMemoryError: Container killed due to memory usage)');
    expect(text).toContain('java.lang.OutOfMemoryError');
    expect(text).not.toContain('old event');
  });

  it('still reports when the diagnosis calls themselves fail', async () => {
    ecsMock.reset();
    ecsMock.on(ListTasksCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const d = await diagnose(
      { ecs: new ECSClient({ region: 'eu-west-1' }), logs: new CloudWatchLogsClient({ region: 'eu-west-1' }) },
      { cluster: 'prod', service: 'api', reason: 'rollout FAILED', since: 0, targetArn: TD, region: 'eu-west-1' },
    );
    expect(d.notes.join()).toMatch(/stopped tasks unavailable: AccessDeniedException: not allowed/);
  });
});
