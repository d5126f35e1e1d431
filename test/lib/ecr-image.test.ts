import { describe, expect, it } from 'vitest';
import { ecrRegistry, imageId, parseImageRef } from '../../lib/ecr-image.js';

const REG = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('parseImageRef', () => {
  it.each([
    [`${REG}/delivery/backend:abc`, { registry: REG, repository: 'delivery/backend', tag: 'abc' }],
    [`${REG}/delivery/backend@sha256:00ff`, { registry: REG, repository: 'delivery/backend', digest: 'sha256:00ff' }],
    ['delivery/backend:abc', { repository: 'delivery/backend', tag: 'abc' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['nginx', { repository: 'nginx' }],
  ])('%s', (ref, expected) => {
    expect(parseImageRef(ref)).toMatchObject(expected);
  });
});

describe('ecrRegistry and imageId', () => {
  it.each([
    [`${REG}/delivery/backend:abc`, { registryId: '123456789012', region: 'eu-west-1' }, { imageTag: 'abc' }],
    [`${REG}/delivery/backend`, { registryId: '123456789012', region: 'eu-west-1' }, { imageTag: 'latest' }],
    [`${REG}/delivery/backend@sha256:00ff`, { registryId: '123456789012', region: 'eu-west-1' }, { imageDigest: 'sha256:00ff' }],
    ['public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1', undefined, { imageTag: 'v0.43.1' }],
    ['nginx', undefined, { imageTag: 'latest' }],
  ])('%s', (uri, registry, id) => {
    const ref = parseImageRef(uri);
    expect(ecrRegistry(ref)).toEqual(registry);
    expect(imageId(ref)).toEqual(id);
  });
});
