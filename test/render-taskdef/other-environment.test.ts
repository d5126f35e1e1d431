/**
 * A secret reference the template hardcodes for another environment (a prod task reading the
 * test database) fails the render; the check must see the environment as a path segment of an
 * SSM name or ARN and of a Secrets Manager ARN, whose name follows `secret:`.
 */
import { describe, expect, it } from 'vitest';
import { baseInputs, editJson, exampleWorkspace, render } from './fixture.js';

const TEMPLATE = 'infra/taskdef/backend.json';

async function renderWithTemplateSecret(valueFrom: string, environment: string) {
  const root = exampleWorkspace();
  editJson(root, TEMPLATE, (doc) => {
    doc.containerDefinitions[0].secrets = [{ name: 'PAYMENTS_KEY', valueFrom }];
  });
  return render(root, { ...baseInputs, environment });
}

describe('render-taskdef: a template secret of another environment', () => {
  it.each([
    ['an SSM parameter name', '/delivery/test/PAYMENTS_KEY'],
    ['an SSM parameter ARN', 'arn:aws:ssm:eu-west-1:123456789012:parameter/delivery/test/PAYMENTS_KEY'],
    [
      'a Secrets Manager ARN whose name starts with the environment',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/payments-Ab12Cd',
    ],
    ['a Secrets Manager ARN with a JSON key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test/payments-Ab12Cd:api_key::'],
  ])('%s naming test fails a prod render, with the fix', async (_label, valueFrom) => {
    const r = await renderWithTemplateSecret(valueFrom, 'prod');
    expect(r.result).toBeUndefined();
    expect(r.text).toContain(`container 'backend': secret PAYMENTS_KEY is ${valueFrom}, a 'test' resource, in a 'prod' render.`);
    expect(r.text).toContain('Fix: Set it for prod in infra/env/features/core.json');
  });

  it.each([
    ['its own environment (SSM)', '/delivery/prod/PAYMENTS_KEY'],
    ['its own environment (Secrets Manager)', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/payments-Ab12Cd'],
    ['an environment name only inside a segment', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:latest-payments-Ab12Cd'],
  ])('%s renders', async (_label, valueFrom) => {
    const r = await renderWithTemplateSecret(valueFrom, 'prod');
    expect(r.text).toBe('');
    expect(r.result?.path).toBeDefined();
  });
});
