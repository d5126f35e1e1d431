/** Shared fixtures for the emulator's own tests: real SDK v3 clients pointed at an emulator, a movable clock, a task definition. */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { startEmulator, type Emulator } from './index.js';

export function clients(emu: Emulator, maxAttempts = 1) {
  const env = emu.env();
  const base = {
    region: emu.region,
    endpoint: emu.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    maxAttempts,
  };
  return {
    ecs: new ECSClient(base),
    ecr: new ECRClient(base),
    ssm: new SSMClient(base),
    secrets: new SecretsManagerClient(base),
    logs: new CloudWatchLogsClient(base),
    sts: new STSClient(base),
    cloudfront: new CloudFrontClient(base),
    s3: new S3Client({
      ...base,
      endpoint: emu.s3Endpoint,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  };
}

/** A clock the test moves by hand, so timed state machines are checked without waiting. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
}

export function fargateTaskDef(
  family: string,
  opts: { image?: string; logGroup?: string } = {},
): RegisterTaskDefinitionCommandInput & { executionRoleArn: string } {
  return {
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    containerDefinitions: [
      {
        name: 'app',
        image: opts.image ?? '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123',
        essential: true,
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': opts.logGroup ?? `/ecs/${family}`, 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'ecs' },
        },
      },
    ],
  };
}

export const awsvpc = {
  awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' as const },
};

/** An emulator without S3, moved by a manual clock, with SDK clients and one empty cluster: the ECS state-machine tests' set-up. */
export async function clockedEcs(
  cluster: string,
): Promise<{ emu: Emulator; c: ReturnType<typeof clients>; clock: ReturnType<typeof manualClock> }> {
  const clock = manualClock();
  const emu = await startEmulator({ clock: clock.now, s3: false });
  emu.ecs.createCluster(cluster);
  return { emu, c: clients(emu), clock };
}
