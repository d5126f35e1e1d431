/**
 * `promote-from: <cluster>/<service>` — deploy exactly the image digest
 * another environment's service runs (e.g. prod takes what staging tested). Read
 * from that service's task definition when it names a digest, else from its service
 * revision (never from where a tag points now), and only from a steady source: no
 * build, no pull, no layer moved; the new revision names the image by digest,
 * so it runs those bytes even if a tag moves later.
 */
import {
  DescribeServiceRevisionsCommand,
  DescribeTaskDefinitionCommand,
  ListServiceDeploymentsCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { parseImageRef } from '../../lib/ecr-image.js';
import { ActionError } from '../../lib/errors.js';
import type { TaskDefinitionInput } from '../../lib/taskdef.js';
import { steadyOn } from './judge.js';
import { describeServices } from './services.js';

export interface PromoteSource {
  cluster: string;
  service: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)$/;

/** `delivery-staging/backend` or a service ARN. */
export function parsePromoteFrom(value: string): PromoteSource {
  const arn = SERVICE_ARN.exec(value);
  if (arn) return { cluster: arn[1]!, service: arn[2]! };
  const [cluster, service, ...rest] = value.split('/');
  if (!cluster || !service || rest.length || !PART.test(cluster) || !PART.test(service)) {
    throw new ActionError(`'${value}' is not <cluster>/<service>.`, {
      input: 'promote-from',
      fix: 'Name the service whose image to promote as cluster/service, e.g. delivery-staging/backend (same account and region).',
    });
  }
  return { cluster, service };
}

export interface PromotedImage {
  from: PromoteSource;
  /** The source service's revision and the container the image was taken from. */
  sourceTaskDefinition: string;
  container: string;
  /** The image as the source task definition names it (tag or digest). */
  sourceImage: string;
  digest: string;
  /** `registry/repository@sha256:…`: what the new revision runs. */
  uri: string;
}

/**
 * The digest the source's service revision runs. ECS resolves every tag to a digest when it creates
 * a service revision and keeps starting tasks from that digest
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerImage.html), so the
 * revision's `containerImages[].imageDigest` is what the source runs even after the tag moved; the
 * tag's digest in ECR now is not. The revision is the newest SUCCESSFUL service deployment's, which on
 * a steady service is the revision every task runs.
 */
async function revisionDigest(ecs: ECSClient, from: PromoteSource, taskDefinition: string, container: string): Promise<string | undefined> {
  const listed = await ecs.send(
    new ListServiceDeploymentsCommand({ cluster: from.cluster, service: from.service, status: ['SUCCESSFUL'], maxResults: 20 }),
  );
  const newest = [...(listed.serviceDeployments ?? [])]
    .filter((d) => d.targetServiceRevisionArn)
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
  if (!newest) return undefined;
  const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [newest.targetServiceRevisionArn!] }));
  const revision = out.serviceRevisions?.[0];
  if (revision?.taskDefinition !== taskDefinition) return undefined;
  return revision.containerImages?.find((c) => c.containerName === container)?.imageDigest;
}

/** The image (by digest) that `container` of the source service runs; only from a steady source. Read-only. */
export async function sourceImage(ecs: ECSClient, from: PromoteSource, container: string | undefined): Promise<PromotedImage> {
  const { found } = await describeServices(ecs, from.cluster, [from.service]).catch((err: unknown) => {
    throw new ActionError(
      `Cannot read service '${from.service}' in cluster '${from.cluster}' (${(err as Error).name}: ${(err as Error).message}).`,
      {
        input: 'promote-from',
        fix: 'Check the cluster and service names; the role needs ecs:DescribeServices and ecs:DescribeTaskDefinition on them (same account and region).',
      },
    );
  });
  const svc = found.get(from.service);
  if (!svc?.taskDefinition || svc.status !== 'ACTIVE') {
    throw new ActionError(`Service '${from.service}' was not found (or is not ACTIVE) in cluster '${from.cluster}'.`, {
      input: 'promote-from',
      fix: 'Name an ACTIVE service, e.g. delivery-staging/backend.',
    });
  }
  // Mid-rollout, failed or rolling back, the source runs more than one thing (or not what it tested).
  const steady = steadyOn(svc, svc.taskDefinition);
  if (!steady.steady) {
    throw new ActionError(`${from.cluster}/${from.service} is not steady (${steady.why}), so what it runs is not one tested image.`, {
      input: 'promote-from',
      fix: 'Wait until the source service has one COMPLETED deployment with all its tasks running, then promote.',
    });
  }
  const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition }))).taskDefinition;
  const defs = td?.containerDefinitions ?? [];
  const c = container ? defs.find((d) => d.name === container) : defs[0];
  if (!c?.image) {
    throw new ActionError(
      `${from.cluster}/${from.service} runs ${svc.taskDefinition}, which has no container '${container}' (it has ${defs.map((d) => d.name).join(', ')}).`,
      {
        input: 'container-name',
        fix: 'Set container-name to the container whose image is promoted (the same name in both task definitions).',
      },
    );
  }
  const ref = parseImageRef(c.image);
  const digest =
    ref.digest ??
    (await revisionDigest(ecs, from, svc.taskDefinition, c.name!).catch((err: unknown) => {
      throw new ActionError(
        `Cannot read the service revision of ${from.cluster}/${from.service} (${(err as Error).name}: ${(err as Error).message}).`,
        {
          input: 'promote-from',
          fix: 'The role needs ecs:ListServiceDeployments and ecs:DescribeServiceRevisions on the source service (policy in the README).',
        },
      );
    }));
  if (!digest) {
    throw new ActionError(
      `${from.cluster}/${from.service} runs ${c.image}, and its service revision names no image digest, so the bytes it runs cannot be ` +
        `identified (the tag may point elsewhere now).`,
      {
        input: 'promote-from',
        fix: 'Deploy the source by digest (pin-image-digest: true), or redeploy it so ECS records the digest in a service revision, then promote.',
      },
    );
  }
  return {
    from,
    sourceTaskDefinition: svc.taskDefinition,
    container: c.name!,
    sourceImage: c.image,
    digest,
    uri: `${ref.registry ? `${ref.registry}/` : ''}${ref.repository}@${digest}`,
  };
}

/** The task definition with `container`'s image replaced by the promoted digest (pure). */
export function withPromotedImage(def: TaskDefinitionInput, promoted: PromotedImage, container: string | undefined): TaskDefinitionInput {
  const name = container ?? def.containerDefinitions?.[0]?.name;
  if (!def.containerDefinitions?.some((c) => c.name === name)) {
    throw new ActionError(`The task definition has no container '${name}' to give the promoted image.`, {
      input: 'container-name',
      fix: 'Set container-name to a container of the task definition.',
    });
  }
  return { ...def, containerDefinitions: def.containerDefinitions.map((c) => (c.name === name ? { ...c, image: promoted.uri } : c)) };
}
