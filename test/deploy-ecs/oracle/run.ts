/**
 * Runs one schedule: deploy-ecs's own prepare() and deploy() (what main.ts runs, with the same
 * deadline and cancel wiring) against the schedule's world, the invariants checked at every step
 * and at the end.
 */
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallDeadline, boundCalls, deadlineSignal } from '../../../lib/deadline.js';
import { memoryReporter } from '../../../lib/report.js';
import { deploy } from '../../../actions/deploy-ecs/deploy.js';
import { CANCEL_BUDGET_MS, type DeployResult } from '../../../actions/deploy-ecs/deploy-types.js';
import { getInputs } from '../../../actions/deploy-ecs/inputs.js';
import { interruptedBeforeUpdate, isAwsError } from '../../../actions/deploy-ecs/interrupted.js';
import { prepare } from '../../../actions/deploy-ecs/prepare.js';
import { Checker } from './invariants.js';
import { describeSchedule, generate } from './schedule.js';
import { FakeTime, Wire } from './wire.js';
import { CLUSTER, World, WRITES } from './world.js';

const START = Date.UTC(2026, 0, 1);

/** action.yml's defaults, as the runner passes them (test/helpers/run-bundle.ts does the same for bundles). */
const defaults: Record<string, string> = (() => {
  const yml = parseYaml(readFileSync(join(import.meta.dirname, '../../../actions/deploy-ecs/action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(Object.entries(yml.inputs).flatMap(([k, v]) => (v.default !== undefined ? [[k, String(v.default)]] : [])));
})();

export interface ScheduleRun {
  seed: number;
  checks: number;
  requests: number;
  violations: string[];
  story: string;
}

export async function runSchedule(seed: number): Promise<ScheduleRun> {
  const schedule = generate(seed);
  const time = new FakeTime(START);
  const world = new World(schedule, time);
  const checker = new Checker(world);
  const cancel = new AbortController();
  const report = memoryReporter();
  const routes = { ECS: world.ecs.operations(), ECR: world.ecr.operations(), CloudWatchLogs: world.logs.operations() };
  const registered = world.registered;
  const wire = new Wire(
    routes,
    time,
    schedule.faults,
    (e) => {
      if (!WRITES.has(e.operation)) return;
      checker.request(e, registered);
      world.beforeWrite(e);
    },
    (e) => {
      if (WRITES.has(e.operation)) world.afterWrite(e);
      checker.step(e);
    },
    () => {
      checker.cancelled = true;
      report.info('oracle: SIGINT (cancel)');
      cancel.abort(new Error('cancelled (SIGINT)'));
    },
  );
  const values: Record<string, string> = {
    ...defaults,
    'task-definition': world.taskDefinitionPath,
    cluster: CLUSTER,
    services: schedule.services.map((s) => s.name).join('\n'),
    'aws-region': 'eu-west-1',
    ...schedule.inputs,
    ...(schedule.gate
      ? {
          'gate-url': world.gateUrls(),
          'gate-stage': schedule.gate.stage,
          'gate-successes': String(schedule.gate.successes),
          'gate-timeout-seconds': String(schedule.gate.timeoutSeconds),
        }
      : {}),
  };
  const inputs = getInputs((n) => values[n] ?? '', {});
  const clients = wire.clients(inputs.maxAttempts);
  // main.ts's wiring: one deadline for every call, the cancel budget once the cancel comes. These two are
  // wall-clock timers that a schedule (milliseconds of wall time) never reaches; the fake clock bounds the waits.
  const calls = new CallDeadline(deadlineSignal(inputs.timeoutMinutes * 60_000, cancel.signal));
  cancel.signal.addEventListener('abort', () => calls.set(AbortSignal.timeout(CANCEL_BUDGET_MS)), { once: true });
  const ecs = boundCalls(clients.ecs, calls);
  const ecr = boundCalls(clients.ecr, calls);
  const realFetch = globalThis.fetch;
  globalThis.fetch = world.fetch as typeof fetch;
  const runStartedAt = time.now();
  let result: DeployResult | undefined;
  let thrown: unknown;
  // A kill: the run's promise never settles (nothing more is answered or woken); the schedule ends there.
  const killed = new Promise<'killed'>((resolve) => (time.onKill = () => resolve('killed')));
  const run = async () => {
    let prepared;
    try {
      prepared = await prepare(inputs, { ecs, ecr, report });
    } catch (err) {
      // main.ts: a stop or an AWS failure while preparing still ends with outputs and a summary.
      const stopped = cancel.signal.aborted || calls.signal?.aborted;
      if (!stopped && !isAwsError(err)) throw err;
      const how = cancel.signal.aborted ? 'cancelled' : stopped ? 'timed-out' : 'failed';
      return interruptedBeforeUpdate(inputs, how, 'preparing', 0, undefined, String(err));
    }
    return deploy(prepared.inputs, {
      ecs,
      ecr,
      logs: boundCalls(clients.logs, calls),
      calls,
      exec: () => Promise.reject(new Error('the oracle publishes no image')),
      report,
      sleep: time.sleep,
      now: time.now,
      region: 'eu-west-1',
      signal: cancel.signal,
      runStartedAt,
    });
  };
  try {
    const ended = await Promise.race([run(), killed]);
    if (ended !== 'killed') result = ended;
  } catch (err) {
    thrown = err;
  } finally {
    globalThis.fetch = realFetch;
  }
  if (wire.killed) checker.step(undefined);
  else checker.end(result, thrown);
  const story = [
    `seed ${seed}: ${wire.killed ? 'killed' : `status=${result?.status ?? 'threw'}`}, ${wire.log.length} requests`,
    describeSchedule(schedule),
    `  ECS at the end: ${checker.ecsStory()}`,
    `  requests: ${wire.log.map((e) => `#${e.index} ${e.operation}${e.fault ? `(${e.fault})` : e.status !== 200 ? `(${e.status})` : ''}`).join(' ')}`,
    `  log (last ${process.env.ORACLE_LOG_LINES ?? 25} lines):\n    ${report.lines.slice(-Number(process.env.ORACLE_LOG_LINES ?? 25)).join('\n    ')}`,
  ].join('\n');
  return { seed, checks: checker.checks, requests: wire.log.length, violations: checker.violations, story };
}
