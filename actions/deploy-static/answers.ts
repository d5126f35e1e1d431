import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware } from '@smithy/types';

/**
 * What the lock and record protocol reads from S3's answers: the HTTP status,
 * S3's own clock (the `Date` header), and a Content-MD5 for the small JSON
 * bodies it writes.
 */

export const statusOf = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export const isNotFound = (err: unknown): boolean => {
  const name = (err as { name?: string }).name;
  return statusOf(err) === 404 || name === 'NoSuchKey' || name === 'NotFound';
};

/** S3's clock when it answered with this error (the response's `Date` header), in ms; undefined when absent. */
export function serverTimeOf(err: unknown): number | undefined {
  const headers = (err as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers;
  const date = headers?.date ?? headers?.Date;
  const t = date === undefined ? Number.NaN : Date.parse(date);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The text of a GetObject answer's body. The SDK's `transformToString` gathers
 * the chunks, joins them into one buffer and decodes that: for the record of a
 * site of 100,000 files (17 MiB of head) those buffers were ~34 MiB of
 * ArrayBuffers awaiting collection, and the RSS they took stayed (README,
 * Benchmark). A Node stream is decoded as it arrives instead (a character cut
 * between two chunks is joined by the stream's decoder); any other body (a
 * test's fake) is read the SDK's way.
 */
export async function bodyText(body: { transformToString(): Promise<string> } | undefined): Promise<string | undefined> {
  if (body === undefined) return undefined;
  if (!(body instanceof Readable)) return body.transformToString();
  let text = '';
  for await (const chunk of body.setEncoding('utf8')) text += chunk;
  return text;
}

/**
 * Content-MD5 for a PutObject body. A bucket with Object Lock (a default
 * retention) rejects a PutObject that carries neither Content-MD5 nor an
 * `x-amz-checksum-*` header ("Using S3 Object Lock":
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html),
 * and the client computes no checksum of its own (run.ts).
 */
export const contentMd5 = (body: Buffer): string => createHash('md5').update(body).digest('base64');

/**
 * Answers that are final whatever the SDK thinks of the runner's clock.
 * On a runner whose clock is 4 minutes or more off S3's, the SDK's signer
 * marks every error answer as "clock skew corrected" (@aws-sdk/core,
 * AwsSdkSigV4Signer.errorHandler: the offset it computes from the `Date`
 * header differs by a few hundred ms each time), and the retry strategy
 * retries such errors up to the attempt limit with backoff: each expected
 * 404 or 412 of the lock and record protocol then takes tens of seconds. A
 * 404, 409 or 412 is S3's answer to a request it authenticated and evaluated,
 * so the mark is taken off them before the retry middleware sees them; the
 * offset the signer learnt is kept (it is what lets a runner more than 15
 * minutes off sign at all).
 */
export function keepDefinitiveAnswers(s3: S3Client): S3Client {
  const name = 'deployStaticDefinitiveAnswers';
  s3.middlewareStack.remove(name);
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      const meta = (err as { $metadata?: { clockSkewCorrected?: boolean; httpStatusCode?: number } }).$metadata;
      if (meta?.clockSkewCorrected && [404, 409, 412].includes(meta.httpStatusCode ?? 0)) meta.clockSkewCorrected = false;
      throw err;
    }
  };
  s3.middlewareStack.addRelativeTo(middleware, { relation: 'after', toMiddleware: 'retryMiddleware', name, override: true });
  return s3;
}
