/**
 * The emulator's DescribeServiceRevisions against the API reference
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html):
 * ARNs from ListServiceDeployments resolve to the task definition each deployment
 * rolled to; unknown ARNs come back as failures; at most 20 ARNs per call.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DescribeServiceRevisionsCommand, ListServiceDeploymentsCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { Emulator } from './index.js';
import { awsvpc, clockedEcs, fargateTaskDef, type clients, type manualClock } from './fixtures.js';

let emu: Emulator;
let c: ReturnType<typeof clients>;
let clock: ReturnType<typeof manualClock>;
const cluster = 'delivery-test';

beforeEach(async () => {
  ({ emu, c, clock } = await clockedEcs(cluster));
  emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-api'));
  emu.ecs.registerTaskDefinition(fargateTaskDef('delivery-api'));
  emu.ecs.createService({ cluster, serviceName: 'api', taskDefinition: 'delivery-api:1', desiredCount: 1, networkConfiguration: awsvpc });
  clock.advance(60);
});
afterEach(async () => {
  await emu.stop();
});

describe('DescribeServiceRevisions', () => {
  it('resolves each deployment target revision to its task definition', async () => {
    await c.ecs.send(new UpdateServiceCommand({ cluster, service: 'api', taskDefinition: 'delivery-api:2' }));
    clock.advance(120);
    const list = (await c.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'api' }))).serviceDeployments!;
    expect(list).toHaveLength(2);
    const out = await c.ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: list.map((d) => d.targetServiceRevisionArn!) }),
    );
    const byArn = new Map(out.serviceRevisions!.map((r) => [r.serviceRevisionArn, r]));
    const tds = list.map((d) => byArn.get(d.targetServiceRevisionArn)!.taskDefinition);
    expect(tds.sort()).toEqual([
      expect.stringMatching(/task-definition\/delivery-api:1$/),
      expect.stringMatching(/task-definition\/delivery-api:2$/),
    ]);
    const rev = byArn.get(list[0]!.targetServiceRevisionArn)!;
    expect(rev.serviceArn).toMatch(/:service\/delivery-test\/api$/);
    expect(rev.containerImages?.[0]?.containerName).toBeTruthy();
    expect(out.failures).toEqual([]);
  });

  it('reports unknown ARNs as failures and rejects more than 20', async () => {
    const unknown = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/delivery-test/api/0000000000';
    const out = await c.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [unknown] }));
    expect(out.serviceRevisions).toEqual([]);
    expect(out.failures).toEqual([{ arn: unknown, reason: 'MISSING' }]);
    await expect(
      c.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: Array.from({ length: 21 }, () => unknown) })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});
