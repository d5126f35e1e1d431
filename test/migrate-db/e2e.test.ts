/**
 * The migrate-db bundle, run like the runner runs it, against the local AWS
 * emulator. Each test uses its own `started-by`, so scenarios match exactly
 * and one test's task never trips the next test's concurrency guard.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle, type RunOptions } from '../helpers/run-bundle.js';
import { CLUSTER, FAMILY, LOG_GROUP, backendTaskDef } from './fixtures.js';

let emu: Emulator;
let ecs: ECSClient;
const WRITES = ['RunTask', 'StopTask', 'RegisterTaskDefinition', 'TagResource', 'UpdateService'];

/** The rendered backend task definition of examples/delivery-app, as RegisterTaskDefinition takes it. */
function renderedBackend(image?: string) {
  const { taskDefinitionArn: _readOnly, ...def } = backendTaskDef();
  if (image) def.containerDefinitions![0]!.image = image;
  return def;
}

function run(startedBy: string, inputs: Record<string, string | number | boolean>, opts: Omit<RunOptions, 'inputs'> = {}) {
  return runBundle('migrate-db', {
    ...opts,
    inputs: { cluster: CLUSTER, service: 'backend', 'started-by': startedBy, 'poll-interval-seconds': 0.2, ...inputs },
    env: { ...emu.env(), GITHUB_JOB: 'deploy', GITHUB_ACTION: startedBy.replace(/\W/g, '_'), ...opts.env },
  });
}

const writes = () => emu.requests().filter((r) => WRITES.includes(r.operation));
const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${String(i + 1).padStart(4, '0')}`);

async function taskStatus(arn: string): Promise<string | undefined> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  return out.tasks?.[0]?.lastStatus;
}

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  emu.ecs.createCluster(CLUSTER);
  emu.logs.createLogGroup(LOG_GROUP);
  const arn = emu.ecs.registerTaskDefinition(renderedBackend());
  emu.ecs.createService({
    cluster: CLUSTER,
    serviceName: 'backend',
    taskDefinition: arn,
    desiredCount: 2,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' },
    },
  });
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

beforeEach(() => {
  emu.resetCounts();
  emu.scenarios.clear();
});

describe('migrate-db bundle on the emulator', () => {
  it('succeeds, streams every log line in order (the last one too), and sets outputs and the summary', async () => {
    const written = lines(300, 'migrated');
    emu.scenarios.nextTask({ startedBy: 'migrate/ok' }, { exitCode: 0, afterSeconds: 1.5, logLines: written });
    const r = await run('migrate/ok', { command: '["npx","prisma","migrate","deploy"]' });

    expect(r.code, r.stdout).toBe(0);
    const shown = r.stdout.split('\n').filter((l) => l.startsWith('migrated '));
    expect(shown).toEqual(written);
    expect(r.outputs).toMatchObject({
      'exit-code': '0',
      'task-arn': expect.stringMatching(/:task\/delivery-test\//),
      'log-stream': expect.stringMatching(/^backend\/backend\/[0-9a-f]+$/),
    });
    expect(Number(r.outputs['duration-seconds'])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/Console: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/ecs\/v2\/clusters\/delivery-test\/tasks\//);
    expect(r.summary).toContain('`npx prisma migrate deploy`'.replace('npx prisma migrate deploy', '["npx","prisma","migrate","deploy"]'));
    expect(r.summary).toContain('succeeded (exit code 0)');
    expect(r.summary).toContain(written.slice(-20).join('\n'));
    expect(r.summary).not.toContain(written[279]);
    // The task ran what we asked, in the container we judged, tagged and idempotent.
    const request = emu.requests().filter((x) => x.operation === 'RunTask');
    expect(request).toHaveLength(1);
    const task = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [r.outputs['task-arn']!], include: ['TAGS'] })))
      .tasks![0]!;
    expect(task.overrides?.containerOverrides?.[0]).toMatchObject({ name: 'backend', command: ['npx', 'prisma', 'migrate', 'deploy'] });
    expect(task.startedBy).toBe('migrate/ok');
    expect(task.tags).toContainEqual({ key: 'aws-deploy-actions:action', value: 'migrate-db' });
  });

  it('fails with the exit code of the migration container', async () => {
    emu.scenarios.nextTask(
      { startedBy: 'migrate/exit1' },
      { exitCode: 1, afterSeconds: 0.5, logLines: ['PG::DuplicateTable: relation "orders" already exists'] },
    );
    const r = await run('migrate/exit1', {
      command: 'bin/rails db:migrate',
      environment: 'RAILS_LOG_LEVEL=debug\nDISABLE_DATABASE_ENVIRONMENT_CHECK=1',
    });
    expect(r.code).toBe(1);
    expect(r.outputs['exit-code']).toBe('1');
    const task = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [r.outputs['task-arn']!] }))).tasks![0]!;
    expect(task.overrides?.containerOverrides?.[0]).toEqual({
      name: 'backend',
      command: ['sh', '-c', 'bin/rails db:migrate'],
      environment: [
        { name: 'RAILS_LOG_LEVEL', value: 'debug' },
        { name: 'DISABLE_DATABASE_ENVIRONMENT_CHECK', value: '1' },
      ],
    });
    expect(r.errors.join('\n')).toMatch(/Migration failed with exit code 1/);
    expect(r.stdout).toContain('PG::DuplicateTable: relation "orders" already exists');
    expect(r.summary).toContain('failed with exit code 1');
  });

  it('fails a task that never started with its stopCode and stoppedReason, never "success"', async () => {
    emu.scenarios.nextTask(
      { startedBy: 'migrate/nostart' },
      {
        pendingSeconds: 0.3,
        failToStart: {
          stopCode: 'TaskFailedToStart',
          stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
        },
      },
    );
    const r = await run('migrate/nostart', { command: 'bin/rails db:migrate' });
    expect(r.code).toBe(1);
    expect(r.outputs['exit-code']).toBe('');
    expect(r.errors.join('\n')).toMatch(/never ran: TaskFailedToStart — CannotPullContainerError/);
  });

  it('when an essential sidecar exits and ECS stops the task, reports the stop reason and the sidecar with the exit code', async () => {
    const def = renderedBackend();
    def.family = `${FAMILY}-mesh`;
    def.containerDefinitions = [
      def.containerDefinitions![0]!,
      { name: 'envoy', image: 'public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.12.0-prod', essential: true },
    ];
    emu.ecs.registerTaskDefinition(def);
    emu.scenarios.nextTask(
      { startedBy: 'migrate/sidecar' },
      { exitCode: 1, exitingContainer: 'envoy', afterSeconds: 0.5, logLines: ['applying 0042_orders'] },
    );
    const r = await run('migrate/sidecar', { 'task-definition': def.family, container: 'backend', command: 'bin/rails db:migrate' });
    expect(r.code).toBe(1);
    expect(r.outputs['exit-code']).toBe('143');
    const result =
      'failed with exit code 143 (task stopped: EssentialContainerExited: Essential container in task exited; other containers: envoy exited 1)';
    expect(r.errors.join('\n')).toContain(`Migration ${result}`);
    expect(r.summary).toContain(result);
  });

  it('handles a task that goes PENDING → STOPPED between two polls', async () => {
    // Each DescribeTasks moves the emulator's clock 1 s: the first poll sees it PENDING (1 s of 1.5),
    // the second STOPPED; its 0.1 s of RUNNING falls between them.
    emu.scenarios.nextTask({ startedBy: 'migrate/quick' }, { pendingSeconds: 1.5, afterSeconds: 0.1, exitCode: 0, logLines: ['done'] });
    const r = await run('migrate/quick', { command: 'true' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/task [0-9a-f]+: (PROVISIONING|PENDING) → STOPPED/);
    expect(r.stdout).not.toMatch(/→ RUNNING/);
    expect(r.stdout.split('\n')).toContain('done');
  });

  it('on timeout sends StopTask, leaves the task STOPPED, and fails naming timeout-minutes', async () => {
    emu.scenarios.nextTask({ startedBy: 'migrate/slow' }, { afterSeconds: 120, logLines: ['waiting for advisory lock'] });
    const r = await run('migrate/slow', { command: 'bin/rails db:migrate', 'timeout-minutes': 0.03 });
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/timeout-minutes.*timed out after timeout-minutes \(0\.03\)/);
    expect(emu.requests().map((x) => x.operation)).toContain('StopTask');
    expect(await taskStatus(r.outputs['task-arn']!)).toBe('STOPPED');
  });

  // The runner cancels with SIGINT, then SIGTERM 7.5 s later; either one must stop the task.
  it.each(['SIGINT', 'SIGTERM'] as const)('when the workflow is cancelled (%s) sends StopTask and exits failed', async (signal) => {
    const startedBy = `migrate/cancel-${signal}`;
    emu.scenarios.nextTask({ startedBy }, { afterSeconds: 120 });
    const r = await run(
      startedBy,
      { command: 'bin/rails db:migrate' },
      {
        onSpawn: (child) => {
          let out = '';
          child.stdout?.on('data', (d) => {
            out += d;
            if (/Started task/.test(out) && !child.killed) child.kill(signal);
          });
        },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${signal} received`);
    expect(r.errors.join('\n')).toMatch(/workflow was cancelled; StopTask was sent/);
    expect(emu.requests().map((x) => x.operation)).toContain('StopTask');
    const arn = /Started task (\S+)/.exec(r.stdout)![1]!;
    // taskStatus's DescribeTasks moves the emulator's clock 1 s, past the stop grace period.
    expect(await taskStatus(arn)).toBe('STOPPED');
  });

  it('a step retried in the same run attempt follows the task it already started; a new attempt starts a new one', async () => {
    emu.scenarios.nextTask({ startedBy: 'migrate/retry' }, { afterSeconds: 2, logLines: ['step 1', 'step 2', 'last line'] });
    // The first try dies hard (runner lost) right after RunTask: no StopTask, the task keeps running.
    const first = await run(
      'migrate/retry',
      { command: 'bin/rails db:migrate' },
      {
        onSpawn: (child) => {
          let out = '';
          child.stdout?.on('data', (d) => {
            out += d;
            if (/Started task/.test(out) && !child.killed) child.kill('SIGKILL');
          });
        },
      },
    );
    const firstArn = /Started task (\S+)/.exec(first.stdout)![1];
    const retry = await run('migrate/retry', { command: 'bin/rails db:migrate' });
    expect(retry.code, retry.stdout).toBe(0);
    expect(retry.outputs['task-arn']).toBe(firstArn);
    expect(retry.stdout.split('\n').filter((l) => /^(step \d|last line)$/.test(l))).toEqual(['step 1', 'step 2', 'last line']);
    expect(emu.requests().filter((x) => x.operation === 'StopTask')).toEqual([]);

    const rerun = await run('migrate/retry', { command: 'bin/rails db:migrate' }, { env: { GITHUB_RUN_ATTEMPT: '2' } });
    expect(rerun.code).toBe(0);
    expect(rerun.outputs['task-arn']).not.toBe(firstArn);
  });

  it('a retry of the same step with changed parameters fails with ConflictException explained, starting nothing', async () => {
    const first = await run('migrate/conflict', { command: 'bin/rails db:migrate', environment: 'SEED=false' });
    expect(first.code).toBe(0);
    emu.resetCounts();
    const changed = await run('migrate/conflict', { command: 'bin/rails db:migrate', environment: 'SEED=true' });
    expect(changed.code).toBe(1);
    expect(changed.errors.join('\n')).toMatch(
      /RunTask refused client token migrate-1234567890-1-[0-9a-f]+: a task was already started with it and different parameters/,
    );
    expect(emu.requests().filter((x) => x.operation === 'RunTask' && x.status === 200)).toEqual([]);
  });

  it('refuses to start while another migration of the service is running, without a write call', async () => {
    emu.scenarios.nextTask({ startedBy: 'migrate/busy' }, { afterSeconds: 120 });
    const other = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: FAMILY,
        startedBy: 'migrate/busy',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'] } },
      }),
    );
    emu.resetCounts();
    const r = await run('migrate/busy', { command: 'bin/rails db:migrate' });
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(/input 'if-running': Another migration started by 'migrate\/busy' is still running/);
    expect(writes()).toEqual([]);
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: other.tasks![0]!.taskArn! }));
  });

  it('with if-running: wait, queues behind the running migration and then runs', async () => {
    // Still running at the bundle's first look (its ListTasks and DescribeTasks move the clock 2 s).
    emu.scenarios.nextTask({ startedBy: 'migrate/queue' }, { afterSeconds: 6 });
    const other = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: FAMILY,
        startedBy: 'migrate/queue',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'] } },
      }),
    );
    emu.scenarios.nextTask({ startedBy: 'migrate/queue' }, { afterSeconds: 0.3, logLines: ['second migration ran'] });
    const r = await run('migrate/queue', { command: 'bin/rails db:migrate', 'if-running': 'wait' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(`Waiting for another migration to finish: ${other.tasks![0]!.taskArn!.split('/').pop()}`);
    expect(r.stdout.split('\n')).toContain('second migration ran');
    const ops = emu.requests().map((x) => x.operation);
    expect(ops.lastIndexOf('ListTasks')).toBeLessThan(ops.lastIndexOf('RunTask'));
  });

  it('dry-run prints the resolved request, masks secret-looking overrides, and makes no write call', async () => {
    const r = await run('migrate/dry', {
      command: 'bin/rails db:migrate',
      environment: 'DATABASE_URL=postgres://app:hunter2@db/app\nRAILS_LOG_LEVEL=info',
      'dry-run': true,
    });
    expect(r.code, r.stdout).toBe(0);
    expect(writes()).toEqual([]);
    expect(r.stdout).toContain('"startedBy": "migrate/dry"');
    expect(r.stdout).toContain('"subnets": [');
    expect(r.stdout).toContain('"value": "info"');
    // Registered with the runner as a secret, and never printed by us.
    expect(r.stdout).toContain('::add-mask::postgres://app:hunter2@db/app');
    expect(r.stdout.replace('::add-mask::postgres://app:hunter2@db/app', '')).not.toContain('hunter2');
  });

  it('registers a task-definition file only when it changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-taskdef-'));
    writeFileSync(
      join(dir, 'backend.json'),
      JSON.stringify(renderedBackend('123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:def456')),
    );
    const first = await run('migrate/file', { 'task-definition': 'backend.json', command: 'true' }, { workspace: dir });
    const second = await run('migrate/file', { 'task-definition': 'backend.json', command: 'true' }, { workspace: dir });
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(emu.requests().filter((x) => x.operation === 'RegisterTaskDefinition')).toHaveLength(1);
    expect(second.stdout).toMatch(/unchanged: using .*delivery-test-backend:\d+/);
  });

  it.each([
    ['malformed command JSON', { command: '["bin/rails", "db:migrate"' }, /input 'command'/],
    ['an unknown container', { container: 'web' }, /input 'container': Container 'web' is not in task definition/],
    [
      'a non-essential container (its exit would not end the task)',
      { container: 'otel-collector' },
      /input 'container': Container 'otel-collector' is not essential in task definition \S+delivery-test-backend:\d+ \("essential": false\)[^]*Set "essential": true on container 'otel-collector'/,
    ],
    ['no service and no network configuration', { service: '', 'task-definition': FAMILY }, /input 'subnets'/],
    ['a service that does not exist', { service: 'payments' }, /input 'service': Service 'payments' was not found/],
  ])('fails on %s before any write call, naming the input', async (_name, inputs, message) => {
    const r = await run('migrate/bad', inputs);
    expect(r.code).toBe(1);
    expect(r.errors.join('\n')).toMatch(message);
    expect(writes()).toEqual([]);
  });
});
