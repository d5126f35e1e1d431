import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

const fail = (name: string, status: number, message: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });

/**
 * One bucket's objects behind aws-sdk-client-mock, with S3's conditional writes: `If-None-Match: *`
 * fails with 412 when the key exists, `If-Match` when its ETag differs (or 404 when the key is gone);
 * a write without a condition overwrites whatever is there
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
 * `others` lets a test write as another run would, between two calls of the code under test.
 * Every answer is a promise, as the SDK's `send` gives (the lock's fenced client chains on it).
 */
export function conditionalS3() {
  const objects = new Map<string, { body: string; etag: string }>();
  let n = 0;
  const store = (key: string, body: string) => {
    const etag = `"v${++n}"`;
    objects.set(key, { body, etag });
    return etag;
  };
  const s3 = mockClient(S3Client);
  s3.on(PutObjectCommand).callsFake(async (input: { Key: string; Body: Buffer; IfMatch?: string; IfNoneMatch?: string }) => {
    const cur = objects.get(input.Key);
    if (input.IfNoneMatch === '*' && cur)
      throw fail('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    if (input.IfMatch !== undefined && !cur) throw fail('NoSuchKey', 404, 'The specified key does not exist.');
    if (input.IfMatch !== undefined && cur!.etag !== input.IfMatch)
      throw fail('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    return { ETag: store(input.Key, input.Body.toString()) };
  });
  const get = (key: string) => {
    const cur = objects.get(key);
    if (!cur) throw fail('NoSuchKey', 404, 'The specified key does not exist.');
    return cur;
  };
  s3.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
    const cur = get(input.Key);
    return { ETag: cur.etag, Body: { transformToString: async () => cur.body } };
  });
  s3.on(HeadObjectCommand).callsFake(async (input: { Key: string }) => ({ ETag: get(input.Key).etag }));
  s3.on(DeleteObjectCommand).callsFake(async (input: { Key: string; IfMatch?: string }) => {
    const cur = get(input.Key);
    if (input.IfMatch !== undefined && cur.etag !== input.IfMatch)
      throw fail('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    objects.delete(input.Key);
    return {};
  });
  s3.on(DeleteObjectsCommand).callsFake(async (input: { Delete: { Objects: { Key: string }[] } }) => {
    for (const o of input.Delete.Objects) objects.delete(o.Key);
    return {};
  });
  return {
    client: new S3Client({ region: 'eu-west-1' }),
    mock: s3,
    objects,
    /** Another run's unconditional write. */
    others: { put: (key: string, body: string) => store(key, body) },
  };
}
