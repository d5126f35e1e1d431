import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { ActionError } from './errors.js';
import { SUITE_NAME, SUITE_VERSION } from './version.js';

/**
 * Config shared by every AWS SDK v3 client the suite creates.
 *
 * Deliberately no `endpoint` here: the SDK reads `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` itself, and setting an endpoint would override that.
 */
export interface ClientOptions {
  /** From the action's `aws-region` input; falls back to AWS_REGION / AWS_DEFAULT_REGION. */
  region?: string;
  /** Total attempts per call, including the first; adaptive retry backs off and rate-limits. */
  maxAttempts?: number;
  /** Action name, appended to the user agent so CloudTrail shows which action made a call. */
  action: string;
}

export interface AwsClientConfig {
  region: string;
  retryMode: 'adaptive' | 'standard';
  maxAttempts: number;
  /** Set by bulkTransferConfig: standard retries with our own jittered backoff. */
  retryStrategy?: ConfiguredRetryStrategy;
  customUserAgent: [string, string][];
  forcePathStyle?: boolean;
  /** deploy-static's S3 client: WHEN_REQUIRED, as every PutObject carries Content-MD5 itself. */
  requestChecksumCalculation?: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
}

const DEFAULT_MAX_ATTEMPTS = 8;

export function resolveRegion(input: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const region = input?.trim() || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) {
    throw new ActionError('No AWS region is set.', {
      input: 'aws-region',
      fix: 'Set the aws-region input, or run aws-actions/configure-aws-credentials (which exports AWS_REGION) before this step.',
    });
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ActionError(`'${region}' is not an AWS region name.`, {
      input: 'aws-region',
      fix: 'Use a region code such as eu-west-1 or us-east-1.',
    });
  }
  return region;
}

export function clientConfig(opts: ClientOptions, env: NodeJS.ProcessEnv = process.env): AwsClientConfig {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    throw new ActionError(`max-attempts must be a whole number from 1 to 20, got ${opts.maxAttempts}.`, {
      input: 'max-attempts',
      fix: 'Use a value such as 8 (the default).',
    });
  }
  return {
    region: resolveRegion(opts.region, env),
    retryMode: 'adaptive',
    maxAttempts,
    customUserAgent: [
      [SUITE_NAME, SUITE_VERSION],
      [`action/${opts.action}`, SUITE_VERSION],
    ],
  };
}

/** First retry waits 0–200 ms; each further one doubles the ceiling, up to 20 s. */
const BULK_BACKOFF_BASE_MS = 200;
const BULK_BACKOFF_CAP_MS = 20_000;
/** SlowDown comes in bursts: bulk transfers get this many attempts more than max-attempts (20 at most). */
const BULK_EXTRA_ATTEMPTS = 2;

/** Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): a random wait below a doubling ceiling. */
export function jitteredBackoff(
  random: () => number = Math.random,
  baseMs = BULK_BACKOFF_BASE_MS,
  capMs = BULK_BACKOFF_CAP_MS,
): (attempt: number) => number {
  return (attempt) => Math.floor(random() * Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1)));
}

/**
 * For clients that make many small data-plane calls in parallel (S3 uploads):
 * standard retries with full-jitter backoff instead of `adaptive`. Adaptive mode
 * adds a client-side token-bucket rate limiter that, under sustained S3 SlowDown
 * (503), throttles every later request of the client: at 20 % SlowDown a 2,000-file
 * upload fell to a few requests a second and took over 10 minutes. Standard
 * retries only delay the call that was throttled, and the jitter spreads the
 * retries out (S3's advice for 503 SlowDown is to retry with backoff:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-design-patterns.html#optimizing-performance-timeouts-retries).
 * The SDK's own standard backoff waits up to 1 s before the first retry of a
 * throttling error, which is most of the cost at 20 % SlowDown; 200 ms is enough
 * to spread 16 parallel requests.
 */
export function bulkTransferConfig(base: AwsClientConfig, random: () => number = Math.random): AwsClientConfig {
  const maxAttempts = Math.min(20, base.maxAttempts + BULK_EXTRA_ATTEMPTS);
  return { ...base, retryMode: 'standard', maxAttempts, retryStrategy: new ConfiguredRetryStrategy(maxAttempts, jitteredBackoff(random)) };
}

/**
 * Takes the SDK's logger middleware off a client. It passes every call's input and output through
 * the schema's sensitive-field filter for the client's logger, even for the default NoOpLogger
 * (@aws-sdk/core loggerMiddleware: `logger?.info?.({ input: inputFilterSensitiveLog(...), output:
 * outputFilterSensitiveLog(...) })`), a walk of the whole answer: ~30 ms of CPU per 1,000-key
 * listing page (README, deploy-static "Rollback"). No action gives the SDK a logger, so nothing is
 * lost. Clients without a middleware stack (test doubles) are returned as they are. Every client an
 * action makes comes from a ClientFactory, which applies it.
 */
export function withoutSdkLogger<T>(client: T): T {
  (client as { middlewareStack?: { remove(name: string): boolean } }).middlewareStack?.remove('loggerMiddleware');
  return client;
}

/** A client constructor such as `ECSClient`; lets callers and tests inject their own. */
export type ClientCtor<T> = new (config: AwsClientConfig) => T;

/**
 * Creates clients lazily and once each, so an action that never needs, say, ECR
 * never constructs it (and render without `verify` constructs none at all).
 */
export class ClientFactory {
  private readonly cache = new Map<unknown, unknown>();
  constructor(private readonly config: () => AwsClientConfig) {}

  get<T>(ctor: ClientCtor<T>): T {
    let client = this.cache.get(ctor) as T | undefined;
    if (!client) {
      client = withoutSdkLogger(new ctor(this.config()));
      this.cache.set(ctor, client);
    }
    return client;
  }
}

/**
 * A client whose SDK package is loaded on its first call. An action's bundle evaluates every
 * statically imported client at start-up (tens of ms each); a client used only on some paths (the
 * logs read by a failure's diagnosis) is a dynamic import instead, which the bundler puts in a chunk
 * of its own that node loads only when the path runs.
 */
export function lazyClient<T extends { send(...args: never[]): Promise<unknown> }>(load: () => Promise<T>): Pick<T, 'send'> {
  let client: Promise<T> | undefined;
  return {
    send: ((...args: never[]) => (client ??= load()).then((c) => c.send(...args))) as T['send'],
  };
}
