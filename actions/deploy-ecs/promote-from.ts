/**
 * `promote-from: <cluster>/<service>` — deploy exactly the image digest
 * another environment's service runs (e.g. prod takes what staging tested). Read
 * from that service's task definition (and ECR when the image is a tag): no
 * build, no pull, no layer moved; the new revision names the image by digest,
 * so it runs those bytes even if a tag moves later.
 */
import { DescribeTaskDefinitionCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { ecrRegistry, parseImageRef } from '../../lib/ecr-image.js';
import { ActionError } from '../../lib/errors.js';
import type { TaskDefinitionInput } from '../../lib/taskdef.js';
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

/** The image (by digest) that `container` of the source service runs. Read-only. */
export async function sourceImage(ecs: ECSClient, ecr: ECRClient, from: PromoteSource, container: string | undefined): Promise<PromotedImage> {
  const { found } = await describeServices(ecs, from.cluster, [from.service]).catch((err: unknown) => {
    throw new ActionError(`Cannot read service '${from.service}' in cluster '${from.cluster}' (${(err as Error).name}: ${(err as Error).message}).`, {
      input: 'promote-from',
      fix: 'Check the cluster and service names; the role needs ecs:DescribeServices and ecs:DescribeTaskDefinition on them (same account and region).',
    });
  });
  const svc = found.get(from.service);
  if (!svc?.taskDefinition || svc.status !== 'ACTIVE') {
    throw new ActionError(`Service '${from.service}' was not found (or is not ACTIVE) in cluster '${from.cluster}'.`, { input: 'promote-from', fix: 'Name an ACTIVE service, e.g. delivery-staging/backend.' });
  }
  const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition }))).taskDefinition;
  const defs = td?.containerDefinitions ?? [];
  const c = container ? defs.find((d) => d.name === container) : defs[0];
  if (!c?.image) {
    throw new ActionError(`${from.cluster}/${from.service} runs ${svc.taskDefinition}, which has no container '${container}' (it has ${defs.map((d) => d.name).join(', ')}).`, {
      input: 'container-name',
      fix: 'Set container-name to the container whose image is promoted (the same name in both task definitions).',
    });
  }
  const ref = parseImageRef(c.image);
  let digest = ref.digest;
  if (!digest) {
    const reg = ecrRegistry(ref);
    if (!reg) {
      throw new ActionError(`${from.cluster}/${from.service} runs ${c.image}, which is neither pinned by digest nor in ECR, so its bytes cannot be identified.`, {
        input: 'promote-from',
        fix: 'Deploy the source by digest (pin-image-digest: true) or from ECR, then promote.',
      });
    }
    const out = await ecr.send(new DescribeImagesCommand({ registryId: reg.registryId, repositoryName: ref.repository, imageIds: [{ imageTag: ref.tag ?? 'latest' }] })).catch((err: unknown) => {
      throw new ActionError(`Image ${c.image} that ${from.cluster}/${from.service} runs is not in ECR any more (${(err as Error).name}).`, {
        input: 'promote-from',
        fix: 'Redeploy the source environment, or promote an image that still exists.',
      });
    });
    digest = out.imageDetails?.[0]?.imageDigest;
    if (!digest) throw new ActionError(`ECR returned no digest for ${c.image}.`, { input: 'promote-from', fix: 'Check the image in ECR.' });
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
    throw new ActionError(`The task definition has no container '${name}' to give the promoted image.`, { input: 'container-name', fix: 'Set container-name to a container of the task definition.' });
  }
  return { ...def, containerDefinitions: def.containerDefinitions.map((c) => (c.name === name ? { ...c, image: promoted.uri } : c)) };
}
