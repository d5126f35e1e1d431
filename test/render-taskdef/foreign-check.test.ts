/**
 * The other-environment check on a rendered task definition, in-process: which tokens name another
 * environment, what is skipped (images, variable names, framework modes), allow-foreign patterns,
 * and the message and fix of each kind of finding. (foreign.test.ts runs the same through the bundle.)
 */
import { describe, expect, it } from 'vitest';
import { checkForeign, DEFAULT_KNOWN_ENVIRONMENTS, type ForeignCheck, parseList } from '../../actions/render-taskdef/foreign.js';
import type { RenderResult } from '../../actions/render-taskdef/render-types.js';
import type { ContainerDef, TaskDef } from '../../actions/render-taskdef/taskdef-types.js';
import { ActionError } from '../../lib/errors.js';

const rendered = (taskDef: Partial<TaskDef> & { containerDefinitions: ContainerDef[] }) => ({ taskDef }) as unknown as RenderResult;
const check = (over: Partial<ForeignCheck> = {}): ForeignCheck => ({
  environment: 'dev',
  environments: DEFAULT_KNOWN_ENVIRONMENTS,
  allowForeign: [],
  configFile: 'infra/api-config.json',
  ...over,
});
const container = (c: Partial<ContainerDef>): ContainerDef => ({ name: 'api', image: 'repo/api:1', ...c }) as ContainerDef;

describe('checkForeign: which values name another environment', () => {
  it.each([
    ['a slash path', '/ecs/shop-prod-api', 'prod'],
    ['an ARN segment after a colon', 'arn:aws:iam::1:role:prod', 'prod'],
    ['a hyphenated name', 'shop-staging-api', 'staging'],
    ['an underscore', 'shop_qa', 'qa'],
    ['a dotted host', 'api.uat.example.com', 'uat'],
    ['a word after a space', 'run against preprod now', 'preprod'],
    ['after =', 'TARGET=production', 'production'],
    ['after a comma', 'a,test', 'test'],
    ['after @', 'user@stage', 'stage'],
    ['a query parameter', 'https://x.example.com/?env=prod&x=1', 'prod'],
    ['upper case, reported in lower case', 'SHOP-PROD', 'prod'],
  ])('%s: %s names %s', (_label, value, other) => {
    const found = checkForeign(rendered({ family: value, containerDefinitions: [] }), check());
    expect(found).toEqual([
      {
        path: ['family'],
        message: `family is '${value}', which names environment '${other}', in a 'dev' render.`,
        fix:
          "Use a placeholder so each environment gets its own value (${DEPLOY_ENV}, a Terraform output ${tf:NAME}, the config's " +
          `placeholders or the vars input). If it is shared on purpose, list it in the allow-foreign input (${value}).`,
      },
    ]);
  });

  it.each([
    ['its own environment', 'shop-dev-api'],
    ['an alias of its own environment', 'shop-development-api'],
    ['a name only inside a token', 'latest-products'],
    ['an empty string', ''],
  ])('%s is not foreign', (_label, value) => {
    expect(checkForeign(rendered({ family: value, containerDefinitions: [] }), check())).toEqual([]);
  });

  it('aliases go both ways: a production render may say prod', () => {
    expect(checkForeign(rendered({ family: 'shop-prod', containerDefinitions: [] }), check({ environment: 'Production' }))).toEqual([]);
    expect(checkForeign(rendered({ family: 'shop-stage', containerDefinitions: [] }), check({ environment: 'staging' }))).toEqual([]);
  });

  it('an environment outside the alias groups has only itself as own', () => {
    const found = checkForeign(rendered({ family: 'shop-qa', containerDefinitions: [] }), check({ environment: 'uat' }));
    expect(found.map((p) => p.message)).toEqual(["family is 'shop-qa', which names environment 'qa', in a 'uat' render."]);
  });

  it('the environments list is compared case-insensitively, and an empty entry names nothing', () => {
    // '/x' splits into an empty token and x: an empty environment name must not match it.
    const r = rendered({ family: '/x', taskRoleArn: 'role/Blue', containerDefinitions: [] });
    const found = checkForeign(r, check({ environments: ['', 'BLUE'] }));
    expect(found.map((p) => p.path)).toEqual([['taskRoleArn']]);
  });

  it.each(['dev', 'development', 'test', 'staging', 'stage', 'qa', 'uat', 'preprod', 'prod', 'production'])(
    'the default known environments include %s',
    (name) => {
      const found = checkForeign(rendered({ family: `shop-${name}`, containerDefinitions: [] }), check({ environment: 'sandbox' }));
      expect(found.map((p) => p.message)).toEqual([`family is 'shop-${name}', which names environment '${name}', in a 'sandbox' render.`]);
    },
  );

  it('only the environments given are known', () => {
    expect(checkForeign(rendered({ family: 'shop-prod', containerDefinitions: [] }), check({ environments: ['dev', 'qa'] }))).toEqual([]);
  });

  it('reports every string of nested objects and arrays at its path, with the container named', () => {
    const r = rendered({
      containerDefinitions: [
        container({ name: 'web', command: ['serve', '--env', 'prod'] }),
        container({ name: 'worker', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/prod' } } }),
      ],
    });
    const found = checkForeign(r, check());
    expect(found.map((p) => [p.path, p.message])).toEqual([
      [
        ['containerDefinitions', 0, 'command', 2],
        "container 'web': containerDefinitions[0].command[2] is 'prod', which names environment 'prod', in a 'dev' render.",
      ],
      [
        ['containerDefinitions', 1, 'logConfiguration', 'options', 'awslogs-group'],
        "container 'worker': containerDefinitions[1].logConfiguration.options.awslogs-group is '/ecs/prod', which names environment 'prod', in a 'dev' render.",
      ],
    ]);
  });
});

describe('checkForeign: what is left out', () => {
  it("a container's image is left out (promoted between environments), an image field elsewhere is not", () => {
    const r = rendered({
      containerDefinitions: [container({ image: 'repo/api:prod-1', dockerLabels: { image: 'prod' } })],
    });
    const found = checkForeign(r, check());
    expect(found.map((p) => p.path)).toEqual([['containerDefinitions', 0, 'dockerLabels', 'image']]);
  });

  it('an image key elsewhere is checked (only a container image is promoted)', () => {
    const r = { taskDef: { image: 'prod', volumes: [{ image: 'prod' }], containerDefinitions: [] } } as unknown as RenderResult;
    expect(checkForeign(r, check()).map((p) => p.path)).toEqual([['image'], ['volumes', 0, 'image']]);
  });

  it('an environment list outside a container is a plain field, as is an environment object in a container', () => {
    const r = {
      taskDef: { volumes: [{ environment: ['prod'] }], containerDefinitions: [container({ environment: { X: 'prod' } as never })] },
    } as unknown as RenderResult;
    expect(checkForeign(r, check()).map((p) => p.message)).toEqual([
      "volumes[0].environment[0] is 'prod', which names environment 'prod', in a 'dev' render.",
      "container 'api': containerDefinitions[0].environment.X is 'prod', which names environment 'prod', in a 'dev' render.",
    ]);
  });

  it('variable and secret names are not values; a name field elsewhere is', () => {
    const r = rendered({
      containerDefinitions: [
        container({
          name: 'prod',
          environment: [{ name: 'PROD', value: 'x' }],
          secrets: [{ name: 'PROD_KEY', valueFrom: '/shop/dev/key' }],
        }),
      ],
    });
    expect(checkForeign(r, check()).map((p) => p.path)).toEqual([['containerDefinitions', 0, 'name']]);
  });

  it('framework modes are not environments, other variables with the same value are', () => {
    const modes = ['NODE_ENV', 'RAILS_ENV', 'RACK_ENV', 'MIX_ENV', 'FLASK_ENV', 'ASPNETCORE_ENVIRONMENT', 'DOTNET_ENVIRONMENT'];
    const r = rendered({
      containerDefinitions: [
        container({ environment: [...modes.map((name) => ({ name, value: 'production' })), { name: 'STAGE', value: 'production' }] }),
      ],
    });
    const found = checkForeign(r, check());
    expect(found.map((p) => p.path)).toEqual([['containerDefinitions', 0, 'environment', modes.length]]);
  });

  it('a framework mode name is only skipped for its value, and only in environment', () => {
    const r = rendered({ containerDefinitions: [container({ dockerLabels: { name: 'NODE_ENV', value: 'prod' } })] });
    expect(checkForeign(r, check()).map((p) => p.path)).toEqual([['containerDefinitions', 0, 'dockerLabels', 'value']]);
    const other = rendered({
      containerDefinitions: [container({ environment: [{ name: 'NODE_ENV', value: 'production', note: 'prod' } as never] })],
    });
    expect(checkForeign(other, check()).map((p) => p.path)).toEqual([['containerDefinitions', 0, 'environment', 0]]);
  });
});

describe('checkForeign: allow-foreign', () => {
  const r = rendered({ family: 'shared-prod-cache', taskRoleArn: 'role/prod-x', containerDefinitions: [] });
  it.each([
    [['shared-prod-cache'], [['taskRoleArn']]],
    [['shared-*'], [['taskRoleArn']]],
    [['*-prod-*'], [['taskRoleArn']]],
    [['*'], []],
    // A whole-value match: a part of the value, or the value with more around it, is not allowed.
    [['shared-prod'], [['family'], ['taskRoleArn']]],
    [['prod-cache'], [['family'], ['taskRoleArn']]],
    // Regular-expression characters in a pattern are literal.
    [['shared.prod.cache'], [['family'], ['taskRoleArn']]],
    [['role/prod-.'], [['family'], ['taskRoleArn']]],
  ])('%j leaves %j', (allowForeign, paths) => {
    expect(checkForeign(r, check({ allowForeign })).map((p) => p.path)).toEqual(paths);
  });
});

describe('checkForeign: allow-foreign with regular-expression characters', () => {
  it('a pattern with dots allows the value written with those dots', () => {
    const r = rendered({ family: 'api.prod.example.com', containerDefinitions: [] });
    expect(checkForeign(r, check({ allowForeign: ['api.prod.example.com'] }))).toEqual([]);
    expect(checkForeign(r, check({ allowForeign: ['api.prod.*'] }))).toEqual([]);
  });
});

describe('checkForeign: the message and fix of an environment or secrets entry', () => {
  const r = rendered({
    containerDefinitions: [
      container({
        environment: [
          { name: 'OK', value: 'x' },
          { name: 'API_URL', value: 'https://api.prod.example.com' },
        ],
        secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf' }],
      }),
    ],
  });
  // Checked inside each test: a check that throws must fail a test, not the file's collection.
  const found = () => checkForeign(r, check());

  it('a variable: reported as the whole entry, with where to set it', () => {
    expect(found()[0]).toEqual({
      path: ['containerDefinitions', 0, 'environment', 1],
      message: "container 'api': API_URL is 'https://api.prod.example.com', which names environment 'prod', in a 'dev' render.",
      fix:
        'Set API_URL for dev in infra/api-config.json (or use ${DEPLOY_ENV} in the value). If it is shared on purpose, list it in ' +
        'the allow-foreign input (https://api.prod.example.com).',
    });
  });

  it('a secret: reported as the whole entry, with the config entry to write', () => {
    expect(found()[1]).toEqual({
      path: ['containerDefinitions', 0, 'secrets', 0],
      message:
        "container 'api': secret DB_PASSWORD is arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf, a 'prod' resource, in a 'dev' render.",
      fix:
        'Set it for dev in infra/api-config.json: "environments": { "dev": { "ssm": { "DB_PASSWORD": "<the dev parameter>" } } } ' +
        '(or secretsManager for an ARN). If it is shared on purpose, list it in the allow-foreign input ' +
        '(arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf).',
    });
    expect(found()).toHaveLength(2);
  });

  it('a field of an entry other than an environment or secrets list is reported at its own path', () => {
    const withPorts = rendered({ containerDefinitions: [container({ dependsOn: [{ containerName: 'prod', condition: 'START' }] })] });
    expect(checkForeign(withPorts, check()).map((p) => p.path)).toEqual([['containerDefinitions', 0, 'dependsOn', 0, 'containerName']]);
  });
});

describe('parseList (known-environments, allow-foreign)', () => {
  it('splits on commas and new lines, trims, drops blanks and # comments', () => {
    expect(parseList(' dev, prod\n\n# shared\nqa ,', 'known-environments')).toEqual(['dev', 'prod', 'qa']);
  });

  it('an entry with a space inside is an error naming the input', () => {
    let err: unknown;
    try {
      parseList('dev, my env', 'allow-foreign');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActionError);
    expect((err as ActionError).message).toContain("input 'allow-foreign' has 'my env', which holds a space.");
    expect((err as ActionError).location).toEqual({ input: 'allow-foreign' });
    expect((err as ActionError).fix).toBe('Separate entries with commas or new lines.');
  });
});
