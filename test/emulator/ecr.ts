/** Amazon ECR (awsJson1_1, target prefix `AmazonEC2ContainerRegistry_V20150921`). */
import { createHash } from 'node:crypto';
import { AwsError, epochSeconds, paginate, type EmuContext, type JsonOperations } from './core.js';

interface Image {
  digest: string;
  tags: string[];
  manifest: string;
  mediaType: string;
  pushedAt: number;
  size: number;
}

interface Repository {
  name: string;
  createdAt: number;
  mutability: 'MUTABLE' | 'IMMUTABLE';
  images: Image[];
}

interface ImageId {
  imageTag?: string;
  imageDigest?: string;
}

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

export class EcrService {
  private readonly repos = new Map<string, Repository>();

  constructor(private readonly ctx: EmuContext) {}

  createRepository(name: string, mutability: 'MUTABLE' | 'IMMUTABLE' = 'MUTABLE'): string {
    if (!this.repos.has(name)) this.repos.set(name, { name, createdAt: this.ctx.now(), mutability, images: [] });
    return this.uri(name);
  }

  /** Seeds an image (creating the repository); the manifest is generated so each tag gets a stable digest. */
  putImage(repository: string, tag: string, manifest?: string): { digest: string } {
    this.createRepository(repository);
    const body = manifest ?? generatedManifest(repository, tag);
    return { digest: this.store(this.repos.get(repository)!, body, MANIFEST_TYPE, tag).digest };
  }

  /** The digest an image reference of this registry points at now (tag or digest); undefined when unknown. */
  digestOf(image: string): string | undefined {
    const m = /^(?:\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/([^:@]+)(?::([^@]+))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(image);
    const repo = m ? this.repos.get(m[1]!) : undefined;
    if (!repo) return undefined;
    return this.find(repo, m![3] ? { imageDigest: m![3] } : { imageTag: m![2] ?? 'latest' })?.digest;
  }

  uri(name: string): string {
    return `${this.ctx.account}.dkr.ecr.${this.ctx.region}.amazonaws.com/${name}`;
  }

  private store(repo: Repository, manifest: string, mediaType: string, tag?: string): Image {
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    let image = repo.images.find((i) => i.digest === digest);
    if (tag) for (const other of repo.images) if (other !== image) other.tags = other.tags.filter((t) => t !== tag);
    if (!image) {
      image = { digest, tags: [], manifest, mediaType, pushedAt: this.ctx.now(), size: 30_000_000 + manifest.length };
      repo.images.push(image);
    }
    if (tag && !image.tags.includes(tag)) image.tags.push(tag);
    return image;
  }

  private repo(name: string | undefined, registryId?: string): Repository {
    const repo = name ? this.repos.get(name) : undefined;
    if (!repo) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${registryId ?? this.ctx.account}'`,
      );
    }
    return repo;
  }

  private find(repo: Repository, id: ImageId): Image | undefined {
    return repo.images.find((i) => (!id.imageDigest || i.digest === id.imageDigest) && (!id.imageTag || i.tags.includes(id.imageTag)));
  }

  operations(): JsonOperations {
    const registryId = this.ctx.account;
    return {
      CreateRepository: (input: { repositoryName: string; imageTagMutability?: 'MUTABLE' | 'IMMUTABLE' }) => {
        if (this.repos.has(input.repositoryName)) {
          throw new AwsError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${input.repositoryName}' already exists in the registry with id '${registryId}'`,
          );
        }
        this.createRepository(input.repositoryName, input.imageTagMutability);
        return { repository: this.describeRepo(this.repos.get(input.repositoryName)!) };
      },
      DescribeRepositories: (input: { repositoryNames?: string[]; maxResults?: number; nextToken?: string }) => {
        const repos = input.repositoryNames?.length ? input.repositoryNames.map((n) => this.repo(n)) : [...this.repos.values()];
        if (input.repositoryNames?.length && input.maxResults)
          throw new AwsError('InvalidParameterException', 'maxResults cannot be used with repositoryNames.');
        const { page, nextToken } = paginate('DescribeRepositories', repos, {
          nextToken: input.nextToken,
          maxResults: input.maxResults,
          defaultMax: 100,
          limit: 1000,
          errorCode: 'InvalidParameterException',
        });
        return { repositories: page.map((r) => this.describeRepo(r)), ...(nextToken ? { nextToken } : {}) };
      },
      DescribeImages: (input: {
        repositoryName: string;
        registryId?: string;
        imageIds?: ImageId[];
        maxResults?: number;
        nextToken?: string;
        filter?: { tagStatus?: string };
      }) => {
        const repo = this.repo(input.repositoryName, input.registryId);
        let images: Image[];
        if (input.imageIds?.length) {
          images = input.imageIds.map((id) => {
            const image = this.find(repo, id);
            if (!image) {
              throw new AwsError(
                'ImageNotFoundException',
                `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${registryId}'`,
              );
            }
            return image;
          });
        } else {
          const status = input.filter?.tagStatus ?? 'ANY';
          images = repo.images.filter((i) => status === 'ANY' || (status === 'TAGGED' ? i.tags.length > 0 : i.tags.length === 0));
        }
        const { page, nextToken } = paginate(`DescribeImages:${repo.name}`, images, {
          nextToken: input.nextToken,
          maxResults: input.maxResults,
          defaultMax: 100,
          limit: 1000,
          errorCode: 'InvalidParameterException',
        });
        return {
          imageDetails: page.map((i) => ({
            registryId,
            repositoryName: repo.name,
            imageDigest: i.digest,
            ...(i.tags.length ? { imageTags: [...i.tags] } : {}),
            imageSizeInBytes: i.size,
            imagePushedAt: epochSeconds(i.pushedAt),
            imageManifestMediaType: i.mediaType,
            artifactMediaType: 'application/vnd.docker.container.image.v1+json',
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      },
      BatchGetImage: (input: { repositoryName: string; registryId?: string; imageIds: ImageId[]; acceptedMediaTypes?: string[] }) => {
        const repo = this.repo(input.repositoryName, input.registryId);
        if (!input.imageIds?.length || input.imageIds.length > 100)
          throw new AwsError('InvalidParameterException', 'imageIds must contain between 1 and 100 items.');
        const images: unknown[] = [];
        const failures: unknown[] = [];
        for (const id of input.imageIds) {
          const image = this.find(repo, id);
          if (image) {
            images.push({
              registryId,
              repositoryName: repo.name,
              imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
              imageManifest: image.manifest,
              imageManifestMediaType: image.mediaType,
            });
          } else {
            failures.push({
              imageId: id,
              failureCode: id.imageTag ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
              failureReason: 'Requested image not found',
            });
            if (!id.imageDigest) (failures.at(-1) as { failureCode: string }).failureCode = 'ImageNotFound';
          }
        }
        return { images, failures };
      },
      PutImage: (input: {
        repositoryName: string;
        imageManifest: string;
        imageManifestMediaType?: string;
        imageTag?: string;
        imageDigest?: string;
      }) => {
        const repo = this.repo(input.repositoryName);
        const digest = `sha256:${createHash('sha256').update(input.imageManifest).digest('hex')}`;
        if (input.imageDigest && input.imageDigest !== digest)
          throw new AwsError('ReferencedImagesNotFoundException', 'The digest does not match the manifest.');
        const existing = repo.images.find((i) => i.digest === digest);
        if (existing && (!input.imageTag || existing.tags.includes(input.imageTag))) {
          throw new AwsError(
            'ImageAlreadyExistsException',
            `Image with digest '${digest}' and tag '${input.imageTag ?? 'null'}' already exists in the repository with name '${repo.name}' in registry with id '${registryId}'`,
          );
        }
        if (input.imageTag && repo.mutability === 'IMMUTABLE' && repo.images.some((i) => i.tags.includes(input.imageTag!))) {
          throw new AwsError(
            'ImageTagAlreadyExistsException',
            `The image tag '${input.imageTag}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`,
          );
        }
        const image = this.store(repo, input.imageManifest, input.imageManifestMediaType ?? MANIFEST_TYPE, input.imageTag);
        return {
          image: {
            registryId,
            repositoryName: repo.name,
            imageId: { imageDigest: image.digest, ...(input.imageTag ? { imageTag: input.imageTag } : {}) },
            imageManifest: image.manifest,
            imageManifestMediaType: image.mediaType,
          },
        };
      },
      GetAuthorizationToken: () => ({
        authorizationData: [
          {
            authorizationToken: Buffer.from('AWS:emulator-password').toString('base64'),
            expiresAt: epochSeconds(this.ctx.now() + 12 * 3600_000),
            proxyEndpoint: `https://${registryId}.dkr.ecr.${this.ctx.region}.amazonaws.com`,
          },
        ],
      }),
    };
  }

  private describeRepo(r: Repository): Record<string, unknown> {
    return {
      repositoryArn: `arn:aws:ecr:${this.ctx.region}:${this.ctx.account}:repository/${r.name}`,
      registryId: this.ctx.account,
      repositoryName: r.name,
      repositoryUri: this.uri(r.name),
      createdAt: epochSeconds(r.createdAt),
      imageTagMutability: r.mutability,
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }
}

function generatedManifest(repository: string, tag: string): string {
  const layer = createHash('sha256').update(`${repository}:${tag}`).digest('hex');
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 1470,
      digest: `sha256:${createHash('sha256').update(`config:${layer}`).digest('hex')}`,
    },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 29_000_000, digest: `sha256:${layer}` }],
  });
}
