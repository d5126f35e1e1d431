import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientFactory, clientConfig, resolveRegion } from '../../lib/aws.js';
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
