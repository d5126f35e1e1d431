import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { lockBody, lost, putLock, readLock } from '../../actions/deploy-static/lock-document.js';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const at = { bucket: 'site', key: 'app/.deploy-static/lock.json' };
const answer = (status: number | undefined, name = 'Error') =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
const withText = (text: string) => ({ ETag: '"v"', LastModified: new Date(5000), Body: { transformToString: async () => text } as never });
const client = () => new S3Client({ region: 'eu-west-1' });

describe('the lock document', () => {
  it.each([
    [404, 'NotFound', true],
    [409, 'ConditionalRequestConflict', true],
    [412, 'PreconditionFailed', true],
    [undefined, 'NoSuchKey', true],
    [403, 'AccessDenied', false],
    [500, 'InternalError', false],
    [undefined, 'TimeoutError', false],
  ])('lost(): status %s %s is %s', (status, name, expected) => {
    expect(lost(answer(status, name))).toBe(expected);
  });

  it('the body names the owner, its token and where it runs; acquiredAt stays as first written, heartbeatAt is now', () => {
    expect(JSON.parse(lockBody('run-2', 'tok', 'https://ci/8', '', 0).toString())).toEqual({
      owner: 'run-2',
      token: 'tok',
      where: 'https://ci/8',
      acquiredAt: '1970-01-01T00:00:00.000Z',
      heartbeatAt: '1970-01-01T00:00:00.000Z',
    });
    expect(JSON.parse(lockBody('run-2', 'tok', 'w', '2026-01-01T00:00:00.000Z', 60_000).toString())).toMatchObject({
      acquiredAt: '2026-01-01T00:00:00.000Z',
      heartbeatAt: '1970-01-01T00:01:00.000Z',
    });
  });

  it('is written as JSON a CDN does not cache, under the condition given, with its Content-MD5; the new ETag is returned', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    const body = lockBody('run-2', 'tok', 'w', '', 0);
    expect(await putLock(client(), at, body, { IfMatch: '"old"' })).toBe('"new"');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'site',
      Key: at.key,
      Body: body,
      ContentMD5: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
      ContentType: 'application/json',
      CacheControl: 'no-cache',
      IfMatch: '"old"',
    });
  });

  it('is read back with its ETag, body and LastModified; gone is undefined; other errors are passed on', async () => {
    const text = lockBody('run-1', 't', 'w', '', 0).toString();
    s3.on(GetObjectCommand).resolvesOnce(withText(text)).rejectsOnce(answer(404, 'NoSuchKey')).rejectsOnce(answer(403, 'AccessDenied'));
    expect(await readLock(client(), at)).toEqual({ etag: '"v"', body: JSON.parse(text), lastModified: new Date(5000) });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: 'site', Key: at.key });
    expect(await readLock(client(), at)).toBeUndefined();
    await expect(readLock(client(), at)).rejects.toThrow('AccessDenied');
  });

  it.each([
    ['not JSON', '{"owner":'],
    ['without an owner', JSON.stringify({ heartbeatAt: 'x', where: 'w' })],
    ['with a numeric owner', JSON.stringify({ owner: 1, heartbeatAt: 'x' })],
    ['without a heartbeat time', JSON.stringify({ owner: 'run-1', where: 'w' })],
    ['null', 'null'],
  ])('a body %s is unreadable: the version is still known', async (_label, text) => {
    s3.on(GetObjectCommand).resolves(withText(text));
    expect(await readLock(client(), at)).toEqual({ etag: '"v"', body: undefined, lastModified: new Date(5000) });
  });

  it('an answer without a body is unreadable', async () => {
    s3.on(GetObjectCommand).resolves({ ETag: '"v"' });
    expect(await readLock(client(), at)).toEqual({ etag: '"v"', body: undefined, lastModified: undefined });
  });
});
