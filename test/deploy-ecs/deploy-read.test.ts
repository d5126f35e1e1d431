import { BatchGetImageCommand, DescribeImagesCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { publishPhase, readPhase, registerPhase, type Progress } from '../../actions/deploy-ecs/deploy-read.js';
import type { Deps } from '../../actions/deploy-ecs/deploy-types.js';
import { getInputs } from '../../actions/deploy-ecs/inputs.js';
import { memoryReporter } from '../../lib/report.js';

const TD = (rev: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${rev}`;
const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const OLD = `${REGISTRY}/delivery/backend:v1`;
const ENVOY = `${REGISTRY}/mesh/envoy:1.30`;
const ecsMock = mockClient(ECSClient);
const ecrMock = mockClient(ECRClient);

/** api:5, which the service runs: an envoy sidecar listed first, then the app. */
const revision5: TaskDefinition = {
  taskDefinitionArn: TD(5),
  family: 'api',
  revision: 5,
  status: 'ACTIVE',
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    { name: 'envoy', image: ENVOY },
    { name: 'app', image: OLD },
  ],
};

beforeEach(() => {
  ecsMock.reset();
  ecrMock.reset();
  ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: revision5, tags: [] });
  ecsMock.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'api',
        status: 'ACTIVE',
        taskDefinition: TD(5),
        desiredCount: 2,
        runningCount: 2,
        deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: TD(5), rolloutState: 'COMPLETED' }],
      },
    ],
    failures: [],
  });
  ecsMock
    .on(RegisterTaskDefinitionCommand)
    .callsFake((input: RegisterTaskDefinitionCommandInput) => ({ taskDefinition: { ...input, taskDefinitionArn: TD(6), revision: 6 } }));
  ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:aa' }] });
  ecrMock.on(BatchGetImageCommand).resolves({
    images: [
      { imageId: { imageDigest: 'sha256:bb' }, imageManifest: '{}', imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' },
    ],
  });
  ecrMock.on(PutImageCommand).resolves({});
});

function deps(): Deps {
  return {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ecr: new ECRClient({ region: 'eu-west-1' }),
    logs: { send: async () => ({}) } as never,
    exec: async () => 0,
    report: memoryReporter(),
    sleep: async () => undefined,
    now: () => 0,
    region: 'eu-west-1',
  };
}

/** The phases before the update, in deploy()'s order. */
async function readAndRegister(extra: Record<string, string>) {
  const inputs = getInputs((n) => ({ 'task-definition': TD(5), cluster: 'prod', services: 'api', ...extra })[n] ?? '', {});
  const d = deps();
  const progress: Progress = { phase: '', previous: new Map(), updating: false, imageWrites: { done: [] } };
  const read = await readPhase(inputs, d, progress);
  const published = await publishPhase(inputs, d, read, progress);
  return registerPhase(inputs, d, read, published, progress);
}
const registered = () => ecsMock.commandCalls(RegisterTaskDefinitionCommand).map((c) => c.args[0].input);
const PROMOTED = `${REGISTRY}/delivery/backend:prod`;
const promote = { 'image-publish': 'promote', 'source-image': `${REGISTRY}/delivery/backend:v2`, tags: 'prod' };

describe('readPhase and registerPhase: register or reuse the revision, and which container gets the image', () => {
  it('the published image goes into container-name, not the first container; a new revision is registered', async () => {
    const r = await readAndRegister({ ...promote, 'container-name': 'app' });
    expect(registered()).toHaveLength(1);
    expect(registered()[0]!.containerDefinitions).toEqual([
      { name: 'envoy', image: ENVOY },
      { name: 'app', image: PROMOTED },
    ]);
    expect(r).toMatchObject({ arn: TD(6), changed: true, image: PROMOTED });
    expect(r.diff.join('\n')).toContain(PROMOTED);
  });

  it('without container-name the published image goes into the first container', async () => {
    const r = await readAndRegister(promote);
    expect(registered()[0]!.containerDefinitions).toEqual([
      { name: 'envoy', image: PROMOTED },
      { name: 'app', image: OLD },
    ]);
    expect(r).toMatchObject({ changed: true, image: PROMOTED });
  });

  it("the image output is the image container's image, not the first container's", async () => {
    const r = await readAndRegister({ 'container-name': 'app' });
    // Nothing published: the described revision is taken as it is, and its app image is the output.
    expect(r).toMatchObject({ arn: TD(5), changed: false, image: OLD });
  });

  it('a described revision whose images do not change is used as it is: nothing registered, no change against what ran', async () => {
    const r = await readAndRegister({});
    expect(registered()).toEqual([]);
    expect(r).toMatchObject({ arn: TD(5), changed: false, image: ENVOY });
    expect(r.diff).toEqual(['no change: the service already runs this revision']);
  });

  it('a promote to the image the container already has registers no copy of the revision', async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { ...revision5, containerDefinitions: [revision5.containerDefinitions![0]!, { name: 'app', image: PROMOTED }] },
      tags: [],
    });
    const r = await readAndRegister({ ...promote, 'container-name': 'app' });
    expect(registered()).toEqual([]);
    expect(r).toMatchObject({ arn: TD(5), changed: false, image: PROMOTED });
  });

  it('a container-name not in the task definition fails before any write, naming the input and the containers', async () => {
    await expect(readAndRegister({ ...promote, 'container-name': 'web' })).rejects.toMatchObject({
      message: "Container 'web' is not in the task definition (it has envoy, app).",
      location: { input: 'container-name' },
    });
    expect(ecrMock.commandCalls(PutImageCommand)).toEqual([]);
    expect(registered()).toEqual([]);
  });
});
