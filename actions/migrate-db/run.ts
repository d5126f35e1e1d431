import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ListTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { ActionError, describeUnknown } from '../../lib/errors.js';
import { poll, rampInterval, realClock, realSleep, type Clock, type PollStep, type Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import { LogTail } from './logs.js';
import { outcomeOfTask, type Outcome } from './outcome.js';
import { logStreamName, type RunPlan } from './plan.js';

/**
 * The AWS side of a migration: the concurrency guard, RunTask, the poll loop
 * that follows the task and its logs, and StopTask on timeout or cancel.
 */

export interface RunDeps {
  ecs: ECSClient;
  /** A Logs client for the awslogs region of the container (may differ from the ECS region). */
  logsFor: (region: string | undefined) => CloudWatchLogsClient;
  reporter: Reporter;
  onLogLines?: (lines: string[]) => void;
  sleep?: Sleep;
  now?: Clock;
}

const taskId = (arn: string) => arn.split('/').pop() ?? arn;

/** Resolves after `ms`, or as soon as `signal` aborts. */
function abortable(sleep: Sleep, signal?: AbortSignal): Sleep {
  if (!signal) return sleep;
  return (ms) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      void sleep(ms).then(resolve);
    });
}

/**
 * Refuses (or waits) while another migration with the same `startedBy` is not
 * STOPPED. A task carrying our own client token is a retry of this very step:
 * RunTask will hand that task back, so it does not count as "another".
 * (ListTasks allows `startedBy` only as its sole filter besides the cluster.)
 */
export async function guardConcurrent(
  deps: RunDeps,
  plan: RunPlan,
  opts: { ifRunning: 'fail' | 'wait'; timeoutMs: number; pollMs: number; signal?: AbortSignal },
): Promise<void> {
  const { ecs, reporter } = deps;
  const others = async (): Promise<Task[]> => {
    const listed = await ecs.send(new ListTasksCommand({ cluster: plan.request.cluster, startedBy: plan.request.startedBy }));
    const arns = listed.taskArns ?? [];
    if (arns.length === 0) return [];
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: plan.request.cluster, tasks: arns.slice(0, 100), include: ['TAGS'] }),
    );
    return (described.tasks ?? []).filter(
      (t) =>
        t.lastStatus !== 'STOPPED' &&
        !t.tags?.some((tag) => tag.key === 'aws-deploy-actions:client-token' && tag.value === plan.request.clientToken),
    );
  };
  const running = await others();
  if (running.length === 0) return;
  const list = running.map((t) => `${taskId(t.taskArn ?? '')} (${t.lastStatus}, started ${t.createdAt?.toISOString() ?? '?'})`).join(', ');
  if (opts.ifRunning === 'fail') {
    throw new ActionError(
      `Another migration started by '${plan.request.startedBy}' is still running in cluster ${plan.request.cluster}: ${list}.`,
      {
        input: 'if-running',
        fix: 'Wait for it to finish (or stop it), or set if-running: wait to queue behind it.',
      },
    );
  }
  reporter.info(`Waiting for another migration to finish: ${list}`);
  const waited = await poll({
    check: async () => ((await others()).length === 0 ? { done: true, value: true } : { done: false }),
    interval: rampInterval(opts.pollMs, Math.min(1000, opts.pollMs)),
    timeoutMs: opts.timeoutMs,
    sleep: abortable(deps.sleep ?? realSleep, opts.signal),
    now: deps.now,
    signal: opts.signal,
  });
  if (waited.status === 'timeout') {
    throw new ActionError(`Another migration (${list}) was still running after ${Math.round(waited.elapsedMs / 1000)} s.`, {
      input: 'if-running',
      fix: 'Stop the other task, or raise timeout-minutes.',
    });
  }
  if (waited.status === 'aborted') throw new ActionError('Cancelled while waiting for another migration to finish.');
}

/**
 * The concurrency guard, RunTask and the follow under one `timeout-minutes`
 * budget: the wait for another migration uses part of it, the run gets the rest.
 * When the wait used it all, nothing is started (a migration stopped at once
 * would be worse than none).
 */
export async function runMigration(
  migration: Migration,
  opts: { ifRunning: 'fail' | 'wait'; timeoutMs: number; pollMs: number; signal?: AbortSignal; onStarted?: (task: Task) => void },
): Promise<{ outcome: Outcome; task?: Task }> {
  const { deps, plan } = migration;
  const { reporter } = deps;
  const now = deps.now ?? realClock;
  const begun = now();
  await reporter.group('Check for another running migration', () => guardConcurrent(deps, plan, opts));
  const waitedMs = now() - begun;
  const leftMs = opts.timeoutMs - waitedMs;
  if (leftMs <= 0) {
    throw new ActionError(
      `Another migration finished only after the whole timeout-minutes budget (${Math.round(waitedMs / 1000)} s) was spent waiting for ` +
        `it; nothing was started.`,
      {
        input: 'timeout-minutes',
        fix: 'Re-run the job (the other migration has finished now), or raise timeout-minutes to cover the wait and the migration.',
      },
    );
  }
  if (waitedMs >= 1000)
    reporter.info(
      `Waited ${Math.round(waitedMs / 1000)} s for another migration: ${Math.round(leftMs / 1000)} s of timeout-minutes left for this one.`,
    );
  const started = await migration.start();
  opts.onStarted?.(started);
  const followed = await migration.follow({ timeoutMs: leftMs, pollMs: opts.pollMs, signal: opts.signal });
  if (followed.outcome.result === 'timed-out' && waitedMs >= 1000) followed.outcome.waitedSeconds = Math.round(waitedMs / 1000);
  return followed;
}

export class Migration {
  taskArn?: string;
  logStream?: string;
  tail?: LogTail;
  startedAtMs?: number;
  stoppedAtMs?: number;
  /** Set once StopTask has been sent, so timeout and cancel never send it twice. */
  private stopping?: Promise<void>;
  private starting?: Promise<Task>;
  /** Set after the first failed read (e.g. no logs:GetLogEvents permission): warn once, then stop trying. */
  private logsBroken = false;
  private readonly sleep: Sleep;
  private readonly now: Clock;

  constructor(
    readonly deps: RunDeps,
    readonly plan: RunPlan,
  ) {
    this.sleep = deps.sleep ?? realSleep;
    this.now = deps.now ?? realClock;
  }

  start(): Promise<Task> {
    this.starting ??= this.runTask();
    return this.starting;
  }

  private async runTask(): Promise<Task> {
    let out;
    try {
      out = await this.deps.ecs.send(new RunTaskCommand(this.plan.request));
    } catch (err) {
      if ((err as { name?: string }).name === 'ConflictException') {
        throw new ActionError(
          `RunTask refused client token ${this.plan.request.clientToken}: a task was already started with it and different parameters.`,
          {
            fix: 'This step already started a migration in this run attempt with other inputs; re-run the job (a new attempt gets a new token).',
            cause: err,
          },
        );
      }
      if ((err as { name?: string }).name === 'AccessDeniedException') {
        throw new ActionError(`RunTask was denied: ${(err as Error).message}`, {
          fix:
            'The role needs ecs:RunTask on the cluster, ecs:TagResource (the task is tagged at launch) and iam:PassRole for the ' +
            'task and execution roles: see the IAM policy in actions/migrate-db/README.md.',
          cause: err,
        });
      }
      throw err;
    }
    const failures = out.failures ?? [];
    const task = out.tasks?.[0];
    if (!task?.taskArn) {
      const why = failures
        .map((f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}${f.arn ? ` [${f.arn}]` : ''}`)
        .join('; ');
      throw new ActionError(`RunTask started no task: ${why || 'no task and no failure returned'}.`, {
        fix: 'Check cluster capacity, the subnets/security groups, and that the task definition is ACTIVE.',
      });
    }
    this.taskArn = task.taskArn;
    this.startedAtMs = this.now();
    if (this.plan.logs) this.logStream = logStreamName(this.plan.logs, task.taskArn);
    return task;
  }

  /** Polls the task (and its log stream) until STOPPED, the timeout, or the signal. */
  async follow(opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal }): Promise<{ outcome: Outcome; task?: Task }> {
    const { reporter } = this.deps;
    const arn = this.taskArn!;
    if (this.plan.logs && this.logStream) {
      this.tail = new LogTail(this.deps.logsFor(this.plan.logs.region), {
        group: this.plan.logs.group,
        stream: this.logStream,
        onLines: (lines) => (this.deps.onLogLines ?? ((l: string[]) => l.forEach((x) => reporter.info(x))))(lines),
        sleep: this.sleep,
        now: this.now,
      });
    }
    let lastStatus: string | undefined;
    const readLogs = async () => {
      if (!this.tail || this.logsBroken) return;
      try {
        await this.tail.read();
      } catch (err) {
        // Missing logs:GetLogEvents permission must not fail the migration itself.
        this.logsBroken = true;
        reporter.warning(`Cannot read log stream ${this.logStream}: ${describeUnknown(err)}. The task is still followed.`);
      }
    };
    const describe = async (): Promise<Task | undefined> => {
      const out = await this.deps.ecs.send(new DescribeTasksCommand({ cluster: this.plan.request.cluster, tasks: [arn] }));
      return out.tasks?.find((t) => t.taskArn === arn);
    };
    const check = async (): Promise<PollStep<Task>> => {
      await readLogs();
      // A just-started task can be briefly invisible to DescribeTasks (MISSING): keep polling.
      const task = await describe();
      if (task && task.lastStatus !== lastStatus) {
        reporter.info(`task ${taskId(arn)}: ${lastStatus ? `${lastStatus} → ` : ''}${task.lastStatus}`);
        lastStatus = task.lastStatus;
      }
      return task?.lastStatus === 'STOPPED' ? { done: true, value: task } : { done: false };
    };
    const result = await poll({
      check,
      interval: rampInterval(opts.pollMs, Math.min(1000, opts.pollMs)),
      timeoutMs: opts.timeoutMs,
      sleep: abortable(this.sleep, opts.signal),
      now: this.now,
      signal: opts.signal,
    });
    if (result.status === 'aborted') return { outcome: { result: 'cancelled' } };
    if (result.status === 'timeout') {
      await this.stop(`migrate-db: timeout-minutes reached`);
      // Follow the stop briefly so the last lines (and shutdown output) still reach the log.
      const after = await poll({ check, interval: Math.min(1000, opts.pollMs), timeoutMs: 30_000, sleep: this.sleep, now: this.now });
      this.stoppedAtMs = this.now();
      await this.drain(opts.pollMs, after.status === 'done' ? after.value : undefined);
      return { outcome: { result: 'timed-out' }, task: after.status === 'done' ? after.value : undefined };
    }
    this.stoppedAtMs = this.now();
    const task = result.value;
    await this.drain(opts.pollMs, task);
    return { outcome: outcomeOfTask(task, this.plan.container), task };
  }

  private async drain(pollMs: number, task: Task | undefined): Promise<void> {
    if (!this.tail || this.logsBroken) return;
    const container = task?.containers?.find((c) => c.name === this.plan.container);
    const ran = task === undefined || task.startedAt !== undefined || container?.exitCode !== undefined;
    try {
      await this.tail.drain({ settleMs: Math.min(500, pollMs), missingMs: ran ? Math.min(2000, 2 * pollMs) : 0, maxMs: 20_000 });
    } catch (err) {
      this.deps.reporter.warning(`Cannot read the rest of log stream ${this.logStream}: ${describeUnknown(err)}.`);
    }
  }

  /** StopTask once (timeout or cancel); safe to call from a signal handler. */
  async stop(reason: string): Promise<void> {
    // Cancelled while RunTask was in flight: wait for its answer, then stop what it started.
    if (!this.taskArn && this.starting) await this.starting.catch(() => undefined);
    if (!this.taskArn) return;
    this.stopping ??= this.deps.ecs
      .send(new StopTaskCommand({ cluster: this.plan.request.cluster, task: this.taskArn, reason: reason.slice(0, 255) }))
      .then(() => this.deps.reporter.info(`StopTask sent for ${taskId(this.taskArn!)}: ${reason}`))
      .catch((err) => this.deps.reporter.warning(`StopTask for ${this.taskArn} failed: ${describeUnknown(err)}. Stop it by hand.`));
    return this.stopping;
  }
}
