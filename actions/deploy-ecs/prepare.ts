/**
 * The read-only steps that run before deploy(): resolve
 * `task-definition: previous`, take the image digest of `promote-from`, and refuse
 * a task-definition family change. Nothing here writes to AWS; the result is the
 * Inputs deploy() gets (an `existing` revision, or a task-definition file with the
 * promoted digest), so deploy() itself is unchanged.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, type ECSClient, type Service } from '@aws-sdk/client-ecs';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { ActionError } from '../../lib/errors.js';
import { code, markdownTable } from '../../lib/markdown.js';
import type { Reporter } from '../../lib/report.js';
import { parseTaskDefinition, readTaskDefinitionFile, stripReadOnly, type TaskDefinitionInput } from '../../lib/taskdef.js';
import type { DeployResult } from './deploy-types.js';
import { checkFamily, familyOf } from './family-guard.js';
import type { Inputs } from './inputs.js';
import { revisionOf } from './judge.js';
import { PREVIOUS, resolvePrevious, type PreviousRevision } from './previous.js';
import { sourceImage, withPromotedImage, type PromotedImage } from './promote-from.js';
import { servicesBefore } from './services.js';

export interface Prepared {
  inputs: Inputs;
  previous?: PreviousRevision[];
  promoted?: PromotedImage;
  /** The services as the checks read them (DescribeServices), handed to deploy() so it does not read them twice. */
  services?: Map<string, Service>;
}

export interface PrepareDeps {
  ecs: ECSClient;
  ecr: ECRClient;
  report: Reporter;
  /** Where a promoted task definition is written (RUNNER_TEMP). */
  tempDir?: string;
}

async function describeAsInput(ecs: ECSClient, ref: string): Promise<TaskDefinitionInput> {
  const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ['TAGS'] })).catch((err: unknown) => {
    throw new ActionError(`Task definition '${ref}' cannot be described (${(err as Error).message}).`, {
      input: 'task-definition',
      fix: 'Check the ARN or family:revision, and the region.',
    });
  });
  return parseTaskDefinition(
    { ...stripReadOnly(out.taskDefinition as Record<string, unknown>), ...(out.tags?.length ? { tags: out.tags } : {}) },
    { input: 'task-definition' },
  );
}

export async function prepare(given: Inputs, deps: PrepareDeps): Promise<Prepared> {
  const { ecs, report } = deps;
  let inputs = given;
  const prepared: Prepared = { inputs };
  const source = inputs.taskDefinition;
  const wantsPrevious = source.kind === 'existing' && source.ref === PREVIOUS;

  // A bad file fails before any AWS call (deploy() would read it again; it is small).
  if (source.kind === 'file') readTaskDefinitionFile(source.path);
  await report.group('Checks before the deploy', async () => {
    // The same read (and the same errors: unknown cluster, missing or inactive services) as deploy()'s first phase.
    const found = await servicesBefore(ecs, inputs.cluster, inputs.services);
    prepared.services = found;
    if (wantsPrevious) {
      prepared.previous = await resolvePrevious(ecs, inputs.cluster, inputs.services, found);
      const target = prepared.previous[0]!.previous;
      for (const p of prepared.previous)
        report.info(
          `${p.service}: runs ${revisionOf(p.current)}; previous: ${revisionOf(p.previous)}${p.deployedAt ? ` (deployed ${p.deployedAt.toISOString()})` : ''}`,
        );
      inputs = { ...inputs, taskDefinition: { kind: 'existing', ref: target } };
    }
    if (inputs.promoteFrom) {
      const promoted = await sourceImage(ecs, inputs.promoteFrom, inputs.containerName);
      prepared.promoted = promoted;
      report.info(
        `${promoted.from.cluster}/${promoted.from.service} runs ${promoted.sourceImage} (${promoted.digest}) in ` +
          `${revisionOf(promoted.sourceTaskDefinition)}; promoting that digest (no build, no layer copied)`,
      );
      const def =
        inputs.taskDefinition.kind === 'file'
          ? readTaskDefinitionFile(inputs.taskDefinition.path)
          : await describeAsInput(ecs, inputs.taskDefinition.ref);
      const next = withPromotedImage(def, promoted, inputs.containerName ?? promoted.container);
      const dir = join(deps.tempDir ?? tmpdir(), 'deploy-ecs');
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${next.family}.promoted.json`);
      writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
      inputs = { ...inputs, taskDefinition: { kind: 'file', path } };
    }
    // A deregistered revision cannot be deployed again: "you can't update an existing service to
    // reference an INACTIVE task definition" (API_DeregisterTaskDefinition). Say so before any write.
    const target = inputs.taskDefinition;
    if (target.kind === 'existing') {
      const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: target.ref })).catch(() => undefined);
      if (out?.taskDefinition?.status === 'INACTIVE') {
        throw new ActionError(
          `${revisionOf(out.taskDefinition.taskDefinitionArn)} is INACTIVE (deregistered): ECS does not update a service to it.`,
          {
            input: 'task-definition',
            fix:
              `Register it again as a new revision (aws ecs describe-task-definition --task-definition ${target.ref} --query ` +
              `taskDefinition > taskdef.json, then task-definition: taskdef.json), or give another revision.`,
          },
        );
      }
    }
    // The family the services would move to, known without a write.
    const td = inputs.taskDefinition;
    const family = td.kind === 'file' ? readTaskDefinitionFile(td.path).family : familyOf(td.ref);
    const changes = checkFamily(family, found, inputs.allowFamilyChange);
    for (const c of changes)
      report.warning(`${c.service}: task-definition family changes from '${c.from}' to '${c.to}' (allow-family-change: true).`);
  });
  prepared.inputs = inputs;
  return prepared;
}

/** The digest the deployed container runs, when the revision names it (pinned or promoted); else empty. */
export function imageDigest(r: DeployResult, p: Prepared): string {
  return /@(sha256:[a-f0-9]{64})$/.exec(r.image)?.[1] ?? p.promoted?.digest ?? '';
}

/** Extra summary lines: where `previous` came from, and the digest each environment runs after a promotion. */
export function promotionSummary(r: DeployResult, p: Prepared, cluster: string): string {
  const parts: string[] = [];
  if (p.previous?.length) {
    parts.push(
      `Rolled back to the previous revision found in ECS: ` +
        `${p.previous.map((x) => `${code(x.service)} ${revisionOf(x.current)} → ${revisionOf(x.previous)}`).join(', ')}.`,
    );
  }
  if (p.promoted) {
    const digest = imageDigest(r, p);
    const same = digest === p.promoted.digest;
    parts.push(
      markdownTable(
        ['environment', 'service', 'image digest'],
        [
          [code(p.promoted.from.cluster), code(p.promoted.from.service), code(p.promoted.digest)],
          [
            code(cluster),
            r.services.map((s) => code(s.service)).join(', '),
            `${code(digest || 'unknown')}${same ? ' (same bytes, promoted without a build)' : ' (differs!)'}`,
          ],
        ],
      ),
    );
  }
  return parts.length ? `\n${parts.join('\n\n')}\n` : '';
}
