/**
 * `verify: true`: read-only existence checks of everything the task definition
 * points at, so a typo fails here instead of as a task that never starts.
 * Only Describe* calls: no parameter or secret value is ever read.
 *
 * This file makes the calls for a plan (verify-plan.ts makes the plan).
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { ClientFactory } from '../../lib/aws.js';
import { ActionError, describeUnknown, type Location } from '../../lib/errors.js';
import type { VerifyItem, VerifyPlan } from './verify-plan.js';

/** DescribeParameters takes at most 50 values per ParameterStringFilter. */
export const SSM_BATCH = 50;

const notFound = (err: unknown, ...codes: string[]) => codes.includes((err as { name?: string })?.name ?? '');

export interface VerifyOutcome {
  misses: ActionError[];
  /** References left unchecked because they live in another account: warnings, never failures. */
  notChecked: { message: string; at: Location }[];
}

export interface VerifyLog {
  info(line: string): void;
  warning(line: string, at: Location): void;
}

export async function runVerify(plan: VerifyPlan, clients: ClientFactory, out: VerifyLog): Promise<VerifyOutcome> {
  const misses: ActionError[] = [];
  const notChecked: VerifyOutcome['notChecked'] = [];
  const log = (line: string) => out.info(line);
  const miss = (items: VerifyItem[], message: string, fix: string) => {
    for (const item of items) misses.push(new ActionError(`${item.what}: ${message}`, { ...item.at, fix }));
  };
  const failed = (items: VerifyItem[], what: string, err: unknown, permission: string) =>
    miss(
      items,
      `could not check ${what}: ${describeUnknown(err)}.`,
      `Allow ${permission} for the role this job runs as (see the IAM policy in actions/render-taskdef/README.md), or set verify: false.`,
    );

  const crossAccountSecrets = await sortByAccount(plan, clients, misses, notChecked);
  const checks: Promise<void>[] = [];
  if (plan.ssm.size) {
    const ssm = clients.get(SSMClient);
    const names = [...plan.ssm.keys()];
    for (let i = 0; i < names.length; i += SSM_BATCH) {
      const batch = names.slice(i, i + SSM_BATCH);
      checks.push(
        (async () => {
          const found = new Set<string>();
          try {
            let NextToken: string | undefined;
            do {
              const page = await ssm.send(
                new DescribeParametersCommand({
                  ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: batch }],
                  MaxResults: 50,
                  NextToken,
                }),
              );
              for (const p of page.Parameters ?? []) if (p.Name) found.add(p.Name);
              NextToken = page.NextToken;
            } while (NextToken);
          } catch (err) {
            for (const n of batch) failed(plan.ssm.get(n)!, `SSM parameter ${n}`, err, 'ssm:DescribeParameters');
            return;
          }
          for (const n of batch) {
            if (!found.has(n))
              miss(
                plan.ssm.get(n)!,
                `SSM parameter ${n} does not exist.`,
                `Create it (aws ssm put-parameter --name ${n} --type SecureString ...) or fix the name.`,
              );
          }
        })(),
      );
    }
  }
  if (plan.secrets.size) {
    const sm = clients.get(SecretsManagerClient);
    for (const [id, items] of plan.secrets) {
      checks.push(
        sm.send(new DescribeSecretCommand({ SecretId: id })).then(
          (out) => {
            if (out.DeletedDate)
              miss(
                items,
                `Secrets Manager secret ${id} is scheduled for deletion.`,
                'Restore it (aws secretsmanager restore-secret) or point at another secret.',
              );
          },
          (err) =>
            notFound(err, 'ResourceNotFoundException')
              ? miss(
                  items,
                  `Secrets Manager secret ${id} does not exist.`,
                  'Create it or fix the ARN (copy it from the Secrets Manager console, with its 6-character suffix).',
                )
              : failed(items, `secret ${id}`, err, 'secretsmanager:DescribeSecret'),
        ),
      );
    }
  }
  if (plan.images.size) {
    const ecr = clients.get(ECRClient);
    for (const [uri, img] of plan.images) {
      checks.push(
        ecr
          .send(new DescribeImagesCommand({ registryId: img.registryId, repositoryName: img.repositoryName, imageIds: [img.imageId] }))
          .then(
            () => undefined,
            (err) =>
              notFound(err, 'ImageNotFoundException', 'RepositoryNotFoundException')
                ? miss(
                    img.items,
                    `image ${uri} is not in ECR (${(err as { name: string }).name}).`,
                    'Push the image first (the build job), or fix the tag.',
                  )
                : failed(img.items, `image ${uri}`, err, 'ecr:DescribeImages'),
          ),
      );
    }
  }
  let refused = 0;
  if (crossAccountSecrets.length) {
    const sm = clients.get(SecretsManagerClient);
    for (const a of crossAccountSecrets) {
      const where = `account ${a.account}`;
      checks.push(
        // DescribeSecret takes another account's secret by full ARN when that secret's resource policy allows the caller.
        sm.send(new DescribeSecretCommand({ SecretId: a.key })).then(
          (res) => {
            if (res.DeletedDate)
              miss(
                [a.item],
                `Secrets Manager secret ${a.key} (${where}) is scheduled for deletion.`,
                'Restore it in that account (aws secretsmanager restore-secret) or point at another secret.',
              );
            else log(`${a.item.what}: checked in ${where} by its full ARN`);
          },
          (err) => {
            if (notFound(err, 'ResourceNotFoundException')) {
              miss(
                [a.item],
                `Secrets Manager secret ${a.key} does not exist in ${where}.`,
                'Fix the ARN (copy it from the Secrets Manager console of that account, with its 6-character suffix).',
              );
              return;
            }
            refused++;
            notChecked.push({
              message:
                `${a.item.what}: not checked: ${where} (${a.key}; DescribeSecret by ARN was refused: ${describeUnknown(err)}). The task's ` +
                `execution role, not this job's role, is what must read it: see "Secrets in another account" in the render-taskdef README.`,
              at: a.item.at,
            });
          },
        ),
      );
    }
  }
  if (plan.logGroups.size) {
    const logs = clients.get(CloudWatchLogsClient);
    for (const [group, items] of plan.logGroups) {
      checks.push(
        (async () => {
          try {
            let nextToken: string | undefined;
            do {
              const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group, nextToken }));
              if (page.logGroups?.some((g) => g.logGroupName === group)) return;
              nextToken = page.nextToken;
            } while (nextToken);
            miss(
              items,
              `log group ${group} does not exist.`,
              `Create it (aws logs create-log-group --log-group-name ${group}) or set "awslogs-create-group": "true" (needs logs:CreateLogGroup on ` +
                `the execution role).`,
            );
          } catch (err) {
            failed(items, `log group ${group}`, err, 'logs:DescribeLogGroups');
          }
        })(),
      );
    }
  }
  await Promise.all(checks);
  const secretCount = plan.secrets.size + crossAccountSecrets.length - refused;
  const unchecked = notChecked.length ? `, ${notChecked.length} not checked (another account)` : '';
  log(
    `verified ${plan.ssm.size} SSM parameter(s), ${secretCount} secret(s), ${plan.images.size} image(s), ${plan.logGroups.size} log ` +
      `group(s)${unchecked}: ${misses.length ? `${misses.length} problem(s)` : 'all exist'}`,
  );
  for (const n of notChecked) out.warning(n.message, n.at);
  for (const s of plan.skipped) log(`not verified: ${s}`);
  return { misses, notChecked };
}

/**
 * Moves each reference by ARN to the checks of our account or, when the ARN
 * names another account, to a cross-account check (Secrets Manager, by full
 * ARN) or to "not checked" (SSM: another account's parameter is readable only
 * when it is shared with ours, advanced tier through AWS RAM).
 * Returns the cross-account secrets to check.
 */
async function sortByAccount(
  plan: VerifyPlan,
  clients: ClientFactory,
  misses: ActionError[],
  notChecked: VerifyOutcome['notChecked'],
): Promise<VerifyPlan['byArn']> {
  if (!plan.byArn.length) return [];
  let own: string;
  try {
    // GetCallerIdentity needs no IAM permission: it cannot be denied.
    own = (await clients.get(STSClient).send(new GetCallerIdentityCommand({}))).Account ?? '';
  } catch (err) {
    for (const a of plan.byArn) {
      misses.push(
        new ActionError(`${a.item.what}: could not tell which account this job runs as, to check ${a.ref}: ${describeUnknown(err)}.`, {
          ...a.item.at,
          fix: 'Check the AWS credentials of this job (aws sts get-caller-identity), or set verify: false.',
        }),
      );
    }
    return [];
  }
  const cross: VerifyPlan['byArn'] = [];
  for (const a of plan.byArn) {
    const map = a.kind === 'ssm' ? plan.ssm : plan.secrets;
    if (a.account === own) map.set(a.key, [...(map.get(a.key) ?? []), a.item]);
    else if (a.kind === 'secretsmanager') cross.push(a);
    else {
      notChecked.push({
        message:
          `${a.item.what}: not checked: account ${a.account} (${a.ref}; this job runs as account ${own}, and an SSM parameter of another ` +
          `account can be read only when it is shared with this one).`,
        at: a.item.at,
      });
    }
  }
  return cross;
}
