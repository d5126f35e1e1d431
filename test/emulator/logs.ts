/**
 * CloudWatch Logs (awsJson1_1, target prefix `Logs_20140328`). Events may be
 * written with future timestamps (a task's lines appear while it runs); every
 * read filters by the clock, so what a caller sees moves with time.
 */
import { AwsError, paginate, type EmuContext, type JsonOperations } from './core.js';

export interface LogEvent {
  timestamp: number;
  message: string;
}

interface Stream {
  name: string;
  creationTime: number;
  events: LogEvent[];
}

interface Group {
  name: string;
  creationTime: number;
  retentionInDays?: number;
  streams: Map<string, Stream>;
}

const NOT_FOUND = 'ResourceNotFoundException';
const GET_LOG_EVENTS_MAX_BYTES = 1024 * 1024;
const BAD = 'InvalidParameterException';

export class LogsService {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly ctx: EmuContext) {}

  createLogGroup(name: string): void {
    if (!this.groups.has(name)) this.groups.set(name, { name, creationTime: this.ctx.now(), streams: new Map() });
  }

  /** Appends events (timestamps may lie in the future); creates the group and stream as needed. */
  write(group: string, stream: string, events: LogEvent[], streamCreatedAt = events[0]?.timestamp ?? this.ctx.now()): void {
    this.createLogGroup(group);
    const g = this.groups.get(group)!;
    let s = g.streams.get(stream);
    if (!s) {
      s = { name: stream, creationTime: streamCreatedAt, events: [] };
      g.streams.set(stream, s);
    }
    s.events.push(...events);
    s.events.sort((a, b) => a.timestamp - b.timestamp);
  }

  /** Drops events after `at` (a task stopped early). */
  truncate(group: string, stream: string, at: number): void {
    const s = this.groups.get(group)?.streams.get(stream);
    if (s) s.events = s.events.filter((e) => e.timestamp <= at);
  }

  deleteStream(group: string, stream: string): void {
    this.groups.get(group)?.streams.delete(stream);
  }

  /** What has been written to a stream so far (by the clock). */
  events(group: string, stream: string): LogEvent[] {
    const now = this.ctx.now();
    return (this.groups.get(group)?.streams.get(stream)?.events ?? []).filter((e) => e.timestamp <= now);
  }

  private arn(group: string): string {
    return `arn:aws:logs:${this.ctx.region}:${this.ctx.account}:log-group:${group}`;
  }

  private group(input: { logGroupName?: string; logGroupIdentifier?: string }): Group {
    let name = input.logGroupName ?? input.logGroupIdentifier;
    if (!name) throw new AwsError(BAD, 'logGroupName or logGroupIdentifier is required.');
    if (name.startsWith('arn:')) name = name.replace(/^arn:[^:]+:logs:[^:]*:\d*:log-group:/, '').replace(/:\*$/, '');
    const g = this.groups.get(name);
    if (!g) throw new AwsError(NOT_FOUND, 'The specified log group does not exist.');
    return g;
  }

  private visibleStreams(g: Group): Stream[] {
    const now = this.ctx.now();
    return [...g.streams.values()].filter((s) => s.creationTime <= now);
  }

  operations(): JsonOperations {
    return {
      CreateLogGroup: (input: { logGroupName: string; retentionInDays?: number }) => {
        if (this.groups.has(input.logGroupName))
          throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
        this.createLogGroup(input.logGroupName);
        return {};
      },
      DescribeLogGroups: (input: { logGroupNamePrefix?: string; logGroupNamePattern?: string; limit?: number; nextToken?: string }) => {
        if (input.logGroupNamePrefix && input.logGroupNamePattern) {
          throw new AwsError(BAD, 'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
        }
        const groups = [...this.groups.values()]
          .filter((g) => !input.logGroupNamePrefix || g.name.startsWith(input.logGroupNamePrefix))
          .filter((g) => !input.logGroupNamePattern || g.name.toLowerCase().includes(input.logGroupNamePattern.toLowerCase()))
          .sort((a, b) => a.name.localeCompare(b.name));
        const { page, nextToken } = paginate('DescribeLogGroups', groups, {
          nextToken: input.nextToken,
          maxResults: input.limit,
          defaultMax: 50,
          limit: 50,
          errorCode: BAD,
          paramName: 'limit',
        });
        return {
          logGroups: page.map((g) => ({
            logGroupName: g.name,
            creationTime: g.creationTime,
            metricFilterCount: 0,
            arn: `${this.arn(g.name)}:*`,
            logGroupArn: this.arn(g.name),
            storedBytes: 0,
            logGroupClass: 'STANDARD',
            ...(g.retentionInDays ? { retentionInDays: g.retentionInDays } : {}),
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      },
      DescribeLogStreams: (input: {
        logGroupName?: string;
        logGroupIdentifier?: string;
        logStreamNamePrefix?: string;
        orderBy?: string;
        descending?: boolean;
        limit?: number;
        nextToken?: string;
      }) => {
        const g = this.group(input);
        if (input.orderBy === 'LastEventTime' && input.logStreamNamePrefix) {
          throw new AwsError(BAD, 'Cannot order by LastEventTime with a logStreamNamePrefix.');
        }
        const now = this.ctx.now();
        const rows = this.visibleStreams(g)
          .filter((s) => !input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix))
          .map((s) => {
            const ev = s.events.filter((e) => e.timestamp <= now);
            return { s, first: ev[0]?.timestamp, last: ev.at(-1)?.timestamp, bytes: ev.reduce((n, e) => n + e.message.length, 0) };
          });
        rows.sort((a, b) => (input.orderBy === 'LastEventTime' ? (a.last ?? 0) - (b.last ?? 0) : a.s.name.localeCompare(b.s.name)));
        if (input.descending) rows.reverse();
        const { page, nextToken } = paginate(`DescribeLogStreams:${g.name}`, rows, {
          nextToken: input.nextToken,
          maxResults: input.limit,
          defaultMax: 50,
          limit: 50,
          errorCode: BAD,
          paramName: 'limit',
        });
        return {
          logStreams: page.map((r) => ({
            logStreamName: r.s.name,
            creationTime: r.s.creationTime,
            ...(r.first !== undefined ? { firstEventTimestamp: r.first, lastEventTimestamp: r.last, lastIngestionTime: r.last } : {}),
            arn: `${this.arn(g.name)}:log-stream:${r.s.name}`,
            storedBytes: 0,
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      },
      GetLogEvents: (input: {
        logGroupName?: string;
        logGroupIdentifier?: string;
        logStreamName: string;
        startTime?: number;
        endTime?: number;
        nextToken?: string;
        limit?: number;
        startFromHead?: boolean;
      }) => {
        const g = this.group(input);
        const s = g.streams.get(input.logStreamName);
        if (!s || s.creationTime > this.ctx.now()) throw new AwsError(NOT_FOUND, 'The specified log stream does not exist.');
        const limit = input.limit ?? 10000;
        if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new AwsError(BAD, 'limit must be between 1 and 10000.');
        const all = this.events(g.name, s.name).filter(
          (e) =>
            (input.startTime === undefined || e.timestamp >= input.startTime) &&
            (input.endTime === undefined || e.timestamp < input.endTime),
        );
        // Tokens are positions: 'f/<index>' reads forward from index, 'b/<index>' backward up to index.
        // At the end of the stream AWS returns the token that was passed in; callers stop on that.
        const token = input.nextToken;
        let from: number;
        let to: number;
        if (token) {
          const m = /^([fb])\/(\d+)$/.exec(token);
          if (!m) throw new AwsError(BAD, 'The specified nextToken is invalid.');
          const pos = Number(m[2]);
          if (m[1] === 'f') [from, to] = [pos, Math.min(all.length, pos + limit)];
          else [from, to] = [Math.max(0, pos - limit), pos];
        } else if (input.startFromHead) {
          [from, to] = [0, Math.min(all.length, limit)];
        } else {
          [from, to] = [Math.max(0, all.length - limit), all.length];
        }
        from = Math.min(from, all.length);
        to = Math.min(to, all.length);
        // "As many log events as can fit in a response size of 1 MB (up to 10,000 log events)":
        // a forward read keeps its head, a backward or tail read keeps its end.
        const size = (e: LogEvent) => Buffer.byteLength(e.message) + 26;
        const forward = token ? token.startsWith('f') : input.startFromHead === true;
        let bytes = 0;
        if (forward) {
          for (let i = from; i < to; i++) if ((bytes += size(all[i]!)) > GET_LOG_EVENTS_MAX_BYTES) to = Math.max(from + 1, i);
        } else {
          for (let i = to - 1; i >= from; i--) if ((bytes += size(all[i]!)) > GET_LOG_EVENTS_MAX_BYTES) from = Math.min(to - 1, i + 1);
        }
        return {
          events: all.slice(from, to).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.timestamp })),
          nextForwardToken: `f/${to}`,
          nextBackwardToken: `b/${from}`,
        };
      },
      FilterLogEvents: (input: {
        logGroupName?: string;
        logGroupIdentifier?: string;
        logStreamNames?: string[];
        logStreamNamePrefix?: string;
        startTime?: number;
        endTime?: number;
        filterPattern?: string;
        nextToken?: string;
        limit?: number;
      }) => {
        const g = this.group(input);
        if (input.logStreamNames && input.logStreamNamePrefix) {
          throw new AwsError(BAD, 'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
        }
        const terms = parsePattern(input.filterPattern);
        const streams = this.visibleStreams(g).filter(
          (s) =>
            (!input.logStreamNames || input.logStreamNames.includes(s.name)) &&
            (!input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix)),
        );
        const events = streams
          .flatMap((s) => this.events(g.name, s.name).map((e, i) => ({ ...e, logStreamName: s.name, eventId: `${s.name}/${i}` })))
          .filter(
            (e) =>
              (input.startTime === undefined || e.timestamp >= input.startTime) &&
              (input.endTime === undefined || e.timestamp <= input.endTime),
          )
          .filter((e) => terms.every((t) => e.message.includes(t)))
          .sort((a, b) => a.timestamp - b.timestamp || a.logStreamName.localeCompare(b.logStreamName));
        const { page, nextToken } = paginate(`FilterLogEvents:${g.name}`, events, {
          nextToken: input.nextToken,
          maxResults: input.limit,
          defaultMax: 10000,
          limit: 10000,
          errorCode: BAD,
          paramName: 'limit',
        });
        return {
          events: page.map((e) => ({
            logStreamName: e.logStreamName,
            timestamp: e.timestamp,
            message: e.message,
            ingestionTime: e.timestamp,
            eventId: e.eventId,
          })),
          searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: true })),
          ...(nextToken ? { nextToken } : {}),
        };
      },
    };
  }
}

/** The subset of the filter-pattern syntax for unstructured logs: every term (bare or "quoted") must occur. */
function parsePattern(pattern: string | undefined): string[] {
  if (!pattern?.trim()) return [];
  return [...pattern.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}
