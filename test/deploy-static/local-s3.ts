/**
 * s3rver behind a tiny counting proxy: s3rver keeps no request log, and the
 * tests (and bench/static) must prove "no HEAD per file", "0 PUTs on a no-op"
 * and "HTML after assets" from the requests that actually reached S3.
 */
import http from 'node:http';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { logS3Iam } from '../emulator/iam-s3.js';
import { s3Operation } from '../emulator/s3.js';
import { atomicPuts } from '../emulator/s3-atomic.js';
import { COPY_LIMIT, forwardTo, refuseWithoutChecksum, sendAsS3 } from '../emulator/s3-conditional.js';

interface S3rverInstance {
  store: Parameters<typeof atomicPuts>[0];
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

type S3Op = 'PUT' | 'COPY' | 'HEAD' | 'GET' | 'LIST' | 'DELETE' | 'MPU' | 'OTHER';

interface S3Request {
  op: S3Op;
  method: string;
  /** Decoded object key (path-style: after the bucket). */
  bucket: string;
  key: string;
  at: number;
  seq: number;
  /** 503 when the request was answered with an injected SlowDown. */
  status?: number;
  /** When the answer was sent (ms, Date.now()); unset while in flight. */
  end?: number;
}

export interface LocalS3 {
  endpoint: string;
  requests: S3Request[];
  count(op: S3Op, filter?: (r: S3Request) => boolean): number;
  reset(): void;
  /**
   * Answers this fraction (0..1) of object requests (PUT, COPY, multipart,
   * HEAD, GET, DELETE; not listings) with 503 SlowDown. Deterministic: whether a request is
   * throttled depends on the seed, the request (method, key, part, upload step) and how often that
   * same request was sent before — not on the order concurrent uploads happen to arrive in.
   * 0 turns it off.
   */
  slowDown(rate: number, seed?: number): void;
  /**
   * Delays every request by `minMs`..`maxMs` before it is forwarded, as a region's
   * round trip would (bench/static: the same for every client, since it is here).
   * Deterministic like slowDown: the delay depends on the seed and the request, not
   * on arrival order. 0, 0 turns it off.
   */
  latency(minMs: number, maxMs: number, seed?: number): void;
  stop(): Promise<void>;
  /** CopyObject's size limit (5 GiB, s3-conditional.ts); lowered in tests to exercise the multipart copy. */
  copyLimit: number;
  /** Buckets with S3 Object Lock (a default retention): a PUT without Content-MD5 or a checksum is refused (s3-conditional.ts). */
  objectLockBuckets: Set<string>;
  /**
   * Sets an object's LastModified `ageMs` in the past, as S3 would report an
   * object written then (s3rver reports its file's mtime).
   */
  age(bucket: string, key: string, ageMs: number): void;
  /** Test hooks: answer a request with an S3 error instead of forwarding it, or delay it. */
  hooks: {
    fail?: (r: S3Request) => { status: number; code: string } | undefined;
    delayMs?: (r: S3Request) => number;
    /** Holds a request until the promise settles: to order two runs by events, not by time. */
    holdUntil?: (r: S3Request) => Promise<void> | undefined;
    /** S3 applies the request but its answer is lost: the client gets a 500 InternalError instead (and the SDK retries). */
    loseAnswer?: (r: S3Request) => boolean;
  };
}

function classify(method: string, url: URL, headers: http.IncomingHttpHeaders, key: string): S3Op {
  const q = url.searchParams;
  if (method === 'PUT' && headers['x-amz-copy-source']) return 'COPY';
  if (method === 'PUT' && q.has('partNumber')) return 'PUT';
  if (method === 'PUT' && key !== '') return 'PUT';
  if (method === 'POST' && (q.has('uploads') || q.has('uploadId'))) return 'MPU';
  if (method === 'POST' && q.has('delete')) return 'DELETE';
  if (method === 'DELETE') return 'DELETE';
  if (method === 'HEAD') return 'HEAD';
  if (method === 'GET' && key === '') return 'LIST';
  if (method === 'GET') return 'GET';
  return 'OTHER';
}

/**
 * S3's answer when a prefix gets more requests than it can take (Error
 * responses, "List of error codes": SlowDown, HTTP 503, "Please reduce your
 * request rate."; https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
 * Real S3 sends it for writes and reads alike, and the SDK must resend the whole
 * body: the request body is drained before answering, as S3 does.
 */
const SLOW_DOWN_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>local-s3</RequestId><HostId>local-s3</HostId></Error>';

/** A number in [0, 1) from the seed and a request's identity and attempt (FNV-1a, then xorshift). */
function draw(seed: number, identity: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 16777619) >>> 0;
  h ^= h << 13;
  h ^= h >>> 17;
  h ^= h << 5;
  return (h >>> 0) / 2 ** 32;
}

/**
 * SSE-KMS buckets: S3 gives their objects ETags that are not the MD5 of the
 * bytes (API reference, Object: "Objects encrypted by SSE-KMS ... have ETags
 * that are not an MD5 digest of their object data",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html). Modelled by
 * answering every ETag of such a bucket reversed (still 32 hex digits, so it
 * looks like an MD5 and is not one) and reversing the ETags a client sends
 * back in conditions, so conditional writes keep working as on S3.
 */
const reverseHex = (text: string) => text.replace(/[0-9a-f]{32}/g, (h) => [...h].reverse().join(''));
const CONDITION_HEADERS = ['if-match', 'if-none-match', 'x-amz-copy-source-if-match', 'x-amz-copy-source-if-none-match'];

function kmsEtags(req: http.IncomingMessage, res: http.ServerResponse): void {
  for (const h of CONDITION_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') req.headers[h] = reverseHex(v);
  }
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse;
  let xml = false;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.find((r) => typeof r === 'object' && r !== null) as http.OutgoingHttpHeaders | undefined;
    if (headers) {
      for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'etag' && typeof v === 'string') headers[k] = reverseHex(v);
      xml = String(Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '').includes('xml');
    }
    return writeHead(status, ...rest);
  }) as typeof res.writeHead;
  // XML answers (listings, CopyObjectResult, CompleteMultipartUpload) carry ETags in the body: same length reversed.
  const chunks: Buffer[] = [];
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!xml) return write(chunk, ...rest);
    chunks.push(Buffer.from(chunk as Buffer));
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (!xml) return end(chunk, ...rest);
    if (chunk !== undefined && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as Buffer));
    return end(
      Buffer.concat(chunks)
        .toString('utf8')
        .replace(/(<ETag>(?:&quot;|")?)([0-9a-f]{32})/g, (_m, open: string, h: string) => open + reverseHex(h)),
    );
  }) as typeof res.end;
}

export async function startLocalS3(buckets: string[] = [], opts: { kmsBuckets?: string[] } = {}): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
  const s3rver = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  atomicPuts(s3rver.store);
  const { port: s3Port } = await s3rver.run();
  const requests: S3Request[] = [];
  let seq = 0;
  const hooks: LocalS3['hooks'] = {};
  let slowDownRate = 0;
  let slowDownSeed = 1;
  let latency = { min: 0, max: 0, seed: 1 };
  const attempts = new Map<string, number>();
  const objectLockBuckets = new Set<string>();
  const proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const entry: S3Request = {
      op: classify(req.method ?? 'GET', url, req.headers, key),
      method: req.method ?? 'GET',
      bucket,
      key,
      at: Date.now(),
      seq: seq++,
    };
    requests.push(entry);
    res.on('finish', () => {
      entry.end = Date.now();
    });
    logS3Iam(req, res, s3Operation(entry.method, url, req.headers));
    const identity = `${req.method} ${bucket}/${key}?${[...url.searchParams.keys()].sort().join('&')}${url.searchParams.get('partNumber') ?? ''}`;
    const attempt = (attempts.get(identity) ?? 0) + 1;
    attempts.set(identity, attempt);
    if (slowDownRate > 0 && key !== '' && draw(slowDownSeed, `${identity}#${attempt}`) < slowDownRate) {
      entry.status = 503;
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(SLOW_DOWN_BODY) });
        res.end(SLOW_DOWN_BODY);
      });
      return;
    }
    const injected = hooks.fail?.(entry);
    if (injected) {
      req.resume();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${injected.code}</Code><Message>injected by the test</Message></Error>`;
      res.writeHead(injected.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (opts.kmsBuckets?.includes(bucket)) kmsEtags(req, res);
    if (refuseWithoutChecksum(req, res, objectLockBuckets)) {
      entry.status = 400;
      return;
    }
    const go = () => {
      // The client gave up while the request was held back (a cancelled run): nothing to forward.
      if (req.socket.destroyed) return;
      const lose = hooks.loseAnswer?.(entry) === true;
      if (lose) entry.status = 500;
      void sendAsS3(
        req,
        res,
        s3Port,
        s3rver.store,
        () => (lose ? applyAndLoseAnswer(s3Port, req, res) : forwardTo(s3Port, req, res)),
        local.copyLimit,
      );
    };
    const delay =
      (hooks.delayMs?.(entry) ?? 0) +
      (latency.max > 0 ? Math.round(latency.min + (latency.max - latency.min) * draw(latency.seed, `latency ${identity}#${attempt}`)) : 0);
    const held = hooks.holdUntil?.(entry);
    const after = () => (delay > 0 ? setTimeout(go, delay) : go());
    if (held) void held.then(after, after);
    else after();
  });
  proxy.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  const local: LocalS3 = {
    copyLimit: COPY_LIMIT,
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    count: (op, filter) => requests.filter((r) => r.op === op && (!filter || filter(r))).length,
    reset: () => void (requests.length = 0),
    hooks,
    objectLockBuckets,
    age: (bucket, key, ageMs) => {
      const then = new Date(Date.now() - ageMs);
      utimesSync(s3rver.store.getResourcePath(bucket, key, 'object'), then, then);
    },
    slowDown: (rate, seed = 1) => {
      slowDownRate = rate;
      slowDownSeed = seed;
      attempts.clear();
    },
    latency: (min, max, seed = 1) => {
      latency = { min, max, seed };
    },
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await s3rver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return local;
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';

/**
 * The request reaches s3rver and is applied; the client is answered 500
 * InternalError ("Error responses", https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html),
 * as when S3's answer is lost on the way and the SDK sees a retryable error.
 */
function applyAndLoseAnswer(port: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      up.resume();
      up.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(INTERNAL_ERROR) });
        res.end(INTERNAL_ERROR);
        resolve();
      });
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
      resolve();
    });
    req.pipe(upstream);
  });
}

/** Env for a child bundle talking to this S3, as emu.env() would give it. */
export function s3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
