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
  /**
   * A circuit-breaker rollback of the 'previous-in-progress' shape: this rollback is the old COMPLETED
   * deployment itself, shown again (same id, same createdAt) as PRIMARY and IN_PROGRESS.
   */
  reuses?: Deployment;
  /** Image digests ECS resolved when the deployment was created (container name → digest). */
  imageDigests: Record<string, string>;
}

interface ServiceEvent {
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

/** Resolves a container image to the digest its tag points at now (the emulator's ECR); undefined when unknown. */
export type DigestResolver = (image: string) => string | undefined;

/**
 * "Amazon ECS resolves container image names and any image tags specified in the task definition to
 * container image digests" when it creates a service revision, and keeps using that digest
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerImage.html): each
 * deployment keeps the digests of its creation time, whatever the tag points at later.
 */
function resolveDigests(def: TaskDefinition, resolve: DigestResolver | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of def.containerDefinitions as { name?: string; image?: string }[]) {
    const pinned = /@(sha256:[a-f0-9]{64})$/.exec(c.image ?? '')?.[1];
    const digest = pinned ?? (c.image ? resolve?.(c.image) : undefined);
    if (c.name && digest) out[c.name] = digest;
  }
  return out;
}

export class Deployer {
  /** Set by the emulator to its ECR (ECS resolves tags to digests when a deployment is created). */
  resolveDigest?: DigestResolver;
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
      imageDigests: resolveDigests(def, this.resolveDigest),
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
    if (stopped.length)
      this.event(target, at, `has stopped ${stopped.length} running tasks: ${stopped.map((t) => `(task ${t.id})`).join(' ')}.`);
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
  update(
    target: DeployTarget,
    def: TaskDefinition,
    desiredCount: number,
    at: number,
    scenario: RolloutScenario = { result: 'success' },
  ): Deployment {
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
      : {
          pendingMs: wave * 0.3,
          runMs: wave * 0.5,
          exitCode: scenario.exitCode ?? 1,
          logLines: scenario.logLines,
          stoppedReason: scenario.stoppedReason,
        };
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
      if ((scenario.rollbackShape ?? 'new-deployment') === 'previous-in-progress') {
        // The other reading of "rolled back to the last deployment that completed successfully": the
        // old deployment itself goes back to PRIMARY / IN_PROGRESS (same id) and its tasks, still
        // running, carry on. Modelled, not documented: the guide does not say which shape ECS shows.
        r.id = previous.id;
        r.reuses = previous;
        r.imageDigests = previous.imageDigests;
        r.tasks = previous.tasks;
        previous.drainedAt = d.failsAt;
      } else {
        this.launch(target, r, d.failsAt + 2, previous.desiredCount, { pendingMs: rms / 2 });
      }
      this.complete(target, r, d.failsAt + rms);
    } else if (scenario.oldTasksStopFirst && previous) {
      // minimumHealthyPercent 0: the old tasks are stopped before the new ones start, and a deployment
      // with no task left is no longer listed (modelled, not documented): DescribeServices then lists
      // only the FAILED deployment; ListServiceDeployments still has the old one as SUCCESSFUL.
      previous.drainedAt = at;
      for (const t of previous.tasks)
        if (t.stopAt === undefined || t.stopAt > at)
          this.tasks.stop(t, at, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${d.id})`, true);
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
    const previous =
      [...target.deployments]
        .reverse()
        .find((x) => x !== d && x.kind !== 'rollback' && x.completesAt !== undefined && x.completesAt <= at) ??
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

  /**
   * UpdateService changing only desiredCount (a person, or Application Auto Scaling's scale-out): the
   * primary deployment scales in place and stays COMPLETED. `pendingMs`: how long the new tasks take to run.
   */
  scale(target: DeployTarget, desiredCount: number, at: number, pendingMs = 500): void {
    const primary = this.visible(target, at).at(-1);
    if (!primary) return;
    const live = primary.tasks.filter((t) => t.stopAt === undefined || t.stopAt > at);
    primary.desiredCount = desiredCount;
    if (live.length < desiredCount) this.launch(target, primary, at, desiredCount - live.length, { pendingMs });
    const extra = live.slice(desiredCount);
    for (const t of extra) this.tasks.stop(t, at, 'ServiceSchedulerInitiated', `Scaling activity initiated by (deployment ${primary.id})`);
    if (extra.length) this.event(target, at, `has stopped ${extra.length} running tasks: ${extra.map((t) => `(task ${t.id})`).join(' ')}.`);
  }

  /** Deployments ECS still lists at `now` (oldest first; the last is PRIMARY). */
  visible(target: DeployTarget, now: number): Deployment[] {
    return target.deployments.filter((d) => d.createdAt <= now && (d.drainedAt === undefined || d.drainedAt > now));
  }

  rolloutState(d: Deployment, now: number): { rolloutState: string; rolloutStateReason: string } {
    if (d.completesAt !== undefined && now >= d.completesAt)
      return { rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${d.id} completed.` };
    if (d.failsAt !== undefined && now >= d.failsAt)
      return { rolloutState: 'FAILED', rolloutStateReason: `ECS deployment circuit breaker: ${d.failureReason}.` };
    // A reused deployment says nothing of the rollback (modelled, not documented): we must not depend on it.
    if (d.rollbackTo && !d.reuses)
      return {
        rolloutState: 'IN_PROGRESS',
        rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${d.rollbackTo.id}.`,
      };
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
      createdAt: epochSeconds(d.reuses?.createdAt ?? d.createdAt),
      updatedAt: epochSeconds(updated),
      launchType: target.launchType,
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      ...(target.networkConfiguration ? { networkConfiguration: target.networkConfiguration } : {}),
      ...this.rolloutState(d, now),
    };
  }
}
