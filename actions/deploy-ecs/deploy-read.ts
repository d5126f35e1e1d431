/**
 * The phases before any service is updated: read the task definition and the services (every input
 * problem surfaces here, before any write call), then publish the image and register the revision
 * only when it changed.
 */
import { DescribeTaskDefinitionCommand, type ECSClient, type Service, type TaskDefinition } from '@aws-sdk/client-ecs';
import { ActionError } from '../../lib/errors.js';
import { diffTaskDefinitions } from '../../lib/taskdef-diff.js';
import {
  parseTaskDefinition,
  readTaskDefinitionFile,
  describeLatest,
  registerIfChanged,
  stripReadOnly,
  taskDefinitionsEqual,
  type TaskDefinitionInput,
} from '../../lib/taskdef.js';
import type { Deps } from './deploy-types.js';
import { checkImages, pinDigests, promoteImage, pushImage, type ImageWrites, type PublishedImage } from './image.js';
import type { Inputs } from './inputs.js';
import { revisionOf } from './judge.js';
import { rollbackTarget } from './rollback-target.js';
import { servicesBefore } from './services.js';

/** Where a run is, for the error when the deadline or the cancel stops it before any update. */
export interface Progress {
  phase: string;
  previous: Map<string, string>;
  updating: boolean;
  /** The image publish's ECR writes so far (what a run cut short leaves in ECR). */
  imageWrites: ImageWrites;
}

/** What the read-only phase found. */
export interface ReadState {
  /** The task definition to register (a file, or a described revision whose image changes). */
  def?: TaskDefinitionInput;
  /** The described revision, when `task-definition` names one. */
  existing?: TaskDefinition;
  existingTags: TaskDefinitionInput['tags'];
  /** The container the published image goes into (container-name, by default the first). */
  imageContainer?: string;
  before: Map<string, Service>;
  /** Each service's rollback target: what it ran before us. */
  previous: Map<string, string>;
}

/** What the register phase produced. */
export interface Registered {
  arn: string;
  changed: boolean;
  finalDef: TaskDefinition;
  image: string;
  /** The task-definition diff against what the first service ran before. */
  diff: string[];
}

/** A revision with its tags; the error names the `task-definition` input (the one other caller ignores errors). */
async function describeTaskDefinition(ecs: ECSClient, ref: string): Promise<{ td: TaskDefinition; tags: TaskDefinitionInput['tags'] }> {
  try {
    const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ['TAGS'] }));
    if (!out.taskDefinition?.taskDefinitionArn) throw new Error('no task definition returned');
    return { td: out.taskDefinition, tags: out.tags };
  } catch (err) {
    throw new ActionError(`Task definition '${ref}' cannot be described (${(err as Error).message}).`, {
      input: 'task-definition',
      fix: 'Check the ARN or family:revision, and the region.',
    });
  }
}

function withContainerImage(def: TaskDefinitionInput, container: string, image: string): TaskDefinitionInput {
  return { ...def, containerDefinitions: def.containerDefinitions?.map((c) => (c.name === container ? { ...c, image } : c)) };
}

/** Read-only: the task definition, the services, their rollback targets, the images that must exist. */
export async function readPhase(inputs: Inputs, deps: Deps, progress: Progress): Promise<ReadState> {
  const { ecs, report } = deps;
  let def: TaskDefinitionInput | undefined;
  let existing: TaskDefinition | undefined;
  let existingTags: TaskDefinitionInput['tags'];
  if (inputs.taskDefinition.kind === 'file') {
    def = readTaskDefinitionFile(inputs.taskDefinition.path); // errors name the task-definition input
  } else {
    const got = await describeTaskDefinition(ecs, inputs.taskDefinition.ref);
    existing = got.td;
    existingTags = got.tags;
    if (inputs.containerName || inputs.pinImageDigest || inputs.imagePublish !== 'none') {
      // A changed image means a new revision based on the given one.
      def = parseTaskDefinition(
        { ...stripReadOnly(got.td as Record<string, unknown>), ...(got.tags?.length ? { tags: got.tags } : {}) },
        { input: 'task-definition' },
      );
    }
  }
  const containers = (def ?? existing)?.containerDefinitions ?? [];
  if (inputs.containerName && !containers.some((c) => c.name === inputs.containerName)) {
    throw new ActionError(
      `Container '${inputs.containerName}' is not in the task definition (it has ${containers.map((c) => c.name).join(', ')}).`,
      {
        input: 'container-name',
        fix: 'Use the name of one of its containers.',
      },
    );
  }
  // action.yml: the published image goes into container-name, by default the first container.
  const imageContainer = inputs.containerName ?? containers[0]?.name;
  progress.phase = 'reading the services (DescribeServices)';
  const before = await report.group('Services before the update', async () => {
    const map = deps.servicesRead ?? (await servicesBefore(ecs, inputs.cluster, inputs.services));
    for (const [name, s] of map)
      report.info(
        `${name}: ${revisionOf(s.taskDefinition)}, running ${s.runningCount}/${s.desiredCount}, strategy ${s.deploymentConfiguration?.strategy ?? 'ROLLING'}`,
      );
    return map;
  });
  // What each service ran before us: the rollback target and the "before" of the summary.
  const previous = progress.previous;
  progress.phase = "finding each service's rollback target";
  for (const name of inputs.services) {
    const target = await rollbackTarget(ecs, inputs.cluster, name, before.get(name)!);
    if (target.note) report.warning(`${name} ${target.note}.`);
    previous.set(name, target.arn);
  }
  // Every other container's image must exist before anything is written to ECR (publishing
  // first and failing on a missing sidecar image would leave a tag moved and nothing deployed).
  progress.phase = 'checking the images';
  if (def && inputs.imagePublish !== 'none') {
    const others = { ...def, containerDefinitions: def.containerDefinitions?.filter((c) => c.name !== imageContainer) };
    await checkImages(deps.ecr, others, deps.region);
  }
  return { def, existing, existingTags, imageContainer, before, previous };
}

/** Publishes the image (push / promote) into the image container. */
export async function publishPhase(inputs: Inputs, deps: Deps, read: ReadState, progress: Progress): Promise<PublishedImage | undefined> {
  if (inputs.imagePublish === 'none') return undefined;
  progress.phase = `publishing the image (${inputs.imagePublish})`;
  const published = await deps.report.group(`Image (${inputs.imagePublish})`, () =>
    inputs.imagePublish === 'push'
      ? pushImage(
          deps.ecr,
          deps.exec,
          {
            localImage: inputs.image!,
            repository: inputs.ecrRepository!,
            tags: [...new Set([...(inputs.commitSha ? [inputs.commitSha] : []), ...inputs.tags])],
          },
          deps.report,
          progress.imageWrites,
        )
      : promoteImage(deps.ecr, inputs.sourceImage!, inputs.tags, deps.region, deps.report, progress.imageWrites),
  );
  if (read.imageContainer && read.def) read.def = withContainerImage(read.def, read.imageContainer, published.uri);
  return published;
}

/** Registers the task definition only when it differs from what ECS has, and diffs it against what ran before. */
export async function registerPhase(
  inputs: Inputs,
  deps: Deps,
  read: ReadState,
  published: PublishedImage | undefined,
  progress: Progress,
): Promise<Registered> {
  const { ecs, report } = deps;
  const { existing, existingTags, previous } = read;
  progress.phase = 'registering the task definition';
  const reg = await report.group('Task definition', async () => {
    let def = read.def;
    if (def) {
      // The family's latest revision (to register only if changed) is read alongside the image check;
      // when a described revision is the base, the comparison with it comes first and needs no read.
      const latest = existing ? undefined : describeLatest(ecs, def.family);
      latest?.catch(() => undefined); // a failed image check must not leave this rejection unhandled
      const checked = await checkImages(deps.ecr, def, deps.region);
      for (const c of checked)
        report.info(
          `image ${c.image} (${c.container}): ${c.skipped ? `not checked, ${c.skipped}` : `exists, ${c.digest ?? 'digest unknown'}`}`,
        );
      if (inputs.pinImageDigest) def = pinDigests(def, checked);
      if (existing && taskDefinitionsEqual(existing, def, existingTags ?? [], def.tags ?? [])) {
        report.info(`unchanged: ${existing.taskDefinitionArn} already has these images; not registering a copy`);
        return { arn: existing.taskDefinitionArn!, changed: false, taskDefinition: existing, previous: undefined, previousArn: undefined };
      }
      const r = await registerIfChanged(ecs, def, latest);
      report.info(
        r.changed
          ? `registered ${r.arn}`
          : `unchanged: ${r.arn} already matches ${inputs.taskDefinition.kind === 'file' ? inputs.taskDefinition.path : 'the given revision'}`,
      );
      return r;
    }
    report.info(`using existing ${existing!.taskDefinitionArn}`);
    return { arn: existing!.taskDefinitionArn!, changed: false, taskDefinition: existing!, previous: undefined, previousArn: undefined };
  });
  const arn = reg.arn;
  const finalDef = reg.taskDefinition;
  const mainContainer = finalDef.containerDefinitions?.find((c) => c.name === read.imageContainer) ?? finalDef.containerDefinitions?.[0];
  const image = mainContainer?.image ?? published?.uri ?? '';

  // Diff against what the (first) service ran before, which is what the user compares with.
  const firstBefore = previous.get(inputs.services[0]!);
  let previousDef = reg.previous?.taskDefinitionArn === firstBefore ? reg.previous : undefined;
  if (!previousDef && firstBefore && firstBefore !== arn)
    previousDef = (await describeTaskDefinition(ecs, firstBefore).catch(() => undefined))?.td;
  const diff = firstBefore === arn ? ['no change: the service already runs this revision'] : diffTaskDefinitions(previousDef, finalDef);
  return { arn, changed: reg.changed, finalDef, image, diff };
}
