/**
 * ECS DescribeServiceRevisions (deploy-ecs `task-definition: previous`).
 * A service revision is the immutable snapshot a service deployment rolls to
 * (task definition, launch type, network configuration, images); its ARN comes
 * from ListServiceDeployments' `targetServiceRevisionArn` or
 * DescribeServiceDeployments' `sourceServiceRevisions[].arn`.
 *
 * Follows https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
 * (request `serviceRevisionArns`, at most 20; response `serviceRevisions` and
 * `failures` with `arn` / `reason`) and the ServiceRevision shape
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevision.html:
 * serviceRevisionArn, serviceArn, clusterArn, taskDefinition, launchType,
 * networkConfiguration, containerImages, createdAt); `containerImages[].imageDigest` is the digest
 * resolved when the deployment was created (deployments.ts `resolveDigests`). The emulator's revision ARN
 * is the one service-deployments.ts hands out: `service-revision/<cluster>/<service>/<deployment id>`.
 */
import { AwsError, epochSeconds, type EmuContext, type JsonOperations } from '../core.js';
import type { Clusters } from './clusters.js';
import type { Services } from './services.js';

const BAD = 'InvalidParameterException';

export function serviceRevisionOperations(ctx: EmuContext, clusters: Clusters, services: Services): JsonOperations {
  function find(arn: string) {
    const m = /^arn:[^:]+:ecs:[^:]*:\d*:service-revision\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(arn);
    if (!m || !clusters.find(m[1])) return undefined;
    const s = services.find(m[1], m[2]!);
    const d = s?.deployments.find((x) => x.id === `ecs-svc/${m[3]}` && x.createdAt <= ctx.now());
    return s && d ? { s, d } : undefined;
  }
  return {
    DescribeServiceRevisions: (input: { serviceRevisionArns?: string[] }) => {
      if (!input.serviceRevisionArns?.length) throw new AwsError(BAD, 'serviceRevisionArns cannot be empty.');
      if (input.serviceRevisionArns.length > 20) throw new AwsError(BAD, 'serviceRevisionArns can have at most 20 items.');
      const serviceRevisions: unknown[] = [];
      const failures: unknown[] = [];
      for (const arn of input.serviceRevisionArns) {
        const found = find(arn);
        if (!found) {
          failures.push({ arn, reason: 'MISSING' });
          continue;
        }
        const { s, d } = found;
        const containers = d.def.containerDefinitions as { name?: string; image?: string }[];
        serviceRevisions.push({
          serviceRevisionArn: arn,
          serviceArn: s.arn,
          clusterArn: s.clusterArn,
          taskDefinition: d.def.taskDefinitionArn,
          launchType: s.launchType,
          ...(s.networkConfiguration ? { networkConfiguration: s.networkConfiguration } : {}),
          containerImages: containers.map((c) => ({
            containerName: c.name,
            image: c.image,
            ...(c.name && d.imageDigests[c.name] ? { imageDigest: d.imageDigests[c.name] } : {}),
          })),
          createdAt: epochSeconds(d.createdAt),
        });
      }
      return { serviceRevisions, failures };
    },
  };
}
