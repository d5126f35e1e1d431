/**
 * ECS service deployments as timelines. Starting a deployment plans its whole
 * future (task launches, failures, drains, events, a circuit-breaker rollback)
 * with timestamps; reads compute PRIMARY/ACTIVE, rolloutState and counts at
 * `now`. A newer deployment cuts off whatever of the older timeline has not
 * happened yet, as ECS does when UpdateService interrupts a rollout.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { epochSeconds } from '../core.js';
import type { RolloutScenario } from '../scenarios.js';
import type { TaskDefinition } from './taskdefs.js';
import type { Task, TaskPlan, Tasks } from './tasks.js';

export interface Deployment {
  id: string;
  kind: 'initial' | 'update' | 'rollback';
  def: TaskDefinition;
  desiredCount: number;
  createdAt: number;
  completesAt?: number;
  failsAt?: number;
  drainedAt?: number;
  tasks: Task[];
  /** On a failed deployment: the rollback deployment ECS started for it. */
  rollback?: Deployment;
  /** On a rollback deployment: the deployment it rolled back to (its task definition). */
  rollbackTo?: Deployment;
  /** Deployments that were running when this one started (ListServiceDeployments' source revisions). */
  sources: Deployment[];
  serviceDeploymentId: string;
  revision: number;
  failureReason?: string;
  /** Why this deployment is being rolled back (circuit breaker, or StopServiceDeployment ROLLBACK). */
  rollbackReason?: string;
  /** Seconds a StopServiceDeployment ROLLBACK of this deployment takes (the scenario's rollbackSeconds). */
  rollbackSeconds?: number;
}

export interface ServiceEvent {
  id: string;
  createdAt: number;
  message: string;
}

/** The parts of a service the timeline needs. */
export interface DeployTarget {
  name: string;
  clusterArn: string;
  launchType: string;
  networkConfiguration?: Record<string, unknown>;
  circuitBreakerRollback: boolean;
  deployments: Deployment[];
  events: ServiceEvent[];
  revisions: number;
}

const newDeploymentId = (): string => `ecs-svc/${randomInt(1e9, 1e10 - 1)}${randomInt(1e9, 1e10 - 1)}`.slice(0, 27);

export class Deployer {
  constructor(private readonly tasks: Tasks) {}

  private event(target: DeployTarget, at: number, message: string): void {
    target.events.push({ id: randomUUID(), createdAt: at, message: `(service ${target.name}) ${message}` });
  }

  private launch(target: DeployTarget, d: Deployment, at: number, count: number, plan: TaskPlan): Task[] {
    const launched = Array.from({ length: count }, () =>
      this.tasks.launch({
        clusterArn: target.clusterArn,
        def: d.def,
        plan,
        at,
        startedBy: d.id,
        group: `service:${target.name}`,
        launchType: target.launchType,
        networkConfiguration: target.networkConfiguration,
        deploymentId: d.id,
      }),
    );
    d.tasks.push(...launched);
    if (count > 0) this.event(target, at, `has started ${count} tasks: ${launched.map((t) => `(task ${t.id})`).join(' ')}.`);
    return launched;
  }

  private create(target: DeployTarget, kind: Deployment['kind'], def: TaskDefinition, desiredCount: number, at: number): Deployment {
    const d: Deployment = {
      id: newDeploymentId(),
      kind,
      def,
      desiredCount,
      createdAt: at,
      tasks: [],
      sources: target.deployments.filter((x) => x.drainedAt === undefined || x.drainedAt > at),
      serviceDeploymentId: randomUUID().replace(/-/g, '').slice(0, 20),
      revision: ++target.revisions,
    };
    target.deployments.push(d);
    return d;
  }

  /** Completes `d` at `at`: older deployments drain (their tasks stop) and the service reaches a steady state. */
  private complete(target: DeployTarget, d: Deployment, at: number): void {
    d.completesAt = at;
    const stopped: Task[] = [];
    for (const old of target.deployments) {
      if (old === d || old.createdAt > at || (old.drainedAt !== undefined && old.drainedAt <= at)) continue;
      old.drainedAt = at;
      for (const t of old.tasks) {
        if (t.stopAt !== undefined && t.stopAt <= at && !t.drainStop) continue;
        this.tasks.stop(t, at, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${d.id})`, true);
        stopped.push(t);
      }
    }
    if (stopped.length) this.event(target, at, `has stopped ${stopped.length} running tasks: ${stopped.map((t) => `(task ${t.id})`).join(' ')}.`);
    this.event(target, at, `(deployment ${d.id}) deployment completed.`);
    this.event(target, at + 1, 'has reached a steady state.');
  }

  /** The service as CreateService leaves it once settled: one COMPLETED PRIMARY deployment, running = desired. */
  initial(target: DeployTarget, def: TaskDefinition, desiredCount: number, at: number): Deployment {
    const d = this.create(target, 'initial', def, desiredCount, at);
    this.launch(target, d, at, desiredCount, { pendingMs: 0 });
    this.complete(target, d, at);
    return d;
  }

  /** Removes what has not happened yet of the running timelines (a newer deployment takes over at `at`). */
  private interrupt(target: DeployTarget, at: number): void {
    target.deployments = target.deployments.filter((d) => d.createdAt <= at);
    target.events = target.events.filter((e) => e.createdAt <= at);
    for (const d of target.deployments) {
      if (d.completesAt !== undefined && d.completesAt > at) d.completesAt = undefined;
      if (d.failsAt !== undefined && d.failsAt > at) d.failsAt = undefined;
      if (d.drainedAt !== undefined && d.drainedAt > at) d.drainedAt = undefined;
      if (d.rollback && d.rollback.createdAt > at) d.rollback = undefined;
      d.tasks = d.tasks.filter((t) => {
        if (t.createdAt <= at) return true;
        this.tasks.discard(t);
        return false;
      });
      for (const t of d.tasks) this.tasks.cancelDrain(t, at);
    }
  }

  /** UpdateService with a new task definition or forceNewDeployment: plays the scenario from `at`. */
  update(target: DeployTarget, def: TaskDefinition, desiredCount: number, at: number, scenario: RolloutScenario = { result: 'success' }): Deployment {
    this.interrupt(target, at);
    const previous = [...target.deployments].reverse().find((d) => d.completesAt !== undefined && d.completesAt <= at);
    const d = this.create(target, 'update', def, desiredCount, at);
    if (scenario.result === 'stuck') {
      this.launch(target, d, at, desiredCount, { pendingMs: Infinity });
      return d;
    }
    if (scenario.result === 'success') {
      const ms = (scenario.afterSeconds ?? 1) * 1000;
      this.launch(target, d, at, desiredCount, { pendingMs: ms / 2 });
      this.complete(target, d, at + ms);
      return d;
    }
    // A failing rollout: three waves of tasks that each stop before the circuit breaker trips. Without
    // rollback the deployment "will transition to a failed state and stop launching new tasks" and stays
    // PRIMARY (FAILED) next to the last completed one; with rollback ECS rolls "back to the last deployment
    // that completed successfully" — https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html.
    const ms = (scenario.afterSeconds ?? 3) * 1000;
    const wave = ms / 3;
    const failToStart = scenario.exitCode === undefined && scenario.stoppedReason !== undefined;
    const plan: TaskPlan = failToStart
      ? { pendingMs: wave * 0.6, failToStart: { stoppedReason: scenario.stoppedReason! } }
      : { pendingMs: wave * 0.3, runMs: wave * 0.5, exitCode: scenario.exitCode ?? 1, logLines: scenario.logLines, stoppedReason: scenario.stoppedReason };
    for (let k = 0; k < 3; k++) this.launch(target, d, at + k * wave, Math.max(1, desiredCount), plan);
    d.failsAt = at + ms;
    d.failureReason = 'tasks failed to start';
    this.event(target, d.failsAt, `(deployment ${d.id}) deployment failed: tasks failed to start.`);
    const rollback = scenario.circuitBreakerRollback ?? target.circuitBreakerRollback;
    if (rollback && previous) {
      const r = this.create(target, 'rollback', previous.def, previous.desiredCount, d.failsAt);
      r.rollbackTo = previous;
      d.rollback = r;
      d.rollbackReason = 'ECS deployment circuit breaker: tasks failed to start.';
      this.event(target, d.failsAt + 1, `rolling back to deployment ${previous.id}.`);
      const rms = (scenario.rollbackSeconds ?? 1) * 1000;
      this.launch(target, r, d.failsAt + 2, previous.desiredCount, { pendingMs: rms / 2 });
      this.complete(target, r, d.failsAt + rms);
    }
    return d;
  }

  /**
   * StopServiceDeployment with stopType ROLLBACK: "rolls back the service deployment to the previous
   * service revision", from PENDING or IN_PROGRESS (ROLLBACK_REQUESTED, then the rollback runs)
   * — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html.
   * The rest of `d`'s timeline is cut off; a rollback deployment of the revision that last
   * completed becomes PRIMARY and completes after `seconds` (blue/green: the blue tasks are
   * still running, so this is mostly the traffic shift back).
   */
  stopAndRollBack(target: DeployTarget, d: Deployment, at: number, seconds: number): Deployment | undefined {
    const previous = [...target.deployments].reverse().find((x) => x !== d && x.kind !== 'rollback' && x.completesAt !== undefined && x.completesAt <= at) ??
      [...target.deployments].reverse().find((x) => x.rollbackTo && x.completesAt !== undefined && x.completesAt <= at)?.rollbackTo;
    if (!previous) return undefined;
    this.interrupt(target, at);
    d.failsAt = undefined;
    const r = this.create(target, 'rollback', previous.def, previous.desiredCount, at);
    r.rollbackTo = previous;
    d.rollback = r;
    d.rollbackReason = 'Service deployment rolled back because of a StopServiceDeployment request.';
    this.event(target, at, `(deployment ${d.id}) rolling back to deployment ${previous.id}.`);
    const ms = seconds * 1000;
    this.launch(target, r, at + 1, previous.desiredCount, { pendingMs: ms / 2 });
    this.complete(target, r, at + ms);
    return r;
  }

  /** UpdateService changing only desiredCount: the primary deployment scales in place. */
  scale(target: DeployTarget, desiredCount: number, at: number): void {
    const primary = this.visible(target, at).at(-1);
    if (!primary) return;
    const live = primary.tasks.filter((t) => t.stopAt === undefined || t.stopAt > at);
    primary.desiredCount = desiredCount;
    if (live.length < desiredCount) this.launch(target, primary, at, desiredCount - live.length, { pendingMs: 500 });
    const extra = live.slice(desiredCount);
    for (const t of extra) this.tasks.stop(t, at, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`);
    if (extra.length) this.event(target, at, `has stopped ${extra.length} running tasks: ${extra.map((t) => `(task ${t.id})`).join(' ')}.`);
  }

  /** Deployments ECS still lists at `now` (oldest first; the last is PRIMARY). */
  visible(target: DeployTarget, now: number): Deployment[] {
    return target.deployments.filter((d) => d.createdAt <= now && (d.drainedAt === undefined || d.drainedAt > now));
  }

  rolloutState(d: Deployment, now: number): { rolloutState: string; rolloutStateReason: string } {
    if (d.completesAt !== undefined && now >= d.completesAt) return { rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${d.id} completed.` };
    if (d.failsAt !== undefined && now >= d.failsAt) return { rolloutState: 'FAILED', rolloutStateReason: `ECS deployment circuit breaker: ${d.failureReason}.` };
    if (d.rollbackTo) return { rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${d.rollbackTo.id}.` };
    return { rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment ${d.id} in progress.` };
  }

  counts(d: Deployment, now: number): { running: number; pending: number; failed: number } {
    let running = 0;
    let pending = 0;
    let failed = 0;
    for (const t of d.tasks) {
      if (t.createdAt > now) continue;
      const s = this.tasks.lastStatus(t, now);
      if (s === 'RUNNING') running++;
      else if (s === 'STOPPED') failed += t.stopCode === 'ServiceSchedulerInitiated' || t.stopCode === 'UserInitiated' ? 0 : 1;
      else pending++;
    }
    return { running, pending, failed };
  }

  view(target: DeployTarget, d: Deployment, primary: boolean, now: number): Record<string, unknown> {
    const c = this.counts(d, now);
    const updated = Math.max(d.createdAt, ...[d.completesAt, d.failsAt].filter((x): x is number => x !== undefined && x <= now));
    return {
      id: d.id,
      status: primary ? 'PRIMARY' : 'ACTIVE',
      taskDefinition: d.def.taskDefinitionArn,
      desiredCount: d.desiredCount,
      pendingCount: c.pending,
      runningCount: c.running,
      failedTasks: c.failed,
      createdAt: epochSeconds(d.createdAt),
      updatedAt: epochSeconds(updated),
      launchType: target.launchType,
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      ...(target.networkConfiguration ? { networkConfiguration: target.networkConfiguration } : {}),
      ...this.rolloutState(d, now),
    };
  }
}
