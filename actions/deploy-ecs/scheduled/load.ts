/**
 * The scheduled-tasks phases, loaded only when the scheduled-tasks input is set. Their EventBridge
 * and Scheduler SDK packages would otherwise be evaluated at the start of every run (the bundler
 * puts a dynamic import in a chunk of its own), which is start-up time every other run pays for
 * nothing (bench/deploy-ecs/instant.ts measures it).
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { ClientCtor } from '../../../lib/aws.js';
import type { ActionError } from '../../../lib/errors.js';
import type { Reporter } from '../../../lib/report.js';
import type { DeployResult } from '../deploy-types.js';
import type { Inputs } from '../inputs.js';
import type { ScheduledTarget } from './find.js';
import type { ScheduledMove } from './move.js';

export interface ScheduledPhases {
  find(inputs: Inputs): Promise<ScheduledTarget[]>;
  move(result: DeployResult, targets: ScheduledTarget[]): Promise<{ moves: ScheduledMove[]; error?: ActionError }>;
  markdown(moves: ScheduledMove[]): string;
}

const NONE: ScheduledPhases = { find: async () => [], move: async () => ({ moves: [] }), markdown: () => '' };

/** `client(Ctor)` makes the run's client of that kind (bounded by the run's deadline where the caller wants it). */
export async function loadScheduled(
  inputs: Inputs,
  deps: { ecs: ECSClient; report: Reporter; client: <T extends object>(ctor: ClientCtor<T>) => T },
): Promise<ScheduledPhases> {
  if (!inputs.scheduledTasks.length) return NONE;
  const [phase, { SchedulerClient }, { EventBridgeClient }] = await Promise.all([
    import('./phase.js'),
    import('@aws-sdk/client-scheduler'),
    import('@aws-sdk/client-eventbridge'),
  ]);
  const scheduledDeps = {
    ecs: deps.ecs,
    scheduler: deps.client<SchedulerClient>(SchedulerClient),
    events: deps.client<EventBridgeClient>(EventBridgeClient),
    report: deps.report,
  };
  return {
    find: (prepared) => phase.findScheduled(prepared, scheduledDeps),
    move: (result, targets) => phase.moveScheduled(result, targets, scheduledDeps),
    markdown: phase.scheduledMarkdown,
  };
}
