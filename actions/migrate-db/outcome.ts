import type { Task } from '@aws-sdk/client-ecs';

/**
 * How a stopped migration task ended, read from the container the migration ran in: the one
 * decision of migrate-db that maps what ECS reports to succeeded / failed / not-started.
 */

export type Outcome =
  | { result: 'succeeded'; exitCode: 0 }
  | { result: 'failed'; exitCode: number; stop?: TaskStop }
  | { result: 'not-started'; stopCode?: string; stoppedReason?: string; containerReason?: string }
  | { result: 'timed-out'; waitedSeconds?: number }
  | { result: 'cancelled' };

/** Why ECS stopped the task, and how the other containers ended: the migration's exit code alone cannot say. */
interface TaskStop {
  stopCode?: string;
  stoppedReason?: string;
  /** The other containers with an exit code, e.g. `envoy exited 1`. */
  others: string[];
}

/** Judges the named container only: a sidecar's exit code never decides the result. */
export function outcomeOfTask(task: Task, container: string): Outcome {
  const c = task.containers?.find((x) => x.name === container);
  if (c?.exitCode !== undefined && c.exitCode !== null) {
    if (c.exitCode === 0) return { result: 'succeeded', exitCode: 0 };
    // An essential sidecar that exits stops the whole task: ECS then stops the migration container too
    // (exit 143/137), and only stoppedReason and the sidecar's own exit code tell why.
    const others = (task.containers ?? [])
      .filter((x) => x.name !== container && x.exitCode !== undefined && x.exitCode !== null)
      .map((x) => `${x.name} exited ${x.exitCode}`);
    return { result: 'failed', exitCode: c.exitCode, stop: { stopCode: task.stopCode, stoppedReason: task.stoppedReason, others } };
  }
  // No exit code: the container never ran (image pull, secrets, capacity, essential sidecar died first …).
  return { result: 'not-started', stopCode: task.stopCode, stoppedReason: task.stoppedReason, containerReason: c?.reason };
}
