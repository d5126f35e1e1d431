/**
 * End-to-end: the deploy-ecs bundle with a test-traffic gate, against the emulator's
 * ECS-native lifecycle hooks and a local test listener whose health follows the revision under test
 * (HEALTHY=false in the container environment answers 503).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { runBundle } from '../helpers/run-bundle.js';
import { startTestListener, type TestListener } from '../helpers/test-listener.js';
import { Seeder, taskDef, type Strategy } from './e2e-seed.js';

let emu: Emulator;
let listener: TestListener;
let ecs: ECSClient;

const pause = (stages: string[]) => [
  { targetType: 'PAUSE', lifecycleStages: stages, timeoutConfiguration: { timeoutInMinutes: 10, action: 'ROLLBACK' } },
];

// A failing URL gate runs until gate-timeout-seconds, a real-time window in the bundle. Tests that
// check what the probes were answered need the bundle's first request to reach the listener inside
// it: at 1.5 s a busy machine (load 20 on 2 cores) left none. Tests that only need the gate to fail
// keep shorter windows (no answer fails a gate too).
const ANSWER_WINDOW_S = '6';

const seeder = new Seeder(() => emu, 'gate-test');
function seed(strategy: Strategy, opts: { hooks?: object[]; extra?: object; services?: string[] } = {}) {
  const services = opts.services ?? ['backend'];
  const seeded = seeder.seed(services, { strategy, deployment: { bakeTimeInMinutes: 0, lifecycleHooks: opts.hooks ?? [], ...opts.extra } });
  // Native rollouts get 2 s so the stages (and a pause at 60 %) are visible to 0.1 s polls.
  for (const service of services)
    emu.scenarios.nextRollout({ cluster: seeded.cluster, service }, { result: 'success', afterSeconds: strategy === 'ROLLING' ? 0.5 : 2 });
  return seeded;
}

function run(cluster: string, def: unknown, inputs: Record<string, string>, services = 'backend', onSpawn?: (child: ChildProcess) => void) {
  const ws = mkdtempSync(join(tmpdir(), 'deploy-ecs-gate-'));
  writeFileSync(join(ws, 'taskdef.json'), JSON.stringify(def));
  return runBundle('deploy-ecs', {
    inputs: {
      'task-definition': 'taskdef.json',
      cluster,
      services,
      'poll-interval-seconds': '0.1',
      'timeout-minutes': '0.5',
      'gate-successes': '2',
      'gate-interval-seconds': '0.1',
      'gate-timeout-seconds': '20',
      ...inputs,
    },
    env: emu.env(),
    workspace: ws,
    timeoutMs: 60_000,
    onSpawn,
  });
}

async function hookStatuses(cluster: string): Promise<string[]> {
  const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
  const arn = list.serviceDeployments![0]!.serviceDeploymentArn!;
  const sd = (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
  return (sd.lifecycleHookDetails ?? []).map((h) => h.status!);
}

async function revision(cluster: string): Promise<string> {
  const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: ['backend'] }))).services![0]!;
  return svc.taskDefinition!.split('/').pop()!;
}

/**
 * A person with a go/no-go on a pause: once the action has logged that it leaves a pause to whoever
 * set it, they answer the pause that awaits action with CONTINUE (recorded only when ECS accepted it).
 */
function goNoGo(cluster: string) {
  const answered: string[] = [];
  const watch = (child: ChildProcess) => {
    let seen = 0;
    let log = '';
    child.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
      const notices = log.split('Whoever set this PAUSE hook must answer it').length - 1;
      if (notices <= seen) return;
      seen = notices;
      void (async () => {
        const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
        const arn = list.serviceDeployments?.find((d) => d.status === 'IN_PROGRESS')?.serviceDeploymentArn;
        if (!arn) return;
        const sd = (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
        const hook = sd.lifecycleHookDetails?.find((h) => h.status === 'AWAITING_ACTION');
        if (!hook) return;
        await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId, action: 'CONTINUE' }));
        answered.push('CONTINUE');
      })();
    });
  };
  return { answered, watch };
}

/** Index of the first line matching, to check the order things happened in the log. */
const at = (stdout: string, re: RegExp) => stdout.split('\n').findIndex((l) => re.test(l));

beforeAll(async () => {
  emu = await startEmulator({ s3: false });
  listener = await startTestListener(emu);
  emu.ecr.putImage('delivery/backend', 'v1');
  emu.ecr.putImage('delivery/backend', 'v2');
  const env = emu.env();
  ecs = new ECSClient({
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  });
});
afterAll(async () => {
  await listener?.stop();
  await emu?.stop();
});

describe.concurrent('deploy-ecs test-traffic gate (bundle)', () => {
  it('blue/green, healthy green: probes at the POST_TEST_TRAFFIC_SHIFT pause, then CONTINUE, then SUCCESSFUL', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': `${listener.url(cluster, 'backend')}?token=sekrit-123` });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.gate).toBe('passed');
    expect(r.outputs.status).toBe('succeeded');
    const probes = listener.hits.filter((h) => h.cluster === cluster);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.every((h) => h.status === 200)).toBe(true);
    expect(at(r.stdout, /paused at POST_TEST_TRAFFIC_SHIFT/)).toBeLessThan(at(r.stdout, /→ 200 .*\[2\/2\]/));
    expect(at(r.stdout, /→ 200 .*\[2\/2\]/)).toBeLessThan(at(r.stdout, /ContinueServiceDeployment CONTINUE sent/));
    expect(r.stdout).toMatch(/backend: running \d\/2, pending \d, IN_PROGRESS \(POST_TEST_TRAFFIC_SHIFT\)/);
    expect(r.stdout).toContain('::add-mask::sekrit-123');
    expect(r.stdout.replace('::add-mask::sekrit-123', '')).not.toContain('sekrit-123');
    expect(await hookStatuses(cluster)).toEqual(['SUCCEEDED']);
    expect(await revision(cluster)).toBe(`${family}:2`);
    expect(r.summary).toMatch(/Test-traffic gate[\s\S]*POST_TEST_TRAFFIC_SHIFT pause hook[\s\S]*token=\*\*\*[\s\S]*✅ passed \| 200×2/);
  });

  // Two bundle runs with a 6 s gate window each: past the project's 60 s at a load of 20.
  it('blue/green, unhealthy green: 503s at the pause, then ROLLBACK; the service is back on the old revision', {
    timeout: 120_000,
  }, async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    const r = await run(cluster, taskDef(family, 'v2', { HEALTHY: 'false' }), {
      'gate-url': listener.url(cluster, 'backend'),
      'gate-timeout-seconds': ANSWER_WINDOW_S,
    });
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.gate).toBe('failed');
    expect(r.outputs.status).toBe('failed');
    expect(r.outputs['rolled-back'], r.stdout).toBe('true');
    expect(listener.hits.filter((h) => h.cluster === cluster).every((h) => h.status === 503)).toBe(true);
    expect(at(r.stdout, /→ 503/), r.stdout).toBeGreaterThan(-1);
    expect(at(r.stdout, /→ 503/)).toBeLessThan(at(r.stdout, /ContinueServiceDeployment ROLLBACK sent/));
    expect(r.stdout).not.toContain('ContinueServiceDeployment CONTINUE');
    expect(await hookStatuses(cluster)).toEqual(['FAILED']);
    expect(await revision(cluster)).toBe(`${family}:1`);
    expect(r.errors.join('\n')).toMatch(
      new RegExp(`test-traffic gate failed at the POST_TEST_TRAFFIC_SHIFT pause hook: not healthy within ${ANSWER_WINDOW_S} s`),
    );
    expect(r.summary).toMatch(/❌ failed \| 503(×\d+)? \|/);

    // A re-run of the same release is not "unchanged": the service is not on it, so it is deployed,
    // gated and rolled back again.
    const again = await run(cluster, taskDef(family, 'v2', { HEALTHY: 'false' }), {
      'gate-url': listener.url(cluster, 'backend'),
      'gate-timeout-seconds': '3',
    });
    expect(again.code).toBe(1);
    expect(again.outputs.changed).toBe('false');
    expect(again.outputs.gate).toBe('failed');
    expect(await revision(cluster)).toBe(`${family}:1`);
  });

  it("someone rolls the paused deployment back by hand while the gate runs: reported as ECS's rollback, the unfinished gate is skipped, nothing sent or overwritten", async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    // The gate command says when it started, so the other actor acts while it runs.
    const started = join(mkdtempSync(join(tmpdir(), 'gate-started-')), 'started');
    const running = run(cluster, taskDef(family, 'v2'), {
      'gate-command': `touch ${started}; sleep 5; echo fine`,
      'gate-timeout-seconds': '20',
    });
    // The other actor: the console's "Roll back" on the paused hook.
    let acted = false;
    for (let i = 0; i < 300 && !acted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!existsSync(started)) continue;
      const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
      const arn = list.serviceDeployments?.find((d) => d.status === 'IN_PROGRESS')?.serviceDeploymentArn;
      if (!arn) continue;
      const sd = (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
      const hook = sd.lifecycleHookDetails?.find((h) => h.status === 'AWAITING_ACTION');
      if (hook) {
        await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arn, hookId: hook.hookId, action: 'ROLLBACK' }));
        acted = true;
      }
    }
    expect(acted).toBe(true);
    const r = await running;
    expect(r.code).toBe(1);
    expect(r.stdout, r.stdout).toContain('acted on elsewhere); nothing sent');
    expect(r.stdout).not.toMatch(/ContinueServiceDeployment (CONTINUE|ROLLBACK) sent/);
    // The failure is ECS's rollback, not a gate verdict: the gate never finished.
    expect(r.errors.join('\n')).toMatch(
      /ECS rolled the deployment back \(ROLLBACK_\w+\): Service deployment rolled back by ContinueServiceDeployment/,
    );
    expect(r.errors.join('\n')).not.toContain('test-traffic gate failed');
    expect(r.outputs.gate).toBe('skipped');
    expect(await revision(cluster)).toBe(`${family}:1`);
  });

  it('canary with a pause: one gate, CONTINUE, SUCCESSFUL', async () => {
    const { cluster, family } = seed('CANARY', {
      hooks: pause(['POST_TEST_TRAFFIC_SHIFT']),
      extra: { canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 0 } },
    });
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': listener.url(cluster, 'backend') });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.gate).toBe('passed');
    expect(await hookStatuses(cluster)).toEqual(['SUCCEEDED']);
  });

  it('linear pausing before each traffic step, gate-stage PRE_PRODUCTION_TRAFFIC_SHIFT: the gate runs at every pause', async () => {
    const { cluster, family } = seed('LINEAR', {
      hooks: pause(['PRE_PRODUCTION_TRAFFIC_SHIFT']),
      extra: { linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 0 } },
    });
    const r = await run(cluster, taskDef(family, 'v2'), {
      'gate-url': listener.url(cluster, 'backend'),
      'gate-stage': 'PRE_PRODUCTION_TRAFFIC_SHIFT',
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.match(/ContinueServiceDeployment CONTINUE sent/g)).toHaveLength(2);
    expect(await hookStatuses(cluster)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('blue/green without a PAUSE hook: says so and checks after the deployment completed', async () => {
    const { cluster, family } = seed('BLUE_GREEN');
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': listener.url(cluster, 'backend') });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(
      'BLUE_GREEN without a PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT (gate-stage): the gate runs after the deployment completed',
    );
    expect(r.outputs.gate).toBe('passed');
  });

  it('rolling with a failing post-deploy check: rolled back, the gate result in the error and the summary', async () => {
    const { cluster, family } = seed('ROLLING');
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const r = await run(cluster, taskDef(family, 'v2', { HEALTHY: 'false' }), {
      'gate-url': listener.url(cluster, 'backend'),
      'gate-timeout-seconds': ANSWER_WINDOW_S,
    });
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.gate).toBe('failed');
    expect(r.outputs['rolled-back']).toBe('true');
    expect(await revision(cluster)).toBe(`${family}:1`);
    expect(r.errors.join('\n')).toMatch(
      new RegExp(`post-deploy gate failed: not healthy within ${ANSWER_WINDOW_S} s: .*/health last answered`),
    );
    expect(listener.hits.filter((h) => h.cluster === cluster).map((h) => h.status)).toContain(503);
    expect(r.summary).toMatch(/after COMPLETED \| `http:\/\/127\.0\.0\.1:\d+\/gate-test-\d+\/backend\/health` \| ❌ failed/);
    // The diagnosis carries the gate's probes (status codes in order), not only the service events.
    const diagnosis = r.stdout.slice(r.stdout.indexOf('::group::Diagnosis'));
    expect(diagnosis).toMatch(/hint: The new revision failed the test-traffic gate/);
    expect(diagnosis).toMatch(/\/backend\/health: failed; 503(×\d+)?; min\/avg\/max/);
  });

  it('rolling, cancelled while the post-deploy gate runs: the command is killed, the release rolled back as cancelled', async () => {
    const { cluster, family } = seed('ROLLING');
    emu.scenarios.nextRollout({ cluster, service: 'backend' }, { result: 'success', afterSeconds: 0.3 });
    const started = join(mkdtempSync(join(tmpdir(), 'gate-started-')), 'started');
    const signals: string[] = [];
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-command': `touch ${started}; sleep 600` }, 'backend', (child) => {
      void (async () => {
        while (!existsSync(started)) await new Promise((res) => setTimeout(res, 50));
        child.kill('SIGINT');
        signals.push('SIGINT');
        const kill = setTimeout(() => (child.kill('SIGKILL'), signals.push('SIGKILL')), 10_000);
        child.on('exit', () => clearTimeout(kill));
      })();
    });
    expect(r.code, r.stdout).toBe(1);
    expect(signals).not.toContain('SIGKILL');
    expect(r.outputs).toMatchObject({ status: 'cancelled', gate: 'skipped', 'rolled-back': 'true' });
    expect(await revision(cluster)).toBe(`${family}:1`);
  });

  it('gate command: exit 0 passes with TEST_URL/SERVICE/TASK_DEFINITION_ARN; a non-zero exit fails with its last lines', async () => {
    const ok = seed('ROLLING');
    const passed = await run(ok.cluster, taskDef(ok.family, 'v2'), {
      'gate-url': listener.url(ok.cluster, 'backend'),
      'gate-command': 'echo "smoke $SERVICE ${TASK_DEFINITION_ARN##*/} $TEST_URL"',
    });
    expect(passed.code, passed.stdout).toBe(0);
    expect(passed.stdout).toContain(`│ smoke backend ${ok.family}:2 ${listener.url(ok.cluster, 'backend')}`);
    expect(passed.outputs.gate).toBe('passed');

    const bad = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    const failed = await run(bad.cluster, taskDef(bad.family, 'v2'), {
      'gate-command': 'echo "GET /orders -> 500"; exit 4',
      'gate-timeout-seconds': '2',
    });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('ContinueServiceDeployment ROLLBACK sent');
    expect(failed.summary).toContain('exit 4');
    expect(failed.summary).toContain('GET /orders -> 500');
    expect(await revision(bad.cluster)).toBe(`${bad.family}:1`);
  });

  it('a gate command that outlives gate-timeout-seconds is killed and the release rolled back', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    // Not killed, `sleep 600` would outlive the bundle's 60 s limit and fail the test.
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-command': 'sleep 600', 'gate-timeout-seconds': '1' });
    expect(r.code, r.stdout).toBe(1);
    expect(r.errors.join('\n')).toContain('did not finish within 1 s and was killed');
    expect(await hookStatuses(cluster)).toEqual(['FAILED']);
  });

  it('a cancel (SIGINT, SIGTERM 7.5 s later, kill at 10 s) while the gate command runs at a pause: the command is killed, ROLLBACK sent, the rollback followed, exit before the kill', async () => {
    const { cluster, family, n } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    const started = join(mkdtempSync(join(tmpdir(), 'gate-started-')), 'started');
    const marker = `sleep 600.${process.pid}${n}`; // a command line only this test's gate runs
    const signals: string[] = [];
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-command': `touch ${started}; ${marker}` }, 'backend', (child) => {
      void (async () => {
        while (!existsSync(started)) await new Promise((res) => setTimeout(res, 50));
        child.kill('SIGINT');
        signals.push('SIGINT');
        const term = setTimeout(() => (child.kill('SIGTERM'), signals.push('SIGTERM')), 7500);
        const kill = setTimeout(() => (child.kill('SIGKILL'), signals.push('SIGKILL')), 10_000);
        child.on('exit', () => (clearTimeout(term), clearTimeout(kill)));
      })();
    });
    expect(r.code, r.stdout).toBe(1); // exited on its own, not killed
    expect(signals).not.toContain('SIGKILL');
    expect(r.outputs).toMatchObject({ status: 'cancelled', gate: 'skipped', 'rolled-back': 'true' });
    expect(r.stdout).toContain('ContinueServiceDeployment ROLLBACK sent');
    expect(r.stdout).not.toContain('StopServiceDeployment');
    expect(r.errors.join('\n')).toMatch(/was cancelled/);
    expect(await hookStatuses(cluster)).toEqual(['FAILED']);
    expect(await revision(cluster)).toBe(`${family}:1`);
    // The gate command's process group is gone with the run, not left to the runner.
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(marker);
  });

  it('a gate command that starts a daemon (setsid) holding its stdout is judged on its exit: passes at once, the step not held by the daemon', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    const pidFile = join(mkdtempSync(join(tmpdir(), 'gate-daemon-')), 'pid');
    // The daemon inherits the command's stdout and outlives the gate timeout; waiting for the pipe to
    // close would hold the gate until it ends and fail it at the timeout.
    const r = await run(cluster, taskDef(family, 'v2'), {
      'gate-command': `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 25' & echo started; exit 0`,
      'gate-timeout-seconds': '3',
    });
    try {
      expect(r.code, r.stdout).toBe(0);
      expect(r.outputs.gate).toBe('passed');
      expect(r.stdout).toContain('│ started');
      expect(r.stdout).toContain('the gate command exited 0');
      expect(await hookStatuses(cluster)).toEqual(['SUCCEEDED']);
    } finally {
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });

  it('gate-url with user:pass@ sends the credentials as a Basic Authorization header, masked; the URL is printed without the password', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT']) });
    const url = new URL(listener.url(cluster, 'backend'));
    url.username = 'probe';
    url.password = 'p@ss w0rd';
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': url.toString() });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.gate).toBe('passed');
    const hits = listener.hits.filter((h) => h.cluster === cluster);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    const basic = Buffer.from('probe:p@ss w0rd').toString('base64');
    expect(hits.every((h) => h.authorization === `Basic ${basic}`)).toBe(true);
    expect(r.stdout).toContain('::add-mask::p@ss w0rd');
    expect(r.stdout).toContain(`::add-mask::${basic}`);
    expect(r.stdout).toContain('probe:***@127.0.0.1');
    expect(r.stdout.replace(/::add-mask::.*\n/g, '')).not.toMatch(/p@ss|w0rd|p%40ss/);
  });

  it('a PAUSE hook at POST_SCALE_UP (no test traffic there) is left to whoever set it; the gate runs only where the test listener routes to the new revision', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_SCALE_UP']) });
    const person = goNoGo(cluster);
    // No rollback here: the next test covers the rollback's own pause at this hook.
    const r = await run(
      cluster,
      taskDef(family, 'v2', { HEALTHY: 'false' }),
      { 'gate-url': listener.url(cluster, 'backend'), 'gate-timeout-seconds': ANSWER_WINDOW_S, 'rollback-on-failure': 'false' },
      'backend',
      person.watch,
    );
    // The person answered the pause: it was still waiting for them, the action had not answered it.
    expect(person.answered, r.stdout).toEqual(['CONTINUE']);
    expect(r.stdout).not.toMatch(/ContinueServiceDeployment (CONTINUE|ROLLBACK) sent/);
    expect(r.stdout).toMatch(
      /paused at POST_SCALE_UP \(hook ecs-pause-[\w-]+\), not the gate's stage \(gate-stage POST_TEST_TRAFFIC_SHIFT\): left alone\. Whoever set this PAUSE hook must answer it/,
    );
    expect(r.stdout).not.toMatch(/running the gate against/);
    // Every probe reached the new revision: the gate judged what it claims to have judged.
    const probes = listener.hits.filter((h) => h.cluster === cluster);
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.map((h) => h.revision)).toEqual(probes.map(() => `${family}:2`));
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.gate).toBe('failed');
    expect(r.outputs.status).toBe('failed');
  });

  it("the rollback's own deployment pausing at the same PAUSE hook is answered CONTINUE by the run, not left paused until the deadline", async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_SCALE_UP']) });
    // The person answers the release's pause only: nobody is there for the rollback's.
    const person = goNoGo(cluster);
    const r = await run(
      cluster,
      taskDef(family, 'v2', { HEALTHY: 'false' }),
      { 'gate-url': listener.url(cluster, 'backend'), 'gate-timeout-seconds': '1.5' },
      'backend',
      person.watch,
    );
    expect(person.answered, r.stdout).toEqual(['CONTINUE']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.gate).toBe('failed');
    expect(r.stdout).toMatch(
      /backend: the rollback's deployment paused at POST_SCALE_UP \(PAUSE hook ecs-pause-[\w-]+\); ContinueServiceDeployment CONTINUE sent/,
    );
    expect(r.outputs['rolled-back'], r.stdout).toBe('true');
    expect(await revision(cluster)).toBe(`${family}:1`);
    // No deployment of the service is left waiting at a pause.
    const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
    const sds = (
      await ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: list.serviceDeployments!.map((d) => d.serviceDeploymentArn!) }),
      )
    ).serviceDeployments!;
    expect(sds.filter((sd) => sd.status === 'IN_PROGRESS' && sd.lifecycleHookDetails?.some((h) => h.status === 'AWAITING_ACTION'))).toEqual(
      [],
    );
  });

  it('a rolling service with a PAUSE hook: the pause is left to whoever set it (no test traffic in a rolling deployment), the gate runs after completion', async () => {
    const { cluster, family } = seed('ROLLING', { hooks: pause(['POST_SCALE_UP']) });
    const person = goNoGo(cluster);
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': listener.url(cluster, 'backend') }, 'backend', person.watch);
    expect(r.stdout).toMatch(
      /backend: paused at POST_SCALE_UP \(hook ecs-pause-[\w-]+\), not the gate's stage \(gate-stage POST_TEST_TRAFFIC_SHIFT\): left alone\. Whoever set this PAUSE hook must answer it/,
    );
    expect(person.answered, r.stdout).toEqual(['CONTINUE']);
    expect(r.stdout).not.toMatch(/ContinueServiceDeployment (CONTINUE|ROLLBACK) sent/);
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.gate).toBe('passed');
    expect(await revision(cluster)).toBe(`${family}:2`);
  });

  it("a rolling service with a PAUSE hook, gate failing: the rollback's deployment pausing at the hook is answered CONTINUE, no deployment left paused", async () => {
    const { cluster, family } = seed('ROLLING', { hooks: pause(['POST_SCALE_UP']) });
    const person = goNoGo(cluster);
    const r = await run(
      cluster,
      taskDef(family, 'v2', { HEALTHY: 'false' }),
      { 'gate-url': listener.url(cluster, 'backend'), 'gate-timeout-seconds': '1.5' },
      'backend',
      person.watch,
    );
    expect(person.answered, r.stdout).toEqual(['CONTINUE']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.gate).toBe('failed');
    expect(r.stdout).toMatch(
      /backend: the rollback's deployment paused at POST_SCALE_UP \(PAUSE hook ecs-pause-[\w-]+\); ContinueServiceDeployment CONTINUE sent/,
    );
    expect(r.outputs['rolled-back'], r.stdout).toBe('true');
    expect(await revision(cluster)).toBe(`${family}:1`);
    const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
    const sds = (
      await ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: list.serviceDeployments!.map((d) => d.serviceDeploymentArn!) }),
      )
    ).serviceDeployments!;
    expect(sds.filter((sd) => sd.status === 'IN_PROGRESS' && sd.lifecycleHookDetails?.some((h) => h.status === 'AWAITING_ACTION'))).toEqual(
      [],
    );
  });

  it('a rolling release held at a PAUSE hook nobody answers: the run times out and rolls back, no deployment is left paused', async () => {
    const { cluster, family } = seed('ROLLING', { hooks: pause(['POST_SCALE_UP']) });
    // 15 s, of which a quarter is kept for the rollback: at 6 s (1.5 s kept) a load of 20 aborted the rollback's calls.
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': listener.url(cluster, 'backend'), 'timeout-minutes': '0.25' });
    expect(r.code, r.stdout).toBe(1);
    expect(r.outputs.status).toBe('timed-out');
    expect(r.outputs['rolled-back'], r.stdout).toBe('true');
    expect(await revision(cluster)).toBe(`${family}:1`);
    const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'backend' }));
    const sds = (
      await ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: list.serviceDeployments!.map((d) => d.serviceDeploymentArn!) }),
      )
    ).serviceDeployments!;
    expect(
      sds
        .filter((sd) => sd.status === 'IN_PROGRESS' && sd.lifecycleHookDetails?.some((h) => h.status === 'AWAITING_ACTION'))
        .map((sd) => sd.serviceDeploymentArn),
    ).toEqual([]);
  });

  it('a second PAUSE hook after the production shift (a go/no-go) is not auto-continued: the gate answers only its own stage', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { hooks: pause(['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT']) });
    const person = goNoGo(cluster);
    const r = await run(cluster, taskDef(family, 'v2'), { 'gate-url': listener.url(cluster, 'backend') }, 'backend', person.watch);
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.gate).toBe('passed');
    expect(person.answered).toEqual(['CONTINUE']);
    expect(r.stdout.match(/ContinueServiceDeployment CONTINUE sent/g)).toHaveLength(1);
    expect(r.stdout).toMatch(
      /paused at POST_TEST_TRAFFIC_SHIFT .*the test listener routes to .*:2 since TEST_TRAFFIC_SHIFT: running the gate against it/,
    );
    expect(r.stdout).toMatch(/paused at POST_PRODUCTION_TRAFFIC_SHIFT \(hook [\w-]+\), not the gate's stage/);
    expect(await hookStatuses(cluster)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(listener.hits.filter((h) => h.cluster === cluster).every((h) => h.revision === `${family}:2`)).toBe(true);
  });

  it('bad gate inputs fail before any write call, naming each input', async () => {
    const { cluster, family } = seed('BLUE_GREEN', { services: ['api', 'worker', 'billing'] });
    const r = await run(
      cluster,
      taskDef(family, 'v2'),
      {
        'gate-url': 'api=https://test.example.com/health\nworker=ftp://test.example.com/x\nworker=https//missing-colon',
        'gate-timeout-seconds': '0',
        'gate-request-timeout-seconds': '-1',
      },
      'api\nworker\nbilling',
    );
    expect(r.code, r.stdout).toBe(1);
    const text = r.errors.join('\n');
    expect(text).toMatch(/input 'gate-url'.*'ftp:' URLs cannot be probed/);
    expect(text).toMatch(/input 'gate-url'.*'https\/\/missing-colon' is not a URL/);
    expect(text).toMatch(/input 'gate-url'.*no URL for service\(s\) billing\./);
    expect(text).toMatch(/input 'gate-timeout-seconds'.*above 0/);
    expect(text).toMatch(/input 'gate-request-timeout-seconds'.*above 0/);
    // Other tests run at the same time: look at this test's own family and services, not the request log.
    const families = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
    expect(families.taskDefinitionArns?.map((a) => a.split('/').pop())).toEqual([`${family}:1`]);
    const deployments = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api' }));
    expect(deployments.serviceDeployments).toHaveLength(1);
  });
});
