/**
 * A wire-level local AWS for the suite's tests, e2e runs, the demo and
 * benchmarks. See CONTRACT.md for the API others code against.
 *
 * One HTTP server on 127.0.0.1:<ephemeral> speaks the protocols the AWS SDK v3
 * clients send (awsJson1_1 for ECS/ECR/Logs/SSM/Secrets Manager, REST-XML for
 * CloudFront, awsQuery for STS); S3 is s3rver on its own port. Every instance
 * is independent: no global state, no fixed ports.
 */
import type { Server } from 'node:http';
import { CloudFrontService } from './cloudfront.js';
import { CodeDeployService } from './codedeploy.js';
import { PollClock, type Clock, type EmuContext } from './core.js';
import { EcrService } from './ecr.js';
import { EcsService } from './ecs/index.js';
import { EventsService } from './events.js';
import { LogsService } from './logs.js';
import { S3Emulator, S3RVER_CREDENTIALS } from './s3.js';
import { Scenarios, type RolloutScenario, type TaskMatch, type TaskScenario } from './scenarios.js';
import { SchedulerService } from './scheduler.js';
import { SecretsService } from './secrets.js';
import { iamCalls, type IamLookup } from './iam.js';
import { logIamCall } from './iam-log.js';
import { Faults, startServer, type AnsweredRequest, type FaultSpec, type RequestRecord } from './server.js';
import { SsmService } from './ssm.js';
import { stsQuery } from './sts.js';

export interface EmulatorOptions {
  /** Default eu-west-1. */
  region?: string;
  /** Default 123456789012. */
  account?: string;
  /**
   * Milliseconds since the epoch. Default: a `PollClock` — virtual time that moves
   * `secondsPerPoll` on each polled read (see CONTRACT.md). Inject a function to move time by
   * hand (the emulator's own tests) or `Date.now` for wall time (the demo, benchmarks).
   */
  clock?: Clock;
  /** With the default clock: virtual seconds each polled read moves time forward (default 1). */
  secondsPerPoll?: number;
  /** Skip s3rver (faster start when a test needs no S3). Default false. */
  s3?: boolean;
}

export interface Emulator {
  /** 'http://127.0.0.1:PORT' — ECS, ECR, Logs, SSM, Secrets Manager, CloudFront, STS. */
  endpoint: string;
  /** 'http://127.0.0.1:PORT2' — S3 (s3rver behind a counting proxy). */
  s3Endpoint: string;
  region: string;
  account: string;
  /** Environment for a child bundle or an in-process SDK client. */
  env(): Record<string, string>;
  ecs: EcsService;
  ecr: EcrService;
  ssm: SsmService;
  secrets: SecretsService;
  logs: LogsService;
  cloudfront: CloudFrontService;
  /** CodeDeploy for ECS blue/green; a deployment moves one step per GetDeployment. */
  codedeploy: CodeDeployService;
  /** EventBridge Scheduler (restJson1 under /schedules). */
  scheduler: SchedulerService;
  /** EventBridge rules and targets (awsJson1_1, AWSEvents). */
  events: EventsService;
  s3: { createBucket(name: string): Promise<void> };
  scenarios: Scenarios;
  /** The emulator's time: `now()` in ms; `advance(seconds)` steps it (with the default clock only). */
  clock: { now: Clock; advance(seconds: number): void };
  faults: Faults;
  /** Every request in arrival order (including faulted ones, so SDK retries are visible). */
  requests(): RequestRecord[];
  /** Requests per 'Service.Operation', e.g. { 'ECS.DescribeServices': 12 }. */
  counts(): Record<string, number>;
  resetCounts(): void;
  stop(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const pollClock = opts.clock ? undefined : new PollClock(opts.secondsPerPoll);
  const ctx: EmuContext = {
    region: opts.region ?? 'eu-west-1',
    account: opts.account ?? '123456789012',
    now: opts.clock ?? pollClock!.now,
  };
  const clock = {
    now: ctx.now,
    advance: (seconds: number) => {
      if (!pollClock) throw new Error('emu.clock.advance: this emulator runs on an injected clock; move that clock instead.');
      pollClock.advance(seconds);
    },
  };
  const scenarios = new Scenarios();
  const faults = new Faults();
  const logs = new LogsService(ctx);
  const ecs = new EcsService(ctx, logs, scenarios);
  const ecr = new EcrService(ctx);
  ecs.services.deployer.resolveDigest = (image) => ecr.digestOf(image);
  const ssm = new SsmService(ctx);
  const secrets = new SecretsService(ctx);
  const cloudfront = new CloudFrontService(ctx);
  const scheduler = new SchedulerService(ctx);
  const codedeploy = new CodeDeployService(ctx, (cluster, service, taskDefinitionArn) => {
    // The replacement task set becomes the service's primary: the service now runs the new revision.
    const s = ecs.services.find(cluster, service);
    const def = ecs.taskdefs.find(taskDefinitionArn);
    if (s && def) ecs.services.deployer.initial(s, def, s.desiredCount, ctx.now());
  });
  const events = new EventsService(ctx);
  let log: RequestRecord[] = [];
  const lookup: IamLookup = {
    taskDefinition: (ref) => ecs.taskdefs.find(ref),
    deploymentGroupOf: (id) => codedeploy.groupOf(id),
  };
  const parse = (text: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(text);
      return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const recorder = {
    record: (r: RequestRecord) => void log.push(r),
    answered: (r: AnsweredRequest) => {
      if (!process.env.IAM_CALLS_DIR) return;
      const request = {
        region: ctx.region,
        account: ctx.account,
        input: parse(r.body) ?? {},
        path: r.path,
        query: r.query,
        headers: r.headers,
      };
      const output = r.status < 300 ? parse(r.payload) : undefined;
      logIamCall(
        {
          service: r.service,
          operation: r.operation,
          status: r.status,
          calls: iamCalls(r.service, r.operation, { ...request, output }, lookup),
        },
        r.headers,
      );
    },
    observe: (service: string, operation: string) => pollClock?.observe(service, operation),
  };
  const counts = () => {
    const out: Record<string, number> = {};
    for (const r of log) out[`${r.service}.${r.operation}`] = (out[`${r.service}.${r.operation}`] ?? 0) + 1;
    return out;
  };

  const { server, endpoint } = await startServer(
    {
      json: {
        AmazonEC2ContainerServiceV20141113: ['ECS', ecs.operations()],
        AmazonEC2ContainerRegistry_V20150921: ['ECR', ecr.operations()],
        AmazonSSM: ['SSM', ssm.operations()],
        secretsmanager: ['SecretsManager', secrets.operations()],
        Logs_20140328: ['CloudWatchLogs', logs.operations()],
        AWSEvents: ['EventBridge', events.operations()],
        CodeDeploy_20141006: ['CodeDeploy', codedeploy.operations()],
      },
      rest: { '/2020-05-31/': ['CloudFront', cloudfront.handler()], '/schedules': ['Scheduler', scheduler.handler()] },
      sts: (params, requestId) => stsQuery(ctx, params, requestId),
      // For scripts that drive an emulator in another process (the in-process API is what tests use).
      control: {
        counts: { method: 'GET', run: counts },
        requests: { method: 'GET', run: () => log },
        'reset-counts': { method: 'POST', run: () => void (log = []) },
        faults: { method: 'POST', run: (spec) => faults.set(spec as FaultSpec) },
        'advance-clock': { method: 'POST', run: (body) => clock.advance((body as { seconds: number }).seconds) },
        clock: { method: 'GET', run: () => ({ now: ctx.now() }) },
        'clear-faults': { method: 'POST', run: () => faults.clear() },
        'next-rollout': {
          method: 'POST',
          run: (body) => {
            const { cluster, service, ...scenario } = body as { cluster?: string; service: string } & RolloutScenario;
            scenarios.nextRollout({ cluster, service }, scenario);
          },
        },
        'next-task': {
          method: 'POST',
          run: (body) => {
            const { family, startedBy, ...scenario } = body as TaskMatch & TaskScenario;
            scenarios.nextTask({ family, startedBy }, scenario);
          },
        },
      },
    },
    faults,
    recorder,
    ctx.now,
  );

  const s3 = new S3Emulator(faults, recorder, ctx.now);
  if (opts.s3 !== false) {
    try {
      await s3.start();
    } catch (err) {
      await closeServer(server);
      throw err;
    }
  }

  return {
    endpoint,
    s3Endpoint: s3.endpoint,
    region: ctx.region,
    account: ctx.account,
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      ...(s3.endpoint ? { AWS_ENDPOINT_URL_S3: s3.endpoint } : {}),
      AWS_REGION: ctx.region,
      AWS_DEFAULT_REGION: ctx.region,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      // s3rver stores aws-chunked uploads with trailing checksums wrongly (DESIGN.md).
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    ecs,
    ecr,
    ssm,
    secrets,
    logs,
    cloudfront,
    scheduler,
    events,
    codedeploy,
    s3: { createBucket: (name) => s3.createBucket(name) },
    scenarios,
    clock,
    faults,
    requests: () => [...log],
    counts,
    resetCounts: () => {
      log = [];
    },
    stop: async () => {
      await Promise.all([closeServer(server), s3.stop()]);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
