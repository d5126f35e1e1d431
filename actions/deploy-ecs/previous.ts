/**
 * `task-definition: previous` — the revision a service ran before its
 * current one, found from ECS, so a rollback needs no revision number.
 *
 * ECS keeps a history of service deployments (ListServiceDeployments, each with the
 * `targetServiceRevisionArn` it rolled to) and the task definition of each service
 * revision (DescribeServiceRevisions, at most 20 ARNs a call):
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
 * Only SUCCESSFUL deployments count: a failed or rolled-back revision never served,
 * so it is never "previous"; nor is a release that was rolled away from (see findPrevious). Revisions created before 2024-10-25 cannot be
 * described (AWS): such a service gets an error with the fix, never a guess.
 * The order of ListServiceDeployments is not documented, so rows are sorted by createdAt.
 */
import {
  DescribeServiceRevisionsCommand,
  ListServiceDeploymentsCommand,
  type ECSClient,
  type Service,
  type ServiceDeploymentBrief,
} from '@aws-sdk/client-ecs';
import { ActionError, aggregate } from '../../lib/errors.js';
import { revisionOf } from './judge.js';
import { describeServices } from './services.js';

/** The value of `task-definition` that asks for the previous revision. */
export const PREVIOUS = 'previous';

/** How many successful deployments back we look (5 pages of 100). */
const MAX_PAGES = 5;

export interface PreviousRevision {
  service: string;
  current: string;
  previous: string;
  /** When the previous revision's deployment started. */
  deployedAt?: Date;
}

export async function successfulDeployments(ecs: ECSClient, cluster: string, service: string): Promise<ServiceDeploymentBrief[]> {
  const rows: ServiceDeploymentBrief[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service, status: ['SUCCESSFUL'], maxResults: 100, nextToken }));
    rows.push(...(out.serviceDeployments ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return rows.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/**
 * The release before `current` that was not rolled away from. The successful deployments, oldest
 * first, form a line: a deployment of a revision already on the line (a rollback, manual or by
 * deploy-ecs) cuts the line back to it, dropping every release after it. So after v1, v2, v3 and a
 * rollback to v2 the line is v1, v2: a second `previous` gives v1, never v3 again (a toggle would
 * put the bad release back).
 */
async function findPrevious(ecs: ECSClient, cluster: string, service: string, current: string): Promise<PreviousRevision | undefined> {
  const rows = (await successfulDeployments(ecs, cluster, service)).filter((r) => r.targetServiceRevisionArn).reverse();
  const taskDefinitionOf = new Map<string, string | undefined>();
  for (let i = 0; i < rows.length; i += 20) {
    const chunk = rows.slice(i, i + 20);
    const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: chunk.map((r) => r.targetServiceRevisionArn!) }));
    for (const r of out.serviceRevisions ?? []) if (r.serviceRevisionArn) taskDefinitionOf.set(r.serviceRevisionArn, r.taskDefinition);
  }
  const line: { taskDefinition: string; at?: Date }[] = [];
  for (const row of rows) {
    const td = taskDefinitionOf.get(row.targetServiceRevisionArn!);
    if (!td) continue;
    const back = line.findIndex((l) => l.taskDefinition === td);
    if (back >= 0) line.length = back + 1;
    else line.push({ taskDefinition: td, at: row.createdAt });
  }
  const here = line.findIndex((l) => l.taskDefinition === current);
  // A current revision ECS has no successful deployment of yet (in progress): the line's top came before it.
  const prev = here === -1 ? line.at(-1) : line[here - 1];
  return prev ? { service, current, previous: prev.taskDefinition, deployedAt: prev.at } : undefined;
}

/**
 * The one revision all `services` ran before their current one. Read-only; every
 * problem (no history, services that disagree) is reported at once. `known`: the
 * services as already described (else they are described here).
 */
export async function resolvePrevious(
  ecs: ECSClient,
  cluster: string,
  services: string[],
  known?: Map<string, Service>,
): Promise<PreviousRevision[]> {
  const found = known ?? (await describeServices(ecs, cluster, services)).found;
  const problems: ActionError[] = [];
  const results: PreviousRevision[] = [];
  for (const service of services) {
    const current = found.get(service)?.taskDefinition;
    if (!current) {
      problems.push(
        new ActionError(`Service '${service}' was not found in cluster '${cluster}', so it has no previous revision.`, {
          input: 'services',
          fix: 'Check the service name and the cluster.',
        }),
      );
      continue;
    }
    const prev = await findPrevious(ecs, cluster, service, current);
    if (!prev) {
      problems.push(
        new ActionError(
          `Service '${service}' has no earlier successful deployment recorded by ECS that was not rolled away from (it runs ` +
            `${revisionOf(current)}; ECS describes service revisions created since 2024-10-25 only).`,
          {
            input: 'task-definition',
            fix: 'Give the revision to return to instead of previous, e.g. task-definition: family:revision.',
          },
        ),
      );
      continue;
    }
    results.push(prev);
  }
  const targets = new Set(results.map((r) => r.previous));
  if (problems.length === 0 && targets.size > 1) {
    problems.push(
      new ActionError(
        `The services ran different revisions before their current one (${results.map((r) => `${r.service}: ${revisionOf(r.previous)}`).join(', ')}).`,
        {
          input: 'task-definition',
          fix: 'Roll them back one at a time (one service per run), or give the revision explicitly.',
        },
      ),
    );
  }
  if (problems.length) throw aggregate("task-definition 'previous' cannot be resolved", problems);
  return results;
}
