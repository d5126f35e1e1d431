import { existsSync } from 'node:fs';
import { ActionError, aggregate, collectProblems } from '../../lib/errors.js';
import { Inputs as InputReaderHelper, type InputReader, envReader } from '../../lib/inputs.js';
// Previous / promote-from / allow-family-change (resolved by prepare.ts before deploy())
import { PREVIOUS } from './previous.js';
import { parsePromoteFrom, type PromoteSource } from './promote-from.js';
import { readGateInputs, type GateInputs } from './gate-inputs.js';
// Scheduled tasks (EventBridge Scheduler schedules and rules) moved with the release
import { parseScheduledTasks, type ScheduledTaskRef } from './scheduled/refs.js';
// CODE_DEPLOY services (blue/green through AWS CodeDeploy)
import { readCodeDeployInputs, unsupportedWithCodeDeploy, type CodeDeployInputs } from './codedeploy/inputs.js';

type ImagePublish = 'none' | 'push' | 'promote';

/** Where the task definition comes from: a file to register, or an existing revision. */
export type TaskDefinitionSource = { kind: 'file'; path: string } | { kind: 'existing'; ref: string };

/** Every input of action.yml, typed; keys mirror action.yml. */
export interface Inputs {
  taskDefinition: TaskDefinitionSource;
  cluster: string;
  services: string[];
  containerName?: string;
  imagePublish: ImagePublish;
  /** push: the local image (e.g. `backend:ci`); promote: unused. */
  image?: string;
  /** promote: the ECR image to re-tag (`repo:tag`, `repo@sha256:…` or a full URI). */
  sourceImage?: string;
  tags: string[];
  ecrRepository?: string;
  commitSha?: string;
  pinImageDigest: boolean;
  forceNewDeployment: boolean;
  desiredCount?: number;
  pollIntervalSeconds: number;
  timeoutMinutes: number;
  rollbackOnFailure: boolean;
  maxFailedTasks: number;
  maxParallel: number;
  awsRegion?: string;
  maxAttempts: number;
  /** Plan and diff only: no write call. */
  dryRun: boolean;
  /** When another deployer's deployment replaces ours mid-wait: fail the run, or only warn. Never rolled back over. */
  onOtherDeployment: 'fail' | 'warn';
  /** Allow moving a service to another task-definition family (default: refuse). */
  allowFamilyChange: boolean;
  /** Deploy the image digest this service runs (`cluster/service`). */
  promoteFrom?: PromoteSource;
  /** The test-traffic gate, when gate-url or gate-command is set. */
  gate?: GateInputs;
  /** Schedules and rules whose ECS task moves to the new revision once every service is steady. */
  scheduledTasks: ScheduledTaskRef[];
  /** Set for a CODE_DEPLOY service: deployed through this CodeDeploy application and deployment group. */
  codedeploy?: CodeDeployInputs;
}

const TASKDEF_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/;
const FAMILY_REVISION = /^[A-Za-z0-9_-]{1,255}:\d+$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const CLUSTER = /^([A-Za-z0-9][A-Za-z0-9_-]{0,254}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]+)$/;
const ECR_REPO = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function parseTaskDefinitionInput(value: string): TaskDefinitionSource {
  // `previous` is resolved from ECS by prepare.ts (previous.ts) before deploy().
  if (value === PREVIOUS) return { kind: 'existing', ref: PREVIOUS };
  if (value.startsWith('arn:')) {
    if (!TASKDEF_ARN.test(value)) {
      throw new ActionError(`'${value}' is not a task definition ARN.`, {
        input: 'task-definition',
        fix: 'Use arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>, family:revision, or a path to a JSON file.',
      });
    }
    return { kind: 'existing', ref: value };
  }
  // A file wins over the family:revision reading of the same string.
  if (FAMILY_REVISION.test(value) && !existsSync(value)) return { kind: 'existing', ref: value };
  return { kind: 'file', path: value };
}

/** Reads and checks every input; all problems are reported at once, before any AWS call. */
export function getInputs(read: InputReader = envReader, env: NodeJS.ProcessEnv = process.env): Inputs {
  const inp = new InputReaderHelper(read);
  // Collect every problem in one pass so a user fixes them all at once.
  const { problems, attempt } = collectProblems();

  const taskDefinition = attempt(
    () =>
      parseTaskDefinitionInput(
        inp.required(
          'task-definition',
          'Pass the rendered task-definition file (render-taskdef output) or an existing ARN / family:revision.',
        ),
      ),
    { kind: 'existing', ref: '' } as TaskDefinitionSource,
  );
  const cluster = attempt(() => {
    const c = inp.required('cluster', 'Set cluster: the ECS cluster name, e.g. delivery-prod.');
    if (!CLUSTER.test(c))
      throw new ActionError(`'${c}' is not a cluster name or ARN.`, {
        input: 'cluster',
        fix: 'Use letters, digits, - and _ (up to 255), or a cluster ARN.',
      });
    return c;
  }, '');
  const services = attempt(() => {
    const list = inp.lines('services', true);
    if (list.length === 0)
      throw new ActionError("Input 'services' is required.", {
        input: 'services',
        fix: 'List one service name per line, e.g. api and worker.',
      });
    const bad = list.filter((s) => !SERVICE_NAME.test(s));
    if (bad.length)
      throw new ActionError(`'${bad.join("', '")}' is not a service name.`, {
        input: 'services',
        fix: 'Use service names (letters, digits, - and _), one per line.',
      });
    const dupes = list.filter((s, i) => list.indexOf(s) !== i);
    if (dupes.length)
      throw new ActionError(`Service '${dupes[0]}' is listed twice.`, { input: 'services', fix: 'List each service once.' });
    return list;
  }, [] as string[]);

  const gateRead = readGateInputs(inp, services);
  problems.push(...gateRead.problems);

  const imagePublish = attempt(() => inp.oneOf('image-publish', ['none', 'push', 'promote'] as const, 'none'), 'none' as ImagePublish);
  const image = inp.string('image');
  const sourceImage = inp.string('source-image');
  const ecrRepository = inp.string('ecr-repository');
  const tags = attempt(() => {
    const list = inp.lines('tags', true);
    const bad = list.filter((t) => !IMAGE_TAG.test(t));
    if (bad.length)
      throw new ActionError(`'${bad.join("', '")}' is not a valid image tag.`, {
        input: 'tags',
        fix: 'Tags are up to 128 letters, digits, _, . and -, not starting with . or -.',
      });
    return list;
  }, [] as string[]);
  const commitSha = inp.string('commit-sha') ?? env.GITHUB_SHA;
  if (imagePublish === 'push') {
    if (!image)
      problems.push(
        new ActionError("image-publish: push needs the local image in 'image'.", {
          input: 'image',
          fix: 'Set image: to the locally built image, e.g. backend:ci.',
        }),
      );
    if (!ecrRepository)
      problems.push(
        new ActionError("image-publish: push needs 'ecr-repository'.", {
          input: 'ecr-repository',
          fix: 'Set ecr-repository: e.g. delivery/backend.',
        }),
      );
    if (!commitSha && tags.length === 0)
      problems.push(
        new ActionError('push has no tag to push: no commit-sha (GITHUB_SHA) and no tags.', {
          input: 'tags',
          fix: 'Set tags: or commit-sha:.',
        }),
      );
  }
  if (imagePublish === 'promote') {
    if (!sourceImage)
      problems.push(
        new ActionError("image-publish: promote needs 'source-image'.", {
          input: 'source-image',
          fix: 'Set source-image: to an image in ECR, e.g. delivery/backend:abc123 or delivery/backend@sha256:….',
        }),
      );
    if (tags.length === 0)
      problems.push(
        new ActionError("image-publish: promote needs at least one new tag in 'tags'.", { input: 'tags', fix: 'Set tags: e.g. prod.' }),
      );
  }
  if (ecrRepository && !ECR_REPO.test(ecrRepository)) {
    problems.push(
      new ActionError(`'${ecrRepository}' is not an ECR repository name.`, {
        input: 'ecr-repository',
        fix: 'Use a name such as delivery/backend (no registry host, no tag).',
      }),
    );
  }
  if (commitSha !== undefined && !IMAGE_TAG.test(commitSha)) {
    problems.push(
      new ActionError(`'${commitSha}' cannot be used as an image tag.`, {
        input: 'commit-sha',
        fix: 'Pass the commit SHA (40 hex characters).',
      }),
    );
  }

  // Promote-from takes the image from another service; it cannot be combined with a push or with `previous`.
  const promoteFrom = attempt(() => {
    const v = inp.string('promote-from');
    return v === undefined ? undefined : parsePromoteFrom(v);
  }, undefined);
  if (promoteFrom && imagePublish === 'push') {
    problems.push(
      new ActionError('promote-from deploys an image already running elsewhere; image-publish: push would build another.', {
        input: 'promote-from',
        fix: 'Use one of them: promote-from (no build) or image-publish: push.',
      }),
    );
  }
  if (promoteFrom && taskDefinition.kind === 'existing' && taskDefinition.ref === PREVIOUS) {
    problems.push(
      new ActionError("promote-from cannot be combined with task-definition: previous (a rollback keeps the previous revision's image).", {
        input: 'promote-from',
        fix: 'Remove promote-from to roll back, or give a task definition to promote into.',
      }),
    );
  }

  const desiredCount = attempt(
    () => (inp.string('desired-count') === undefined ? undefined : inp.number('desired-count', 0, { min: 0, max: 10000, integer: true })),
    undefined,
  );
  const inputs: Inputs = {
    taskDefinition,
    cluster,
    services,
    containerName: inp.string('container-name'),
    imagePublish,
    image,
    sourceImage,
    tags,
    ecrRepository,
    commitSha,
    pinImageDigest: attempt(() => inp.bool('pin-image-digest', false), false),
    forceNewDeployment: attempt(() => inp.bool('force-new-deployment', false), false),
    desiredCount,
    pollIntervalSeconds: attempt(() => inp.number('poll-interval-seconds', 5, { min: 0.1, max: 300 }), 5),
    timeoutMinutes: attempt(() => inp.number('timeout-minutes', 30, { min: 0.01, max: 360 }), 30),
    rollbackOnFailure: attempt(() => inp.bool('rollback-on-failure', true), true),
    maxFailedTasks: attempt(() => inp.number('max-failed-tasks', 3, { min: 0, max: 1000, integer: true }), 3),
    maxParallel: attempt(() => inp.number('max-parallel', 5, { min: 1, max: 50, integer: true }), 5),
    awsRegion: inp.string('aws-region'),
    maxAttempts: attempt(() => inp.number('max-attempts', 8, { min: 1, max: 20, integer: true }), 8),
    dryRun: attempt(() => inp.bool('dry-run', false), false),
    onOtherDeployment: attempt(() => inp.oneOf('on-other-deployment', ['fail', 'warn'] as const, 'fail'), 'fail' as const),
    allowFamilyChange: attempt(() => inp.bool('allow-family-change', false), false),
    promoteFrom,
    gate: gateRead.gate,
    scheduledTasks: attempt(() => parseScheduledTasks(read('scheduled-tasks')), []),
  };
  const cd = readCodeDeployInputs(inp, services);
  problems.push(...cd.problems);
  if (cd.codedeploy) {
    inputs.codedeploy = cd.codedeploy;
    problems.push(
      ...unsupportedWithCodeDeploy({ ...inputs, previous: taskDefinition.kind === 'existing' && taskDefinition.ref === PREVIOUS }),
    );
  }
  if (problems.length > 0) throw aggregate('deploy-ecs inputs are invalid', problems);
  return inputs;
}
