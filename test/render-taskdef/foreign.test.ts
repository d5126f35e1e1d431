/**
 * Another environment's identifiers: a template taken from `aws ecs describe-task-definition` for
 * prod, rendered for dev, keeps prod's family, roles, log group, secret ARN and ENVIRONMENT=prod.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/run-bundle.js';

/** What `aws ecs describe-task-definition --task-definition shop-prod-api` prints (trimmed to one container). */
const DESCRIBED_PROD = `{
  "taskDefinition": {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-prod-api:42",
    "family": "shop-prod-api",
    "taskRoleArn": "arn:aws:iam::123456789012:role/shop-prod-api-task",
    "executionRoleArn": "arn:aws:iam::123456789012:role/shop-prod-ecs-execution",
    "networkMode": "awsvpc",
    "revision": 42,
    "status": "ACTIVE",
    "requiresCompatibilities": ["FARGATE"],
    "compatibilities": ["EC2", "FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "containerDefinitions": [
      {
        "name": "api",
        "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:prod-2026-11-30",
        "cpu": 0,
        "essential": true,
        "portMappings": [{ "containerPort": 8000, "hostPort": 8000, "protocol": "tcp" }],
        "environment": [
          { "name": "ENVIRONMENT", "value": "prod" },
          { "name": "CATALOG", "value": "product-catalog" },
          { "name": "NODE_ENV", "value": "production" },
          { "name": "API_URL", "value": "https://api.staging.shop.example.com" }
        ],
        "secrets": [
          { "name": "DATABASE_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/prod/db-password-AbCdEf" },
          { "name": "SENTRY_DSN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared/prod/sentry-XyZ123" }
        ],
        "logConfiguration": {
          "logDriver": "awslogs",
          "options": { "awslogs-group": "/ecs/shop-prod-api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "api" }
        },
        "mountPoints": [],
        "volumesFrom": []
      }
    ],
    "registeredAt": "2026-11-30T10:00:00.000Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/deploy/gha"
  },
  "tags": []
}
`;
const lineOf = (needle: string) => DESCRIBED_PROD.split('\n').findIndex((l) => l.includes(needle)) + 1;

function workspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'render-foreign-'));
  mkdirSync(join(ws, 'infra'));
  writeFileSync(join(ws, 'infra/api.json'), DESCRIBED_PROD);
  // A team with dev and prod only: staging comes from known-environments.
  writeFileSync(
    join(ws, 'infra/api-config.json'),
    JSON.stringify({ featureKey: 'api', defaults: {}, environments: { dev: {}, prod: {} } }, null, 2),
  );
  return ws;
}

const inputs = {
  template: 'infra/api.json',
  'feature-config': 'infra/api-config.json',
  environment: 'dev',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:abc123',
};

describe("render-taskdef refuses another environment's identifiers (bundle)", () => {
  it('a prod describe-task-definition rendered for dev: family, roles, log group, secret ARNs and values, each on its line', async () => {
    const run = await runBundle('render-taskdef', { workspace: workspace(), inputs, env: { AWS_REGION: 'eu-west-1' } });
    expect(run.code).toBe(1);
    const at = (needle: string) => run.errors.filter((e) => e.includes(`file=infra/api.json,line=${lineOf(needle)}::`));
    expect(at('"family"')[0]).toMatch(/family is 'shop-prod-api', which names environment 'prod', in a 'dev' render/);
    expect(at('"taskRoleArn"')[0]).toMatch(/taskRoleArn .*names environment 'prod'/);
    expect(at('"executionRoleArn"')[0]).toMatch(/executionRoleArn .*names environment 'prod'/);
    expect(at('"value": "prod"')[0]).toMatch(/container 'api': ENVIRONMENT is 'prod', which names environment 'prod'/);
    expect(at('API_URL')[0]).toMatch(/API_URL is 'https:\/\/api\.staging\.shop\.example\.com', which names environment 'staging'/);
    expect(at('db-password')[0]).toMatch(
      /secret DATABASE_PASSWORD is .*, a 'prod' resource, in a 'dev' render\..*"environments": \{ "dev": \{ "ssm"/,
    );
    expect(at('sentry')[0]).toMatch(/secret SENTRY_DSN/);
    expect(at('awslogs-group')[0]).toMatch(/logConfiguration\.options\.awslogs-group is '\/ecs\/shop-prod-api'/);
    // product-catalog is not 'prod'; the image is promoted between environments and not checked.
    expect(at('product-catalog')).toEqual([]);
    expect(at('"image"')).toEqual([]);
    expect(at('NODE_ENV')).toEqual([]); // a framework's build mode, not an environment
    expect(run.errors.filter((e) => e.includes('file=infra/api.json'))).toHaveLength(8);
  });

  it('allow-foreign accepts a shared resource; the same template rendered for prod has nothing foreign but staging', async () => {
    const ws = workspace();
    const dev = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...inputs, 'allow-foreign': 'arn:aws:secretsmanager:*:secret:shared/prod/sentry-*' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(dev.errors.some((e) => e.includes('SENTRY_DSN'))).toBe(false);
    expect(dev.errors.some((e) => e.includes('DATABASE_PASSWORD'))).toBe(true);
    const prod = await runBundle('render-taskdef', {
      workspace: ws,
      inputs: { ...inputs, environment: 'prod', 'known-environments': 'dev, staging, production' },
      env: { AWS_REGION: 'eu-west-1' },
    });
    // 'production' is prod's own alias; staging is still another environment.
    expect(prod.errors.filter((e) => e.includes('file=infra/api.json'))).toHaveLength(1);
    expect(prod.errors.join('\n')).toMatch(/API_URL .*names environment 'staging'/);
  });
});
