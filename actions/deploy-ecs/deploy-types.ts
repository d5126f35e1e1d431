/**
 * What a deploy-ecs run needs and what it returns: the clients and clock it is given (Deps), the
 * per-service and overall results, and the budgets that bound a rollback. Shared by the phases
 * (deploy.ts), the gates, the rollback and the summary, so none of them imports another's module
 * for its types.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient, Service } from '@aws-sdk/client-ecs';
import type { CallDeadline } from '../../lib/deadline.js';
import type { ActionError } from '../../lib/errors.js';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';
import type { Diagnosis } from './diagnose.js';
import type { GateResult } from './gate-types.js';
import type { ExecFn } from './image.js';
import type { DryRun } from './plan.js';

export interface Deps {
  ecs: ECSClient;
  ecr: ECRClient;
  /** Read only by a failure's diagnosis: main.ts loads its SDK package on the first call (lib/aws.ts lazyClient). */
  logs: Pick<CloudWatchLogsClient, 'send'>;
  exec: ExecFn;
  report: Reporter;
  sleep: Sleep;
  now: Clock;
  region: string;
  /** Aborted when the runner cancels the workflow (SIGINT / SIGTERM). */
  signal?: AbortSignal;
  /** The deadline of the clients' calls (lib/deadline.ts); after a cancel the rollback gets a fresh one. */
  calls?: CallDeadline;
  /** When the run began (before prepare): timeout-minutes counts from here. */
  runStartedAt?: number;
  /**
   * The services as the checks before the deploy read them a moment earlier (prepare.ts): the first
   * phase uses them instead of a second DescribeServices. Nothing of ours writes in between.
   */
  servicesRead?: Map<string, Service>;
}

/** Milliseconds after a cancel signal in which the rollback must be confirmed: the runner kills the step at 10 s. */
export const CANCEL_BUDGET_MS = 8000;

/** The share of timeout-minutes kept for a rollback (at most 5 minutes): the documented minimum a rollback gets. */
export function rollbackReserveMs(timeoutMs: number): number {
  return Math.min(5 * 60_000, timeoutMs * 0.25);
}

/**
 * `interrupted`: still rolling out when another service failed (the wait stops at the first failure).
 * `superseded`: another deployer's deployment replaced ours (never rolled back over).
 */
type ServiceOutcome =
  | 'succeeded'
  | 'unchanged'
  | 'failed'
  | 'timed-out'
  | 'interrupted'
  | 'superseded'
  | 'cancelled'
  | 'rolled back'
  | 'rollback failed'
  | 'planned';

export interface ServiceResult {
  service: string;
  before?: string;
  after: string;
  result: ServiceOutcome;
  durationMs: number;
  deploymentId?: string;
  reason?: string;
}

export interface DeployResult {
  taskDefinitionArn: string;
  previousTaskDefinitionArn: string;
  changed: boolean;
  image: string;
  deploymentIds: Record<string, string>;
  status: 'succeeded' | 'unchanged' | 'failed' | 'timed-out' | 'cancelled' | 'dry-run' | 'superseded';
  rolledBack: boolean;
  durationSeconds: number;
  services: ServiceResult[];
  diff: string[];
  diagnoses: Diagnosis[];
  /** dry-run: the plan, and the diff against what each service runs now. */
  dryRun?: DryRun;
  /** every test-traffic gate run. */
  gates?: GateResult[];
  /** ECR writes (tags pushed or promoted, a write abandoned in flight) of a run whose release does not run. */
  leftInEcr?: string[];
  /** Set when the deploy failed; main.ts writes outputs and the summary, then throws it. */
  error?: ActionError;
}
