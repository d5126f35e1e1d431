/**
 * .github/scripts/promoted-image.sh (the reusable workflow's promote-from step) with the real AWS
 * CLI against the emulator: the same rule as deploy-ecs's promote-from — the digest from the
 * source's service revision, only from a steady source.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.js';
import { parseCommandFile, repoRoot } from '../helpers/run-bundle.js';
import { awsvpc, startDeployEmulator, taskDef } from '../deploy-ecs/e2e-seed.js';

const hasCli = spawnSync('aws', ['--version']).status === 0;
let emu: Emulator;
let n = 0;

function seed(tag: string) {
  n += 1;
  const cluster = `promoted-${n}`;
  const family = `promoted-backend-${n}`;
  emu.ecs.createCluster(cluster);
  const first = emu.ecs.registerTaskDefinition(taskDef(family, tag));
  emu.ecs.createService({
    cluster,
    serviceName: 'backend',
    taskDefinition: first,
    desiredCount: 2,
    launchType: 'FARGATE',
    networkConfiguration: awsvpc,
  });
  return { cluster, family };
}

/** Runs the script without blocking the event loop (the emulator answers in this process). */
async function run(promoteFrom: string) {
  const output = join(mkdtempSync(join(tmpdir(), 'promoted-')), 'output');
  writeFileSync(output, '');
  const child = spawn('bash', [join(repoRoot, '.github', 'scripts', 'promoted-image.sh')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...emu.env(),
      AWS_MAX_ATTEMPTS: '1',
      GITHUB_OUTPUT: output,
      PROMOTE_FROM: promoteFrom,
      CONTAINER: 'backend',
    },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out, outputs: parseCommandFile(readFileSync(output, 'utf8')) };
}

describe.skipIf(!hasCli)('promoted-image.sh: the digest the source runs, only from a steady source', () => {
  beforeAll(async () => {
    emu = await startDeployEmulator();
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('takes the digest of the service revision, not where the tag was moved since', async () => {
    const built = emu.ecr.putImage('delivery/backend', 'staging').digest;
    const staging = seed('staging');
    const later = emu.ecr.putImage('delivery/backend', 'staging', '{"schemaVersion":2,"another-build":true}').digest;
    const r = await run(`${staging.cluster}/backend`);
    expect(r.code, r.out).toBe(0);
    expect(r.outputs.digest).toBe(built);
    expect(r.outputs.uri).toMatch(new RegExp(`/delivery/backend@${built}$`));
    expect(r.out).not.toContain(later);
  });

  it('refuses a source that is still rolling out, naming its state', async () => {
    const staging = seed('v2');
    const next = emu.ecs.registerTaskDefinition(taskDef(staging.family, 'v3'));
    emu.scenarios.nextRollout({ cluster: staging.cluster, service: 'backend' }, { result: 'stuck' });
    const ecs = new ECSClient({ region: emu.region, endpoint: emu.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ecs.send(new UpdateServiceCommand({ cluster: staging.cluster, service: 'backend', taskDefinition: next }));
    const r = await run(`${staging.cluster}/backend`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /::error title=promote-from::promoted-\d+\/backend is not steady \(2 deployment\(s\), rollout IN_PROGRESS, running 2 of 2\)/,
    );
    expect(r.outputs.digest).toBeUndefined();
  });
});
