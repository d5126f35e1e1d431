/**
 * What a run would do, decided before any write: which services to update and why (a service is
 * "unchanged" only when it is steady on the target revision), and for `dry-run: true` the plan and
 * the diff of the task definition against what each service runs now (like ecspresso's `diff` /
 * `deploy --dry-run`).
 */
import { DescribeTaskDefinitionCommand, type ECSClient, type Service, type TaskDefinition } from '@aws-sdk/client-ecs';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';
import { taskDefinitionsEqual, type TaskDefinitionInput } from '../../lib/taskdef.js';
import type { Inputs } from './inputs.js';
import { revisionOf, steadyOn } from './judge.js';

export interface ServicePlan {
  service: string;
  update: boolean;
  /** forceNewDeployment: the service is on the revision but not steady on it. */
  force: boolean;
  why: string;
}

/** One deployment, of `arn`, COMPLETED (or without rollout state): only the task count is moving. */
function scalingOnly(s: Service, arn: string): boolean {
  const deployments = s.deployments ?? [];
  const only = deployments[0];
  return deployments.length === 1 && only?.taskDefinition === arn && (only.rolloutState ?? 'COMPLETED') === 'COMPLETED';
}

export function planServices(inputs: Inputs, before: Map<string, Service>, arn: string): ServicePlan[] {
  return inputs.services.map((service) => {
    const s = before.get(service)!;
    const scale = inputs.desiredCount !== undefined && inputs.desiredCount !== s.desiredCount;
    if (s.taskDefinition !== arn)
      return { service, update: true, force: inputs.forceNewDeployment, why: `runs ${revisionOf(s.taskDefinition)}` };
    if (inputs.forceNewDeployment) return { service, update: true, force: true, why: 'force-new-deployment' };
    const steady = steadyOn(s, arn);
    // A scale-out in progress (Application Auto Scaling, or a person) keeps the one deployment COMPLETED
    // while new tasks start: the service is on the revision, and a forced deployment would only replace
    // healthy tasks. Not steady for any other reason (FAILED, unfinished, other deployments): force.
    if (!steady.steady && !scale && scalingOnly(s, arn)) {
      return {
        service,
        update: false,
        force: false,
        why: `on ${revisionOf(arn)}, its one deployment COMPLETED and scaling (${s.runningCount ?? 0}/${s.desiredCount ?? 0} running); no new deployment`,
      };
    }
    if (!steady.steady)
      return { service, update: true, force: true, why: `on ${revisionOf(arn)} but not steady: ${steady.why}; starting a new deployment` };
    if (scale) return { service, update: true, force: false, why: `desired count ${s.desiredCount} → ${inputs.desiredCount}` };
    return {
      service,
      update: false,
      force: false,
      why: `steady on ${revisionOf(arn)} (deployment COMPLETED, ${s.runningCount}/${s.desiredCount} running)`,
    };
  });
}

export interface DryRun {
  /** What registering would do: an existing matching revision, or a new one. */
  register: string;
  lines: string[];
  diffs: { service: string; against: string; diff: string[] }[];
}

/** The dry-run plan: read-only calls only (DescribeTaskDefinition). */
export async function dryRunPlan(
  ecs: ECSClient,
  inputs: Inputs,
  def: TaskDefinitionInput | undefined,
  existing: TaskDefinition | undefined,
  before: Map<string, Service>,
): Promise<DryRun> {
  let target: TaskDefinitionInput | TaskDefinition = (def ?? existing)!;
  let arn = existing?.taskDefinitionArn;
  let register: string;
  if (existing && (!def || taskDefinitionsEqual(existing, def))) {
    register = `use ${existing.taskDefinitionArn} as it is`;
  } else {
    const got = await ecs
      .send(new DescribeTaskDefinitionCommand({ taskDefinition: def!.family!, include: ['TAGS'] }))
      .catch(() => undefined);
    const latest = got?.taskDefinition;
    if (latest?.taskDefinitionArn && taskDefinitionsEqual(latest, def!, got?.tags ?? [], def!.tags ?? [])) {
      register = `no new revision: ${latest.taskDefinitionArn} already matches`;
      arn = latest.taskDefinitionArn;
      target = latest;
    } else {
      register = `would register a new revision of ${def!.family}${latest ? ` (latest is ${revisionOf(latest.taskDefinitionArn)})` : ' (first revision)'}`;
      arn = undefined;
    }
  }
  if (inputs.imagePublish !== 'none')
    register +=
      `; would ${inputs.imagePublish} ${inputs.imagePublish === 'push' ? inputs.image : inputs.sourceImage} with tags ` +
      `${[...(inputs.imagePublish === 'push' && inputs.commitSha ? [inputs.commitSha] : []), ...inputs.tags].join(', ')} first`;
  const plans = planServices(inputs, before, arn ?? '(new revision)');
  const lines = [
    register,
    ...plans.map(
      (p) =>
        `${p.service}: ${p.update ? `would ${p.force && !p.why.startsWith('runs') ? 'force a new deployment' : 'update'} (${p.why})` : `unchanged, ${p.why}`}`,
    ),
  ];
  const cache = new Map<string, TaskDefinition | undefined>();
  const diffs: DryRun['diffs'] = [];
  for (const service of inputs.services) {
    const now = before.get(service)!.taskDefinition ?? '';
    if (!cache.has(now))
      cache.set(
        now,
        await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: now })).then(
          (o) => o.taskDefinition,
          () => undefined,
        ),
      );
    const diff = now === arn ? ['no change: the service already runs this revision'] : diffTaskDefinitions(cache.get(now), target);
    diffs.push({ service, against: now, diff: diff.length ? diff : ['no difference'] });
  }
  return { register, lines, diffs };
}
