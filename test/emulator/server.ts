/**
 * The emulator's HTTP front: one loopback server that routes each request the
 * way AWS tells services apart on the wire (X-Amz-Target for awsJson, the
 * CloudFront REST path, the STS query form), counts it, applies injected
 * faults, and writes AWS-shaped responses and errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AwsError, seededRandom, type JsonOperations } from './core.js';
import { queryError } from './sts.js';

export interface RequestRecord {
  service: string;
  operation: string;
  /** Emulator clock (ms) when the request arrived (virtual time with the default clock). */
  at: number;
  /** Wall clock (ms) when the request arrived: to order it against another server's log in the same process, never to time it. */
  wallAt: number;
  /** HTTP status returned. */
  status: number;
}

export interface FaultSpec {
  /** Fraction (0..1) of matching calls answered with ThrottlingException; deterministic (seeded PRNG). */
  throttleRate?: number;
  /** The next N matching calls get HTTP 500 InternalFailure, 503 ServiceUnavailable, 500, … (alternating). */
  serverErrorBurst?: number;
  /** Added latency per matching call, in milliseconds. */
  latencyMs?: number;
  /**
   * Delay between applying a matching call and answering it: the call takes effect while the client
   * may already have given up on it (its deadline, a cancel, a dropped connection). Modelled, not
   * documented: AWS does not describe when a write takes effect relative to its response.
   */
  answerDelayMs?: number;
  /** Only these operations ('DescribeServices' or 'ECS.DescribeServices'); default all. */
  operations?: string[];
  /** PRNG seed for throttleRate (default 1). */
  seed?: number;
}

export class Faults {
  private spec: FaultSpec = {};
  private burstLeft = 0;
  private random = seededRandom(1);

  set(spec: FaultSpec): void {
    this.spec = { ...spec };
    this.burstLeft = spec.serverErrorBurst ?? 0;
    this.random = seededRandom(spec.seed ?? 1);
  }

  clear(): void {
    this.set({});
  }

  /** What happens to this call: extra latency and/or an error. */
  decide(service: string, operation: string): { latencyMs: number; answerDelayMs?: number; error?: AwsError } {
    const { operations } = this.spec;
    if (operations && !operations.includes(operation) && !operations.includes(`${service}.${operation}`)) return { latencyMs: 0 };
    const latencyMs = this.spec.latencyMs ?? 0;
    // An error answer applied nothing: only a call that succeeds has its answer held.
    const answerDelayMs = this.spec.answerDelayMs;
    if (this.burstLeft > 0) {
      const first = (this.spec.serverErrorBurst! - this.burstLeft--) % 2 === 0;
      return {
        latencyMs,
        error: first
          ? new AwsError('InternalFailure', 'We encountered an internal error. Please try again.', 500)
          : new AwsError('ServiceUnavailable', 'Service is unavailable. Please try again.', 503),
      };
    }
    if (this.spec.throttleRate && this.random() < this.spec.throttleRate) {
      const code = service === 'CloudFront' || service === 'STS' ? 'Throttling' : service === 'S3' ? 'SlowDown' : 'ThrottlingException';
      return { latencyMs, error: new AwsError(code, 'Rate exceeded', service === 'S3' ? 503 : 400) };
    }
    return { latencyMs, answerDelayMs };
  }
}

/** A REST-XML service (CloudFront): returns status + XML body, or throws AwsError. */
export type RestHandler = (req: {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  headers: IncomingMessage['headers'];
}) => {
  operation: string;
  /** restJson1 services (EventBridge Scheduler) answer errors as JSON with `x-amzn-errortype`; default XML. */
  errorFormat?: 'json' | 'xml';
  run: () => { status: number; body: string; headers?: Record<string, string> };
};

export interface Routes {
  /** X-Amz-Target prefix → [service name, operations]. */
  json: Record<string, [string, JsonOperations]>;
  /** URL path prefix → [service name, handler]. */
  rest: Record<string, [string, RestHandler]>;
  sts: (params: URLSearchParams, requestId: string) => string;
  /** `/_emulator/<name>` endpoints: GET ones take no body, POST ones a JSON body. */
  control: Record<string, { method: 'GET' | 'POST'; run: (body: unknown) => unknown }>;
}

/** One answered AWS request, as the IAM log (iam-log.ts) needs it. */
export interface AnsweredRequest {
  service: string;
  operation: string;
  status: number;
  /** Request and answer bodies as sent (JSON for awsJson and restJson1 services). */
  body: string;
  payload: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export interface Recorder {
  record(r: RequestRecord): void;
  /** Called with every answered AWS request (the IAM log). */
  answered?(r: AnsweredRequest): void;
  /** Called before each AWS call is answered (the default clock moves on polled reads here). */
  observe?(service: string, operation: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function xmlError(e: AwsError, requestId: string): string {
  return queryError(e.code, e.message, requestId, e.status).replace(/ xmlns="[^"]*"/, '');
}

export async function startServer(
  routes: Routes,
  faults: Faults,
  recorder: Recorder,
  now: () => number,
): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err instanceof Error ? err.stack : err));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://emulator');
    const requestId = randomUUID();
    const method = req.method ?? 'GET';

    if (url.pathname.startsWith('/_emulator/')) {
      const endpoint = routes.control[url.pathname.slice('/_emulator/'.length)];
      let status = 200;
      let out: unknown;
      if (!endpoint || endpoint.method !== method) {
        status = 404;
        out = {
          error: `unknown control endpoint ${method} ${url.pathname}`,
          endpoints: Object.entries(routes.control).map(([name, e]) => `${e.method} /_emulator/${name}`),
        };
      } else {
        try {
          out = endpoint.run(body ? JSON.parse(body) : {}) ?? { ok: true };
        } catch (err) {
          status = 400;
          out = { error: err instanceof Error ? err.message : String(err) };
        }
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
      return;
    }

    const target = req.headers['x-amz-target'];
    let service: string;
    let operation: string;
    let run: () => { status: number; body: string; headers?: Record<string, string> };
    let errorFormat: 'json' | 'xml';

    if (typeof target === 'string') {
      const [prefix, op = ''] = target.split('.');
      const route = routes.json[prefix!];
      service = route?.[0] ?? prefix!;
      operation = op;
      errorFormat = 'json';
      run = () => {
        const handler = route?.[1][op];
        if (!handler) throw new AwsError('UnknownOperationException', `The emulator does not implement ${target}.`);
        let input: unknown;
        try {
          input = body ? JSON.parse(body) : {};
        } catch {
          throw new AwsError('SerializationException', 'The request body is not valid JSON.');
        }
        return { status: 200, body: JSON.stringify(handler(input) ?? {}) };
      };
    } else {
      const rest = Object.entries(routes.rest).find(([prefix]) => url.pathname.startsWith(prefix));
      if (rest) {
        const [, [name, handler]] = rest;
        const routed = handler({ method, path: url.pathname, query: url.searchParams, body, headers: req.headers });
        service = name;
        operation = routed.operation;
        run = routed.run;
        errorFormat = routed.errorFormat ?? 'xml';
      } else {
        // awsQuery (STS): form-encoded POST to '/'.
        const params = new URLSearchParams(method === 'POST' ? body : url.search);
        service = 'STS';
        operation = params.get('Action') ?? 'Unknown';
        run = () => ({ status: 200, body: routes.sts(params, requestId) });
        errorFormat = 'xml';
      }
    }

    const wallAt = Date.now();
    recorder.observe?.(service, operation);
    const at = now();
    const fault = faults.decide(service, operation);
    if (fault.latencyMs) await sleep(fault.latencyMs);
    let status: number;
    let payload: string;
    let headers: Record<string, string> = {};
    try {
      if (fault.error) throw fault.error;
      const out = run();
      status = out.status;
      payload = out.body;
      headers = out.headers ?? {};
      if (fault.answerDelayMs) await sleep(fault.answerDelayMs);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      status = err.status;
      payload =
        errorFormat === 'json'
          ? JSON.stringify({ __type: err.code, message: err.message })
          : service === 'STS'
            ? queryError(err.code, err.message, requestId, err.status)
            : xmlError(err, requestId);
      if (errorFormat === 'json') headers['x-amzn-errortype'] = err.code;
    }
    recorder.record({ service, operation, at, wallAt, status });
    recorder.answered?.({ service, operation, status, body, payload, path: url.pathname, query: url.searchParams, headers: req.headers });
    const contentType = errorFormat === 'json' ? 'application/x-amz-json-1.1' : 'text/xml';
    res.writeHead(status, {
      'content-type': contentType,
      'x-amzn-requestid': requestId,
      'x-amz-request-id': requestId,
      'content-length': Buffer.byteLength(payload),
      ...headers,
    });
    res.end(payload);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}` };
}
