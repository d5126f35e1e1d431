import { describe, expect, it } from 'vitest';
import { getInputs, parseTaskDefinitionInput } from '../../actions/deploy-ecs/inputs.js';

const base = { 'task-definition': 'taskdef.json', cluster: 'delivery-prod', services: 'api' };
const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';
const read = (values: Record<string, string>) =>
  getInputs(reader({ ...base, ...values }), { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' });

describe('getInputs', () => {
  it('applies the documented defaults', () => {
    expect(read({})).toMatchObject({
      taskDefinition: { kind: 'file', path: 'taskdef.json' },
      services: ['api'],
      imagePublish: 'none',
      pollIntervalSeconds: 5,
      timeoutMinutes: 30,
      rollbackOnFailure: true,
      maxFailedTasks: 3,
      maxParallel: 5,
      forceNewDeployment: false,
      pinImageDigest: false,
      desiredCount: undefined,
    });
  });

  it('reads several services (lines or commas) and fractional intervals', () => {
    expect(read({ services: 'api\nworker, cron\n# comment', 'poll-interval-seconds': '0.2', 'timeout-minutes': '0.05' })).toMatchObject({
      services: ['api', 'worker', 'cron'],
      pollIntervalSeconds: 0.2,
      timeoutMinutes: 0.05,
    });
  });

  it.each([
    ['missing cluster', { cluster: '' }, /input 'cluster'.*required/i],
    ['missing services', { services: '' }, /Input 'services' is required/],
    ['duplicate service', { services: 'api\napi' }, /'api' is listed twice/],
    ['bad service name', { services: 'api/v2' }, /'api\/v2' is not a service name/],
    ['malformed ARN', { 'task-definition': 'arn:aws:ecs:eu-west-1:123:task-definition/api' }, /not a task definition ARN/],
    ['bad timeout', { 'timeout-minutes': '0' }, /'timeout-minutes' must be a number in 0.01..360/],
    ['text timeout', { 'timeout-minutes': 'ten' }, /'timeout-minutes'/],
    ['too fast polling', { 'poll-interval-seconds': '0.01' }, /'poll-interval-seconds'/],
    ['bad publish mode', { 'image-publish': 'copy' }, /'image-publish' must be one of none, push, promote/],
    ['push without image', { 'image-publish': 'push', 'ecr-repository': 'delivery/backend' }, /push needs the local image in 'image'/],
    ['promote without tags', { 'image-publish': 'promote', 'source-image': 'delivery/backend:abc' }, /promote needs at least one new tag/],
    ['bad tag', { tags: 'latest,bad tag' }, /'bad tag' is not a valid image tag/],
    ['bad desired count', { 'desired-count': '-1' }, /'desired-count'/],
  ])('%s fails naming the input', (_label, values, message) => {
    expect(() => read(values)).toThrow(message);
  });

  it('reports every bad input at once', () => {
    expect(() => read({ cluster: '', services: '', 'timeout-minutes': 'x' })).toThrow(/3 problems/);
  });
});

describe('parseTaskDefinitionInput', () => {
  it.each([
    ['arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7', 'existing'],
    ['api:7', 'existing'],
    ['infra/taskdef.json', 'file'],
    ['api', 'file'],
  ])('%s is %s', (value, kind) => {
    expect(parseTaskDefinitionInput(value).kind).toBe(kind);
  });
});
