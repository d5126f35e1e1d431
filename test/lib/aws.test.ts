import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ClientFactory, bulkTransferConfig, clientConfig, jitteredBackoff, resolveRegion, withoutSdkLogger } from '../../lib/aws.js';
import { ActionError } from '../../lib/errors.js';

describe('resolveRegion', () => {
  it.each([
    ['input wins', 'eu-central-1', { AWS_REGION: 'us-east-1' }, 'eu-central-1'],
    ['AWS_REGION next', undefined, { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'eu-west-1' }, 'us-east-1'],
    ['AWS_DEFAULT_REGION last', '', { AWS_DEFAULT_REGION: 'eu-west-1' }, 'eu-west-1'],
  ])('%s', (_name, input, env, expected) => {
    expect(resolveRegion(input, env)).toBe(expected);
  });

  it('names the aws-region input when no region is set anywhere', () => {
    expect(() => resolveRegion(undefined, {})).toThrowError(/No AWS region/);
    try {
      resolveRegion(undefined, {});
    } catch (err) {
      expect((err as ActionError).location.input).toBe('aws-region');
      expect((err as ActionError).fix).toMatch(/configure-aws-credentials/);
    }
  });

  it('rejects something that is not a region code', () => {
    expect(() => resolveRegion('Ireland', {})).toThrowError(/not an AWS region/);
  });
});

describe('clientConfig', () => {
  it('uses adaptive retries, the given attempts and a user agent naming the suite and action', () => {
    const cfg = clientConfig({ action: 'deploy-ecs', maxAttempts: 5 }, { AWS_REGION: 'eu-west-1' });
    expect(cfg).toMatchObject({ region: 'eu-west-1', retryMode: 'adaptive', maxAttempts: 5 });
    expect(cfg.customUserAgent.map(([n]) => n)).toEqual(['aws-deploy-actions', 'action/deploy-ecs']);
    expect(cfg).not.toHaveProperty('endpoint');
  });

  it.each([0, 21, 2.5])('rejects max-attempts %s naming the input', (n) => {
    expect(() => clientConfig({ action: 'x', maxAttempts: n }, { AWS_REGION: 'eu-west-1' })).toThrowError(/max-attempts/);
  });

  // Wire-level: the SDK must send to AWS_ENDPOINT_URL (we never set `endpoint`)
  // and carry our user agent, retrying throttles on its own.
  it('honours AWS_ENDPOINT_URL, sends the user agent and retries throttling', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (seen.length === 1) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        } else {
          res.end(JSON.stringify({ clusterArns: ['arn:aws:ecs:eu-west-1:123456789012:cluster/a'] }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      const factory = new ClientFactory(() => clientConfig({ action: 'deploy-ecs', maxAttempts: 3 }, { AWS_REGION: 'eu-west-1' }));
      const ecs = factory.get(ECSClient);
      expect(factory.get(ECSClient)).toBe(ecs);
      const out = await ecs.send(new ListClustersCommand({}));
      expect(out.clusterArns).toHaveLength(1);
      expect(seen).toHaveLength(2);
      expect(String(seen[1]!['user-agent'])).toMatch(/aws-deploy-actions\/1\.0\.0/);
      expect(String(seen[1]!['user-agent'])).toMatch(/action\/deploy-ecs/);
      expect(seen[1]!['x-amz-target']).toBe('AmazonEC2ContainerServiceV20141113.ListClusters');
    } finally {
      process.env = saved;
      server.close();
    }
  });

  it('constructs no client until one is asked for', () => {
    let built = 0;
    const factory = new ClientFactory(() => {
      built += 1;
      return clientConfig({ action: 'x' }, { AWS_REGION: 'eu-west-1' });
    });
    expect(built).toBe(0);
    factory.get(ECSClient);
    expect(built).toBe(1);
  });
});

describe('bulkTransferConfig (S3 uploads)', () => {
  it('uses standard retries (no client-side rate limiter) with max-attempts + 2, at most 20', () => {
    const base = clientConfig({ action: 'deploy-static', maxAttempts: 8 }, { AWS_REGION: 'eu-west-1' });
    const bulk = bulkTransferConfig(base);
    expect(bulk).toMatchObject({ retryMode: 'standard', maxAttempts: 10, region: 'eu-west-1' });
    expect(bulk.retryStrategy?.mode).toBe('standard');
    expect(bulkTransferConfig({ ...base, maxAttempts: 19 }).maxAttempts).toBe(20);
  });

  it('backs off with full jitter below a doubling ceiling, capped at 20 s', () => {
    const highest = jitteredBackoff(() => 0.9999);
    expect([1, 2, 3, 4, 8, 12].map(highest)).toEqual([199, 399, 799, 1599, 20_000 - 2, 20_000 - 2]);
    expect(jitteredBackoff(() => 0)(5)).toBe(0);
  });

  // Wire-level: S3's 503 SlowDown is retried, the body is resent whole, and the caller sees one success.
  it('retries S3 SlowDown until it succeeds and delivers the exact bytes', async () => {
    const bodies: Buffer[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        if (bodies.length <= 3) {
          res.writeHead(503, { 'content-type': 'application/xml' });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
          );
        } else {
          res.writeHead(200, { etag: '"abc"' });
          res.end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const cfg = bulkTransferConfig(clientConfig({ action: 'deploy-static', maxAttempts: 2 }, { AWS_REGION: 'eu-west-1' }), () => 0);
      const s3 = new S3Client({
        ...cfg,
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      const body = Buffer.from('exact bytes '.repeat(100));
      const out = await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body }));
      expect(out.ETag).toBe('"abc"');
      // max-attempts 2 would have given up after 2; bulk transfers get 4.
      expect(bodies).toHaveLength(4);
      for (const b of bodies) expect(b.equals(body)).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe('withoutSdkLogger', () => {
  // Answers every request with an empty 200, so a call completes without a network.
  const requestHandler = { handle: async () => ({ response: { statusCode: 200, headers: {}, body: Readable.from([]) } }) };
  const logged: unknown[] = [];
  const client = () =>
    new ECSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler,
      logger: { debug: () => {}, info: (m: unknown) => logged.push(m), warn: () => {}, error: () => {} },
    });

  it("takes the SDK's logger middleware off: no call's input or output is filtered for a logger", async () => {
    logged.length = 0;
    await client().send(new ListClustersCommand({}));
    // The control: with the middleware, every answer goes through the sensitive-field filter to logger.info.
    expect(logged).toHaveLength(1);
    logged.length = 0;
    await withoutSdkLogger(client()).send(new ListClustersCommand({}));
    expect(logged).toEqual([]);
  });

  it('is applied to every client the factory makes', () => {
    const factory = new ClientFactory(() => clientConfig({ action: 'x' }, { AWS_REGION: 'eu-west-1' }));
    expect(factory.get(ECSClient).middlewareStack.identify().join('\n')).not.toMatch(/loggerMiddleware/);
    expect(new ECSClient({ region: 'eu-west-1' }).middlewareStack.identify().join('\n')).toMatch(/loggerMiddleware/);
  });

  it('leaves a test double without a middleware stack as it is', () => {
    const double = { send: async () => ({}) };
    expect(withoutSdkLogger(double)).toBe(double);
  });
});
