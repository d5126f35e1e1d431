/**
 * Scenario queues: how the next rollout of a service, or the next task that
 * matches, behaves. Consumed when the deployment / task is created.
 */

export interface RolloutScenario {
  /** success: COMPLETED after afterSeconds; fail: tasks keep stopping, FAILED after afterSeconds; stuck: never completes. */
  result: 'success' | 'fail' | 'stuck';
  /** Seconds from UpdateService to COMPLETED / FAILED (default 1 for success, 3 for fail). */
  afterSeconds?: number;
  /** Why the failing tasks stopped. With no exitCode this means they failed to start (stopCode TaskFailedToStart). */
  stoppedReason?: string;
  /** Exit code of the essential container of each failing task (default 1 when no stoppedReason is given). */
  exitCode?: number;
  /** Printed by each failing task into its awslogs stream before it exits. */
  logLines?: string[];
  /** ECS itself rolls back to the previous task definition (default: the service's circuit-breaker `rollback`). */
  circuitBreakerRollback?: boolean;
  /**
   * How the circuit-breaker rollback shows in DescribeServices. The guide says only that the service
   * "is rolled back to the last deployment that completed successfully"
   * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html);
   * 'new-deployment' (default): a new PRIMARY deployment of that revision; 'previous-in-progress': the
   * old COMPLETED deployment back as PRIMARY, IN_PROGRESS, same id. Which one ECS shows: modelled, not documented.
   */
  rollbackShape?: 'new-deployment' | 'previous-in-progress';
  /** A failing rollout that stopped the old tasks first (minimumHealthyPercent 0), leaving only the FAILED deployment listed. */
  oldTasksStopFirst?: boolean;
  /** Seconds the circuit-breaker rollback (or a StopServiceDeployment ROLLBACK) takes to reach a steady state (default 1). */
  rollbackSeconds?: number;
  /**
   * Another actor (a second pipeline, a person in the console) calls UpdateService on the same
   * service `afterSeconds` after ours, with `taskDefinition` (default: the same revision, forced).
   * ECS starts their deployment and stops ours, as a newer UpdateService always does.
   */
  interruptedBy?: { afterSeconds: number; taskDefinition?: string; rolloutSeconds?: number };
}

export interface TaskScenario {
  /** Exit code of the essential container (default 0). */
  exitCode?: number;
  /** Seconds the task runs before it exits (default 1). */
  afterSeconds?: number;
  /** Printed into the essential container's awslogs stream while it runs. */
  logLines?: string[];
  /** Seconds in PROVISIONING/PENDING before RUNNING (default 0.5). */
  pendingSeconds?: number;
  /** The task never runs: it stops after pendingSeconds with this stop code and reason. */
  failToStart?: { stopCode?: string; stoppedReason: string };
  /**
   * The essential container whose exit (with exitCode, after afterSeconds) stops the task: a sidecar
   * such as a proxy or collector. Default: the first essential container. The others are stopped
   * by ECS and report exit code 143 (see TaskPlan.exitingContainer).
   */
  exitingContainer?: string;
}

export interface TaskMatch {
  family?: string;
  startedBy?: string;
}

export class Scenarios {
  private readonly rollouts = new Map<string, RolloutScenario[]>();
  private readonly tasks: { match: TaskMatch; scenario: TaskScenario }[] = [];

  /** The next UpdateService that starts a deployment of this service plays this scenario. Queues: call twice for two rollouts. */
  nextRollout(target: { cluster?: string; service: string }, scenario: RolloutScenario): void {
    const key = `${target.cluster ?? 'default'}/${target.service}`;
    this.rollouts.set(key, [...(this.rollouts.get(key) ?? []), scenario]);
  }

  /** The next task launched by RunTask that matches (family and/or startedBy) plays this scenario. */
  nextTask(match: TaskMatch, scenario: TaskScenario): void {
    this.tasks.push({ match, scenario });
  }

  takeRollout(cluster: string, service: string): RolloutScenario | undefined {
    return this.rollouts.get(`${cluster}/${service}`)?.shift();
  }

  takeTask(family: string, startedBy: string | undefined): TaskScenario | undefined {
    const i = this.tasks.findIndex(
      ({ match }) => (!match.family || match.family === family) && (!match.startedBy || match.startedBy === startedBy),
    );
    return i < 0 ? undefined : this.tasks.splice(i, 1)[0]!.scenario;
  }

  clear(): void {
    this.rollouts.clear();
    this.tasks.length = 0;
  }
}
