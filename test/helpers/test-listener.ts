/**
 * A local stand-in for a load balancer's test listener: an HTTP server on
 * 127.0.0.1 whose answer depends on the revision ECS routes test traffic to right now
 * (the emulator's LifecycleHooks.testTarget): a revision whose essential container has
 * `HEALTHY=false` in its environment answers 503, any other 200. URLs are
 * `<base>/<cluster>/<service>/<any path>`, so one listener serves every test.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Emulator } from '../emulator/index.js';

export interface TestListener {
  base: string;
  url(cluster: string, service: string, path?: string): string;
  /** Requests answered so far: path, method, status, the revision that answered, the Authorization header. */
  hits: { cluster: string; service: string; method: string; status: number; revision?: string; authorization?: string }[];
  stop(): Promise<void>;
}

export async function startTestListener(emu: Emulator): Promise<TestListener> {
  const hits: TestListener['hits'] = [];
  const server: Server = createServer((req, res) => {
    const [cluster = '', service = ''] = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean);
    const def = emu.ecs.hooks.testTarget(cluster, service);
    const container = def?.containerDefinitions.find((c) => c.essential !== false) ?? def?.containerDefinitions[0];
    const env = (container?.environment ?? []) as { name?: string; value?: string }[];
    const healthy = def !== undefined && !env.some((e) => e.name === 'HEALTHY' && e.value === 'false');
    const status = def === undefined ? 404 : healthy ? 200 : 503;
    hits.push({
      cluster,
      service,
      method: req.method ?? '',
      status,
      revision: def?.taskDefinitionArn?.split('/').pop(),
      authorization: req.headers.authorization,
    });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ revision: def?.taskDefinitionArn?.split('/').pop(), healthy }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    url: (cluster, service, path = 'health') => `${base}/${cluster}/${service}/${path}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
