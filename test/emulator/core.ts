/**
 * Shared pieces of the emulator: the AWS error type every handler throws,
 * the per-instance context (account, region, clock) and pagination helpers.
 */
import { randomBytes } from 'node:crypto';

/** An AWS error as the wire protocols carry it: code (`__type` / `<Code>`), message, HTTP status. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Clock = () => number;

/**
 * The emulator's default clock: virtual time that moves only when a client looks.
 * Every call in `POLLED_OPERATIONS` (the reads a deployer polls while it waits) moves it forward
 * `secondsPerPoll` before it is answered; nothing else does, and wall time never does. A scenario
 * of N seconds therefore ends on the ceil(N / secondsPerPoll)-th poll, however fast or busy the
 * machine is. Tests can also step it: `advance(seconds)`.
 */
export class PollClock {
  private ms: number;
  constructor(
    readonly secondsPerPoll = 1,
    start = Date.now(),
  ) {
    this.ms = start;
  }
  readonly now: Clock = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  /** Called for every answered request; moves time only for the polled reads. */
  observe(service: string, operation: string): void {
    if (POLLED_OPERATIONS.has(`${service}.${operation}`)) this.advance(this.secondsPerPoll);
  }
}

/**
 * The reads that watch something which changes over time in the emulator: rollouts and service
 * deployments (ECS), tasks (ECS), invalidations (CloudFront). Writes, set-up reads (task
 * definitions, images, parameters) and log reads do not move time, so adding such a call to a
 * bundle does not change when its scenario ends.
 */
const POLLED_OPERATIONS: ReadonlySet<string> = new Set([
  'ECS.DescribeServices',
  'ECS.ListServiceDeployments',
  'ECS.DescribeServiceDeployments',
  'ECS.DescribeTasks',
  'ECS.ListTasks',
  'CloudFront.GetInvalidation',
  'CloudFront.ListInvalidations',
]);

export interface EmuContext {
  account: string;
  region: string;
  /** Milliseconds since the epoch; injectable so the emulator's own tests can move time. */
  now: Clock;
}

/** awsJson timestamps are epoch seconds (fractions allowed). */
export const epochSeconds = (ms: number): number => ms / 1000;

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Opaque pagination tokens: base64 of the next offset, tied to the operation so tokens are not interchangeable. */
function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64');
}

function decodeToken(scope: string, token: string | undefined, errorCode: string): number {
  if (token === undefined || token === null || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { s?: string; o?: number };
    if (parsed.s === scope && Number.isInteger(parsed.o) && parsed.o! >= 0) return parsed.o!;
  } catch {
    // fall through to the AWS error below
  }
  throw new AwsError(errorCode, 'The specified nextToken is invalid.');
}

/**
 * One page of `items` with AWS's nextToken semantics: the token is present only
 * when more items follow.
 */
export function paginate<T>(
  scope: string,
  items: T[],
  opts: { nextToken?: string; maxResults?: number; defaultMax: number; limit: number; errorCode: string; paramName?: string },
): { page: T[]; nextToken?: string } {
  const max = opts.maxResults ?? opts.defaultMax;
  if (!Number.isInteger(max) || max < 1 || max > opts.limit) {
    throw new AwsError(opts.errorCode, `${opts.paramName ?? 'maxResults'} must be between 1 and ${opts.limit}.`);
  }
  const start = decodeToken(scope, opts.nextToken, opts.errorCode);
  const page = items.slice(start, start + max);
  const next = start + max < items.length ? encodeToken(scope, start + max) : undefined;
  return next === undefined ? { page } : { page, nextToken: next };
}

/** Deterministic PRNG (mulberry32) so throttling patterns repeat run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A JSON-protocol operation handler: parsed request body in, response object out (or throws AwsError). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonHandler = (input: any) => unknown;
export type JsonOperations = Record<string, JsonHandler>;

export function requireString(value: unknown, name: string, code = 'InvalidParameterException'): string {
  if (typeof value !== 'string' || value === '') throw new AwsError(code, `${name} is required.`);
  return value;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
