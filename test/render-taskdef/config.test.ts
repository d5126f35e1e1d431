/**
 * Resolving one environment of a feature config, in-process: the layering of defaults, environment and
 * byContainer sections, `null` and `!flag` removals, a name set twice in one section, an unknown
 * environment, and which container gets which variable (least privilege).
 */
import { describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../actions/render-taskdef/config-load.js';
import type { FeatureConfig } from '../../actions/render-taskdef/config-schema.js';
import { knownEnvironments, resolveEnvironment } from '../../actions/render-taskdef/config.js';
import { parseJsonDoc } from '../../actions/render-taskdef/json-source.js';
import { ActionError } from '../../lib/errors.js';

const FILE = 'infra/features/core.json';
const loaded = (config: Record<string, unknown>): LoadedConfig => ({
  doc: parseJsonDoc(`${JSON.stringify(config, null, 2)}\n`, FILE),
  config: { feature: 'core', ...config } as FeatureConfig,
});

function thrown(f: () => unknown): ActionError {
  try {
    f();
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

/** A container's variables as name → [kind, value, store, where], and its withheld names → where. */
const varsOf = (r: ReturnType<typeof resolveEnvironment>, container: string, target = true, declared: string[] = []) => {
  const out = r.varsFor(container, target, new Set(declared));
  return {
    vars: Object.fromEntries([...out.vars].map(([n, s]) => [n, [s.value.kind, s.value.value, s.value.store, s.path.join('.')]])),
    withheld: Object.fromEntries([...out.withheld].map(([n, p]) => [n, p.join('.')])),
  };
};

describe('knownEnvironments', () => {
  it('lists the environments sorted', () => {
    expect(knownEnvironments({ environments: { prod: {}, dev: {}, qa: {} } } as unknown as FeatureConfig)).toEqual(['dev', 'prod', 'qa']);
  });
});

describe('resolveEnvironment: an unknown environment', () => {
  it('names the known ones, the input, the file and the line of environments', () => {
    const cfg = loaded({ defaults: {}, environments: { prod: {}, dev: {} } });
    const e = thrown(() => resolveEnvironment(cfg, 'qa'));
    expect(e.message).toBe("Unknown environment 'qa' in feature 'core'.");
    expect(e.location).toEqual({ input: 'environment', file: FILE, line: 3, field: 'environments' });
    expect(e.fix).toBe('Use one of the known environments: dev, prod, or add "qa" under environments.');
  });

  it('with no environments at all: add it; the input name is the one given', () => {
    const e = thrown(() => resolveEnvironment(loaded({ environments: {} }), 'qa', 'target-environment'));
    expect(e.location.input).toBe('target-environment');
    expect(e.fix).toBe('Add "qa" under environments.');
  });
});

describe('resolveEnvironment: placeholders and flags', () => {
  const cfg = loaded({
    defaults: { placeholders: { A: 'a', B: 'b', C: 'c' }, flags: ['x', 'y', 'z'] },
    environments: { prod: { placeholders: { B: 'B2', C: null }, flags: ['!y', 'w', 'x', '!missing'] } },
  });
  // Resolved inside each test: a resolver that throws must fail a test, not the file's collection.
  const r = () => resolveEnvironment(cfg, 'prod');

  it('the environment overrides a default placeholder, null removes it; each keeps where it was set', () => {
    expect([...r().placeholders].map(([n, s]) => [n, s.value, s.path.join('.')])).toEqual([
      ['A', 'a', 'defaults.placeholders.A'],
      ['B', 'B2', 'environments.prod.placeholders.B'],
    ]);
  });

  it('!flag removes a default flag, a flag given twice is kept once, removing an absent flag does nothing', () => {
    expect(r().flags).toEqual(['x', 'z', 'w']);
  });

  it('!flag removes the first flag too; a layer without flags adds none', () => {
    const first = loaded({ defaults: { flags: ['a', 'b'] }, environments: { dev: { flags: ['!a'] }, qa: {} } });
    expect(resolveEnvironment(first, 'dev').flags).toEqual(['b']);
    expect(resolveEnvironment(first, 'qa').flags).toEqual(['a', 'b']);
  });

  it('works without a defaults section', () => {
    const only = resolveEnvironment(loaded({ environments: { dev: { placeholders: { A: '1' }, flags: ['f'] } } }), 'dev');
    expect([...only.placeholders.keys()]).toEqual(['A']);
    expect(only.flags).toEqual(['f']);
  });
});

describe('resolveEnvironment: a name set twice in one section', () => {
  it('as a plain variable and a secret, or in two secret stores: every place is an error at its line', () => {
    const cfg = loaded({
      defaults: { environment: { A: '1' }, secrets: { A: '/p/a' } },
      environments: {
        dev: {
          ssm: { B: '/p/b' },
          secretsManager: { B: 'arn:aws:secretsmanager:eu-west-1:1:secret:b-AbCdEf' },
          byContainer: { web: { environment: { C: '1' }, ssm: { C: '/p/c' } } },
        },
      },
    });
    const e = thrown(() => resolveEnvironment(cfg, 'dev'));
    expect(e.message).toMatch(new RegExp(`^Feature config ${FILE} is ambiguous`));
    expect(e.problems.map((p) => [p.message, p.location.field, p.location.line, p.location.file, p.fix])).toEqual([
      ["'A' is set both as a plain variable and as a secret.", 'defaults.secrets.A', 7, FILE, 'Keep it in one of environment or secrets.'],
      [
        "'B' is set in both ssm and secretsManager.",
        'environments.dev.secretsManager.B',
        16,
        FILE,
        'Keep it in one of ssm or secretsManager.',
      ],
      [
        "'C' is set both as a plain variable and as a secret.",
        'environments.dev.byContainer.web.ssm.C',
        24,
        FILE,
        'Keep it in one of environment or ssm.',
      ],
    ]);
  });

  it('the same name in two layers is an override, not a conflict', () => {
    const cfg = loaded({ defaults: { environment: { A: '1' } }, environments: { dev: { secrets: { A: '/p/a' } } } });
    expect(varsOf(resolveEnvironment(cfg, 'dev'), 'web', true, ['A']).vars).toEqual({
      A: ['secret', '/p/a', undefined, 'environments.dev.secrets.A'],
    });
  });
});

describe('resolveEnvironment: varsFor', () => {
  const cfg = loaded({
    defaults: {
      environment: { LOG: 'info', GONE: 'x', DECLARED: 'd' },
      ssm: { DB: '/app/db' },
      byContainer: { worker: { environment: { QUEUE: 'q' } } },
    },
    environments: {
      dev: {
        environment: { LOG: 'debug', GONE: null },
        secretsManager: { KEY: 'arn:aws:secretsmanager:eu-west-1:1:secret:k-AbCdEf' },
        byContainer: { worker: { environment: { QUEUE: null, LOG: 'warn' } }, web: { secrets: { DB: '/app/web-db' } } },
      },
    },
  });
  const r = () => resolveEnvironment(cfg, 'dev');

  it('records the containers with a byContainer section, at their first place', () => {
    expect([...r().namedContainers].map(([n, p]) => [n, p.join('.')])).toEqual([
      ['worker', 'defaults.byContainer.worker'],
      ['web', 'environments.dev.byContainer.web'],
    ]);
  });

  it('a target gets the common names its template declares; the others are withheld, with where they are set', () => {
    expect(varsOf(r(), 'api', true, ['LOG', 'KEY'])).toEqual({
      vars: {
        LOG: ['env', 'debug', undefined, 'environments.dev.environment.LOG'],
        KEY: ['secret', 'arn:aws:secretsmanager:eu-west-1:1:secret:k-AbCdEf', 'secretsmanager', 'environments.dev.secretsManager.KEY'],
      },
      withheld: { DECLARED: 'defaults.environment.DECLARED', DB: 'defaults.ssm.DB' },
    });
  });

  it('a byContainer section names its names for the common settings, and overrides them; null removes', () => {
    expect(varsOf(r(), 'worker', true, [])).toEqual({
      vars: { LOG: ['env', 'warn', undefined, 'environments.dev.byContainer.worker.environment.LOG'] },
      withheld: { DECLARED: 'defaults.environment.DECLARED', DB: 'defaults.ssm.DB', KEY: 'environments.dev.secretsManager.KEY' },
    });
  });

  it('moving a name from one kind to another replaces it (ssm default, secrets in byContainer)', () => {
    expect(varsOf(r(), 'web', true, []).vars).toEqual({
      DB: ['secret', '/app/web-db', undefined, 'environments.dev.byContainer.web.secrets.DB'],
    });
  });

  it('a container that is not a target gets its byContainer settings only, and nothing withheld', () => {
    expect(varsOf(r(), 'worker', false, ['DECLARED', 'DB'])).toEqual({
      vars: { LOG: ['env', 'warn', undefined, 'environments.dev.byContainer.worker.environment.LOG'] },
      withheld: {},
    });
  });

  it('a null for a withheld name takes it out of the withheld list', () => {
    expect(varsOf(r(), 'api', true, []).withheld).not.toHaveProperty('GONE');
  });

  it('a container listed in "containers" gets every common setting', () => {
    const listed = resolveEnvironment(loaded({ ...cfg.config, containers: ['api'] }), 'dev');
    expect(varsOf(listed, 'api', true, [])).toEqual({
      vars: {
        LOG: ['env', 'debug', undefined, 'environments.dev.environment.LOG'],
        DECLARED: ['env', 'd', undefined, 'defaults.environment.DECLARED'],
        DB: ['secret', '/app/db', 'ssm', 'defaults.ssm.DB'],
        KEY: ['secret', 'arn:aws:secretsmanager:eu-west-1:1:secret:k-AbCdEf', 'secretsmanager', 'environments.dev.secretsManager.KEY'],
      },
      withheld: {},
    });
    expect(varsOf(listed, 'other', true, []).vars).toEqual({});
  });
});
