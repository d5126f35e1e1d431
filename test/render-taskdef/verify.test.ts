import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClientFactory, clientConfig } from '../../lib/aws.js';
import { SSM_BATCH } from '../../actions/render-taskdef/verify.js';
import { baseInputs, editJson, exampleWorkspace, render } from './fixture.js';

const ssm = mockClient(SSMClient);
const sm = mockClient(SecretsManagerClient);
const ecr = mockClient(ECRClient);
const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);
const mocks = [ssm, sm, ecr, logs, sts];
const OWN_ACCOUNT = '123456789012';

let created: string[] = [];
const clients = (region: string) => {
  const factory = new ClientFactory(() => clientConfig({ region, action: 'render-taskdef', maxAttempts: 1 }));
  const get = factory.get.bind(factory);
  factory.get = (ctor) => {
    created.push(ctor.name);
    return get(ctor);
  };
  return factory;
};

function everythingExists() {
  ssm.on(DescribeParametersCommand).callsFake(async (input: { ParameterFilters: { Values: string[] }[] }) => ({
    Parameters: input.ParameterFilters[0]!.Values.map((Name) => ({ Name })),
  }));
  sm.on(DescribeSecretCommand).callsFake(async (input: { SecretId: string }) => ({ ARN: input.SecretId, Name: 'x' }));
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc' }] });
  logs.on(DescribeLogGroupsCommand).callsFake(async (input: { logGroupNamePrefix: string }) => ({
    logGroups: [{ logGroupName: `${input.logGroupNamePrefix}-other` }, { logGroupName: input.logGroupNamePrefix }],
  }));
}

const secretValueCalls = () => [
  ...ssm.commandCalls(GetParameterCommand),
  ...ssm.commandCalls(GetParametersCommand),
  ...sm.commandCalls(GetSecretValueCommand),
];

beforeEach(() => {
  created = [];
  for (const m of mocks) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: OWN_ACCOUNT, Arn: `arn:aws:iam::${OWN_ACCOUNT}:role/deploy` });
});
afterEach(() => expect(secretValueCalls()).toEqual([]));

describe('render-taskdef verify: true (read-only existence checks)', () => {
  it('without verify constructs no AWS client at all', async () => {
    const r = await render(exampleWorkspace(), baseInputs, { clients });
    expect(r.result).toBeDefined();
    expect(created).toEqual([]);
    for (const m of mocks) expect(m.calls()).toEqual([]);
  });

  it('checks every SSM parameter, secret, ECR image and log group with Describe calls only', async () => {
    everythingExists();
    const r = await render(exampleWorkspace(), { ...baseInputs, verify: 'true' }, { clients });
    expect(r.text).toBe('');
    expect(r.result).toBeDefined();
    const filters = ssm.commandCalls(DescribeParametersCommand).flatMap((c) => c.args[0].input.ParameterFilters ?? []);
    expect(filters).toEqual([{ Key: 'Name', Option: 'Equals', Values: ['/delivery/test/DATABASE_URL', '/delivery/test/REDIS_URL'] }]);
    expect(sm.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd',
    ]);
    expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input)).toEqual([
      { registryId: '123456789012', repositoryName: 'delivery/backend', imageIds: [{ imageTag: 'abc123' }] },
    ]);
    // Both containers log to the same group: one call.
    expect(logs.commandCalls(DescribeLogGroupsCommand).map((c) => c.args[0].input.logGroupNamePrefix)).toEqual(['/ecs/delivery-test']);
    expect(r.reporter.lines.join('\n')).toMatch(/not verified: container 'otel-collector' image public\.ecr\.aws/);
  });

  it('reports every miss at once, each on the line that set it, and writes nothing', async () => {
    ssm.on(DescribeParametersCommand).resolves({ Parameters: [{ Name: '/delivery/test/REDIS_URL' }] });
    sm.on(DescribeSecretCommand).rejects(
      Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }),
    );
    ecr
      .on(DescribeImagesCommand)
      .rejects(Object.assign(new Error('The image with imageId {imageTag:abc123} does not exist'), { name: 'ImageNotFoundException' }));
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/ecs/delivery-test-old' }] });
    const r = await render(exampleWorkspace(), { ...baseInputs, verify: 'true', output: 'out.json' }, { clients });
    expect(r.result).toBeUndefined();
    expect(r.error?.message).toMatch(/verify found 5 missing resource\(s\)/);
    expect(r.text).toMatch(
      /core\.json:\d+ defaults\.byContainer\.backend\.secrets\.DATABASE_URL: container 'backend' secret DATABASE_URL: SSM parameter \/delivery\/test\/DATABASE_URL does not exist/,
    );
    expect(r.text).toMatch(
      /core\.json:\d+ environments\.test\.byContainer\.backend\.secrets\.STRIPE_API_KEY: .*secret arn:aws:secretsmanager:.*stripe-Ab12Cd does not exist/,
    );
    expect(r.text).toMatch(
      /backend\.json:13 containerDefinitions\[0\]\.image: container 'backend' image: image .*delivery\/backend:abc123 is not in ECR \(ImageNotFoundException\)/,
    );
    expect(r.text).toMatch(/backend\.json:35 .*container 'backend' log group: log group \/ecs\/delivery-test does not exist/);
    expect(r.text).toMatch(/backend\.json:50 .*container 'otel-collector' log group/);
    expect(readdirSync(r.runnerTemp)).toEqual([]);
  });

  it(`batches DescribeParameters at ${SSM_BATCH} names per filter`, async () => {
    everythingExists();
    const root = exampleWorkspace();
    editJson(root, 'infra/env/features/core.json', (d) => {
      for (let i = 0; i < 60; i++) d.defaults.byContainer.backend.secrets[`S_${i}`] = `/delivery/test/S_${i}`;
    });
    const r = await render(root, { ...baseInputs, verify: 'true' }, { clients });
    expect(r.text).toBe('');
    const sizes = ssm.commandCalls(DescribeParametersCommand).map((c) => c.args[0].input.ParameterFilters![0]!.Values!.length);
    expect(sizes.sort((a, b) => a - b)).toEqual([12, 50]);
  });

  it('follows NextToken when DescribeParameters pages its results', async () => {
    ssm
      .on(DescribeParametersCommand)
      .resolvesOnce({ Parameters: [{ Name: '/delivery/test/DATABASE_URL' }], NextToken: 't1' })
      .resolvesOnce({ Parameters: [{ Name: '/delivery/test/REDIS_URL' }] });
    sm.on(DescribeSecretCommand).resolves({});
    ecr.on(DescribeImagesCommand).resolves({});
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/ecs/delivery-test' }] });
    const r = await render(exampleWorkspace(), { ...baseInputs, verify: 'true' }, { clients });
    expect(r.text).toBe('');
    expect(ssm.commandCalls(DescribeParametersCommand)[1]!.args[0].input.NextToken).toBe('t1');
  });

  describe('references of another account', () => {
    const STRIPE = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:delivery/test/stripe-Ab12Cd';
    const FOREIGN_STRIPE = STRIPE.replace('123456789012', '210987654321');
    const crossAccount = () => {
      const root = exampleWorkspace();
      editJson(root, 'infra/env/features/core.json', (d) => {
        d.defaults.byContainer.backend.secrets.DATABASE_URL = 'arn:aws:ssm:eu-west-1:210987654321:parameter/delivery/test/DATABASE_URL';
        d.environments.test.byContainer.backend.secrets.STRIPE_API_KEY = `${FOREIGN_STRIPE}:api_key::`;
      });
      return root;
    };

    it('an SSM parameter ARN of another account is "not checked: account", never looked up by name in ours', async () => {
      everythingExists();
      const r = await render(crossAccount(), { ...baseInputs, verify: 'true' }, { clients });
      expect(r.result).toBeDefined();
      const filters = ssm.commandCalls(DescribeParametersCommand).flatMap((c) => c.args[0].input.ParameterFilters ?? []);
      expect(filters.flatMap((f) => f.Values)).toEqual(['/delivery/test/REDIS_URL']);
      expect(r.reporter.lines.join('\n')).toMatch(
        /warning: container 'backend' secret DATABASE_URL: not checked: account 210987654321 .*this job runs as account 123456789012/,
      );
      expect(r.result!.summary).toMatch(/not checked: account 210987654321/);
    });

    it('a Secrets Manager secret of another account is checked there by its full ARN, and says so', async () => {
      everythingExists();
      const r = await render(crossAccount(), { ...baseInputs, verify: 'true' }, { clients });
      expect(sm.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual([FOREIGN_STRIPE]);
      expect(r.reporter.lines.join('\n')).toMatch(/secret STRIPE_API_KEY: checked in account 210987654321 by its full ARN/);
    });

    it('refused by the secret\'s resource policy: a warning "not checked: account", not a failure and not "exists"', async () => {
      everythingExists();
      sm.on(DescribeSecretCommand).rejects(
        Object.assign(
          new Error('User is not authorized to perform: secretsmanager:DescribeSecret because no resource-based policy allows it'),
          { name: 'AccessDeniedException' },
        ),
      );
      const r = await render(crossAccount(), { ...baseInputs, verify: 'true' }, { clients });
      expect(r.result).toBeDefined();
      expect(r.reporter.lines.join('\n')).toMatch(
        /warning: container 'backend' secret STRIPE_API_KEY: not checked: account 210987654321 .*not authorized.*Secrets in another account/,
      );
      expect(r.reporter.lines.join('\n')).not.toMatch(/checked in account 210987654321/);
      expect(r.reporter.lines.join('\n')).toMatch(/0 secret\(s\).*2 not checked \(another account\)/);
    });

    it('a secret of another account that does not exist there fails', async () => {
      everythingExists();
      sm.on(DescribeSecretCommand).rejects(
        Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }),
      );
      const r = await render(crossAccount(), { ...baseInputs, verify: 'true' }, { clients });
      expect(r.result).toBeUndefined();
      expect(r.text).toMatch(/stripe-Ab12Cd does not exist in account 210987654321/);
    });

    it('an ARN of our own account is checked as before', async () => {
      everythingExists();
      const r = await render(exampleWorkspace(), { ...baseInputs, verify: 'true' }, { clients });
      expect(r.text).toBe('');
      expect(sm.commandCalls(DescribeSecretCommand).map((c) => c.args[0].input.SecretId)).toEqual([STRIPE]);
      expect(r.reporter.lines.join('\n')).not.toMatch(/not checked/);
    });
  });

  it('a missing permission says which one to grant', async () => {
    everythingExists();
    sm.on(DescribeSecretCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: secretsmanager:DescribeSecret'), { name: 'AccessDeniedException' }),
    );
    const r = await render(exampleWorkspace(), { ...baseInputs, verify: 'true' }, { clients });
    expect(r.text).toMatch(/could not check secret .*AccessDeniedException.*Allow secretsmanager:DescribeSecret/);
  });

  it('needs a region', async () => {
    const r = await render(exampleWorkspace(), { ...baseInputs, verify: 'true' }, { clients, env: { AWS_REGION: '' } });
    expect(r.text).toMatch(/input 'aws-region'/);
    expect(created).toEqual([]);
  });
});
