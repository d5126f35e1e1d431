/**
 * ECS tasks. Each task is created with its whole timeline (when it starts
 * running, when and how it stops); what callers see is computed from the clock:
 * PROVISIONING → PENDING → RUNNING → STOPPED, and gone an hour after stopping.
 */
import { randomBytes } from 'node:crypto';
import { epochSeconds, type EmuContext } from '../core.js';
import type { LogsService } from '../logs.js';
import type { TaskDefinition } from './taskdefs.js';

/** How a task behaves once launched; every duration is in milliseconds. */
export interface TaskPlan {
  /** From launch to RUNNING (or to failing, with failToStart). Infinity = stays PENDING. */
  pendingMs: number;
  /** How long it runs before its essential container exits; undefined = until stopped. */
  runMs?: number;
  exitCode?: number;
  /** Printed by the essential container while it runs (spread over its run time). */
  logLines?: string[];
  stoppedReason?: string;
  failToStart?: { stopCode?: string; stoppedReason: string };
  /**
   * An essential container other than the first (a sidecar) exits first, with `exitCode`. "If the
   * essential parameter of a container is marked as true, and that container fails or stops for any
   * reason, all other containers that are part of the task are stopped"
   * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html,
   * `essential`): the task stops with EssentialContainerExited, and the other containers report
   * exit code 143, the SIGTERM ECS sends them (the exact code is modelled, not documented: one that
   * ignores SIGTERM until the stop timeout would report 137).
   */
  exitingContainer?: string;
}

export interface Task {
  id: string;
  arn: string;
  clusterArn: string;
  def: TaskDefinition;
  createdAt: number;
  runningAt?: number;
  stopAt?: number;
  stopRequestedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  exitCode?: number;
  containerReason?: string;
  /** The container whose exit stopped the task, when it is not the first essential one. */
  exitingContainer?: string;
  startedBy?: string;
  group: string;
  tags: { key: string; value: string }[];
  overrides: Record<string, unknown>;
  launchType: string;
  networkConfiguration?: Record<string, unknown>;
  /** For service tasks: which deployment launched it (startedBy is the deployment id too). */
  deploymentId?: string;
  /** True when the scheduled stop is a deployment drain that a later deployment may cancel. */
  drainStop?: boolean;
}

export interface LaunchOptions {
  clusterArn: string;
  def: TaskDefinition;
  plan: TaskPlan;
  at: number;
  startedBy?: string;
  group?: string;
  tags?: { key: string; value: string }[];
  overrides?: Record<string, unknown>;
  launchType?: string;
  networkConfiguration?: Record<string, unknown>;
  deploymentId?: string;
}

const RETENTION_MS = 3600_000;
const STOP_GRACE_MS = 500;

export class Tasks {
  readonly all = new Map<string, Task>();

  constructor(
    private readonly ctx: EmuContext,
    private readonly logs: LogsService,
  ) {}

  launch(o: LaunchOptions): Task {
    const id = randomBytes(16).toString('hex');
    const clusterName = o.clusterArn.split('/').pop()!;
    const { plan } = o;
    const task: Task = {
      id,
      arn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:task/${clusterName}/${id}`,
      clusterArn: o.clusterArn,
      def: o.def,
      createdAt: o.at,
      startedBy: o.startedBy,
      group: o.group ?? `family:${o.def.family}`,
      tags: o.tags ?? [],
      overrides: o.overrides ?? { containerOverrides: [], inferenceAcceleratorOverrides: [] },
      launchType: o.launchType ?? 'FARGATE',
      networkConfiguration: o.networkConfiguration,
      deploymentId: o.deploymentId,
    };
    if (plan.failToStart) {
      if (Number.isFinite(plan.pendingMs)) {
        task.stopAt = o.at + plan.pendingMs;
        task.stopCode = plan.failToStart.stopCode ?? 'TaskFailedToStart';
        task.stoppedReason = plan.failToStart.stoppedReason;
        task.containerReason = plan.failToStart.stoppedReason;
      }
    } else if (Number.isFinite(plan.pendingMs)) {
      task.runningAt = o.at + plan.pendingMs;
      if (plan.runMs !== undefined) {
        task.stopAt = task.runningAt + plan.runMs;
        task.stopCode = 'EssentialContainerExited';
        task.stoppedReason = plan.stoppedReason ?? 'Essential container in task exited';
        task.exitCode = plan.exitCode ?? 0;
        task.exitingContainer = plan.exitingContainer;
      }
      this.writeLogs(task, plan.logLines ?? []);
    }
    this.all.set(id, task);
    return task;
  }

  /** A task as DescribeTasks sees it: not before it is launched, not after ECS forgot it. */
  find(ref: string): Task | undefined {
    const id = ref.split('/').pop()!;
    const task = this.all.get(id);
    if (!task || task.createdAt > this.ctx.now() || this.gone(task)) return undefined;
    return task;
  }

  /** Removes a task planned for the future that will now never launch (its timeline was cut off). */
  discard(task: Task): void {
    this.all.delete(task.id);
    const target = this.awslogs(task);
    if (target) this.logs.deleteStream(target.group, target.stream);
  }

  /** ECS forgets stopped tasks about an hour after they stop. */
  gone(task: Task, now = this.ctx.now()): boolean {
    return task.stopAt !== undefined && now >= task.stopAt + RETENTION_MS;
  }

  lastStatus(task: Task, now = this.ctx.now()): 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED' {
    if (task.stopAt !== undefined && now >= task.stopAt) return 'STOPPED';
    if (task.runningAt !== undefined && now >= task.runningAt) return 'RUNNING';
    const provisionMs = Math.min(200, ((task.runningAt ?? task.stopAt ?? Infinity) - task.createdAt) / 2);
    return now >= task.createdAt + provisionMs ? 'PENDING' : 'PROVISIONING';
  }

  desiredStatus(task: Task, now = this.ctx.now()): 'RUNNING' | 'STOPPED' {
    const stopping =
      (task.stopRequestedAt !== undefined && now >= task.stopRequestedAt) || (task.stopAt !== undefined && now >= task.stopAt);
    return stopping ? 'STOPPED' : 'RUNNING';
  }

  /**
   * Stops a task at `at` (StopTask, a deployment replacing it). A task that is
   * already stopped (or will exit on its own before then) keeps its own ending.
   */
  stop(task: Task, at: number, stopCode: string, reason: string, drain = false): void {
    if (task.stopAt !== undefined && task.stopAt <= at && !task.drainStop) return;
    const wasRunning = task.runningAt !== undefined && task.runningAt <= at;
    task.stopRequestedAt = at;
    task.stopAt = wasRunning ? at + STOP_GRACE_MS : at;
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.drainStop = drain;
    task.exitCode = wasRunning ? 143 : undefined;
    task.containerReason = undefined;
    task.exitingContainer = undefined;
    if (!wasRunning) task.runningAt = undefined;
    this.truncateLogs(task, task.stopAt);
  }

  /** Cancels a deployment drain that has not happened yet (a newer deployment took over). */
  cancelDrain(task: Task, now: number): void {
    if (!task.drainStop || task.stopRequestedAt === undefined || task.stopRequestedAt <= now) return;
    task.stopAt = task.stopRequestedAt = task.stopCode = task.stoppedReason = task.exitCode = undefined;
    task.drainStop = false;
  }

  private awslogs(task: Task): { group: string; stream: string } | undefined {
    const container = task.def.containerDefinitions.find((c) => c.essential !== false) ?? task.def.containerDefinitions[0]!;
    const opts = container.logConfiguration?.logDriver === 'awslogs' ? container.logConfiguration.options : undefined;
    if (!opts?.['awslogs-group']) return undefined;
    const prefix = opts['awslogs-stream-prefix'];
    return { group: opts['awslogs-group'], stream: prefix ? `${prefix}/${container.name}/${task.id}` : task.id };
  }

  /** The awslogs group/stream of the task's essential container, if it logs to CloudWatch. */
  logStream(task: Task): { group: string; stream: string } | undefined {
    return this.awslogs(task);
  }

  private writeLogs(task: Task, lines: string[]): void {
    const target = this.awslogs(task);
    if (!target || task.runningAt === undefined || lines.length === 0) return;
    const span = task.stopAt !== undefined ? task.stopAt - task.runningAt : lines.length * 10;
    const step = span / (lines.length + 1);
    this.logs.write(
      target.group,
      target.stream,
      lines.map((message, i) => ({ timestamp: Math.round(task.runningAt! + step * (i + 1)), message })),
      task.runningAt,
    );
  }

  private truncateLogs(task: Task, at: number): void {
    const target = this.awslogs(task);
    if (target) this.logs.truncate(target.group, target.stream, at);
  }

  view(task: Task, includeTags = false, now = this.ctx.now()): Record<string, unknown> {
    const status = this.lastStatus(task, now);
    const stopped = status === 'STOPPED';
    const t = (ms: number | undefined) => (ms !== undefined ? epochSeconds(ms) : undefined);
    const started = task.runningAt !== undefined && now >= task.runningAt;
    const cpu = task.def.body.cpu as string | undefined;
    const memory = task.def.body.memory as string | undefined;
    const essential = task.def.containerDefinitions.find((c) => c.essential !== false) ?? task.def.containerDefinitions[0]!;
    return {
      taskArn: task.arn,
      clusterArn: task.clusterArn,
      taskDefinitionArn: task.def.taskDefinitionArn,
      lastStatus: status,
      desiredStatus: this.desiredStatus(task, now),
      createdAt: t(task.createdAt),
      ...(status !== 'PROVISIONING' ? { pullStartedAt: t(task.createdAt + 100) } : {}),
      ...(started
        ? {
            pullStoppedAt: t(task.runningAt! - 1),
            startedAt: t(task.runningAt),
            connectivity: 'CONNECTED',
            connectivityAt: t(task.createdAt + 50),
          }
        : {}),
      ...(task.stopRequestedAt !== undefined && now >= task.stopRequestedAt ? { stoppingAt: t(task.stopRequestedAt) } : {}),
      ...(stopped
        ? {
            stoppingAt: t(task.stopRequestedAt ?? task.stopAt),
            executionStoppedAt: t(task.stopAt),
            stoppedAt: t(task.stopAt),
            stopCode: task.stopCode,
            stoppedReason: task.stoppedReason,
          }
        : {}),
      ...(task.startedBy ? { startedBy: task.startedBy } : {}),
      group: task.group,
      launchType: task.launchType,
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      ...(cpu ? { cpu } : {}),
      ...(memory ? { memory } : {}),
      availabilityZone: `${this.ctx.region}a`,
      version: stopped ? 4 : started ? 3 : 1,
      overrides: task.overrides,
      enableExecuteCommand: false,
      healthStatus: 'UNKNOWN',
      attachments: [],
      ephemeralStorage: { sizeInGiB: 20 },
      ...(includeTags ? { tags: task.tags } : {}),
      containers: task.def.containerDefinitions.map((c) => {
        const isEssential = task.exitingContainer ? c.name === task.exitingContainer : c === essential;
        const stoppedByEcs = task.exitingContainer !== undefined || task.exitCode === 143;
        return {
          containerArn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:container/${task.clusterArn.split('/').pop()}/${task.id}/${c.name}`,
          taskArn: task.arn,
          name: c.name,
          image: c.image,
          lastStatus: status === 'PROVISIONING' ? 'PENDING' : status,
          ...(stopped && task.exitCode !== undefined ? { exitCode: isEssential ? task.exitCode : stoppedByEcs ? 143 : 0 } : {}),
          ...(stopped && task.containerReason && isEssential ? { reason: task.containerReason } : {}),
          networkBindings: [],
          networkInterfaces: [],
          healthStatus: 'UNKNOWN',
          ...(c.cpu !== undefined ? { cpu: String(c.cpu) } : {}),
          ...(c.memory !== undefined ? { memory: String(c.memory) } : {}),
        };
      }),
    };
  }
}
