/**
 * The policy check itself: a README policy read from its Markdown, evaluated by the IAM engine
 * against calls. Each case is the check failing (or passing) for the reason it names.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IamCall } from '../emulator/iam.js';
import { evaluate, readReadmePolicy } from './policies.js';

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/shop-test';

function readme(section: string): string {
  const root = mkdtempSync(join(tmpdir(), 'iam-readme-'));
  mkdirSync(join(root, 'actions', 'migrate-db'), { recursive: true });
  writeFileSync(
    join(root, 'actions', 'migrate-db', 'README.md'),
    `# migrate-db\n\n## Inputs\n\ntext\n\n## IAM policy\n\n${section}\n\n## Errors\n\nmore\n`,
  );
  return root;
}

const POLICY = `\`\`\`json
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "RunAndFollow",
      "Effect": "Allow",
      "Action": ["ecs:RunTask", "ecs:DescribeTasks"],
      "Resource": "*",
      "Condition": { "ArnEquals": { "ecs:cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/delivery-test" } }
    },
    {
      "Sid": "PassTaskRoles",
      "Effect": "Allow",
      "Action": "iam:PassRole",
      "Resource": "arn:aws:iam::123456789012:role/delivery-test-task",
      "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }
    }
  ]
}
\`\`\`

- Example value \`delivery-test\`: the cluster and role name prefix.`;

const CALLS: IamCall[] = [
  {
    action: 'ecs:RunTask',
    resource: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-test-migrate:3',
    context: { 'ecs:cluster': CLUSTER },
  },
  { action: 'ecs:DescribeTasks', resource: 'arn:aws:ecs:eu-west-1:123456789012:task/shop-test/abc', context: { 'ecs:cluster': CLUSTER } },
  {
    action: 'iam:PassRole',
    resource: 'arn:aws:iam::123456789012:role/shop-test-task',
    context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
  },
];

describe('evaluate (README policy against calls, by @cloud-copilot/iam-simulate)', () => {
  it('allows every call when each statement and action is used; example values stand for any name', async () => {
    expect(await evaluate(readReadmePolicy(readme(POLICY), 'migrate-db'), CALLS)).toEqual({ denied: [], unused: [] });
  });

  it('names the call an action missing from the policy leaves denied', async () => {
    const policy = readReadmePolicy(readme(POLICY.replace('"ecs:RunTask", ', '')), 'migrate-db');
    const { denied, unused } = await evaluate(policy, CALLS);
    expect(denied.map((d) => `${d.call.action} ${d.call.resource} ${d.result}`)).toEqual([
      'ecs:RunTask arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-test-migrate:3 ImplicitlyDenied',
    ]);
    expect(unused).toEqual([]);
  });

  it('denies a call whose condition key does not match (a role passed to another service)', async () => {
    const calls = CALLS.map((c) =>
      c.action === 'iam:PassRole' ? { ...c, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } } : c,
    );
    const { denied } = await evaluate(readReadmePolicy(readme(POLICY), 'migrate-db'), calls);
    expect(denied.map((d) => d.call.action)).toEqual(['iam:PassRole']);
  });

  it('names a statement no call uses, and an action of a used statement no call uses', async () => {
    const extra = POLICY.replace(
      '    {\n      "Sid": "PassTaskRoles"',
      '    { "Sid": "Unneeded", "Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*" },\n    {\n      "Sid": "PassTaskRoles"',
    ).replace('"ecs:DescribeTasks"]', '"ecs:DescribeTasks", "ecs:StopTask"]');
    const { denied, unused } = await evaluate(readReadmePolicy(readme(extra), 'migrate-db'), CALLS);
    expect(denied).toEqual([]);
    expect(unused).toEqual(['RunAndFollow ecs:StopTask', 'Unneeded']);
  });

  it('accepts an unused statement or action only with a reason in the README', async () => {
    const extra = `${POLICY.replace('"ecs:DescribeTasks"]', '"ecs:DescribeTasks", "ecs:StopTask"]')}
- \`RunAndFollow\` \`ecs:StopTask\` not exercised by the tests: only a cancelled run stops its task.`;
    expect((await evaluate(readReadmePolicy(readme(extra), 'migrate-db'), CALLS)).unused).toEqual([]);
  });

  it('refuses a statement without a Sid and a reason that names no statement', () => {
    expect(() => readReadmePolicy(readme(POLICY.replace('"Sid": "PassTaskRoles",', '')), 'migrate-db')).toThrow(/needs a Sid/);
    expect(() => readReadmePolicy(readme(`${POLICY}\n- \`Nope\` not exercised by the tests: reason.`), 'migrate-db')).toThrow(
      /names no statement/,
    );
  });
});
