/**
 * Seeds an emulator with the AWS resources examples/delivery-app names
 * (its README's table): clusters, services running a first revision, ECR
 * images, log groups, SSM parameters and secrets (read from the feature
 * configs, so ARNs with their suffixes match), a site bucket and distribution.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Emulator } from '../../test/emulator/index.js';

export const ENVIRONMENTS = ['test', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The commit the demo "builds" (the GITHUB_SHA runBundle gives every bundle). */
export const DEMO_SHA = '0123456789abcdef0123456789abcdef01234567';
/** The image tag running before the demo's deploy. */
export const PREVIOUS_TAG = 'v41';

export interface DemoNames {
  account: string;
  region: string;
  environments: readonly Environment[];
  /** Feature keys found in infra/env/features (e.g. core, menu-rewrite). */
  features: string[];
  /** Template names found in infra/taskdef (e.g. backend, admin-frontend); also the ECS service names. */
  templates: string[];
  cluster: Record<Environment, string>;
  /** Task-definition family of a template in an environment: delivery-<env>-<template>. */
  family(env: Environment, template: string): string;
  /** ECR repository of a template: delivery/<template>. */
  repository(template: string): string;
  /** Image URI of a template at a tag (default: DEMO_SHA). */
  image(template: string, tag?: string): string;
  logGroup: Record<Environment, string>;
  bucket: Record<Environment, string>;
  distribution: Record<Environment, string>;
  /** Subnets and security group the services and one-off tasks use. */
  networkConfiguration: { awsvpcConfiguration: { subnets: string[]; securityGroups: string[]; assignPublicIp: 'DISABLED' } };
}

interface FeatureConfig {
  defaults?: { byContainer?: Record<string, { secrets?: Record<string, string> }> };
  environments?: Record<string, { byContainer?: Record<string, { secrets?: Record<string, string> }> }>;
}

/** Every secret reference of a feature config in one environment (SSM names/ARNs and Secrets Manager ARNs). */
function secretRefs(config: FeatureConfig, env: string): string[] {
  const blocks = [config.defaults?.byContainer, config.environments?.[env]?.byContainer];
  return blocks
    .flatMap((b) => Object.values(b ?? {}).flatMap((c) => Object.values(c.secrets ?? {})))
    .map((ref) => ref.replaceAll('${DEPLOY_ENV}', env));
}

/** A first revision of a template, rendered crudely (the demo's render step does it properly). */
function firstRevision(templatePath: string, values: Record<string, string>): Record<string, unknown> {
  const text = readFileSync(templatePath, 'utf8').replace(/\$\{([A-Z0-9_]+)\}/g, (_m, name: string) => values[name] ?? '');
  return JSON.parse(text) as Record<string, unknown>;
}

export async function seed(emu: Emulator, exampleRoot: string): Promise<DemoNames> {
  const { account, region } = emu;
  const taskdefDir = join(exampleRoot, 'infra', 'taskdef');
  const featuresDir = join(exampleRoot, 'infra', 'env', 'features');
  const templates = readdirSync(taskdefDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
  const features = readdirSync(featuresDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
  const names: DemoNames = {
    account,
    region,
    environments: ENVIRONMENTS,
    features,
    templates,
    cluster: { test: 'delivery-test', prod: 'delivery-prod' },
    family: (env, template) => `delivery-${env}-${template}`,
    repository: (template) => `delivery/${template}`,
    image: (template, tag = DEMO_SHA) => `${account}.dkr.ecr.${region}.amazonaws.com/delivery/${template}:${tag}`,
    logGroup: { test: '/ecs/delivery-test', prod: '/ecs/delivery-prod' },
    bucket: { test: 'delivery-site-test', prod: 'delivery-site-prod' },
    distribution: { test: 'E2DELIVERYTEST', prod: 'E2DELIVERYPROD' },
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d4e5f60718'], securityGroups: ['sg-0a1b2c3d4e5f60718'], assignPublicIp: 'DISABLED' },
    },
  };

  for (const template of templates) {
    emu.ecr.putImage(names.repository(template), PREVIOUS_TAG);
    emu.ecr.putImage(names.repository(template), DEMO_SHA);
  }

  const seeded = new Set<string>();
  for (const env of ENVIRONMENTS) {
    emu.ecs.createCluster(names.cluster[env]);
    emu.logs.createLogGroup(names.logGroup[env]);
    for (const template of templates) {
      const def = firstRevision(join(taskdefDir, `${template}.json`), {
        TASKDEF_FAMILY: names.family(env, template),
        IMAGE_URI: names.image(template, PREVIOUS_TAG),
        LOG_GROUP: names.logGroup[env],
        AWS_REGION: region,
        EXEC_ROLE_ARN: `arn:aws:iam::${account}:role/delivery-${env}-ecs-execution`,
        TASK_ROLE_ARN: `arn:aws:iam::${account}:role/delivery-${env}-${template}-task`,
      });
      emu.ecs.registerTaskDefinition(def);
      emu.ecs.createService({
        cluster: names.cluster[env],
        serviceName: template,
        taskDefinition: names.family(env, template),
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: names.networkConfiguration,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      });
    }
    for (const feature of features) {
      const config = JSON.parse(readFileSync(join(featuresDir, `${feature}.json`), 'utf8')) as FeatureConfig;
      for (const ref of secretRefs(config, env)) {
        if (seeded.has(ref)) continue;
        seeded.add(ref);
        const secret = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)-([A-Za-z0-9]{6})(?::.*)?$/.exec(ref);
        if (secret) {
          emu.secrets.createSecret(secret[1]!, JSON.stringify({ api_key: 'sk_test_demo', token: 'demo-token' }), { suffix: secret[2]! });
          continue;
        }
        const param = ref.startsWith('arn:') ? ref.replace(/^arn:[^:]+:ssm:[^:]*:\d*:parameter/, '') : ref;
        emu.ssm.putParameter(param, `demo-value-of-${param}`, 'SecureString');
      }
    }
    await emu.s3.createBucket(names.bucket[env]);
    emu.cloudfront.createDistribution({ id: names.distribution[env], invalidationSeconds: 2 });
  }
  return names;
}
