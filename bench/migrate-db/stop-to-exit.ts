/**
 * migrate-db benchmark (prints figures, asserts nothing).
 *
 *   npx tsx bench/migrate-db/stop-to-exit.ts      # LINES=5000 LINE_BYTES=250 RUN_SECONDS=6 TRIALS=3 by default
 *
 * Starts the emulator and, per trial, a migration task that prints LINES lines
 * of about LINE_BYTES bytes over RUN_SECONDS and exits 0. It measures, for
 *   (a) the committed migrate-db bundle with default inputs, and
 *   (b) the naive peer behaviour of run-task actions: the SDK's
 *       waitUntilTasksStopped, then one GetLogEvents (startFromHead),
 * the time from the task reaching STOPPED (the emulator's own stop time) to
 * the end (process exit for the bundle), and how many of the written lines
 * reached the job log in order. GetLogEvents answers at most 1 MB per call in
 * the emulator, as in AWS.
 *
 * Then, for the bundle only: SIGTERM (a cancelled workflow) → StopTask
 * arriving at the emulator and → process exit (goal: StopTask within 5 s).
 */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient, RunTaskCommand, waitUntilTasksStopped } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator } from '../../test/emulator/index.js';
import { runBundle } from '../../test/helpers/run-bundle.js';
import { logMeasurements } from '../log.js';
import { bundleRuntime } from '../runtime.js';

const LINES = Number(process.env.LINES ?? 5000);
const LINE_BYTES = Number(process.env.LINE_BYTES ?? 250);
const RUN_SECONDS = Number(process.env.RUN_SECONDS ?? 6);
const TRIALS = Number(process.env.TRIALS ?? 3);
const CLUSTER = 'delivery-test';
const FAMILY = 'delivery-test-backend';
const LOG_GROUP = '/ecs/delivery-test';
const NETWORK = {
  awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' as const },
};

interface Trial {
  stopToExitMs: number;
  lost: number;
  /** AWS calls per minute while the migration ran (the cost of following it closely). */
  callsPerMinute: number;
}

/** Calls the emulator received in [from, to], per minute. */
function callRate(emu: Emulator, from: number, to: number): number {
  const n = emu.requests().filter((r) => r.at >= from && r.at <= to).length;
  return (n / Math.max(1, to - from)) * 60_000;
}

function seed(emu: Emulator) {
  emu.ecs.createCluster(CLUSTER);
  emu.logs.createLogGroup(LOG_GROUP);
  const arn = emu.ecs.registerTaskDefinition({
    family: FAMILY,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    executionRoleArn: 'arn:aws:iam::123456789012:role/delivery-test-ecs-execution',
    containerDefinitions: [
      {
        name: 'backend',
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123',
        essential: true,
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'backend' },
        },
      },
    ],
  });
  emu.ecs.createService({
    cluster: CLUSTER,
    serviceName: 'backend',
    taskDefinition: arn,
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: NETWORK,
  });
}

/** Lines a migration might print: numbered, padded to LINE_BYTES with SQL-ish text. */
function migrationLines(tag: string): string[] {
  const filler = ' -- ALTER TABLE orders ADD COLUMN delivery_window tstzrange; CREATE INDEX CONCURRENTLY ...'.repeat(
    Math.ceil(LINE_BYTES / 80),
  );
  return Array.from({ length: LINES }, (_, i) => `${tag} ${String(i + 1).padStart(6, '0')}${filler}`.slice(0, LINE_BYTES));
}

/** How many written lines are missing from `seen`, matching in order. */
function lost(written: string[], seen: string[]): number {
  const set = new Set(written);
  const shown = seen.filter((l) => set.has(l));
  let i = 0;
  for (const line of shown) if (line === written[i]) i += 1;
  return written.length - i;
}

function stopAt(emu: Emulator, startedBy: string): number {
  const task = [...emu.ecs.tasks.all.values()].find((t) => t.startedBy === startedBy);
  if (task?.stopAt === undefined) throw new Error(`no stopped task for ${startedBy}`);
  return task.stopAt;
}

async function ours(emu: Emulator, n: number): Promise<Trial> {
  const startedBy = `migrate/ours-${n}`;
  const written = migrationLines(`ours${n}`);
  emu.scenarios.nextTask({ startedBy }, { afterSeconds: RUN_SECONDS, logLines: written });
  let exitAt = 0;
  const startAt = Date.now();
  const run = await runBundle('migrate-db', {
    inputs: { cluster: CLUSTER, service: 'backend', command: 'bin/rails db:migrate', 'started-by': startedBy },
    env: { ...emu.env(), GITHUB_ACTION: startedBy },
    timeoutMs: 120_000,
    onSpawn: (child) => child.on('exit', () => (exitAt = Date.now())),
  });
  if (run.code !== 0) throw new Error(`bundle failed:\n${run.stdout.slice(-2000)}`);
  return {
    stopToExitMs: exitAt - stopAt(emu, startedBy),
    lost: lost(written, run.stdout.split('\n')),
    callsPerMinute: callRate(emu, startAt, exitAt),
  };
}

async function peer(emu: Emulator, n: number): Promise<Trial> {
  const startedBy = `migrate/peer-${n}`;
  const written = migrationLines(`peer${n}`);
  emu.scenarios.nextTask({ startedBy }, { afterSeconds: RUN_SECONDS, logLines: written });
  const env = emu.env();
  const base = {
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  };
  const ecs = new ECSClient(base);
  const logs = new CloudWatchLogsClient(base);
  const startAt = Date.now();
  const out = await ecs.send(
    new RunTaskCommand({ cluster: CLUSTER, taskDefinition: FAMILY, startedBy, networkConfiguration: NETWORK, launchType: 'FARGATE' }),
  );
  const arn = out.tasks![0]!.taskArn!;
  await waitUntilTasksStopped({ client: ecs, maxWaitTime: 600 }, { cluster: CLUSTER, tasks: [arn] });
  const events = await logs.send(
    new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: `backend/backend/${arn.split('/').pop()}`, startFromHead: true }),
  );
  const exitAt = Date.now();
  return {
    stopToExitMs: exitAt - stopAt(emu, startedBy),
    lost: lost(
      written,
      (events.events ?? []).map((e) => e.message ?? ''),
    ),
    callsPerMinute: callRate(emu, startAt, exitAt),
  };
}

/** SIGTERM as soon as the task started; when did StopTask arrive, when did the bundle exit. */
async function cancel(emu: Emulator, n: number): Promise<{ toStopMs: number; toExitMs: number }> {
  const startedBy = `migrate/cancel-${n}`;
  emu.scenarios.nextTask({ startedBy }, { afterSeconds: 300, logLines: migrationLines(`cancel${n}`).slice(0, 100) });
  let signalAt = 0;
  let exitAt = 0;
  await runBundle('migrate-db', {
    inputs: { cluster: CLUSTER, service: 'backend', command: 'bin/rails db:migrate', 'started-by': startedBy },
    env: { ...emu.env(), GITHUB_ACTION: startedBy },
    timeoutMs: 60_000,
    onSpawn: (child) => {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
        // Like the runner: cancel a moment into the run (after the first poll).
        if (signalAt === 0 && /task [0-9a-f]+: /.test(out)) {
          signalAt = Date.now();
          child.kill('SIGTERM');
        }
      });
      child.on('exit', () => (exitAt = Date.now()));
    },
  });
  const stop = emu.requests().find((r) => r.operation === 'StopTask' && r.at >= signalAt);
  if (!stop) throw new Error('no StopTask after SIGTERM');
  return { toStopMs: stop.at - signalAt, toExitMs: exitAt - signalAt };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

logMeasurements('migrate-db STOPPED → exit and cancel');

console.log(bundleRuntime());

async function main() {
  const emu = await startEmulator({ s3: false, clock: Date.now }); // wall time: the figures are seconds a runner waits
  try {
    seed(emu);
    const a: Trial[] = [];
    const b: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) {
      a.push(await ours(emu, i));
      b.push(await peer(emu, i));
      console.log(
        `trial ${i + 1}: migrate-db ${fmt(a[i]!.stopToExitMs)}, lost ${a[i]!.lost} | peer ${fmt(b[i]!.stopToExitMs)}, lost ${b[i]!.lost}`,
      );
    }
    const rows = [
      [
        'STOPPED → exit (median)',
        fmt(median(a.map((t) => t.stopToExitMs))),
        fmt(median(b.map((t) => t.stopToExitMs))),
        (median(b.map((t) => t.stopToExitMs)) / Math.max(1, median(a.map((t) => t.stopToExitMs)))).toFixed(1) + '×',
      ],
      ['STOPPED → exit (worst)', fmt(Math.max(...a.map((t) => t.stopToExitMs))), fmt(Math.max(...b.map((t) => t.stopToExitMs))), ''],
      [`log lines lost of ${LINES} (worst)`, String(Math.max(...a.map((t) => t.lost))), String(Math.max(...b.map((t) => t.lost))), ''],
      [
        'AWS calls per minute of run (median)',
        median(a.map((t) => t.callsPerMinute)).toFixed(0),
        median(b.map((t) => t.callsPerMinute)).toFixed(0),
        '',
      ],
    ];
    console.log(`\n${LINES} lines × ~${LINE_BYTES} B over ${RUN_SECONDS} s, ${TRIALS} trials; goals: STOPPED → exit ≤ 3 s, 0 lines lost\n`);
    console.log('| measure | migrate-db (defaults) | peer: waitUntilTasksStopped + one GetLogEvents | peer / ours |');
    console.log('| --- | --- | --- | --- |');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);

    const c = [];
    for (let i = 0; i < TRIALS; i++) c.push(await cancel(emu, i));
    console.log('\n| cancel (SIGTERM), migrate-db | median | worst | goal |');
    console.log('| --- | --- | --- | --- |');
    console.log(
      `| SIGTERM → StopTask received | ${fmt(median(c.map((x) => x.toStopMs)))} | ${fmt(Math.max(...c.map((x) => x.toStopMs)))} | ≤ 5 s |`,
    );
    console.log(
      `| SIGTERM → process exit | ${fmt(median(c.map((x) => x.toExitMs)))} | ${fmt(Math.max(...c.map((x) => x.toExitMs)))} | before the runner's SIGKILL |`,
    );
  } finally {
    await emu.stop();
  }
}

await main();
