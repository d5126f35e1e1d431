/**
 * The IAM authorizations of an S3 REST request (path-style, as the suite's tests send them),
 * following the S3 pages listed in CONTRACT.md ("IAM"): object operations are checked against the
 * object ARN `arn:aws:s3:::bucket/key`, listings against the bucket ARN with the `s3:prefix`
 * condition key. HeadObject is authorized as s3:GetObject, CopyObject as s3:GetObject on the
 * source and s3:PutObject on the target, multipart parts and completion as s3:PutObject, and
 * DeleteObjects as s3:DeleteObject on every key it names.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IamCall } from './iam.js';
import { logIamCall } from './iam-log.js';

type Headers = Record<string, string | string[] | undefined>;

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

function s3IamCalls(method: string, url: URL, headers: Headers, deletedKeys: string[] = []): IamCall[] {
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
  const key = rest.map((p) => decodeURIComponent(p)).join('/');
  const q = url.searchParams;
  if (!bucket) return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
  if (!key) {
    if (method === 'POST' && q.has('delete'))
      return deletedKeys.map((k) => ({ action: 's3:DeleteObject', resource: objectArn(bucket, k) }));
    if (method === 'PUT') return [{ action: 's3:CreateBucket', resource: `arn:aws:s3:::${bucket}` }];
    if (method === 'DELETE') return [{ action: 's3:DeleteBucket', resource: `arn:aws:s3:::${bucket}` }];
    if (q.has('location')) return [{ action: 's3:GetBucketLocation', resource: `arn:aws:s3:::${bucket}` }];
    // GET (ListObjects/ListObjectsV2) and HEAD (HeadBucket) are both s3:ListBucket.
    const context: Record<string, string> = { 's3:prefix': q.get('prefix') ?? '' };
    if (q.has('delimiter')) context['s3:delimiter'] = q.get('delimiter')!;
    if (q.has('max-keys')) context['s3:max-keys'] = q.get('max-keys')!;
    return [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, context }];
  }
  const target = objectArn(bucket, key);
  if (method === 'GET' || method === 'HEAD') return [{ action: q.has('acl') ? 's3:GetObjectAcl' : 's3:GetObject', resource: target }];
  if (method === 'DELETE') return [{ action: q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: target }];
  const calls: IamCall[] = [{ action: 's3:PutObject', resource: target }];
  const source = headers['x-amz-copy-source'];
  const decoded = method === 'PUT' && typeof source === 'string' ? decodedCopySource(source) : undefined;
  if (decoded !== undefined) {
    const [srcBucket = '', ...srcKey] = decoded.split('/');
    calls.push({ action: 's3:GetObject', resource: objectArn(srcBucket, srcKey.join('/')) });
  }
  // A canned ACL on a write needs s3:PutObjectAcl besides s3:PutObject (PutObject API reference).
  if (headers['x-amz-acl'] !== undefined) calls.push({ action: 's3:PutObjectAcl', resource: target });
  if (headers['x-amz-tagging'] !== undefined) calls.push({ action: 's3:PutObjectTagging', resource: target });
  return calls;
}

/** `bucket/key` of a copy source; undefined when it is not valid percent-encoding (S3 refuses it: s3-conditional.ts). */
function decodedCopySource(source: string): string | undefined {
  try {
    return decodeURIComponent(source.replace(/^\//, '').split('?')[0]!);
  } catch {
    return undefined;
  }
}

/**
 * Logs the request's authorizations once it is answered (iam-log.ts). Call it before the request
 * body is read: a DeleteObjects body is read alongside the forwarding (the stream stays paused
 * until the proxy pipes it on).
 */
export function logS3Iam(req: IncomingMessage, res: ServerResponse, operation: string): void {
  if (!process.env.IAM_CALLS_DIR) return;
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://s3');
  // The proxies rewrite some headers (x-amz-copy-source) on the way: keep them as the client sent them.
  const headers = { ...req.headers };
  let keys: Promise<string[]> = Promise.resolve([]);
  if (method === 'POST' && url.searchParams.has('delete')) {
    req.pause();
    keys = deletedKeysOf(req);
  }
  res.on('finish', () => {
    void keys.then((deleted) =>
      logIamCall({ service: 'S3', operation, status: res.statusCode, calls: s3IamCalls(method, url, headers, deleted) }, headers),
    );
  });
}

/** The keys a DeleteObjects body names (`<Delete><Object><Key>…`), read alongside the proxy's own forwarding. */
function deletedKeysOf(req: IncomingMessage): Promise<string[]> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(chunks).toString('utf8');
      const unescape = (s: string) =>
        s
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&apos;/g, "'")
          .replace(/&amp;/g, '&');
      resolve([...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescape(m[1]!)));
    });
    req.on('error', () => resolve([]));
  });
}
