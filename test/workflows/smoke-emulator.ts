/**
 * Starts the local AWS emulator for the CI smoke jobs (.github/workflows/ci.yml),
 * seeds it with the delivery-app names of examples/delivery-app (test environment),
 * writes the endpoints as `NAME=value` lines to the file given as argv[2] and keeps
 * running until the job ends. Run: `npx tsx test/workflows/smoke-emulator.ts <env-file>`.
 */
import { writeFileSync } from 'node:fs';
import { startEmulator, type Emulator } from '../emulator/index.js';

const SMOKE = {
  cluster: 'delivery-test',
  service: 'backend',
  family: 'delivery-test-backend',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:smoke',
  logGroup: '/ecs/delivery-test',
  bucket: 'delivery-test-site',
} as const;

/** What the smoke jobs rely on: a steady service to update, a log group, an image, a bucket. */
export async function seed(emu: Emulator): Promise<Record<string, string>> {
  emu.ecs.createCluster(SMOKE.cluster);
  emu.logs.createLogGroup(SMOKE.logGroup);
  emu.ecr.putImage('delivery/backend', 'smoke');
  emu.ssm.putParameter('/delivery/test/DATABASE_URL', 'postgres://smoke', 'SecureString');
  emu.ssm.putParameter('/delivery/test/REDIS_URL', 'redis://smoke', 'SecureString');
  const taskDefinition = emu.ecs.registerTaskDefinition({
    family: SMOKE.family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    executionRoleArn: 'arn:aws:iam::123456789012:role/delivery-test-ecs-execution',
    containerDefinitions: [
      {
        name: 'backend',
        image: SMOKE.image,
        essential: true,
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': SMOKE.logGroup, 'awslogs-region': emu.region, 'awslogs-stream-prefix': 'backend' },
        },
      },
    ],
  });
  emu.ecs.createService({
    cluster: SMOKE.cluster,
    serviceName: SMOKE.service,
    taskDefinition,
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-0smoke'], securityGroups: ['sg-0smoke'], assignPublicIp: 'DISABLED' },
    },
  });
  await emu.s3.createBucket(SMOKE.bucket);
  const distribution = emu.cloudfront.createDistribution({ invalidationSeconds: 1 });
  return { ...emu.env(), SMOKE_DISTRIBUTION_ID: distribution };
}

async function main(envFile: string): Promise<void> {
  const emu = await startEmulator();
  const env = await seed(emu);
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  console.log(`emulator ready: ${emu.endpoint} (S3 ${emu.s3Endpoint})`);
  const stop = () => void emu.stop().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const envFile = process.argv[2];
  if (!envFile) {
    console.error('usage: tsx test/workflows/smoke-emulator.ts <env-file>');
    process.exit(2);
  }
  await main(envFile);
}
