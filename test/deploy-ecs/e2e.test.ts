/**
 * End-to-end: the committed bundle, run like the runner runs it, against the
 * local AWS emulator. Short poll intervals and scenario durations keep each fast.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { ACCOUNT, IMAGE, Seeder, taskDef } from './e2e-seed.js';

let emu: Emulator;

/** A fresh cluster + services per test, all starting steady on revision 1 of their own family. */
const seeder = new Seeder(() => emu, 'delivery-test');
const seed = seeder.seed.bind(seeder);

function workspaceWith(def: unknown): string {
  const ws = mkdtempSync(join(tmpdir(), 'deploy-ecs-ws-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(def, null, 2));
  return ws;
}

const fast = { 'poll-interval-seconds': '0.2', 'timeout-minutes': '0.5' };

function run(inputs: Record<string, string>, workspace?: string) {
  return runBundle('deploy-ecs', { inputs: { ...fast, ...inputs }, env: emu.env(), workspace, timeoutMs: 60_000 });
}

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  emu.ecr.putImage('delivery/backend', 'v1');
  emu.ecr.putImage('delivery/backend', 'v2');
  emu.ecr.putImage('delivery/backend', 'v3');
  emu.logs.createLogGroup('/ecs/delivery-test');
});
afterAll(async () => {
  await emu?.stop();
});

describe('deploy-ecs bundle on the emulator', () => {
  it('happy path: registers, updates, waits for COMPLETED, reports the diff', async () => {
    const { cluster, family, first } = seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.5 });
    const ws = workspaceWith(taskDef(family, 'v2', { FEATURE_MENU: 'on' }));
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${family}:2$`));
    expect(r.outputs['previous-task-definition-arn']).toBe(first);
    expect(r.outputs.changed).toBe('true');
    expect(r.outputs.status).toBe('succeeded');
    expect(r.outputs['rolled-back']).toBe('false');
    expect(r.outputs.image).toBe(IMAGE('v2'));
    expect(Object.keys(JSON.parse(r.outputs['deployment-ids']!))).toEqual(['backend']);
    expect(r.summary).toContain('container backend image:');
    expect(r.summary).toContain('container backend env added: FEATURE_MENU');
    expect(r.summary).toMatch(/backend \| .*:1 \| .*:2 \|/);
  });

  it('an unchanged re-run registers nothing and updates nothing', async () => {
    const { cluster, family } = seed(['backend']);
    const ws = workspaceWith(taskDef(family, 'v2'));
    const firstRun = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(firstRun.code, firstRun.stdout).toBe(0);
    emu.resetCounts();
    const again = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.changed).toBe('false');
    expect(again.outputs.status).toBe('unchanged');
    expect(again.outputs['task-definition-arn']).toBe(firstRun.outputs['task-definition-arn']);
    const ops = emu.requests().map((q) => q.operation);
    expect(ops).not.toContain('RegisterTaskDefinition');
    expect(ops).not.toContain('UpdateService');
  });

  it('deploys one revision to two services', async () => {
    const { cluster, family } = seed(['api', 'worker']);
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 0.3 });
    emu.scenarios.nextRollout({ cluster, service: 'worker' }, { result: 'success', afterSeconds: 0.8 });
    const ws = workspaceWith(taskDef(family, 'v2'));
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'api\nworker' }, ws);
    expect(r.code, r.stdout).toBe(0);
    expect(Object.keys(JSON.parse(r.outputs['deployment-ids']!)).sort()).toEqual(['api', 'worker']);
    const services = await emuServices(cluster, ['api', 'worker']);
    expect(services.map((s) => s.taskDefinition)).toEqual([r.outputs['task-definition-arn'], r.outputs['task-definition-arn']]);
  });

  it('a failing rollout is diagnosed and rolled back to the previous ARN', async () => {
    const { cluster, family, first } = seed(['backend']);
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      { result: 'fail', afterSeconds: 1.5, exitCode: 137, logLines: ['starting backend', 'java.lang.OutOfMemoryError: Java heap space'] },
    );
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const ws = workspaceWith(taskDef(family, 'v3'));
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('failed');
    expect(r.outputs['rolled-back']).toBe('true');
    expect(r.stdout).toContain(`rolled back to ${first}`);
    expect(r.summary).toContain('exit 137');
    expect(r.summary).toContain('OutOfMemoryError');
    expect(r.summary).toMatch(/memory/i);
    const [svc] = await emuServices(cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(first);
  });

  it('a circuit-breaker rollback by ECS is a failure, not a success', async () => {
    const { cluster, family, first } = seed(['backend'], { circuitBreakerRollback: true });
    emu.scenarios.nextRollout(
      { cluster, service: 'backend' },
      {
        result: 'fail',
        afterSeconds: 1,
        stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
        circuitBreakerRollback: true,
        rollbackSeconds: 0.5,
      },
    );
    const ws = workspaceWith(taskDef(family, 'v3'));
    emu.resetCounts();
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend', 'max-failed-tasks': '0' }, ws);
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe('failed');
    expect(r.stdout).toMatch(/circuit breaker/);
    expect(r.stdout).toContain(`rolled back to ${first}`);
    expect(r.summary).toMatch(/could not be pulled/);
    // ECS already rolled back: we follow its rollback instead of starting a second one.
    expect(emu.counts()['ECS.UpdateService']).toBe(1);
    expect(r.outputs['rolled-back']).toBe('true');
    const [svc] = await emuServices(cluster, ['backend']);
    expect(svc!.taskDefinition).toBe(first);
  });

  it('times out, diagnoses and rolls back', async () => {
    const { cluster, family, first } = seed(['backend']);
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'stuck' });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const ws = workspaceWith(taskDef(family, 'v3'));
    // 6 s: long enough for the update to be sent on a busy machine (node start-up included) before
    // the deadline; the stuck rollout then holds the run until it.
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend', 'timeout-minutes': '0.1' }, ws);
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
    expect(r.outputs['rolled-back']).toBe('true');
    expect(r.stdout).toMatch(/timed out after [0-9.]+ s \(timeout-minutes 0.1/);
    expect(r.stdout).toContain(`rolled back to ${first}`);
  });

  it('succeeds with 20% of calls throttled', async () => {
    const { cluster, family } = seed(['api', 'worker']);
    emu.scenarios.nextRollout({ cluster, service: 'api' }, { result: 'success', afterSeconds: 0.5 });
    emu.scenarios.nextRollout({ cluster, service: 'worker' }, { result: 'success', afterSeconds: 0.5 });
    const ws = workspaceWith(taskDef(family, 'v2'));
    emu.faults.set({ throttleRate: 0.2 });
    try {
      const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'api\nworker' }, ws);
      expect(r.code, r.stdout).toBe(0);
      expect(r.outputs.status).toBe('succeeded');
    } finally {
      emu.faults.clear();
    }
  });

  it('desired-count alone (same revision) updates and waits until the new tasks run', async () => {
    const { cluster, family } = seed(['backend']);
    const ws = workspaceWith(taskDef(family, 'v1'));
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend', 'desired-count': '4' }, ws);
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs).toMatchObject({ changed: 'false', status: 'succeeded' });
    expect(r.stdout).toMatch(/SUCCEEDED running 4\/4/);
    const [svc] = await emuServices(cluster, ['backend']);
    expect(svc!.runningCount).toBe(4);
  });

  it('blue/green: waits for the service deployment to be SUCCESSFUL', async () => {
    const { cluster, family } = seed(['backend'], { strategy: 'BLUE_GREEN' });
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.6 });
    const ws = workspaceWith(taskDef(family, 'v2'));
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('strategy BLUE_GREEN');
    expect(r.stdout).toMatch(/service-deployment\//);
    expect(r.stdout).toMatch(/SUCCEEDED .*SUCCESSFUL/);
    expect(emu.requests().some((q) => q.operation === 'DescribeServiceDeployments')).toBe(true);
  });

  it('deploys an existing revision given as family:revision without registering', async () => {
    const { cluster, family } = seed(['backend']);
    const second = emu.ecs.registerTaskDefinition(taskDef(family, 'v2'));
    emu.resetCounts();
    const r = await run({ 'task-definition': `${family}:2`, cluster, services: 'backend' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs['task-definition-arn']).toBe(second);
    expect(r.outputs.changed).toBe('false');
    expect(emu.requests().map((q) => q.operation)).not.toContain('RegisterTaskDefinition');
  });

  it('promote: re-tags in ECR by manifest, then deploys the promoted tag into container-name', async () => {
    const { cluster, family, n } = seed(['backend']);
    const { digest } = emu.ecr.putImage('delivery/backend', `rc-${n}`);
    const ws = workspaceWith(taskDef(family, 'v1', { RELEASE: `${n}` }));
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'image-publish': 'promote',
        'source-image': `delivery/backend:rc-${n}`,
        tags: `prod-${n}`,
        'container-name': 'backend',
        'pin-image-digest': 'true',
      },
      ws,
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.image).toBe(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend@${digest}`);
    const ops = emu.requests().map((q) => q.operation);
    expect(ops).toContain('BatchGetImage');
    expect(ops).toContain('PutImage');
    // Promoting again is a no-op success (same digest already tagged).
    const again = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'image-publish': 'promote',
        'source-image': `delivery/backend:rc-${n}`,
        tags: `prod-${n}`,
        'container-name': 'backend',
        'pin-image-digest': 'true',
      },
      ws,
    );
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('already points at');
    expect(again.outputs.changed).toBe('false');
  });

  it('promote: an immutable tag on another image is a clear error, before any ECS write', async () => {
    const { cluster, family } = seed(['backend']);
    emu.ecr.createRepository('delivery/locked', 'IMMUTABLE');
    emu.ecr.putImage('delivery/locked', 'rc1');
    emu.ecr.putImage('delivery/locked', 'prod');
    const ws = workspaceWith(taskDef(family, 'v2'));
    emu.resetCounts();
    const r = await run(
      {
        'task-definition': 'taskdef.json',
        cluster,
        services: 'backend',
        'image-publish': 'promote',
        'source-image': 'delivery/locked:rc1',
        tags: 'prod',
      },
      ws,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Tag 'prod' already points at another image in delivery\/locked, and the repository's tags are immutable/);
    expect(emu.requests().filter((q) => q.service === 'ECS' && /^(Register|Update)/.test(q.operation))).toEqual([]);
  });

  it('fails before registering when the image is not in ECR', async () => {
    const { cluster, family } = seed(['backend']);
    const ws = workspaceWith(taskDef(family, 'never-pushed'));
    emu.resetCounts();
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/delivery\/backend:never-pushed of container 'backend' does not exist in ECR/);
    expect(emu.requests().map((q) => q.operation)).not.toContain('RegisterTaskDefinition');
  });

  it.each([
    ['missing cluster', { cluster: '' }, /Input 'cluster' is required/],
    ['missing services', { services: '' }, /Input 'services' is required/],
    ['malformed ARN', { 'task-definition': 'arn:aws:ecs:eu-west-1:1:taskdef/x' }, /input 'task-definition'.*not a task definition ARN/],
    ['unreadable file', { 'task-definition': 'nope.json' }, /input 'task-definition'|nope\.json/],
    ['bad timeout', { 'timeout-minutes': 'soon' }, /Input 'timeout-minutes' must be a number/],
    ['unknown service', { services: 'ghost' }, /Service 'ghost' was not found/],
  ])('bad input (%s) fails before any write call, naming the input', async (_label, override, message) => {
    const { cluster, family } = seed(['backend']);
    const ws = workspaceWith(taskDef(family, 'v2'));
    emu.resetCounts();
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend', ...override }, ws);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(message);
    const writes = emu.requests().filter((q) => /^(Register|Update|Put|Create|Delete|Run|Stop)/.test(q.operation));
    expect(writes).toEqual([]);
  });

  it('rejects an unknown task-definition key by name before any write call', async () => {
    const { cluster, family } = seed(['backend']);
    const ws = workspaceWith({ ...taskDef(family, 'v2'), memoryReservaton: 512 });
    emu.resetCounts();
    const r = await run({ 'task-definition': 'taskdef.json', cluster, services: 'backend' }, ws);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Unknown top-level key 'memoryReservaton'");
    expect(emu.requests()).toEqual([]);
  });
});

async function emuServices(cluster: string, names: string[]) {
  const { ECSClient, DescribeServicesCommand } = await import('@aws-sdk/client-ecs');
  const env = emu.env();
  const ecs = new ECSClient({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: names }));
  return names.map((name) => out.services!.find((s) => s.serviceName === name)!);
}
