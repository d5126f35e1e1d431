import { BatchGetImageCommand, DescribeImagesCommand, ECRClient, GetAuthorizationTokenCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkImages, pinDigests, promoteImage, pushImage } from '../../actions/deploy-ecs/image.js';
import { memoryReporter } from '../../lib/report.js';

const REG = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ecrMock = mockClient(ECRClient);
const ecr = new ECRClient({ region: 'eu-west-1' });
const err = (name: string) => Object.assign(new Error(name), { name });
beforeEach(() => ecrMock.reset());

describe('pushImage', () => {
  it('passes the password on stdin only, masks it, and pushes the SHA and extra tags', async () => {
    const password = 'super-secret-ecr-password';
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), proxyEndpoint: `https://${REG}` }],
    });
    const calls: { cmd: string; args: string[]; input?: string }[] = [];
    const report = memoryReporter();
    const secrets: string[] = [];
    report.setSecret = (v) => void secrets.push(v);
    const res = await pushImage(
      ecr,
      async (cmd, args, opts) => {
        calls.push({ cmd, args, input: opts?.input?.toString() });
        return 0;
      },
      { localImage: 'backend:ci', repository: 'delivery/backend', tags: ['0123abc', 'staging'] },
      report,
    );
    expect(secrets).toContain(password);
    for (const c of calls) expect(c.args.join(' ')).not.toContain(password);
    expect(calls[0]).toEqual({ cmd: 'docker', args: ['login', '--username', 'AWS', '--password-stdin', REG], input: password });
    expect(calls.slice(1).map((c) => c.args.join(' '))).toEqual([
      `tag backend:ci ${REG}/delivery/backend:0123abc`,
      `push ${REG}/delivery/backend:0123abc`,
      `tag backend:ci ${REG}/delivery/backend:staging`,
      `push ${REG}/delivery/backend:staging`,
    ]);
    expect(res.uri).toBe(`${REG}/delivery/backend:0123abc`);
  });

  it('fails clearly when docker fails', async () => {
    ecrMock
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64'), proxyEndpoint: `https://${REG}` }] });
    await expect(
      pushImage(
        ecr,
        async (_c, args) => (args[0] === 'push' ? 1 : 0),
        { localImage: 'b:ci', repository: 'r', tags: ['t'] },
        memoryReporter(),
      ),
    ).rejects.toThrow(/docker push failed with exit code 1/);
  });
});

describe('promoteImage', () => {
  const manifest = '{"schemaVersion":2}';
  beforeEach(() => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [
        {
          registryId: '123456789012',
          imageId: { imageDigest: 'sha256:aa', imageTag: 'abc' },
          imageManifest: manifest,
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    });
  });

  it('re-tags with the same manifest and media type (no layers)', async () => {
    ecrMock.on(PutImageCommand).resolves({});
    const res = await promoteImage(ecr, 'delivery/backend:abc', ['prod'], 'eu-west-1', memoryReporter());
    expect(ecrMock.commandCalls(PutImageCommand)[0]!.args[0].input).toMatchObject({
      repositoryName: 'delivery/backend',
      imageManifest: manifest,
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      imageTag: 'prod',
    });
    expect(res).toMatchObject({ uri: `${REG}/delivery/backend:prod`, digest: 'sha256:aa' });
  });

  it('treats the same digest already tagged as success', async () => {
    ecrMock.on(PutImageCommand).rejects(err('ImageAlreadyExistsException'));
    await expect(promoteImage(ecr, 'delivery/backend:abc', ['prod'], 'eu-west-1', memoryReporter())).resolves.toMatchObject({
      digest: 'sha256:aa',
    });
  });

  it('explains an immutable-tag conflict', async () => {
    ecrMock.on(PutImageCommand).rejects(err('ImageTagAlreadyExistsException'));
    await expect(promoteImage(ecr, 'delivery/backend:abc', ['prod'], 'eu-west-1', memoryReporter())).rejects.toThrow(
      /Tag 'prod' already points at another image .* immutable/,
    );
  });

  it('names the source image when it does not exist', async () => {
    ecrMock
      .on(BatchGetImageCommand)
      .resolves({ images: [], failures: [{ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }] });
    await expect(promoteImage(ecr, 'delivery/backend:nope', ['prod'], 'eu-west-1', memoryReporter())).rejects.toThrow(
      /Source image delivery\/backend:nope was not found.*ImageNotFound/,
    );
  });
});

describe('checkImages / pinDigests', () => {
  const def = {
    family: 'api',
    containerDefinitions: [
      { name: 'backend', image: `${REG}/delivery/backend:abc` },
      { name: 'otel', image: 'public.ecr.aws/aws-observability/aws-otel-collector:latest' },
    ],
  };

  it('checks ECR images, skips others, and pins digests', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:bb' }] });
    const checked = await checkImages(ecr, def, 'eu-west-1');
    expect(checked).toEqual([
      { container: 'backend', image: `${REG}/delivery/backend:abc`, digest: 'sha256:bb' },
      { container: 'otel', image: def.containerDefinitions[1]!.image, skipped: 'not an ECR image' },
    ]);
    expect(pinDigests(def, checked).containerDefinitions!.map((c) => c.image)).toEqual([
      `${REG}/delivery/backend@sha256:bb`,
      def.containerDefinitions[1]!.image,
    ]);
  });

  it('fails before deploying when an image is missing, naming the container', async () => {
    ecrMock.on(DescribeImagesCommand).rejects(err('ImageNotFoundException'));
    await expect(checkImages(ecr, def, 'eu-west-1')).rejects.toThrow(
      /Image .*delivery\/backend:abc of container 'backend' does not exist in ECR/,
    );
  });
});
