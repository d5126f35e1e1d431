import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { HttpResponse } from '@smithy/core/protocols';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bodyText, keepDefinitiveAnswers } from '../../actions/deploy-static/answers.js';

/** An S3 whose clock is `skewMs` ahead of this process and that answers every request with `status`. */
function skewedS3(status: number, skewMs: number) {
  const seen: number[] = [];
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${status === 412 ? 'PreconditionFailed' : 'SlowDown'}</Code><Message>m</Message></Error>`;
  const client = new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    // No wait between attempts: the test counts attempts, not time.
    retryStrategy: new ConfiguredRetryStrategy(5, () => 0),
    requestHandler: {
      handle: async () => {
        seen.push(status);
        return {
          response: new HttpResponse({
            statusCode: status,
            headers: { date: new Date(Date.now() + skewMs).toUTCString(), 'content-type': 'application/xml' },
            body: Readable.from([Buffer.from(body)]),
          }),
        };
      },
    } as never,
  });
  return { client, seen };
}

const put = (s3: S3Client) =>
  s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x', IfNoneMatch: '*' })).catch((err: unknown) => err);

describe('answers S3 gives on a runner whose clock is off', () => {
  it('the SDK alone retries a 412 marked "clock skew corrected" on a runner 6 minutes off', async () => {
    const { client, seen } = skewedS3(412, 6 * 60_000);
    await put(client);
    expect(seen.length).toBeGreaterThan(1);
  });

  it('keepDefinitiveAnswers: a 412 is answered after one attempt, 6 minutes off or not', async () => {
    for (const skew of [6 * 60_000, -10 * 60_000, 0]) {
      const { client, seen } = skewedS3(412, skew);
      keepDefinitiveAnswers(client);
      const err = await put(client);
      expect((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(412);
      expect(seen).toEqual([412]);
    }
  });

  it('keepDefinitiveAnswers leaves other errors to the retry strategy (503 is still retried)', async () => {
    const { client, seen } = skewedS3(503, 0);
    keepDefinitiveAnswers(client);
    await put(client);
    expect(seen.length).toBe(5);
  });
});

describe('bodyText: the text of a record object', () => {
  it('decodes a Node stream as it arrives, a character cut between two chunks included, without gathering the chunks first', async () => {
    const bytes = Buffer.from('{"key":"docs/über-uns/index.html","note":"日本"}');
    const cut = bytes.indexOf(Buffer.from('ü')) + 1;
    const stream = Object.assign(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut, cut + 30), bytes.subarray(cut + 30)]), {
      transformToString: async (): Promise<string> => {
        throw new Error('gathered the whole body');
      },
    });
    expect(await bodyText(stream)).toBe(bytes.toString('utf8'));
  });

  it("takes the stream path for what the SDK's own HTTP handler answers a GetObject with", async () => {
    const text = `{"releases":[${'"0000001-20261201T100000Z",'.repeat(5000)}"last"]}`;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', etag: '"e"' });
      // Written in pieces, as a large record arrives.
      for (let i = 0; i < text.length; i += 16_384) res.write(text.slice(i, i + 16_384));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const s3 = new S3Client({
        region: 'eu-west-1',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
      const res = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: '.deploy-static/manifest.json' }));
      const body = Object.assign(res.Body!, {
        transformToString: async (): Promise<string> => {
          throw new Error('gathered the whole body');
        },
      });
      expect(await bodyText(body)).toBe(text);
    } finally {
      server.close();
    }
  });

  it("reads any other body the SDK's way, and no body as none", async () => {
    expect(await bodyText({ transformToString: async () => 'from a fake' })).toBe('from a fake');
    expect(await bodyText(undefined)).toBeUndefined();
  });
});
