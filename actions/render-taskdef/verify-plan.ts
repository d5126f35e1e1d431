/**
 * What `verify: true` will look up, worked out from the rendered task
 * definition without calling AWS: which parameters, secrets, images and log
 * groups, grouped so each is asked once, and which references cannot be
 * checked from here. Kept apart from the calls (verify.ts) so the planning is
 * pure and can be tested without clients.
 */
import { ecrRegistry, imageId, parseImageRef } from '../../lib/ecr-image.js';
import type { Location } from '../../lib/errors.js';
import { originKey, type RenderResult } from './render-types.js';
import { parseSecretRef } from './secret-ref.js';

export interface VerifyItem {
  what: string;
  at: Location;
}

export interface VerifyPlan {
  ssm: Map<string, VerifyItem[]>;
  secrets: Map<string, VerifyItem[]>;
  images: Map<
    string,
    { repositoryName: string; registryId: string; imageId: { imageTag?: string; imageDigest?: string }; items: VerifyItem[] }
  >;
  logGroups: Map<string, VerifyItem[]>;
  /**
   * References by ARN, which name an account: checked in ours only when the
   * account is ours (an SSM name looked up here would be a different parameter).
   */
  byArn: { kind: 'ssm' | 'secretsmanager'; account: string; key: string; ref: string; item: VerifyItem }[];
  /** Things that cannot be checked from here (other region, public registries), said once in the log. */
  skipped: string[];
}

export function planVerify(r: RenderResult, region: string): VerifyPlan {
  const plan: VerifyPlan = { ssm: new Map(), secrets: new Map(), images: new Map(), logGroups: new Map(), byArn: [], skipped: [] };
  const push = (map: Map<string, VerifyItem[]>, k: string, item: VerifyItem) => void map.set(k, [...(map.get(k) ?? []), item]);
  r.taskDef.containerDefinitions.forEach((c, i) => {
    const name = String(c.name);
    for (const s of c.secrets ?? []) {
      const ref = parseSecretRef(s.valueFrom ?? '');
      if ('error' in ref) continue;
      const at = r.origins.get(originKey(name, 'secrets', s.name)) ?? r.locate(['containerDefinitions', i, 'secrets']);
      const what = `container '${name}' secret ${s.name}`;
      if (ref.region && ref.region !== region) plan.skipped.push(`${what}: ${ref.ref} is in ${ref.region}, not ${region}`);
      else if (ref.account)
        plan.byArn.push({
          kind: ref.kind,
          account: ref.account,
          key: ref.kind === 'ssm' ? ref.name : ref.secretId,
          ref: ref.ref,
          item: { what, at },
        });
      else if (ref.kind === 'ssm') push(plan.ssm, ref.name, { what, at });
      else push(plan.secrets, ref.secretId, { what, at });
    }
    if (typeof c.image === 'string') {
      const ref = parseImageRef(c.image);
      const reg = ecrRegistry(ref);
      const at = r.locate(['containerDefinitions', i, 'image']);
      if (!reg || !ref.repository || (ref.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(ref.digest))) {
        plan.skipped.push(`container '${name}' image ${c.image} is not in a private ECR registry`);
      } else if (reg.region !== region) plan.skipped.push(`container '${name}' image ${c.image} is in ${reg.region}, not ${region}`);
      else {
        const entry = plan.images.get(c.image) ?? {
          registryId: reg.registryId,
          repositoryName: ref.repository,
          imageId: imageId(ref),
          items: [],
        };
        entry.items.push({ what: `container '${name}' image`, at: { input: 'image', ...at } });
        plan.images.set(c.image, entry);
      }
    }
    const log = c.logConfiguration as { logDriver?: string; options?: Record<string, string> } | undefined;
    const group = log?.logDriver === 'awslogs' ? log.options?.['awslogs-group'] : undefined;
    // With awslogs-create-group ECS creates the group itself at start.
    if (group && log?.options?.['awslogs-create-group'] !== 'true') {
      push(plan.logGroups, group, {
        what: `container '${name}' log group`,
        at: r.locate(['containerDefinitions', i, 'logConfiguration', 'options', 'awslogs-group']),
      });
    }
  });
  return plan;
}
