import { ActionError, aggregate, collectProblems } from '../../lib/errors.js';
import { Inputs, parseKeyValueLines, type InputReader, envReader } from '../../lib/inputs.js';

/** The action's inputs, typed; keys mirror action.yml. Nothing here talks to AWS. */
export interface MigrateInputs {
  cluster: string;
  service?: string;
  taskDefinition?: string;
  container?: string;
  /** The argv the container runs; a string input becomes `sh -c <string>`. */
  command?: string[];
  /** The command as the user wrote it, for logs and the summary. */
  commandText?: string;
  environment: Map<string, string>;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp?: 'ENABLED' | 'DISABLED';
  timeoutMinutes: number;
  pollIntervalSeconds: number;
  startedBy?: string;
  ifRunning: 'fail' | 'wait';
  dryRun: boolean;
  awsRegion?: string;
}

/** `["npx","prisma","migrate","deploy"]` → that argv; `bin/rails db:migrate` → `sh -c 'bin/rails db:migrate'`. */
export function parseCommand(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!raw.startsWith('[')) return ['sh', '-c', raw];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ActionError(`Input 'command' starts with '[' but is not valid JSON (${(err as Error).message}).`, {
      input: 'command',
      fix: 'Write a JSON array of strings such as ["npx","prisma","migrate","deploy"], or a plain string to run with sh -c.',
    });
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string')) {
    throw new ActionError("Input 'command' must be a non-empty JSON array of strings.", {
      input: 'command',
      fix: 'Write it like ["bin/rails","db:migrate"]; numbers and nested arrays are not allowed.',
    });
  }
  return parsed as string[];
}

const STARTED_BY = /^[A-Za-z0-9_/-]{1,36}$/;
const SUBNET = /^subnet-[0-9a-f]+$/;
const SECURITY_GROUP = /^sg-[0-9a-f]+$/;

export function getInputs(reader: InputReader = envReader): MigrateInputs {
  const inputs = new Inputs(reader);
  // Collect every problem in one pass so a user fixes them all at once.
  const { problems, attempt } = collectProblems();

  const cluster = attempt(() => inputs.required('cluster', 'Set cluster: to the name or ARN of the ECS cluster, e.g. delivery-test.'));
  const commandText = inputs.string('command');
  const command = attempt(() => parseCommand(commandText));
  const environment = attempt(() => parseKeyValueLines(reader('environment'), 'environment', /^[A-Za-z_][A-Za-z0-9_]*$/)) ?? new Map();
  const subnets = inputs.lines('subnets', true);
  const securityGroups = inputs.lines('security-groups', true);
  for (const s of subnets.filter((s) => !SUBNET.test(s))) {
    problems.push(
      new ActionError(`'${s}' is not a subnet ID.`, {
        input: 'subnets',
        fix: 'List subnet IDs such as subnet-0abc123, one per line or comma-separated.',
      }),
    );
  }
  for (const g of securityGroups.filter((g) => !SECURITY_GROUP.test(g))) {
    problems.push(
      new ActionError(`'${g}' is not a security group ID.`, {
        input: 'security-groups',
        fix: 'List security group IDs such as sg-0abc123.',
      }),
    );
  }
  const publicIp = attempt(() => (inputs.string('assign-public-ip') === undefined ? undefined : inputs.bool('assign-public-ip', false)));
  const timeoutMinutes = attempt(() => inputs.number('timeout-minutes', 30, { min: 0.01, max: 24 * 60 })) ?? 30;
  const pollIntervalSeconds = attempt(() => inputs.number('poll-interval-seconds', 2, { min: 0.05, max: 300 })) ?? 2;
  const startedBy = inputs.string('started-by');
  if (startedBy !== undefined && !STARTED_BY.test(startedBy)) {
    problems.push(
      new ActionError(`Input 'started-by' is '${startedBy}'; ECS allows up to 36 letters, digits, '-', '_' and '/'.`, {
        input: 'started-by',
        fix: 'Use a short tag such as migrate/backend.',
      }),
    );
  }
  const ifRunning = attempt(() => inputs.oneOf('if-running', ['fail', 'wait'] as const, 'fail')) ?? 'fail';
  const dryRun = attempt(() => inputs.bool('dry-run', false)) ?? false;

  if (problems.length > 0) throw aggregate('migrate-db inputs are invalid', problems);
  return {
    cluster: cluster!,
    service: inputs.string('service'),
    taskDefinition: inputs.string('task-definition'),
    container: inputs.string('container'),
    command,
    commandText,
    environment,
    subnets,
    securityGroups,
    assignPublicIp: publicIp === undefined ? undefined : publicIp ? 'ENABLED' : 'DISABLED',
    timeoutMinutes,
    pollIntervalSeconds,
    startedBy,
    ifRunning,
    dryRun,
    awsRegion: inputs.string('aws-region'),
  };
}
