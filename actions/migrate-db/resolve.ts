import { existsSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ActionError } from '../../lib/errors.js';
import { readTaskDefinitionFile, type TaskDefinitionInput } from '../../lib/taskdef.js';
import type { MigrateInputs } from './inputs.js';

/**
 * Read-only AWS lookups (DescribeServices, DescribeTaskDefinition) and the
 * task-definition file, everything planning needs. No write call here: a file
 * is registered only after planning accepted it (see main.ts).
 */

type TaskDefinitionSource = { kind: 'file'; path: string; input: TaskDefinitionInput } | { kind: 'reference'; arn: string };

export interface Resolved {
  service?: Service;
  taskDefinition: TaskDefinition;
  source: TaskDefinitionSource;
}

const REFERENCE = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]+(:\d+)?|[A-Za-z0-9_-]{1,255}(:\d+)?)$/;

/** A path to an existing file (relative to the workspace) or anything ending in .json is a file; otherwise a reference. */
export function classifyTaskDefinition(
  value: string,
  workspace: string,
): { kind: 'file'; path: string } | { kind: 'reference'; ref: string } {
  const path = isAbsolute(value) ? value : resolvePath(workspace, value);
  if (existsSync(path) || /\.json$/i.test(value) || (value.includes('/') && !value.startsWith('arn:'))) return { kind: 'file', path };
  if (REFERENCE.test(value)) return { kind: 'reference', ref: value };
  throw new ActionError(`Input 'task-definition' is '${value}': neither an existing file nor a task definition ARN or family[:revision].`, {
    input: 'task-definition',
    fix: 'Pass the path of a rendered task-definition JSON file, or an ARN such as arn:aws:ecs:eu-west-1:123456789012:task-definition/app:42.',
  });
}

async function describeService(ecs: ECSClient, cluster: string, name: string): Promise<Service> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
  const service = out.services?.find((s) => s.serviceName === name || s.serviceArn === name);
  if (!service || service.status === 'INACTIVE') {
    const reason = out.failures?.[0]?.reason ?? service?.status ?? 'MISSING';
    throw new ActionError(`Service '${name}' was not found in cluster '${cluster}' (${reason}).`, {
      input: 'service',
      fix: 'Check the service and cluster names, or omit service: and pass task-definition: and subnets: instead.',
    });
  }
  return service;
}

async function describeTaskDefinition(ecs: ECSClient, ref: string, input: string): Promise<TaskDefinition> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref }));
    if (!out.taskDefinition) throw new Error('empty response');
    return out.taskDefinition;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'ClientException' || name === 'InvalidParameterException') {
      throw new ActionError(`Task definition '${ref}' cannot be described: ${(err as Error).message}`, {
        input,
        fix: 'Check the ARN or family:revision, and that it is ACTIVE in this region.',
      });
    }
    throw err;
  }
}

export async function resolveTargets(ecs: ECSClient, inputs: MigrateInputs, workspace: string): Promise<Resolved> {
  // Classify (and read) a file first: a bad path fails before any AWS call at all.
  const given = inputs.taskDefinition === undefined ? undefined : classifyTaskDefinition(inputs.taskDefinition, workspace);
  const file = given?.kind === 'file' ? readTaskDefinitionFile(given.path, { input: 'task-definition' }) : undefined;
  if (!given && !inputs.service) {
    throw new ActionError('Neither service nor task-definition is set: there is nothing to run.', {
      input: 'task-definition',
      fix: 'Set service: (its current task definition and network configuration are used) or task-definition: (with subnets:).',
    });
  }
  const service = inputs.service ? await describeService(ecs, inputs.cluster, inputs.service) : undefined;
  if (given?.kind === 'file') {
    return { service, taskDefinition: file as TaskDefinition, source: { kind: 'file', path: given.path, input: file! } };
  }
  const ref = given?.kind === 'reference' ? given.ref : service!.taskDefinition!;
  const taskDefinition = await describeTaskDefinition(ecs, ref, given ? 'task-definition' : 'service');
  return { service, taskDefinition, source: { kind: 'reference', arn: taskDefinition.taskDefinitionArn ?? ref } };
}
