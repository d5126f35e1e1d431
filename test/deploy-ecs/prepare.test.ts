/**
 * Units of the checks before a deploy: the family guard (pure), promote-from parsing, and `previous`
 * against mocked ECS answers — in particular rows that come back oldest first
 * (AWS documents no order for ListServiceDeployments) and revisions that never served.
 */
import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkFamily, familyOf } from '../../actions/deploy-ecs/family-guard.js';
import { getInputs } from '../../actions/deploy-ecs/inputs.js';
import { resolvePrevious } from '../../actions/deploy-ecs/previous.js';
import { parsePromoteFrom } from '../../actions/deploy-ecs/promote-from.js';

const TD = (ref: string) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/${ref}`;
const REV = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:service-revision/prod/api/${n}`;
/** What the runner prints for an error: input, message and fix (ActionError.toString). */
const problem = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return String(err);
  }
  return '';
};
const services = (m: Record<string, string>) =>
  new Map(Object.entries(m).map(([k, td]) => [k, { serviceName: k, taskDefinition: TD(td) } as Service]));

describe('family guard', () => {
  it('reads the family of an ARN or family:revision', () => {
    expect(familyOf(TD('delivery-prod-backend:12'))).toBe('delivery-prod-backend');
    expect(familyOf('delivery-test-backend:3')).toBe('delivery-test-backend');
    expect(familyOf('previous')).toBeUndefined();
  });
  it('refuses another family, naming both and the fix; allows it when told', () => {
    const before = services({ api: 'delivery-prod-backend:12' });
    expect(problem(() => checkFamily('delivery-test-backend', before, false))).toMatch(
      /input 'task-definition'.*runs family 'delivery-prod-backend'.*family 'delivery-test-backend'.*allow-family-change: true/s,
    );
    expect(checkFamily('delivery-test-backend', before, true)).toEqual([
      { service: 'api', from: 'delivery-prod-backend', to: 'delivery-test-backend' },
    ]);
    expect(checkFamily('delivery-prod-backend', before, false)).toEqual([]);
  });
});

describe('inputs', () => {
  const read = (v: Record<string, string>) =>
    getInputs((n) => ({ 'task-definition': 'taskdef.json', cluster: 'prod', services: 'api', ...v })[n] ?? '', {});
  it('promote-from is cluster/service or a service ARN, and not with push or previous', () => {
    expect(parsePromoteFrom('delivery-staging/backend')).toEqual({ cluster: 'delivery-staging', service: 'backend' });
    expect(parsePromoteFrom('arn:aws:ecs:eu-west-1:123456789012:service/delivery-staging/backend')).toEqual({
      cluster: 'delivery-staging',
      service: 'backend',
    });
    expect(problem(() => read({ 'promote-from': 'backend' }))).toMatch(/input 'promote-from'.*cluster\/service/s);
    expect(() => read({ 'promote-from': 'a/b', 'image-publish': 'push', image: 'x:1', 'ecr-repository': 'x', tags: 'y' })).toThrowError(
      /image-publish: push/,
    );
    expect(() => read({ 'promote-from': 'a/b', 'task-definition': 'previous' })).toThrowError(/task-definition: previous/);
  });
  it('allow-family-change defaults to false; previous is a keyword', () => {
    expect(read({}).allowFamilyChange).toBe(false);
    expect(read({ 'task-definition': 'previous' }).taskDefinition).toEqual({ kind: 'existing', ref: 'previous' });
  });
});

describe('previous', () => {
  const ecs = mockClient(ECSClient);
  beforeEach(() => {
    ecs.reset();
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'api', taskDefinition: TD('api:5'), status: 'ACTIVE' }] });
    ecs.on(DescribeServiceRevisionsCommand).callsFake((input: { serviceRevisionArns: string[] }) => ({
      serviceRevisions: input.serviceRevisionArns.map((arn) => ({
        serviceRevisionArn: arn,
        taskDefinition: TD(`api:${Number(arn.split('/').pop()) % 10}`),
      })),
    }));
  });

  it('takes the newest successful deployment of another revision, whatever order ECS lists them in', async () => {
    // Oldest first: api:3 (t=1), api:4 (t=2), api:5 (t=3, current). 4 is previous, not 3.
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [3, 4, 5].map((n) => ({
        targetServiceRevisionArn: REV(10 + n),
        createdAt: new Date(n * 1000),
        status: 'SUCCESSFUL',
      })),
    });
    const [p] = await resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api']);
    expect(p!.previous).toBe(TD('api:4'));
    // Only successful deployments are asked for.
    expect(ecs.commandCalls(ListServiceDeploymentsCommand)[0]!.args[0].input.status).toEqual(['SUCCESSFUL']);
  });

  it('walks past the current revision redeployed several times', async () => {
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        { targetServiceRevisionArn: REV(15), createdAt: new Date(9000) },
        { targetServiceRevisionArn: REV(25), createdAt: new Date(8000) },
        { targetServiceRevisionArn: REV(32), createdAt: new Date(7000) },
      ],
    });
    const [p] = await resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api']);
    expect(p!.previous).toBe(TD('api:2'));
  });

  it('no earlier revision: an error that names the input and the fix', async () => {
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [{ targetServiceRevisionArn: REV(15), createdAt: new Date(1000) }] });
    const err = await resolvePrevious(ecs as unknown as ECSClient, 'prod', ['api']).catch((e: unknown) => String(e));
    expect(err).toMatch(/input 'task-definition'.*no earlier successful deployment.*family:revision/s);
  });
});
