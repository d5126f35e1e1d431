/** ECS ListServiceDeployments / DescribeServiceDeployments (milestone 2). */
import type { EmuContext, JsonOperations } from '../core.js';
import type { Clusters } from './clusters.js';
import type { Services } from './services.js';

export function serviceDeploymentOperations(_ctx: EmuContext, _clusters: Clusters, _services: Services): JsonOperations {
  return {};
}
