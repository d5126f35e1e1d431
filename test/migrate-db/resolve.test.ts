import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { classifyTaskDefinition, resolveTargets } from '../../actions/migrate-db/resolve.js';
import { CLUSTER, backendService, backendTaskDef, inputsFrom } from './fixtures.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'eu-west-1' });
const workspace = mkdtempSync(join(tmpdir(), 'migrate-resolve-'));
writeFileSync(
  join(workspace, 'backend.json'),
  JSON.stringify({ family: 'delivery-test-backend', containerDefinitions: [{ name: 'backend', image: 'x:1' }] }),
);

beforeEach(() => ecsMock.reset());

describe('classifyTaskDefinition', () => {
  it.each([
    ['arn:aws:ecs:eu-west-1:123456789012:task-definition/delivery-test-backend:7', 'reference'],
    ['delivery-test-backend:7', 'reference'],
    ['delivery-test-backend', 'reference'],
    ['backend.json', 'file'],
    ['rendered/missing.json', 'file'],
  ])('%s is a %s', (value, kind) => {
    expect(classifyTaskDefinition(value, workspace).kind).toBe(kind);
  });

  it('rejects anything else, naming the input', () => {
    expect(() => classifyTaskDefinition('my task def!', workspace)).toThrow(/Input 'task-definition' is 'my task def!'/);
  });
});

describe('resolveTargets', () => {
  it("uses the service's current task definition when none is given", async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [backendService()] });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: backendTaskDef() });
    const r = await resolveTargets(ecs, inputsFrom({ cluster: CLUSTER, service: 'backend' }), workspace);
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input).toEqual({
      taskDefinition: backendService().taskDefinition,
    });
    expect(r.source).toEqual({ kind: 'reference', arn: backendTaskDef().taskDefinitionArn });
  });

  it('reads a file without describing any task definition', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [backendService()] });
    const r = await resolveTargets(ecs, inputsFrom({ cluster: CLUSTER, service: 'backend', 'task-definition': 'backend.json' }), workspace);
    expect(r.source.kind).toBe('file');
    expect(r.taskDefinition.family).toBe('delivery-test-backend');
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });

  it.each([
    [
      'a missing file, before any AWS call',
      { service: 'backend', 'task-definition': 'rendered/missing.json' },
      /input 'task-definition'|Cannot read task-definition file/,
    ],
    ['neither service nor task definition', {}, /Neither service nor task-definition is set/],
  ])('fails on %s', async (_name, values, message) => {
    await expect(resolveTargets(ecs, inputsFrom({ cluster: CLUSTER, ...values }), workspace)).rejects.toThrow(message);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('names the service input when the service does not exist', async () => {
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: 'x', reason: 'MISSING' }] });
    await expect(resolveTargets(ecs, inputsFrom({ cluster: CLUSTER, service: 'payments' }), workspace)).rejects.toMatchObject({
      location: { input: 'service' },
      message: "Service 'payments' was not found in cluster 'delivery-test' (MISSING).",
    });
  });
});
