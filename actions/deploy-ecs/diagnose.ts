/**
 * What went wrong, gathered before the action exits: service events since our
 * update, stopped tasks of our revision with their reasons and exit codes, the
 * last log lines of those tasks, and a one-line hint for known causes.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ListTasksCommand, type ECSClient, type Service, type TaskDefinition } from '@aws-sdk/client-ecs';
import { describeUnknown } from '../../lib/errors.js';

interface StoppedTask {
  taskId: string;
  stopCode?: string;
  stoppedReason?: string;
  containers: { name: string; exitCode?: number; reason?: string }[];
  stoppedAt?: Date;
}

export interface Diagnosis {
  service: string;
  reason: string;
  events: string[];
  tasks: StoppedTask[];
  logs: { taskId: string; container: string; lines: string[] }[];
  hint?: string;
  /** Problems gathering the diagnosis itself (e.g. no logs:GetLogEvents permission). */
  notes: string[];
  /** The failed test-traffic gate: each URL's status codes and timings, or the command's exit and last lines. */
  gate?: string[];
}

const MAX_TASKS = 5;
const MAX_LOG_TASKS = 2;
const LOG_LINES = 20;

/** Known causes, first match wins; the texts say what to check. */
const HINTS: [RegExp, string][] = [
  [
    /CannotPullContainerError|pull image manifest|failed to resolve ref|image.*not found/i,
    'The image could not be pulled: check the tag exists in ECR, the execution role has ecr:BatchGetImage/GetDownloadUrlForLayer, and ' +
      'private subnets have a NAT gateway or ECR VPC endpoints.',
  ],
  [
    /ResourceInitializationError.*(secret|ssm|parameter)|unable to (retrieve|pull) secrets|AccessDenied.*(ssm|secretsmanager|kms)|ParameterNotFound/i,
    'Secrets could not be fetched: check the execution role may ssm:GetParameters / secretsmanager:GetSecretValue (and kms:Decrypt) on ' +
      'every valueFrom, and that each parameter/secret exists in this region.',
  ],
  // Word-bounded: "OOM" must not match "boom" or "zoom", "ELB" not "Melbourne".
  [
    /\bexit code:? 137\b|\bexitCode 137\b|OutOfMemory|\bOOM(?:Killed|[- ]?killer)?\b/i,
    "A container was killed for memory (exit 137 / OOM): raise the task or container memory, or lower the app's heap.",
  ],
  [
    /\bhealth ?checks?\b|\bunhealthy\b|\bELB\b|\btarget group\b/i,
    "Health checks failed: check the health-check path and port, the container's startup time (healthCheckGracePeriodSeconds / " +
      'startPeriod), and security groups between the load balancer and the tasks.',
  ],
  [
    /exit code:? [1-9]|exitCode [1-9]|Essential container in task exited/i,
    'The app exited on its own: see its last log lines (missing configuration is the usual cause).',
  ],
];

export function hintFor(texts: string[]): string | undefined {
  const all = texts.join('\n');
  return HINTS.find(([re]) => re.test(all))?.[1];
}

const taskIdOf = (arn: string | undefined): string => arn?.split('/').pop() ?? '';

export async function diagnose(
  clients: { ecs: ECSClient; logs: Pick<CloudWatchLogsClient, 'send'> },
  opts: {
    cluster: string;
    service: string;
    reason: string;
    svc?: Service;
    since: number;
    targetArn: string;
    deploymentId?: string;
    taskDefinition?: TaskDefinition;
    region: string;
  },
): Promise<Diagnosis> {
  const d: Diagnosis = { service: opts.service, reason: opts.reason, events: [], tasks: [], logs: [], notes: [] };
  // ECS event times have second precision; allow for that.
  d.events = (opts.svc?.events ?? [])
    .filter((e) => (e.createdAt?.getTime() ?? 0) >= opts.since - 1000)
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0))
    .slice(-15)
    .map((e) => `${e.createdAt?.toISOString().slice(11, 19) ?? ''} ${e.message ?? ''}`);

  try {
    const list = await clients.ecs.send(
      new ListTasksCommand({ cluster: opts.cluster, serviceName: opts.service, desiredStatus: 'STOPPED', maxResults: 100 }),
    );
    const arns = list.taskArns ?? [];
    if (arns.length) {
      const out = await clients.ecs.send(new DescribeTasksCommand({ cluster: opts.cluster, tasks: arns.slice(0, 100) }));
      d.tasks = (out.tasks ?? [])
        .filter((t) => t.taskDefinitionArn === opts.targetArn && (!opts.deploymentId || !t.startedBy || t.startedBy === opts.deploymentId))
        .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))
        .slice(0, MAX_TASKS)
        .map((t) => ({
          taskId: taskIdOf(t.taskArn),
          stopCode: t.stopCode,
          stoppedReason: t.stoppedReason,
          stoppedAt: t.stoppedAt,
          containers: (t.containers ?? []).map((c) => ({ name: c.name ?? '', exitCode: c.exitCode, reason: c.reason })),
        }));
    }
  } catch (err) {
    d.notes.push(`stopped tasks unavailable: ${describeUnknown(err)}`);
  }

  for (const task of d.tasks.slice(0, MAX_LOG_TASKS)) {
    for (const c of opts.taskDefinition?.containerDefinitions ?? []) {
      const lc = c.logConfiguration;
      if (lc?.logDriver !== 'awslogs' || !lc.options?.['awslogs-group'] || !lc.options['awslogs-stream-prefix']) continue;
      if (lc.options['awslogs-region'] && lc.options['awslogs-region'] !== opts.region) continue;
      const stream = `${lc.options['awslogs-stream-prefix']}/${c.name}/${task.taskId}`;
      try {
        // Loaded here, not at the top: only a failure reads logs, and the bundle keeps this SDK package
        // in a chunk node loads then (start-up of every run is the cost otherwise).
        const { GetLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
        const out = await clients.logs.send(
          new GetLogEventsCommand({
            logGroupName: lc.options['awslogs-group'],
            logStreamName: stream,
            limit: LOG_LINES,
            startFromHead: false,
          }),
        );
        const lines = (out.events ?? []).map((e) => e.message ?? '').filter((l) => l !== '');
        // Tasks of one revision usually print the same crash; show it once.
        const seen = d.logs.some((l) => l.container === c.name && l.lines.join('\n') === lines.join('\n'));
        if (lines.length && !seen) d.logs.push({ taskId: task.taskId, container: c.name ?? '', lines });
      } catch (err) {
        if ((err as { name?: string }).name !== 'ResourceNotFoundException')
          d.notes.push(`logs of ${c.name} in ${task.taskId} unavailable: ${describeUnknown(err)}`);
      }
    }
  }

  const texts = [
    opts.reason,
    ...d.events,
    ...d.tasks.flatMap((t) => [t.stoppedReason ?? '', ...t.containers.map((c) => `${c.reason ?? ''} exit code ${c.exitCode ?? ''}`)]),
    ...d.logs.flatMap((l) => l.lines),
  ];
  d.hint = hintFor(texts);
  return d;
}

/** Plain-text lines for the log and the error message. */
export function formatDiagnosis(d: Diagnosis): string[] {
  const lines = [`${d.service}: ${d.reason}`];
  if (d.hint) lines.push(`  hint: ${d.hint}`);
  for (const l of d.gate ?? []) lines.push(`  ${l}`);
  // Failing tasks of one revision usually fail alike: one line per distinct failure, with a count.
  const groups = new Map<string, { count: number; line: string }>();
  for (const t of d.tasks) {
    const containers = t.containers
      .map((c) => `${c.name} exit ${c.exitCode ?? '-'}${c.reason && c.reason !== t.stoppedReason ? ` (${c.reason})` : ''}`)
      .join(', ');
    const text = `${t.stopCode ?? ''}: ${t.stoppedReason ?? ''}${containers ? ` — ${containers}` : ''}`;
    const g = groups.get(text);
    if (g) g.count += 1;
    else groups.set(text, { count: 1, line: `task ${t.taskId}` });
  }
  for (const [text, g] of groups) lines.push(`  stopped ${g.count > 1 ? `${g.line} (+${g.count - 1} alike)` : g.line}: ${text}`);
  for (const l of d.logs) {
    lines.push(`  last log lines of ${l.container} in ${l.taskId}:`);
    for (const line of l.lines.slice(-10)) lines.push(`    ${line}`);
  }
  if (d.events.length) {
    lines.push('  service events since the update:');
    for (const e of d.events) lines.push(`    ${e}`);
  }
  for (const n of d.notes) lines.push(`  (${n})`);
  return lines;
}
