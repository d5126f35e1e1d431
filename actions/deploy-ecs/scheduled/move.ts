/**
 * Moving each scheduled task to the new revision once every service is steady on it. Only the
 * task definition changes: UpdateSchedule replaces the whole schedule ("uses all values, including
 * empty values … and overrides the existing schedule", API_UpdateSchedule), so it gets back every
 * field GetSchedule returned; PutTargets replaces the whole target, so it gets the target as
 * ListTargetsByRule returned it. Both are read again just before the write, so a change made
 * during the deploy is kept, and a target someone else moved meanwhile is left alone.
 */
import { ListTargetsByRuleCommand, PutTargetsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetScheduleCommand, UpdateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { describeUnknown } from '../../../lib/errors.js';
import { code, markdownTable } from '../../../lib/markdown.js';
import type { Reporter } from '../../../lib/report.js';
import { revisionOf } from '../judge.js';
import type { ScheduledTarget } from './find.js';

export type MoveResult = 'moved' | 'unchanged' | 'planned' | 'not moved' | 'skipped' | 'failed';

export interface ScheduledMove {
  label: string;
  before: string;
  after: string;
  result: MoveResult;
  reason?: string;
}

export interface MoveDeps {
  scheduler: SchedulerClient;
  events: EventBridgeClient;
  report: Reporter;
}

async function moveSchedule(deps: MoveDeps, t: ScheduledTarget, arn: string): Promise<ScheduledMove> {
  const base = { label: t.label, before: t.taskDefinitionArn, after: arn };
  const got = await deps.scheduler.send(new GetScheduleCommand({ Name: t.name, GroupName: t.owner }));
  const now = got.Target?.EcsParameters?.TaskDefinitionArn;
  if (now === arn) return { ...base, result: 'unchanged', reason: 'already on this revision' };
  if (now !== t.taskDefinitionArn)
    return { ...base, result: 'skipped', reason: `changed to ${revisionOf(now)} by someone else during the deploy; left as it is` };
  // Everything GetSchedule returned except what is read-only (Arn, CreationDate, LastModificationDate).
  const { $metadata: _m, Arn: _a, CreationDate: _c, LastModificationDate: _l, ...schedule } = got;
  await deps.scheduler.send(
    new UpdateScheduleCommand({
      ...schedule,
      Name: t.name,
      GroupName: t.owner,
      ScheduleExpression: got.ScheduleExpression!,
      FlexibleTimeWindow: got.FlexibleTimeWindow!,
      Target: {
        ...got.Target!,
        Arn: got.Target!.Arn!,
        RoleArn: got.Target!.RoleArn!,
        EcsParameters: { ...got.Target!.EcsParameters!, TaskDefinitionArn: arn },
      },
    }),
  );
  return { ...base, result: 'moved' };
}

async function moveRuleTarget(deps: MoveDeps, t: ScheduledTarget, arn: string): Promise<ScheduledMove> {
  const base = { label: t.label, before: t.taskDefinitionArn, after: arn };
  let target;
  let NextToken: string | undefined;
  do {
    const page = await deps.events.send(new ListTargetsByRuleCommand({ Rule: t.name, EventBusName: t.owner, NextToken }));
    target = page.Targets?.find((x) => x.Id === t.targetId);
    NextToken = target ? undefined : page.NextToken;
  } while (NextToken);
  if (!target?.EcsParameters) return { ...base, result: 'skipped', reason: `target ${t.targetId} was removed during the deploy` };
  const now = target.EcsParameters.TaskDefinitionArn;
  if (now === arn) return { ...base, result: 'unchanged', reason: 'already on this revision' };
  if (now !== t.taskDefinitionArn)
    return { ...base, result: 'skipped', reason: `changed to ${revisionOf(now)} by someone else during the deploy; left as it is` };
  const out = await deps.events.send(
    new PutTargetsCommand({
      Rule: t.name,
      EventBusName: t.owner,
      Targets: [{ ...target, EcsParameters: { ...target.EcsParameters, TaskDefinitionArn: arn } }],
    }),
  );
  const failed = out.FailedEntries?.[0];
  if (out.FailedEntryCount || failed)
    return { ...base, result: 'failed', reason: `PutTargets: ${failed?.ErrorCode ?? 'failed'}: ${failed?.ErrorMessage ?? ''}`.trim() };
  return { ...base, result: 'moved' };
}

/** Moves every target (one at a time: a handful at most, and the log reads in order); a failure does not stop the others. */
export async function moveScheduledTasks(deps: MoveDeps, targets: ScheduledTarget[], arn: string): Promise<ScheduledMove[]> {
  const out: ScheduledMove[] = [];
  for (const t of targets) {
    let m: ScheduledMove;
    try {
      m = t.kind === 'schedule' ? await moveSchedule(deps, t, arn) : await moveRuleTarget(deps, t, arn);
    } catch (err) {
      m = { label: t.label, before: t.taskDefinitionArn, after: arn, result: 'failed', reason: describeUnknown(err) };
    }
    const line = `${m.label}: ${revisionOf(m.before)} → ${revisionOf(m.after)}: ${m.result}${m.reason ? ` (${m.reason})` : ''}`;
    if (m.result === 'failed' || m.result === 'skipped') deps.report.warning(line);
    else deps.report.info(line);
    out.push(m);
  }
  return out;
}

/** What happens to the targets when the services do not end steady on the new revision: nothing. */
export function leftInPlace(targets: ScheduledTarget[], arn: string, result: MoveResult, reason: string): ScheduledMove[] {
  return targets.map((t) => ({ label: t.label, before: t.taskDefinitionArn, after: arn, result, reason }));
}

const ICON: Record<MoveResult, string> = {
  moved: '✅ moved',
  unchanged: '➖ unchanged',
  planned: '📝 planned',
  'not moved': '↩️ not moved',
  skipped: '⚠️ skipped',
  failed: '❌ failed',
};

export function scheduledMarkdown(moves: ScheduledMove[]): string {
  if (!moves.length) return '';
  const rows = moves.map((m) => [
    code(m.label),
    revisionOf(m.before),
    revisionOf(m.after),
    `${ICON[m.result]}${m.reason ? `: ${m.reason}` : ''}`,
  ]);
  return `\n#### Scheduled tasks\n\n${markdownTable(['schedule / rule', 'before', 'after', 'result'], rows)}\n`;
}
