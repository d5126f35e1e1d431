/** Shared fixtures for the migrate-db tests: the delivery-app backend task definition and service, and an input reader. */
import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import type { RunIdentity } from '../../actions/migrate-db/identity.js';
import { getInputs, type MigrateInputs } from '../../actions/migrate-db/inputs.js';

export const CLUSTER = 'delivery-test';
export const FAMILY = 'delivery-test-backend';
export const LOG_GROUP = '/ecs/delivery-test';

/** The rendered backend task definition of examples/delivery-app: backend + a non-essential otel-collector sidecar. */
export function backendTaskDef(overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  const logs = (prefix: string) => ({
    logDriver: 'awslogs' as const,
    options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': prefix },
  });
  return {
    family: FAMILY,
    taskDefinitionArn: `arn:aws:ecs:eu-west-1:123456789012:task-definition/${FAMILY}:7`,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    executionRoleArn: 'arn:aws:iam::123456789012:role/delivery-test-ecs-execution',
    taskRoleArn: 'arn:aws:iam::123456789012:role/delivery-test-backend-task',
    containerDefinitions: [
      {
        name: 'backend',
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123',
        essential: true,
        logConfiguration: logs('backend'),
      },
      {
        name: 'otel-collector',
        image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1',
        essential: false,
        logConfiguration: logs('otel'),
      },
    ],
    ...overrides,
  };
}

export function backendService(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: 'backend',
    serviceArn: `arn:aws:ecs:eu-west-1:123456789012:service/${CLUSTER}/backend`,
    status: 'ACTIVE',
    taskDefinition: backendTaskDef().taskDefinitionArn,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: 'DISABLED' },
    },
    ...overrides,
  };
}

export const identity: RunIdentity = {
  repository: 'acme/delivery-app',
  runId: '1234567890',
  runAttempt: '1',
  job: 'deploy',
  step: 'migrate',
};

export function inputsFrom(values: Record<string, string>): MigrateInputs {
  return getInputs((name) => values[name] ?? '');
}
