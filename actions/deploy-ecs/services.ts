/**
 * Reading and updating ECS services: the state before our update (to know
 * where to roll back to), the update itself (bounded parallelism) and the
 * deployment it created.
 */
import {
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import { ActionError, aggregate } from '../../lib/errors.js';
import { pauseStages } from './gate-stage.js';
import { batches, usesServiceDeployments, type Tracked } from './judge.js';

/** DescribeServices in batches of 10 (the API limit), batches in parallel. */
export async function describeServices(
  ecs: ECSClient,
  cluster: string,
  names: string[],
): Promise<{ found: Map<string, Service>; missing: string[] }> {
  const found = new Map<string, Service>();
  const missing: string[] = [];
  await Promise.all(
    batches(names).map(async (batch) => {
      const out = await ecs.send(new DescribeServicesCommand({ cluster, services: batch }));
      for (const s of out.services ?? []) if (s.serviceName) found.set(s.serviceName, s);
      for (const f of out.failures ?? []) {
        const name = f.arn?.split('/').pop();
        if (name) missing.push(name);
      }
    }),
  );
  return { found, missing };
}

/**
 * The services as they are before we touch them. Missing or inactive services
 * fail here, before any write call, naming the input.
 */
export async function servicesBefore(ecs: ECSClient, cluster: string, names: string[]): Promise<Map<string, Service>> {
  let result: Awaited<ReturnType<typeof describeServices>>;
  try {
    result = await describeServices(ecs, cluster, names);
  } catch (err) {
    if ((err as { name?: string }).name === 'ClusterNotFoundException') {
      throw new ActionError(`Cluster '${cluster}' was not found.`, {
        input: 'cluster',
        fix: 'Check the cluster name and the region (aws-region).',
      });
    }
    throw err;
  }
  const problems: ActionError[] = [];
  for (const name of names) {
    const svc = result.found.get(name);
    if (!svc || result.missing.includes(name)) {
      problems.push(
        new ActionError(`Service '${name}' was not found in cluster '${cluster}'.`, {
          input: 'services',
          fix: 'Create the service first, or fix its name.',
        }),
      );
    } else if (svc.status !== 'ACTIVE') {
      problems.push(new ActionError(`Service '${name}' is ${svc.status}.`, { input: 'services', fix: 'Deploy only to ACTIVE services.' }));
    } else if (svc.deploymentController?.type && svc.deploymentController.type !== 'ECS') {
      problems.push(
        new ActionError(`Service '${name}' uses the ${svc.deploymentController.type} deployment controller.`, {
          input: 'services',
          fix:
            svc.deploymentController.type === 'CODE_DEPLOY'
              ? 'Set codedeploy-application and codedeploy-deployment-group (and optionally codedeploy-appspec) to deploy it through CodeDeploy.'
              : 'This action deploys services with the ECS controller (rolling or ECS-native blue/green) or CODE_DEPLOY (with the codedeploy-* inputs).',
        }),
      );
    }
  }
  if (problems.length) throw aggregate('Services cannot be deployed', problems);
  return result.found;
}

export interface UpdateRequest {
  service: string;
  taskDefinition: string;
  forceNewDeployment: boolean;
  desiredCount?: number;
}

/** UpdateService and the deployment it created (our judge follows that id, not "whatever is PRIMARY"). */
export async function updateService(ecs: ECSClient, cluster: string, req: UpdateRequest, now: () => number): Promise<Tracked> {
  const startedAt = now();
  const out = await ecs.send(
    new UpdateServiceCommand({
      cluster,
      service: req.service,
      taskDefinition: req.taskDefinition,
      forceNewDeployment: req.forceNewDeployment || undefined,
      desiredCount: req.desiredCount,
    }),
  );
  const svc = out.service;
  const primary = svc?.deployments?.find((d) => d.status === 'PRIMARY' && d.taskDefinition === req.taskDefinition);
  let serviceDeploymentArn = svc?.currentServiceDeployment;
  // A rolling service with a PAUSE hook is followed through its service deployment too: its pauses show only there.
  if (svc && (usesServiceDeployments(svc) || pauseStages(svc).length) && !serviceDeploymentArn) {
    serviceDeploymentArn = await latestServiceDeployment(ecs, cluster, req.service, startedAt);
  }
  return { service: req.service, deploymentId: primary?.id, serviceDeploymentArn, targetArn: req.taskDefinition, startedAt };
}

async function latestServiceDeployment(ecs: ECSClient, cluster: string, service: string, since: number): Promise<string | undefined> {
  try {
    const out = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service, createdAt: { after: new Date(since - 60_000) } }));
    return out.serviceDeployments?.[0]?.serviceDeploymentArn;
  } catch {
    // Without the service-deployments API we judge by the deployment id alone.
    return undefined;
  }
}
