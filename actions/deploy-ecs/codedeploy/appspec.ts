/**
 * The AppSpec of an ECS deployment (pure): the user's file with the new task definition ARN put in,
 * or one generated from the service's load balancer (AppSpec "Resources" section for ECS:
 * docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html).
 * AppSpec files may be YAML or JSON; CodeDeploy accepts either as content, we send JSON.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Service } from '@aws-sdk/client-ecs';
import { parse as parseYaml } from 'yaml';
import { ActionError } from '../../../lib/errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

export interface AppSpecTemplate {
  spec: Json;
  source: string;
}

export function readAppSpec(path: string): AppSpecTemplate {
  let spec: unknown;
  try {
    spec = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ActionError(`AppSpec file '${path}' is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, {
      input: 'codedeploy-appspec',
      file: path,
      line,
      fix: 'Fix the syntax (see the AppSpec reference for ECS).',
    });
  }
  const props = (spec as Json | null)?.Resources?.[0]?.TargetService?.Properties;
  if (!props || typeof props !== 'object') {
    throw new ActionError(`AppSpec file '${path}' has no Resources[0].TargetService.Properties.`, {
      input: 'codedeploy-appspec',
      file: path,
      field: 'Resources',
      fix:
        'Write Resources: - TargetService: { Type: AWS::ECS::Service, Properties: { TaskDefinition: <any>, LoadBalancerInfo: { ' +
        'ContainerName, ContainerPort } } }.',
    });
  }
  return { spec: spec as Json, source: path };
}

/** Generated from the service: its (first) load balancer's container name and port. */
export function generatedAppSpec(service: Service): AppSpecTemplate {
  const lb = service.loadBalancers?.find((l) => l.containerName && l.containerPort);
  if (!lb) {
    throw new ActionError(
      `Service '${service.serviceName}' has no load balancer with a container name and port to generate the AppSpec from.`,
      { input: 'codedeploy-appspec', fix: 'Give codedeploy-appspec: an AppSpec file naming the container and port.' },
    );
  }
  return {
    spec: {
      version: 0.0,
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: { TaskDefinition: '', LoadBalancerInfo: { ContainerName: lb.containerName, ContainerPort: lb.containerPort } },
          },
        },
      ],
    },
    source: `generated from the service's load balancer (${lb.containerName}:${lb.containerPort})`,
  };
}

/** The content CreateDeployment gets: the template with this task definition ARN, and its SHA-256. */
export function appSpecContent(t: AppSpecTemplate, taskDefinitionArn: string): { content: string; sha256: string } {
  const spec = structuredClone(t.spec);
  spec.Resources[0].TargetService.Properties.TaskDefinition = taskDefinitionArn;
  const content = JSON.stringify(spec);
  return { content, sha256: createHash('sha256').update(content).digest('hex') };
}
