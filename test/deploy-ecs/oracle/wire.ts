/**
 * The oracle's wire: real AWS SDK clients (ECS, ECR, CloudWatch Logs) whose request handler answers
 * in-process from the emulator's operation handlers (the same JSON the HTTP emulator serves), on a
 * fake clock, behind a fault layer chosen by the schedule:
 * - a throttling burst: N requests in a row answered ThrottlingException (the SDK retries each),
 * - a lost answer: the request is applied, then its answer is lost (a reset connection; the SDK
 *   sends it again and the caller sees the retry's answer),
 * - a cancel after request k (the runner's SIGINT),
 * - a kill at request k: that request and everything after it never reach ECS.
 * The SDK's retry backoff is taken on the fake clock (no real wait), so a schedule takes
 * milliseconds, and the run is a function of its seed.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { HttpResponse } from '@smithy/core/protocols';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { AwsError, type JsonOperations } from '../../emulator/core.js';

/** Virtual time: sleeps wake in order of their wake time, only when no request is in flight. */
export class FakeTime {
  ms: number;
  private seq = 0;
  private timers: { at: number; seq: number; resolve: () => void }[] = [];
  private kicked = false;
  /** Requests (and their SDK retries) still running: time stands still until they are answered. */
  inFlight = 0;
  /** Set by a kill: no sleeper wakes again, nothing more runs. */
  dead = false;

  constructor(start: number) {
    this.ms = start;
  }

  readonly now = (): number => this.ms;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      if (this.dead) return;
      this.timers.push({ at: this.ms + Math.max(0, ms), seq: this.seq++, resolve });
      this.kick();
    });

  /** Moves time forward at once (the SDK's backoff between retries). */
  advance(ms: number): void {
    this.ms += ms;
  }

  /** The process is gone: sleepers never wake (the run is abandoned, as the runner's SIGKILL leaves it). */
  kill(): void {
    this.dead = true;
    this.timers.length = 0;
    this.onKill();
  }
  onKill: () => void = () => undefined;

  /**
   * Wakes the earliest sleeper once everything else has settled: setImmediate runs after the
   * microtasks of whatever just resolved, so the code has either sent a request, slept, or ended.
   */
  kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      if (this.inFlight > 0 || this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const t = this.timers.shift()!;
      this.ms = Math.max(this.ms, t.at);
      t.resolve();
      this.kick();
    });
  }
}

export interface WireFaults {
  /** Request index → burst length: that request and the next N-1 are throttled. */
  throttle: Map<number, number>;
  /** Request indexes whose answer is lost after ECS applied them. */
  lostAnswers: Set<number>;
  cancelAt?: number;
  killAt?: number;
}

export interface Exchange {
  index: number;
  service: string;
  operation: string;
  input: Record<string, unknown>;
  status: number;
  fault?: 'throttled' | 'lost';
  at: number;
}

const TARGETS: Record<string, string> = {
  AmazonEC2ContainerServiceV20141113: 'ECS',
  AmazonEC2ContainerRegistry_V20150921: 'ECR',
  Logs_20140328: 'CloudWatchLogs',
};

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  response: new HttpResponse({
    statusCode: status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'oracle', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  }),
});

export class Wire {
  readonly log: Exchange[] = [];
  private throttleLeft = 0;
  killed = false;

  constructor(
    private readonly routes: Record<string, JsonOperations>,
    private readonly time: FakeTime,
    private readonly faults: WireFaults,
    /** Called before a write is applied (the invariants look at what it asks). */
    private readonly before: (e: Exchange) => void,
    /** Called after every request is answered: one step of the schedule. */
    private readonly after: (e: Exchange) => void,
    private readonly onCancel: () => void,
  ) {}

  private handle = async (request: { headers: Record<string, string>; body?: unknown }, options?: { abortSignal?: AbortSignal }) => {
    // As the SDK's HTTP handler does: an aborted call sends nothing more (its retries included).
    if (options?.abortSignal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
    const [prefix = '', operation = ''] = target.split('.');
    const service = TARGETS[prefix] ?? prefix;
    const text =
      typeof request.body === 'string' ? request.body : request.body ? Buffer.from(request.body as Uint8Array).toString('utf8') : '';
    const input = JSON.parse(text || '{}') as Record<string, unknown>;
    const e: Exchange = { index: this.log.length, service, operation, input, status: 200, at: this.time.now() };
    if (this.killed || this.faults.killAt === e.index) {
      this.killed = true;
      this.time.kill();
      return new Promise<never>(() => undefined);
    }
    this.log.push(e);
    const burst = this.faults.throttle.get(e.index);
    if (burst) this.throttleLeft = Math.max(this.throttleLeft, burst);
    try {
      if (this.throttleLeft > 0) {
        this.throttleLeft--;
        e.status = 400;
        e.fault = 'throttled';
        return answer(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, { 'x-amzn-errortype': 'ThrottlingException' });
      }
      const op = this.routes[service]?.[operation];
      if (!op) throw new AwsError('UnknownOperationException', `The oracle's wire does not route ${target}.`);
      this.before(e);
      let out: unknown;
      try {
        out = op(input) ?? {};
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        e.status = err.status;
        return answer(err.status, { __type: err.code, message: err.message }, { 'x-amzn-errortype': err.code });
      }
      if (this.faults.lostAnswers.has(e.index)) {
        e.fault = 'lost';
        throw Object.assign(new Error('socket hang up (the answer was lost)'), { code: 'ECONNRESET' });
      }
      return answer(200, out);
    } finally {
      this.after(e);
      if (this.faults.cancelAt === e.index) this.onCancel();
    }
  };

  /** Clients as main.ts makes them (max-attempts), with the backoff taken on the fake clock. */
  clients(maxAttempts: number) {
    const config = {
      region: 'eu-west-1',
      credentials: { accessKeyId: 'oracle', secretAccessKey: 'oracle' },
      endpoint: 'http://ecs.oracle.invalid',
      maxAttempts,
      // Standard retries: the SDK's adaptive rate limiter measures real time; its attempts are the same.
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, (attempt) => {
        this.time.advance(Math.min(20_000, 100 * 2 ** attempt));
        return 0;
      }),
      requestHandler: { handle: this.handle } as never,
    };
    return {
      ecs: this.counted(new ECSClient(config)),
      ecr: this.counted(new ECRClient(config)),
      logs: this.counted(new CloudWatchLogsClient(config)),
    };
  }

  /** Every send counts as in flight (retries included), so time stands still until it settles. */
  private counted<T extends { send: (...args: never[]) => Promise<unknown> }>(client: T): T {
    const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
    const time = this.time;
    (client as { send: unknown }).send = async (...args: unknown[]) => {
      time.inFlight++;
      try {
        return await send(...args);
      } finally {
        time.inFlight--;
        time.kick();
      }
    };
    return client;
  }
}
