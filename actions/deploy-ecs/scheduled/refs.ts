/**
 * The `scheduled-tasks` input: which EventBridge Scheduler schedules and EventBridge rules run this
 * task-definition family and move to the new revision once the services are steady. Pure: checked
 * before any AWS call, every bad line reported at once with its line number.
 */
import { ActionError } from '../../../lib/errors.js';

export type ScheduledTaskRef =
  | { kind: 'schedule'; group: string; name: string }
  | { kind: 'rule'; bus: string; name: string }
  | { kind: 'auto' };

// Name patterns from the API references: Scheduler `Name` / `GroupName` are [0-9a-zA-Z-_.]+ (1–64)
// (docs.aws.amazon.com/scheduler/latest/APIReference/API_GetSchedule.html); EventBridge rule names
// [\.\-_A-Za-z0-9]+ (1–64) and event bus names or ARNs [/\.\-_A-Za-z0-9]+ (1–256)
// (docs.aws.amazon.com/eventbridge/latest/APIReference/API_ListTargetsByRule.html).
const SCHEDULE_NAME = /^[0-9A-Za-z._-]{1,64}$/;
const RULE_NAME = /^[0-9A-Za-z._-]{1,64}$/;
const BUS = /^(?:[/0-9A-Za-z._-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/0-9A-Za-z._-]+)$/;

export const INPUT = 'scheduled-tasks';
const FIX =
  'One per line: `schedule:<group>/<name>` (EventBridge Scheduler; the group is `default` unless you made one), ' +
  '`rule:<event-bus>/<name>` (EventBridge rule; the bus is `default` for scheduled rules), or `auto`.';

function parseLine(text: string, line: number): ScheduledTaskRef {
  const at = { input: INPUT, fix: FIX };
  if (text === 'auto') return { kind: 'auto' };
  const m = /^(schedule|rule):(.+)$/.exec(text);
  if (!m) throw new ActionError(`line ${line}: '${text}' is neither schedule:<group>/<name>, rule:<event-bus>/<name> nor auto.`, at);
  const [, kind, rest] = m as unknown as [string, 'schedule' | 'rule', string];
  // A bus may be an ARN or a partner bus (`aws.partner/…`) with slashes of its own: the name is after the last one.
  const slash = rest.lastIndexOf('/');
  if (slash <= 0 || slash === rest.length - 1)
    throw new ActionError(`line ${line}: '${text}' names no ${kind === 'schedule' ? 'group' : 'event bus'} and name.`, {
      ...at,
      fix: `Write ${kind === 'schedule' ? 'schedule:default/nightly-report' : 'rule:default/nightly-report'}.`,
    });
  const owner = rest.slice(0, slash);
  const name = rest.slice(slash + 1);
  if (kind === 'schedule') {
    if (!SCHEDULE_NAME.test(owner))
      throw new ActionError(`line ${line}: '${owner}' is not a schedule group name.`, {
        ...at,
        fix: 'Schedule group names are 1–64 letters, digits, ., - and _.',
      });
    if (!SCHEDULE_NAME.test(name))
      throw new ActionError(`line ${line}: '${name}' is not a schedule name.`, {
        ...at,
        fix: 'Schedule names are 1–64 letters, digits, ., - and _.',
      });
    return { kind, group: owner, name };
  }
  if (!BUS.test(owner))
    throw new ActionError(`line ${line}: '${owner}' is not an event bus name or ARN.`, {
      ...at,
      fix: 'Use the bus name (default for scheduled rules) or its ARN.',
    });
  if (!RULE_NAME.test(name))
    throw new ActionError(`line ${line}: '${name}' is not a rule name.`, {
      ...at,
      fix: 'Rule names are 1–64 letters, digits, ., - and _.',
    });
  return { kind, bus: owner, name };
}

export const refLabel = (r: ScheduledTaskRef): string =>
  r.kind === 'auto' ? 'auto' : r.kind === 'schedule' ? `schedule:${r.group}/${r.name}` : `rule:${r.bus}/${r.name}`;

/** Parses the raw input (lines; `#` comments and blank lines skipped); line numbers count every line. */
export function parseScheduledTasks(raw: string): ScheduledTaskRef[] {
  const refs: ScheduledTaskRef[] = [];
  const problems: ActionError[] = [];
  raw.split(/\r?\n/).forEach((l, i) => {
    const text = l.trim();
    if (text === '' || text.startsWith('#')) return;
    try {
      const ref = parseLine(text, i + 1);
      if (refs.some((r) => refLabel(r) === refLabel(ref)))
        throw new ActionError(`line ${i + 1}: '${text}' is listed twice.`, { input: INPUT, fix: 'List each schedule or rule once.' });
      refs.push(ref);
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      problems.push(err);
    }
  });
  if (problems.length)
    throw problems.length === 1 ? problems[0]! : new ActionError(`${INPUT} has ${problems.length} bad lines`, { problems });
  return refs;
}
