/**
 * The test-traffic gate's shapes: what it is given (clients, clock, the service it checks) and what
 * it reports (each URL's attempts, the command's exit and last lines), shared by the probes, the
 * command, the report and the PAUSE-hook handling.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Clock, Sleep } from '../../lib/poll.js';
import type { Reporter } from '../../lib/report.js';

export interface GateDeps {
  fetch: typeof fetch;
  spawn: (command: string, options: SpawnOptions) => ChildProcess;
  sleep: Sleep;
  now: Clock;
  report: Pick<Reporter, 'info' | 'setSecret'>;
  env?: NodeJS.ProcessEnv;
}

export interface GateContext {
  service: string;
  taskDefinitionArn: string;
  /** Stops the gate early (the deployment ended, another service failed): the result is `skipped`. */
  signal?: AbortSignal;
}

export interface ProbeAttempt {
  status?: number;
  error?: string;
  ms: number;
}

interface UrlReport {
  /** Printable form: query values and passwords replaced by ***. */
  url: string;
  attempts: ProbeAttempt[];
  passed: boolean;
}

export interface CommandReport {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  lastLines: string[];
}

export interface GateResult {
  service: string;
  /** expired: the pause ended (its timeout, or someone else's CONTINUE) before the gate passed; a failure. */
  status: 'passed' | 'failed' | 'skipped' | 'expired';
  reason: string;
  durationMs: number;
  urls: UrlReport[];
  command?: CommandReport;
  /** Where the gate ran, e.g. "POST_TEST_TRAFFIC_SHIFT pause hook" or "after COMPLETED". */
  stage?: string;
}

/**
 * Why a gate was stopped from outside other than by the workflow's cancel (e.g. the pause it checked
 * ended): the abort reason of the gate's signal, so the log does not say "cancel" when nothing was cancelled.
 */
export class GateStop extends Error {}
