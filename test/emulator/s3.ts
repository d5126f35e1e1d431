/**
 * S3 is served by s3rver (its own port, a temp directory). A thin counting
 * proxy sits in front of it so S3 calls show up in requests()/counts() and
 * honour injected faults like every other service.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { escapeXml } from './core.js';
import { logS3Iam } from './iam-s3.js';
import { atomicPuts } from './s3-atomic.js';
import { forwardTo, sendAsS3 } from './s3-conditional.js';
import type { Faults, Recorder } from './server.js';

/** s3rver accepts only its own key pair; emu.env() hands these to bundles. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  configureBuckets(): Promise<void>;
  store: Parameters<typeof atomicPuts>[0] & { putBucket(name: string): Promise<unknown> };
}

type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

/** Names the S3 operation from the REST request shape (for counting and fault filters). */
export function s3Operation(method: string, url: URL, headers: Record<string, string | string[] | undefined>): string {
  const [bucket, ...rest] = url.pathname.slice(1).split('/');
  const key = rest.join('/');
  const q = url.searchParams;
  if (!bucket) return 'ListBuckets';
  if (!key) {
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'POST' && q.has('delete')) return 'DeleteObjects';
    if (q.has('location')) return 'GetBucketLocation';
    return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
  }
  if (method === 'PUT') return q.has('partNumber') ? 'UploadPart' : headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  if (method === 'POST') return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
  if (method === 'DELETE') return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'HEAD') return 'HeadObject';
  return q.has('acl') ? 'GetObjectAcl' : 'GetObject';
}

export class S3Emulator {
  private s3rver?: S3rverInstance;
  private proxy?: Server;
  private directory?: string;
  private target?: AddressInfo;
  private starting?: Promise<AddressInfo>;
  endpoint = '';

  constructor(
    private readonly faults: Faults,
    private readonly recorder: Recorder,
    private readonly now: () => number,
  ) {}

  /**
   * s3rver (koa and friends) takes ~300 ms to load, so it starts on the first
   * S3 request or seeding call; emulators of tests that never touch S3 start fast.
   */
  private upstream(): Promise<AddressInfo> {
    this.starting ??= (async () => {
      const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
      this.directory = mkdtempSync(join(tmpdir(), 'emulator-s3-'));
      this.s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: this.directory, configureBuckets: [] });
      atomicPuts(this.s3rver.store);
      this.target = await this.s3rver.run();
      return this.target;
    })();
    return this.starting;
  }

  async start(): Promise<void> {
    this.proxy = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://s3');
      const operation = s3Operation(req.method ?? 'GET', url, req.headers);
      logS3Iam(req, res, operation);
      const at = this.now();
      const wallAt = Date.now();
      const fault = this.faults.decide('S3', operation);
      const forward = async () => {
        if (fault.error) {
          const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.error.code}</Code><Message>${escapeXml(fault.error.message)}</Message><RequestId>emulator</RequestId></Error>`;
          this.recorder.record({ service: 'S3', operation, at, wallAt, status: fault.error.status });
          req.resume();
          res.writeHead(fault.error.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
        const target = await this.upstream();
        // s3rver ignores If-None-Match / If-Match on writes and keeps LastModified on an in-place copy: see s3-conditional.ts.
        await sendAsS3(req, res, target.port, this.s3rver!.store, () =>
          forwardTo(target.port, req, res, (status) => this.recorder.record({ service: 'S3', operation, at, wallAt, status })),
        );
      };
      const fail = (err: unknown) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(err));
      };
      if (fault.latencyMs) setTimeout(() => void forward().catch(fail), fault.latencyMs);
      else forward().catch(fail);
    });
    await new Promise<void>((resolve) => this.proxy!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.proxy.address() as AddressInfo).port}`;
  }

  /** Creates a bucket directly in s3rver's store (no request is counted). */
  async createBucket(name: string): Promise<void> {
    await this.upstream();
    await this.s3rver!.store.putBucket(name);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.proxy) return resolve();
      this.proxy.closeAllConnections();
      this.proxy.close(() => resolve());
    });
    if (this.starting) await this.starting.catch(() => undefined);
    await this.s3rver?.close().catch(() => undefined);
    if (this.directory) rmSync(this.directory, { recursive: true, force: true });
  }
}
