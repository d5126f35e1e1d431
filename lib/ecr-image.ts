/**
 * Image references as docker and ECR read them, shared by deploy-ecs (check,
 * pin, promote) and render-taskdef (`verify`).
 */
export interface ImageRef {
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** Splits `[registry/]repo[:tag][@digest]` the way docker does (a first part with `.`/`:` or `localhost` is a registry). */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { registry, repository: rest, tag, digest };
}

export function ecrRegistry(ref: ImageRef): { registryId: string; region: string } | undefined {
  const m = ref.registry ? ECR_HOST.exec(ref.registry) : null;
  return m ? { registryId: m[1]!, region: m[2]! } : undefined;
}

export const registryHost = (registryId: string, region: string): string => `${registryId}.dkr.ecr.${region}.amazonaws.com`;

/** The ECR `imageIds` entry for a reference: its digest, else its tag (docker's default `latest`). */
export function imageId(ref: ImageRef): { imageTag?: string; imageDigest?: string } {
  return ref.digest ? { imageDigest: ref.digest } : { imageTag: ref.tag ?? 'latest' };
}
