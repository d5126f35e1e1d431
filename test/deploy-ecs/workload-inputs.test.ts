/** The scheduled-tasks and CodeDeploy inputs: parsed and refused without any AWS call. */
import { describe, expect, it } from 'vitest';
import { getInputs } from '../../actions/deploy-ecs/inputs.js';
import { parseScheduledTasks } from '../../actions/deploy-ecs/scheduled/refs.js';
import { ActionError } from '../../lib/errors.js';

const base = { 'task-definition': 'taskdef.json', cluster: 'delivery-prod', services: 'api' };
const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const read = (values: Record<string, string>) =>
  getInputs(reader({ ...base, ...values }), { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' });
const problems = (values: Record<string, string>): string[] => {
  try {
    read(values);
  } catch (err) {
    if (!(err instanceof ActionError)) throw err;
    return (err.problems.length ? err.problems : [err]).map((p) => `${p.location.input}: ${p.message}`);
  }
  return [];
};

describe('scheduled-tasks', () => {
  it.each([
    ['schedule:default/nightly-report', [{ kind: 'schedule', group: 'default', name: 'nightly-report' }]],
    ['rule:default/hourly', [{ kind: 'rule', bus: 'default', name: 'hourly' }]],
    ['rule:aws.partner/saas.com/1234/orders/cleanup', [{ kind: 'rule', bus: 'aws.partner/saas.com/1234/orders', name: 'cleanup' }]],
    ['# cron jobs\nauto\n\nschedule:jobs/a', [{ kind: 'auto' }, { kind: 'schedule', group: 'jobs', name: 'a' }]],
  ])('%j', (raw, refs) => {
    expect(parseScheduledTasks(raw)).toEqual(refs);
  });

  it('reports every bad line with its number, before any AWS call', () => {
    expect(
      problems({
        'scheduled-tasks': 'schedule:default/ok\nschedule:nightly\ncron:default/x\nschedule:default/bad name\nschedule:default/ok',
      }),
    ).toEqual([
      "scheduled-tasks: line 2: 'schedule:nightly' names no group and name.",
      "scheduled-tasks: line 3: 'cron:default/x' is neither schedule:<group>/<name>, rule:<event-bus>/<name> nor auto.",
      "scheduled-tasks: line 4: 'bad name' is not a schedule name.",
      "scheduled-tasks: line 5: 'schedule:default/ok' is listed twice.",
    ]);
  });

  it('is empty by default', () => {
    expect(read({}).scheduledTasks).toEqual([]);
  });
});

describe('CodeDeploy inputs', () => {
  it('both names set: deployed through CodeDeploy', () => {
    expect(read({ 'codedeploy-application': 'delivery', 'codedeploy-deployment-group': 'delivery-api' }).codedeploy).toEqual({
      application: 'delivery',
      deploymentGroup: 'delivery-api',
      appspec: undefined,
    });
    expect(read({}).codedeploy).toBeUndefined();
  });

  it.each([
    [
      { 'codedeploy-application': 'delivery' },
      'codedeploy-deployment-group: codedeploy-application is set without codedeploy-deployment-group.',
    ],
    [{ 'codedeploy-deployment-group': 'g' }, 'codedeploy-application: codedeploy-deployment-group is set without codedeploy-application.'],
    [
      { 'codedeploy-appspec': 'appspec.yaml' },
      'codedeploy-appspec: codedeploy-appspec is set without codedeploy-application and codedeploy-deployment-group.',
    ],
    [
      { 'codedeploy-application': 'a', 'codedeploy-deployment-group': 'g', services: 'api\nworker' },
      'services: A CodeDeploy deployment group deploys one service; services lists 2.',
    ],
    [
      { 'codedeploy-application': 'a', 'codedeploy-deployment-group': 'g', 'codedeploy-appspec': 'missing-appspec.yaml' },
      "codedeploy-appspec: AppSpec file 'missing-appspec.yaml' does not exist.",
    ],
    [
      { 'codedeploy-application': 'a', 'codedeploy-deployment-group': 'g', 'gate-url': 'https://test.example.com' },
      'gate-url: gate-url is not supported for a CODE_DEPLOY service: CodeDeploy runs its own test-traffic hooks (AfterAllowTestTraffic Lambda functions).',
    ],
  ])('%j is refused', (values, problem) => {
    expect(problems(values)).toContain(problem);
  });
});
