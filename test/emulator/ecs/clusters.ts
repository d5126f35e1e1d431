/** ECS clusters: CreateCluster, DescribeClusters, and resolving `cluster` parameters (name, ARN, or the `default` cluster). */
import { AwsError, type EmuContext } from '../core.js';

export interface Cluster {
  name: string;
  arn: string;
  status: 'ACTIVE' | 'INACTIVE';
  tags: { key: string; value: string }[];
}

export class Clusters {
  private readonly byName = new Map<string, Cluster>();

  constructor(private readonly ctx: EmuContext) {}

  create(name = 'default', tags: Cluster['tags'] = []): Cluster {
    let c = this.byName.get(name);
    if (!c) {
      c = { name, arn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:cluster/${name}`, status: 'ACTIVE', tags };
      this.byName.set(name, c);
    }
    return c;
  }

  find(ref: string | undefined): Cluster | undefined {
    const name = !ref ? 'default' : ref.startsWith('arn:') ? ref.split('/').pop()! : ref;
    return this.byName.get(name);
  }

  /** The cluster a request names; ClusterNotFoundException as ECS returns it. */
  resolve(ref: string | undefined): Cluster {
    const c = this.find(ref);
    if (!c || c.status !== 'ACTIVE') throw new AwsError('ClusterNotFoundException', 'Cluster not found.');
    return c;
  }
}
