/**
 * Image publishing (push / promote) and the pre-deploy image check, all
 * against ECR. Nothing here pulls a layer: promote re-tags by manifest.
 */
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { ecrRegistry, imageId, parseImageRef, registryHost } from '../../lib/ecr-image.js';
import { ActionError, aggregate } from '../../lib/errors.js';
import type { Reporter } from '../../lib/report.js';
import type { TaskDefinitionInput } from '../../lib/taskdef.js';

const errName = (err: unknown): string => (err as { name?: string })?.name ?? '';

export interface CheckedImage {
  container: string;
  image: string;
  digest?: string;
  /** Why the image was not checked (not ECR, another region). */
  skipped?: string;
}

/**
 * Checks that every ECR image of the task definition exists, so a deploy
 * never waits for CannotPullContainerError. Other registries are reported as
 * not checked. All missing images are reported at once.
 */
export async function checkImages(ecr: ECRClient, def: TaskDefinitionInput, region: string): Promise<CheckedImage[]> {
  const problems: ActionError[] = [];
  const results = await Promise.all(
    (def.containerDefinitions ?? []).map(async (c, i): Promise<CheckedImage> => {
      const image = c.image ?? '';
      const ref = parseImageRef(image);
      const reg = ecrRegistry(ref);
      const container = c.name ?? `#${i}`;
      if (!reg) return { container, image, skipped: 'not an ECR image' };
      if (reg.region !== region) return { container, image, skipped: `ECR in ${reg.region}, not ${region}` };
      try {
        const out = await ecr.send(
          new DescribeImagesCommand({ registryId: reg.registryId, repositoryName: ref.repository, imageIds: [imageId(ref)] }),
        );
        return { container, image, digest: out.imageDetails?.[0]?.imageDigest };
      } catch (err) {
        if (errName(err) === 'ImageNotFoundException' || errName(err) === 'RepositoryNotFoundException') {
          problems.push(
            new ActionError(`Image ${image} of container '${container}' does not exist in ECR (${errName(err)}).`, {
              input: 'task-definition',
              field: `containerDefinitions[${i}].image`,
              fix: 'Push the image first (image-publish: push), or fix the tag in the task definition.',
            }),
          );
          return { container, image };
        }
        throw err;
      }
    }),
  );
  if (problems.length) throw aggregate('Images are missing', problems);
  return results;
}

/** Replaces `repo:tag` with `repo@sha256:…` for every checked ECR image, so the revision runs exactly what was checked. */
export function pinDigests(def: TaskDefinitionInput, checked: CheckedImage[]): TaskDefinitionInput {
  const byContainer = new Map(checked.map((c) => [c.container, c]));
  return {
    ...def,
    containerDefinitions: def.containerDefinitions?.map((c) => {
      const hit = byContainer.get(c.name ?? '');
      if (!hit?.digest) return c;
      const ref = parseImageRef(c.image ?? '');
      return { ...c, image: `${ref.registry}/${ref.repository}@${hit.digest}` };
    }),
  };
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

/**
 * The ECR writes of a run as they happen, so a run cut short (cancel, timeout) can say what it left
 * behind: tags written that no deployment of this run uses, and a write whose answer was abandoned
 * (ECR may have applied it).
 */
export interface ImageWrites {
  /** `repository:tag` written (pushed, or the digest re-tagged). */
  done: string[];
  /** The write in flight, until its answer arrives. */
  pending?: string;
}

export interface PublishedImage {
  /** The URI to deploy, e.g. `123….dkr.ecr.eu-west-1.amazonaws.com/delivery/backend:abc123`. */
  uri: string;
  digest?: string;
  tags: string[];
}

/**
 * Gives an image already in ECR new tags with the same manifest and media type
 * (BatchGetImage + PutImage): no layer moves. A tag already on the same digest
 * is success; a tag on another digest in an immutable repository is a clear error.
 */
export async function promoteImage(
  ecr: ECRClient,
  source: string,
  tags: string[],
  region: string,
  report: Reporter,
  writes: ImageWrites = { done: [] },
): Promise<PublishedImage> {
  const ref = parseImageRef(source);
  const reg = ecrRegistry(ref);
  if (ref.registry && !reg) {
    throw new ActionError(`'${source}' is not an ECR image.`, {
      input: 'source-image',
      fix: 'Use an image in ECR: repo:tag, repo@sha256:… or <account>.dkr.ecr.<region>.amazonaws.com/repo:tag.',
    });
  }
  const got = await ecr.send(
    new BatchGetImageCommand({
      registryId: reg?.registryId,
      repositoryName: ref.repository,
      imageIds: [imageId(ref)],
      acceptedMediaTypes: MANIFEST_TYPES,
    }),
  );
  const img = got.images?.[0];
  if (!img?.imageManifest) {
    const f = got.failures?.[0];
    throw new ActionError(`Source image ${source} was not found in ECR${f ? ` (${f.failureCode}: ${f.failureReason})` : ''}.`, {
      input: 'source-image',
      fix: 'Check the repository and tag/digest; push the image first.',
    });
  }
  const digest = img.imageId?.imageDigest;
  for (const tag of tags) {
    writes.pending = `${ref.repository}:${tag}`;
    try {
      await ecr.send(
        new PutImageCommand({
          registryId: reg?.registryId,
          repositoryName: ref.repository,
          imageManifest: img.imageManifest,
          imageManifestMediaType: img.imageManifestMediaType,
          imageTag: tag,
          imageDigest: digest,
        }),
      );
      report.info(`tagged ${ref.repository}@${digest} as ${tag}`);
      writes.done.push(`${ref.repository}:${tag} (${digest})`);
      writes.pending = undefined;
    } catch (err) {
      if (errName(err) === 'ImageAlreadyExistsException') {
        writes.pending = undefined;
        report.info(`${ref.repository}:${tag} already points at ${digest}; nothing to do`);
      } else if (errName(err) === 'ImageTagAlreadyExistsException') {
        throw new ActionError(
          `Tag '${tag}' already points at another image in ${ref.repository}, and the repository's tags are immutable.`,
          {
            input: 'tags',
            fix: 'Use a new tag (e.g. the commit SHA), or make the repository tags MUTABLE if moving tags is intended.',
          },
        );
      } else {
        throw err;
      }
    }
  }
  const registryId = reg?.registryId ?? img.registryId ?? '';
  return { uri: `${registryHost(registryId, reg?.region ?? region)}/${ref.repository}:${tags[0]}`, digest, tags };
}

/** @actions/exec's `exec`, injectable so tests can check what reaches the command line. */
export type ExecFn = (command: string, args: string[], options?: { input?: Buffer; silent?: boolean }) => Promise<number>;

/**
 * Logs docker in to ECR (password masked, on stdin only), then tags and
 * pushes the local image with every tag.
 */
export async function pushImage(
  ecr: ECRClient,
  exec: ExecFn,
  opts: { localImage: string; repository: string; tags: string[] },
  report: Reporter,
  writes: ImageWrites = { done: [] },
): Promise<PublishedImage> {
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = auth.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new Error('ECR GetAuthorizationToken returned no token.');
  report.setSecret(data.authorizationToken);
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  report.setSecret(password);
  const registry = data.proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const run = async (args: string[], input?: Buffer) => {
    const code = await exec('docker', args, input ? { input } : undefined);
    if (code !== 0)
      throw new ActionError(`docker ${args[0]} failed with exit code ${code}.`, { input: 'image', fix: 'See the docker output above.' });
  };
  await run(['login', '--username', 'AWS', '--password-stdin', registry], Buffer.from(password));
  for (const tag of opts.tags) {
    const target = `${registry}/${opts.repository}:${tag}`;
    await run(['tag', opts.localImage, target]);
    writes.pending = `${opts.repository}:${tag}`;
    await run(['push', target]);
    report.info(`pushed ${target}`);
    writes.done.push(`${opts.repository}:${tag}`);
    writes.pending = undefined;
  }
  return { uri: `${registry}/${opts.repository}:${opts.tags[0]}`, tags: opts.tags };
}
