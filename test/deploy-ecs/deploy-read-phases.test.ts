/**
 * readPhase / publishPhase / registerPhase against a small in-memory ECS and ECR: revisions are
 * described by ARN, family:revision or family (the latest), tags come back only when asked for,
 * and an image is in ECR only once it was pushed or promoted. What a caller sees: the revision
 * registered or reused, the image output, the diff, the lines printed, the phase a cut-short run
 * names, and which AWS calls were made.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type PutImageCommandInput,
} from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandInput,
  ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Progress, publishPhase, readPhase, registerPhase } from '../../actions/deploy-ecs/deploy-read.js';
import type { Deps } from '../../actions/deploy-ecs/deploy-types.js';
import { getInputs } from '../../actions/deploy-ecs/inputs.js';
import { type MemoryReporter, memoryReporter } from '../../lib/report.js';

const ACCOUNT = '123456789012';
const TD = (rev: number) => `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/api:${rev}`;
const REGISTRY = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
const APP = (tag: string) => `${REGISTRY}/delivery/backend:${tag}`;
const ENVOY = `${REGISTRY}/mesh/envoy:1.30`;
const ecsMock = mockClient(ECSClient);
const ecrMock = mockClient(ECRClient);

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** A revision of family `api`: an envoy sidecar listed first, then the app. */
function revision(rev: number, appImage: string, extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    taskDefinitionArn: TD(rev),
    family: 'api',
    revision: rev,
    status: 'ACTIVE',
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'envoy', image: ENVOY },
      { name: 'app', image: appImage },
    ],
    ...extra,
  };
}

let revisions: TaskDefinition[];
/** Each revision's tags (`undefined`: an answer with no `tags` key). */
let tagsOf: Map<string, Tag[] | undefined>;
/** `repository:tag` present in ECR, with its digest. */
let images: Map<string, string>;
let service: Service;
let progress: Progress;
/** `<call> during <progress.phase>` for every write and every read made while a phase is named. */
let phases: string[];

function describeTaskDefinition(input: DescribeTaskDefinitionCommandInput) {
  const ref = input.taskDefinition ?? '';
  // ARN, family:revision, or family alone (its latest ACTIVE revision).
  const td = ref.startsWith('arn:')
    ? revisions.find((r) => r.taskDefinitionArn === ref)
    : ref.includes(':')
      ? revisions.find((r) => `${r.family}:${r.revision}` === ref)
      : revisions.filter((r) => r.family === ref).at(-1);
  if (!td) throw awsError('ClientException', 'Unable to describe task definition.');
  // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTaskDefinition.html: tags only with include TAGS.
  return { taskDefinition: td, ...(input.include?.includes('TAGS') ? { tags: tagsOf.get(td.taskDefinitionArn!) } : {}) };
}

function describeImages(input: DescribeImagesCommandInput) {
  phases.push(`DescribeImages ${input.repositoryName} during ${progress.phase}`);
  const id = input.imageIds?.[0];
  const digest = images.get(`${input.repositoryName}:${id?.imageTag}`);
  if (digest === undefined) throw awsError('ImageNotFoundException', 'The image requested does not exist.');
  return { imageDetails: [digest ? { imageDigest: digest } : {}] };
}

beforeEach(() => {
  ecsMock.reset();
  ecrMock.reset();
  revisions = [revision(5, APP('v1'))];
  tagsOf = new Map([[TD(5), []]]);
  images = new Map([
    ['delivery/backend:v1', 'sha256:a1'],
    ['delivery/backend:v2', 'sha256:a2'],
    ['mesh/envoy:1.30', 'sha256:e1'],
  ]);
  service = {
    serviceName: 'api',
    status: 'ACTIVE',
    taskDefinition: TD(5),
    desiredCount: 2,
    runningCount: 2,
    deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'COMPLETED' }],
  };
  progress = { phase: '', previous: new Map(), updating: false, imageWrites: { done: [] } };
  phases = [];
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake(describeTaskDefinition);
  ecsMock.on(DescribeServicesCommand).callsFake(() => {
    phases.push(`DescribeServices during ${progress.phase}`);
    return { services: [service], failures: [] };
  });
  ecsMock.on(ListServiceDeploymentsCommand).callsFake(() => {
    phases.push(`ListServiceDeployments during ${progress.phase}`);
    return { serviceDeployments: [] };
  });
  ecsMock.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => {
    phases.push(`RegisterTaskDefinition during ${progress.phase}`);
    const rev = Math.max(...revisions.map((r) => r.revision!)) + 1;
    const { tags, ...def } = input;
    const td = { ...def, taskDefinitionArn: TD(rev), revision: rev, status: 'ACTIVE' } as TaskDefinition;
    revisions.push(td);
    tagsOf.set(TD(rev), tags ?? []);
    return { taskDefinition: td };
  });
  ecrMock.on(DescribeImagesCommand).callsFake(describeImages);
  ecrMock.on(BatchGetImageCommand).callsFake(() => ({
    images: [
      { imageId: { imageDigest: 'sha256:a2' }, imageManifest: '{}', imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' },
    ],
  }));
  ecrMock.on(PutImageCommand).callsFake((input: PutImageCommandInput) => {
    phases.push(`PutImage during ${progress.phase}`);
    images.set(`${input.repositoryName}:${input.imageTag}`, input.imageDigest ?? '');
    return {};
  });
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: Buffer.from('AWS:secret').toString('base64'), proxyEndpoint: `https://${REGISTRY}` }],
  });
});

/** The phases before the update, in deploy()'s order; `exec` is docker (every call succeeds). */
async function run(extra: Record<string, string>) {
  const inputs = getInputs((n) => ({ 'task-definition': TD(5), cluster: 'prod', services: 'api', ...extra })[n] ?? '', {});
  const report: MemoryReporter = memoryReporter();
  const docker: string[][] = [];
  const deps: Deps = {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ecr: new ECRClient({ region: 'eu-west-1' }),
    logs: { send: async () => ({}) } as never,
    exec: async (_cmd, args) => {
      docker.push(args);
      // A pushed tag is in ECR from then on.
      if (args[0] === 'push') images.set(args[1]!.slice(REGISTRY.length + 1), 'sha256:p1');
      return 0;
    },
    report,
    sleep: async () => undefined,
    now: () => 0,
    region: 'eu-west-1',
  };
  const read = await readPhase(inputs, deps, progress);
  const published = await publishPhase(inputs, deps, read, progress);
  const result = await registerPhase(inputs, deps, read, published, progress);
  return { result, lines: report.lines, docker };
}

const described = () => ecsMock.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition);
const registered = () => ecsMock.commandCalls(RegisterTaskDefinitionCommand).map((c) => c.args[0].input);
const imagesLookedUp = () => ecrMock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.repositoryName);
const promote = { 'image-publish': 'promote', 'source-image': APP('v2'), tags: 'prod' };

describe('which revision a run deploys: the described one, the family latest, or a new one', () => {
  it('a described revision with nothing to change is used as it is: no image read, no register, one describe', async () => {
    const { result, lines } = await run({});
    expect(result).toMatchObject({ arn: TD(5), changed: false, image: ENVOY });
    expect(lines).toContain(`using existing ${TD(5)}`);
    expect(imagesLookedUp()).toEqual([]);
    expect(registered()).toEqual([]);
    expect(described()).toEqual([TD(5)]);
  });

  it("container-name alone checks the described revision's images and reuses it", async () => {
    const { result, lines } = await run({ 'container-name': 'app' });
    expect(result).toMatchObject({ arn: TD(5), changed: false, image: APP('v1') });
    expect(lines).toContain(`unchanged: ${TD(5)} already has these images; not registering a copy`);
    expect(imagesLookedUp().sort()).toEqual(['delivery/backend', 'mesh/envoy']);
  });

  it('pin-image-digest alone registers the described revision with every ECR image pinned to its digest, each looked up once', async () => {
    const { result } = await run({ 'pin-image-digest': 'true' });
    expect(registered()[0]!.containerDefinitions).toEqual([
      { name: 'envoy', image: `${REGISTRY}/mesh/envoy@sha256:e1` },
      { name: 'app', image: `${REGISTRY}/delivery/backend@sha256:a1` },
    ]);
    expect(result).toMatchObject({ arn: TD(6), changed: true });
    // Nothing is published, so the images are checked once, by the register phase.
    expect(imagesLookedUp().sort()).toEqual(['delivery/backend', 'mesh/envoy']);
  });

  it("the described revision's tags are carried into the new revision", async () => {
    tagsOf.set(TD(5), [{ key: 'team', value: 'delivery' }]);
    await run(promote);
    expect(registered()[0]!.tags).toEqual([{ key: 'team', value: 'delivery' }]);
  });

  it('a DescribeTaskDefinition answer without a tags key registers the new revision without tags', async () => {
    tagsOf.set(TD(5), undefined);
    const { result } = await run(promote);
    expect(registered()[0]!.tags).toBeUndefined();
    expect(result).toMatchObject({ arn: TD(6), changed: true, image: `${REGISTRY}/delivery/backend:prod` });
  });

  it.each([
    ['with tags', [{ key: 'team', value: 'delivery' }]],
    ['without tags', undefined],
  ])(
    'a described revision (%s) that already has the published image is reused, although the family has a newer revision',
    async (_name, tags) => {
      // api:5 runs app:prod already; api:7, the family's latest, runs something else.
      revisions = [revision(5, APP('prod')), revision(7, APP('v1'), { cpu: '512' })];
      tagsOf = new Map([
        [TD(5), tags],
        [TD(7), []],
      ]);
      const { result, lines } = await run({ ...promote, 'container-name': 'app' });
      expect(registered()).toEqual([]);
      expect(result).toMatchObject({ arn: TD(5), changed: false });
      expect(lines).toContain(`unchanged: ${TD(5)} already has these images; not registering a copy`);
    },
  );

  it("a changed described revision equal to the family's latest reuses the latest", async () => {
    revisions = [revision(5, APP('v1')), revision(7, APP('prod'))];
    tagsOf.set(TD(7), []);
    const { result, lines } = await run({ ...promote, 'container-name': 'app' });
    expect(registered()).toEqual([]);
    expect(result).toMatchObject({ arn: TD(7), changed: false, image: APP('prod') });
    expect(lines).toContain(`unchanged: ${TD(7)} already matches the given revision`);
  });

  it("a file equal to the family's latest reuses it, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-read-'));
    const file = join(dir, 'taskdef.json');
    writeFileSync(
      file,
      JSON.stringify({ family: 'api', cpu: '256', memory: '512', containerDefinitions: revision(5, APP('v1')).containerDefinitions }),
    );
    const { result, lines } = await run({ 'task-definition': file });
    expect(result).toMatchObject({ arn: TD(5), changed: false, image: ENVOY });
    expect(lines).toContain(`unchanged: ${TD(5)} already matches ${file}`);
    // The latest is what the service runs: the diff needs no second describe.
    expect(described()).toEqual(['api']);
    expect(result.diff).toEqual(['no change: the service already runs this revision']);
  });

  it("a changed file is diffed against the family's latest, read once, when the service runs that revision", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-read-'));
    const file = join(dir, 'taskdef.json');
    writeFileSync(
      file,
      JSON.stringify({ family: 'api', cpu: '256', memory: '512', containerDefinitions: revision(5, APP('v2')).containerDefinitions }),
    );
    const { result } = await run({ 'task-definition': file });
    expect(result).toMatchObject({ arn: TD(6), changed: true });
    expect(result.diff.join('\n')).toContain(APP('v2'));
    expect(described()).toEqual(['api']);
  });

  it('a file with container-name: the published image goes into that container', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-read-'));
    const file = join(dir, 'taskdef.json');
    writeFileSync(
      file,
      JSON.stringify({ family: 'api', cpu: '256', memory: '512', containerDefinitions: revision(5, APP('v1')).containerDefinitions }),
    );
    const { result } = await run({ ...promote, 'task-definition': file, 'container-name': 'app' });
    expect(registered()[0]!.containerDefinitions).toEqual([
      { name: 'envoy', image: ENVOY },
      { name: 'app', image: `${REGISTRY}/delivery/backend:prod` },
    ]);
    expect(result).toMatchObject({ arn: TD(6), changed: true });
  });
});

describe('task-definition errors name the input, before any write', () => {
  it('a revision that cannot be described', async () => {
    await expect(run({ ...promote, 'task-definition': TD(9) })).rejects.toMatchObject({
      message: `Task definition '${TD(9)}' cannot be described (Unable to describe task definition.).`,
      location: { input: 'task-definition' },
      fix: 'Check the ARN or family:revision, and the region.',
    });
    expect(phases.filter((p) => p.startsWith('PutImage'))).toEqual([]);
  });

  it('an answer without a task definition', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({});
    await expect(run({})).rejects.toMatchObject({
      message: `Task definition '${TD(5)}' cannot be described (no task definition returned).`,
      location: { input: 'task-definition' },
    });
  });

  it('a described revision with a key this action does not know is reported against task-definition', async () => {
    revisions = [revision(5, APP('v1'), { futureSetting: true } as Partial<TaskDefinition>)];
    await expect(run(promote)).rejects.toMatchObject({ location: { input: 'task-definition' } });
    expect(phases.filter((p) => p.startsWith('PutImage'))).toEqual([]);
  });

  it('a task-definition file that is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-read-'));
    const file = join(dir, 'taskdef.json');
    writeFileSync(file, '{ "family": ');
    await expect(run({ 'task-definition': file })).rejects.toMatchObject({ location: { input: 'task-definition', file } });
  });

  it('container-name not in the task definition: the fix names what to use', async () => {
    await expect(run({ ...promote, 'container-name': 'web' })).rejects.toMatchObject({
      location: { input: 'container-name' },
      fix: 'Use the name of one of its containers.',
    });
  });
});

describe('the images: every other container checked before the publish, then all before the register', () => {
  it('a missing sidecar image fails before anything is written to ECR', async () => {
    images.delete('mesh/envoy:1.30');
    await expect(run({ ...promote, 'container-name': 'app' })).rejects.toThrow(/mesh\/envoy:1\.30 of container 'envoy' does not exist/);
    expect(phases).toContain('DescribeImages mesh/envoy during checking the images');
    expect(phases.filter((p) => p.startsWith('PutImage'))).toEqual([]);
  });

  it("the image container's old image is not checked: it is being replaced", async () => {
    images.delete('delivery/backend:v1');
    const { result } = await run({ ...promote, 'container-name': 'app' });
    expect(result).toMatchObject({ arn: TD(6), changed: true, image: `${REGISTRY}/delivery/backend:prod` });
  });

  it('each image is printed: its digest, a digest ECR did not give, or why it was not checked', async () => {
    revisions = [
      revision(5, APP('v1'), {
        containerDefinitions: [
          { name: 'envoy', image: ENVOY },
          { name: 'app', image: APP('v1') },
          { name: 'otel', image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40' },
        ],
      }),
    ];
    images.set('mesh/envoy:1.30', '');
    const { lines } = await run({ ...promote, 'container-name': 'app' });
    expect(lines).toEqual(
      expect.arrayContaining([
        '::group::Task definition',
        `image ${ENVOY} (envoy): exists, digest unknown`,
        `image ${REGISTRY}/delivery/backend:prod (app): exists, sha256:a2`,
        'image public.ecr.aws/aws-observability/aws-otel-collector:v0.40 (otel): not checked, not an ECR image',
        `registered ${TD(6)}`,
      ]),
    );
  });
});

describe('publishing', () => {
  it('push: the commit SHA first, then the tags, each once; the first tag is deployed', async () => {
    const { result, docker } = await run({
      'image-publish': 'push',
      image: 'backend:ci',
      'ecr-repository': 'delivery/backend',
      'commit-sha': 'abc123',
      tags: 'latest\nabc123',
      'container-name': 'app',
    });
    expect(docker.filter((a) => a[0] === 'push')).toEqual([
      ['push', `${REGISTRY}/delivery/backend:abc123`],
      ['push', `${REGISTRY}/delivery/backend:latest`],
    ]);
    expect(result).toMatchObject({ arn: TD(6), image: `${REGISTRY}/delivery/backend:abc123` });
  });

  it('push without a commit SHA pushes the tags only', async () => {
    const { docker } = await run({
      'image-publish': 'push',
      image: 'backend:ci',
      'ecr-repository': 'delivery/backend',
      tags: 'rc1',
      'container-name': 'app',
    });
    expect(docker.filter((a) => a[0] === 'push')).toEqual([['push', `${REGISTRY}/delivery/backend:rc1`]]);
  });

  it('each phase is named while its calls run (what a run cut short reports), and the lines a user reads', async () => {
    const { lines } = await run({ ...promote, 'container-name': 'app' });
    expect(phases).toEqual([
      'DescribeServices during reading the services (DescribeServices)',
      'DescribeImages mesh/envoy during checking the images',
      'PutImage during publishing the image (promote)',
      'DescribeImages mesh/envoy during registering the task definition',
      'DescribeImages delivery/backend during registering the task definition',
      'RegisterTaskDefinition during registering the task definition',
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        '::group::Services before the update',
        'api: api:5, running 2/2, strategy ROLLING',
        '::group::Image (promote)',
      ]),
    );
  });
});

describe('the rollback target and the diff against what the service ran', () => {
  it('a service without a rollback target is warned about; the diff is against nothing', async () => {
    service = {
      ...service,
      deployments: [{ id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'IN_PROGRESS' }],
    };
    const { result, lines } = await run({ ...promote, 'container-name': 'app' });
    expect(phases).toContain("ListServiceDeployments during finding each service's rollback target");
    expect(lines).toContain(
      'warning: api was still deploying api:5 and lists no deployment that completed, and ECS records no SUCCESSFUL ' +
        'deployment of another revision: no rollback target.',
    );
    expect(progress.previous.get('api')).toBe('');
    expect(result.diff).toEqual(['new family (no previous revision)']);
    expect(described()).toEqual([TD(5), 'api']);
  });

  it('a service with a stable rollback target prints no warning', async () => {
    const { lines } = await run(promote);
    expect(lines.filter((l) => l.startsWith('warning:'))).toEqual([]);
  });

  it("the diff is against the service's revision, not the family's latest", async () => {
    revisions = [revision(5, APP('v1')), revision(7, APP('v1'), { cpu: '512' })];
    tagsOf.set(TD(7), []);
    const { result } = await run({ ...promote, 'container-name': 'app' });
    expect(result.arn).toBe(TD(8));
    expect(result.diff.join('\n')).toContain(`${REGISTRY}/delivery/backend:prod`);
    expect(result.diff.join('\n')).not.toContain('cpu');
  });

  it("the service's revision can no longer be described: the diff is against nothing and the run goes on", async () => {
    service = { ...service, taskDefinition: TD(3), deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: TD(3) }] };
    const { result } = await run({ ...promote, 'container-name': 'app' });
    expect(result).toMatchObject({ arn: TD(6), changed: true });
    expect(result.diff).toEqual(['new family (no previous revision)']);
  });
});
