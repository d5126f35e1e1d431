/**
 * Finding the scheduled tasks to move, read-only and before any write: each listed schedule or
 * rule must exist and run this task-definition family on this cluster (else the run fails naming
 * the line), and `auto` lists every schedule and rule of the region whose ECS target does.
 */
import {
  ListEventBusesCommand,
  ListRuleNamesByTargetCommand,
  type EventBridgeClient,
  type ListEventBusesCommandOutput,
  type ListRuleNamesByTargetCommandOutput,
  ListTargetsByRuleCommand,
  type Target as RuleTarget,
} from '@aws-sdk/client-eventbridge';
import { GetScheduleCommand, ListSchedulesCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { ActionError, aggregate, describeUnknown } from '../../../lib/errors.js';
import { familyOf } from '../family-guard.js';
import { INPUT, refLabel, type ScheduledTaskRef } from './refs.js';

export interface ScheduledTarget {
  kind: 'schedule' | 'rule';
  /** `schedule:<group>/<name>` or `rule:<bus>/<name>` (+ `#<target id>` when a rule has several ECS targets of the family). */
  label: string;
  /** Schedule group, or event bus. */
  owner: string;
  name: string;
  /** The rule target's Id (rules only). */
  targetId?: string;
  /** The task definition the target runs now. */
  taskDefinitionArn: string;
}

export interface FindDeps {
  scheduler: SchedulerClient;
  events: EventBridgeClient;
}

/** Where the services run and what they run: the target must match both. */
export interface Workload {
  clusterArn: string;
  family: string;
}

const notFound = (err: unknown) => (err as { name?: string }).name === 'ResourceNotFoundException';

/** Why an ECS target does not belong to this workload, or undefined when it does. */
function mismatch(clusterArn: string | undefined, taskDefinitionArn: string | undefined, w: Workload): string | undefined {
  if (clusterArn !== w.clusterArn) return `its ECS target runs on ${clusterArn ?? 'no cluster'}, not ${w.clusterArn}`;
  const family = familyOf(taskDefinitionArn);
  // A target naming the family without a revision runs the latest ACTIVE one: ECS moves it by itself.
  if (!family)
    return `its task definition ${taskDefinitionArn ?? '(none)'} names no revision (it follows the latest ACTIVE revision by itself)`;
  if (family !== w.family) return `it runs task-definition family '${family}', not '${w.family}'`;
  return undefined;
}

async function findSchedule(deps: FindDeps, group: string, name: string, w: Workload): Promise<ScheduledTarget> {
  const label = `schedule:${group}/${name}`;
  const got = await deps.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: group })).catch((err: unknown) => {
    if (notFound(err))
      throw new ActionError(`${label} was not found.`, {
        input: INPUT,
        fix: 'Check the group and name (aws scheduler list-schedules), and the region.',
      });
    throw new ActionError(`${label} cannot be read: ${describeUnknown(err)}.`, {
      input: INPUT,
      fix: 'Allow scheduler:GetSchedule (see the README IAM policy).',
    });
  });
  const ecs = got.Target?.EcsParameters;
  if (!ecs)
    throw new ActionError(`${label} does not start an ECS task (its target is ${got.Target?.Arn ?? 'missing'}).`, {
      input: INPUT,
      fix: 'List only schedules whose target is an ECS task of these services.',
    });
  const why = mismatch(got.Target?.Arn, ecs.TaskDefinitionArn, w);
  if (why)
    throw new ActionError(`${label}: ${why}.`, {
      input: INPUT,
      fix: 'Remove it from scheduled-tasks, or deploy it with the family and cluster it runs.',
    });
  return { kind: 'schedule', label, owner: group, name, taskDefinitionArn: ecs.TaskDefinitionArn! };
}

async function ruleTargets(deps: FindDeps, bus: string, name: string): Promise<RuleTarget[]> {
  const out: RuleTarget[] = [];
  let NextToken: string | undefined;
  do {
    const page = await deps.events.send(new ListTargetsByRuleCommand({ Rule: name, EventBusName: bus, NextToken }));
    out.push(...(page.Targets ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

function ruleMatches(bus: string, name: string, targets: RuleTarget[], w: Workload): { found: ScheduledTarget[]; why: string[] } {
  const ecsTargets = targets.filter((t) => t.EcsParameters);
  const why: string[] = [];
  const found: ScheduledTarget[] = [];
  for (const t of ecsTargets) {
    const m = mismatch(t.Arn, t.EcsParameters!.TaskDefinitionArn, w);
    if (m) why.push(`target ${t.Id}: ${m}`);
    else
      found.push({
        kind: 'rule',
        label: `rule:${bus}/${name}`,
        owner: bus,
        name,
        targetId: t.Id!,
        taskDefinitionArn: t.EcsParameters!.TaskDefinitionArn!,
      });
  }
  if (found.length > 1) for (const f of found) f.label += `#${f.targetId}`;
  if (!ecsTargets.length) why.push('it has no ECS target');
  return { found, why };
}

async function findRule(deps: FindDeps, bus: string, name: string, w: Workload): Promise<ScheduledTarget[]> {
  const label = `rule:${bus}/${name}`;
  const targets = await ruleTargets(deps, bus, name).catch((err: unknown) => {
    if (notFound(err))
      throw new ActionError(`${label} was not found.`, {
        input: INPUT,
        fix: 'Check the event bus and rule name (aws events list-rules --event-bus-name <bus>), and the region.',
      });
    throw new ActionError(`${label} cannot be read: ${describeUnknown(err)}.`, {
      input: INPUT,
      fix: 'Allow events:ListTargetsByRule (see the README IAM policy).',
    });
  });
  const { found, why } = ruleMatches(bus, name, targets, w);
  if (!found.length)
    throw new ActionError(`${label} runs no ECS task of this workload: ${why.join('; ')}.`, {
      input: INPUT,
      fix: 'Remove it from scheduled-tasks, or deploy it with the family and cluster it runs.',
    });
  return found;
}

/** `auto`: every schedule (all groups) and every rule (all buses) whose ECS target runs the family on the cluster. */
async function findAll(deps: FindDeps, w: Workload): Promise<ScheduledTarget[]> {
  const out: ScheduledTarget[] = [];
  let token: string | undefined;
  do {
    const page = await deps.scheduler.send(new ListSchedulesCommand({ NextToken: token }));
    // The summary names only the target ARN (the cluster): read the full schedule of those on ours.
    for (const s of page.Schedules ?? []) {
      if (s.Target?.Arn !== w.clusterArn) continue;
      const got = await deps.scheduler.send(new GetScheduleCommand({ Name: s.Name, GroupName: s.GroupName }));
      const ecs = got.Target?.EcsParameters;
      if (ecs && !mismatch(got.Target?.Arn, ecs.TaskDefinitionArn, w))
        out.push({
          kind: 'schedule',
          label: `schedule:${s.GroupName}/${s.Name}`,
          owner: s.GroupName!,
          name: s.Name!,
          taskDefinitionArn: ecs.TaskDefinitionArn!,
        });
    }
    token = page.NextToken;
  } while (token);
  const buses: string[] = [];
  let busToken: string | undefined;
  do {
    const page: ListEventBusesCommandOutput = await deps.events.send(new ListEventBusesCommand({ NextToken: busToken }));
    buses.push(...(page.EventBuses ?? []).map((b) => b.Name ?? '').filter(Boolean));
    busToken = page.NextToken;
  } while (busToken);
  for (const bus of buses) {
    let ruleToken: string | undefined;
    do {
      const page: ListRuleNamesByTargetCommandOutput = await deps.events.send(
        new ListRuleNamesByTargetCommand({ TargetArn: w.clusterArn, EventBusName: bus, NextToken: ruleToken }),
      );
      for (const rule of page.RuleNames ?? []) out.push(...ruleMatches(bus, rule, await ruleTargets(deps, bus, rule), w).found);
      ruleToken = page.NextToken;
    } while (ruleToken);
  }
  return out;
}

/** The targets the refs name, each once; problems with every listed one are reported together. */
export async function findScheduledTasks(deps: FindDeps, refs: ScheduledTaskRef[], w: Workload): Promise<ScheduledTarget[]> {
  const found: ScheduledTarget[] = [];
  const problems: ActionError[] = [];
  for (const ref of refs) {
    try {
      if (ref.kind === 'schedule') found.push(await findSchedule(deps, ref.group, ref.name, w));
      else if (ref.kind === 'rule') found.push(...(await findRule(deps, ref.bus, ref.name, w)));
      else found.push(...(await findAll(deps, w)));
    } catch (err) {
      if (!(err instanceof ActionError))
        throw new ActionError(`${refLabel(ref)}: ${describeUnknown(err)}`, {
          input: INPUT,
          fix:
            'Check the IAM policy in the README (scheduler:ListSchedules, scheduler:GetSchedule, events:ListEventBuses, ' +
            'events:ListRuleNamesByTarget, events:ListTargetsByRule).',
        });
      problems.push(err);
    }
  }
  if (problems.length) throw aggregate('scheduled-tasks cannot be moved', problems);
  const seen = new Set<string>();
  return found.filter((t) => !seen.has(`${t.label}#${t.targetId ?? ''}`) && !!seen.add(`${t.label}#${t.targetId ?? ''}`));
}
