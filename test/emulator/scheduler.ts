/**
 * Amazon EventBridge Scheduler. @aws-sdk/client-scheduler speaks restJson1: the operation is the
 * HTTP method and path, answers and errors are JSON (the error code in `x-amzn-errortype`).
 *   GetSchedule     GET  /schedules/{Name}?groupName=   docs.aws.amazon.com/scheduler/latest/APIReference/API_GetSchedule.html
 *   ListSchedules   GET  /schedules?ScheduleGroup=&NamePrefix=&State=&MaxResults=&NextToken=
 *                                                       docs.aws.amazon.com/scheduler/latest/APIReference/API_ListSchedules.html
 *   CreateSchedule  POST /schedules/{Name}              docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
 *   UpdateSchedule  PUT  /schedules/{Name}              docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html
 * UpdateSchedule "uses all values, including empty values, specified in the request and overrides
 * the existing schedule": the stored schedule becomes exactly the request (optional fields left out
 * are gone), which is what makes a careless update lose a schedule's network configuration.
 */
import { AwsError, epochSeconds, paginate, type EmuContext } from './core.js';
import type { RestHandler } from './server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

interface Stored {
  body: Json;
  createdAt: number;
  modifiedAt: number;
}

/** Request fields stored as given; the rest of a request (ClientToken, Name, GroupName) is not part of the schedule. */
const SCHEDULE_FIELDS = [
  'ScheduleExpression',
  'ScheduleExpressionTimezone',
  'StartDate',
  'EndDate',
  'Description',
  'State',
  'KmsKeyArn',
  'Target',
  'FlexibleTimeWindow',
  'ActionAfterCompletion',
];
const NAME = /^[0-9A-Za-z._-]{1,64}$/;

export class SchedulerService {
  private readonly schedules = new Map<string, Stored>();
  private readonly groups = new Set(['default']);

  constructor(private readonly ctx: EmuContext) {}

  private arn(group: string, name: string): string {
    return `arn:aws:scheduler:${this.ctx.region}:${this.ctx.account}:schedule/${group}/${name}`;
  }

  /** Seeding: a schedule group (the `default` group always exists). */
  createScheduleGroup(name: string): void {
    this.groups.add(name);
  }

  /** Seeding and CreateSchedule: the same checks; returns the ARN. */
  createSchedule(name: string, input: Json): string {
    const group = input.GroupName ?? 'default';
    if (!this.groups.has(group)) throw new AwsError('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
    if (this.schedules.has(`${group}/${name}`)) throw new AwsError('ConflictException', `Schedule ${name} already exists.`, 409);
    this.check(name, input);
    const now = this.ctx.now();
    this.schedules.set(`${group}/${name}`, { body: pick(input), createdAt: now, modifiedAt: now });
    return this.arn(group, name);
  }

  /** The schedule as GetSchedule returns it (for tests: what the action left behind). */
  getSchedule(name: string, group = 'default'): Json {
    const s = this.schedules.get(`${group}/${name}`);
    if (!s) throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return {
      Arn: this.arn(group, name),
      Name: name,
      GroupName: group,
      ...s.body,
      State: s.body.State ?? 'ENABLED',
      CreationDate: epochSeconds(s.createdAt),
      LastModificationDate: epochSeconds(s.modifiedAt),
    };
  }

  private check(name: string, input: Json): void {
    // Required members of CreateSchedule / UpdateSchedule: ScheduleExpression, FlexibleTimeWindow, Target (Arn, RoleArn).
    if (!NAME.test(name)) throw new AwsError('ValidationException', `Schedule name ${name} must satisfy [0-9a-zA-Z-_.]{1,64}.`);
    for (const f of ['ScheduleExpression', 'FlexibleTimeWindow', 'Target'])
      if (input[f] === undefined) throw new AwsError('ValidationException', `${f} is required.`);
    if (!input.Target.Arn || !input.Target.RoleArn)
      throw new AwsError('ValidationException', 'Target.Arn and Target.RoleArn are required.');
  }

  private updateSchedule(name: string, input: Json): Json {
    const group = input.GroupName ?? 'default';
    const s = this.schedules.get(`${group}/${name}`);
    if (!s) throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    this.check(name, input);
    this.schedules.set(`${group}/${name}`, { body: pick(input), createdAt: s.createdAt, modifiedAt: this.ctx.now() });
    return { ScheduleArn: this.arn(group, name) };
  }

  private listSchedules(q: URLSearchParams): Json {
    const group = q.get('ScheduleGroup') ?? undefined;
    const prefix = q.get('NamePrefix') ?? '';
    const state = q.get('State') ?? undefined;
    const all = [...this.schedules.keys()]
      .map((k) => this.getSchedule(k.slice(k.indexOf('/') + 1), k.slice(0, k.indexOf('/'))))
      .filter((s) => (!group || s.GroupName === group) && s.Name.startsWith(prefix) && (!state || s.State === state))
      .map((s) => ({
        Arn: s.Arn,
        Name: s.Name,
        GroupName: s.GroupName,
        State: s.State,
        CreationDate: s.CreationDate,
        LastModificationDate: s.LastModificationDate,
        Target: { Arn: s.Target?.Arn },
      }));
    const max = q.get('MaxResults');
    const { page, nextToken } = paginate('scheduler.ListSchedules', all, {
      nextToken: q.get('NextToken') ?? undefined,
      maxResults: max === null ? undefined : Number(max),
      defaultMax: 100,
      limit: 100,
      errorCode: 'ValidationException',
      paramName: 'MaxResults',
    });
    return nextToken ? { Schedules: page, NextToken: nextToken } : { Schedules: page };
  }

  handler(): RestHandler {
    return ({ method, path, query, body }) => {
      const name = decodeURIComponent(path.slice('/schedules/'.length));
      const input = (): Json => (body ? (JSON.parse(body) as Json) : {});
      const json = (out: Json) => ({ status: 200, body: JSON.stringify(out), headers: { 'content-type': 'application/json' } });
      if (path === '/schedules' && method === 'GET')
        return { operation: 'ListSchedules', errorFormat: 'json', run: () => json(this.listSchedules(query)) };
      if (path.startsWith('/schedules/') && method === 'GET')
        return {
          operation: 'GetSchedule',
          errorFormat: 'json',
          run: () => json(this.getSchedule(name, query.get('groupName') ?? 'default')),
        };
      if (path.startsWith('/schedules/') && method === 'PUT')
        return { operation: 'UpdateSchedule', errorFormat: 'json', run: () => json(this.updateSchedule(name, input())) };
      if (path.startsWith('/schedules/') && method === 'POST')
        return { operation: 'CreateSchedule', errorFormat: 'json', run: () => json({ ScheduleArn: this.createSchedule(name, input()) }) };
      return {
        operation: 'Unknown',
        errorFormat: 'json',
        run: () => {
          throw new AwsError('UnknownOperationException', `The emulator does not implement ${method} ${path}.`);
        },
      };
    };
  }
}

function pick(input: Json): Json {
  const out: Json = {};
  for (const f of SCHEDULE_FIELDS) if (input[f] !== undefined) out[f] = structuredClone(input[f]);
  return out;
}
