/**
 * Reading a feature config, in-process: a file or a directory plus a feature key, YAML recognised
 * and refused with a conversion command, schema errors on the line of the field with a "did you
 * mean", and the feature key checked against the file name or the feature input.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configLocation, fieldName, loadFeatureConfig, readJsonFile, type ConfigSource } from '../../actions/render-taskdef/config-load.js';
import { workspace } from '../../actions/render-taskdef/workspace.js';
import { ActionError } from '../../lib/errors.js';

function ws(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'config-load-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return workspace(root);
}
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

function thrown(f: () => unknown): ActionError {
  try {
    f();
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
  throw new Error('did not throw');
}
const load = (files: Record<string, string>, source: ConfigSource) => loadFeatureConfig(source, ws(files));

describe('readJsonFile', () => {
  it('reads a file relative to the workspace, shown relative to it', () => {
    const w = ws({ 'infra/a.json': '{"x": 1}' });
    const doc = readJsonFile('infra/a.json', w, 'template');
    expect([doc.file, doc.value]).toEqual(['infra/a.json', { x: 1 }]);
  });

  it('a missing file, or a directory, names the input and the workspace', () => {
    const w = ws({ 'infra/a.json': '{}' });
    for (const path of ['infra/b.json', 'infra']) {
      const e = thrown(() => readJsonFile(path, w, 'template'));
      expect(e.message).toBe(`File '${path}' does not exist.`);
      expect(e.location).toEqual({ input: 'template' });
      expect(e.fix).toBe(`Check the template input; relative paths are resolved against GITHUB_WORKSPACE (${w.root}).`);
    }
  });

  it.each([
    ['a .yml file', 'infra/a.yml', 'x: [', 'infra/a.json'],
    ['a .YAML file', 'infra/a.YAML', '{', 'infra/a.json'],
    ['a .yml file that reads like broken JSON', 'infra/a.yml', '{', 'infra/a.json'],
    ['a .yml.yml file (only the last extension is replaced)', 'infra/a.yml.yml', '{', 'infra/a.yml.json'],
    ['a .yml.json file that reads like YAML', 'infra/a.yml.json', 'a: 1', 'infra/a.yml.json.json'],
    ['a key after a line of spaces', 'infra/g.json', '   \nfeature: core\n', 'infra/g.json.json'],
    ['a key after an indented comment', 'infra/h.json', '  # comment\nfeature: core\n', 'infra/h.json.json'],
    ['a space before the colon', 'infra/i.json', 'feature : core\n', 'infra/i.json.json'],
    ['an indented first key', 'infra/j.json', '  feature: core\n', 'infra/j.json.json'],
    ['key: value in a .json file', 'infra/b.json', '# comment\n\nfeature: core\n', 'infra/b.json.json'],
    ['a key alone on its line', 'infra/c.json', 'environments:\n  dev: {}\n', 'infra/c.json.json'],
    ['a list item', 'infra/d.json', '- a\n', 'infra/d.json.json'],
    ['a document start', 'infra/e.json', '---\nx: 1\n', 'infra/e.json.json'],
    ['a quoted key', 'infra/f.json', '"a": 1\n', 'infra/f.json.json'],
  ])('%s is refused as YAML, with the conversion command', (_label, path, text, converted) => {
    const e = thrown(() => readJsonFile(path, ws({ [path]: text }), 'feature-config'));
    expect(e.message).toBe(`feature-config ${path} is YAML: templates and feature configs are read as JSON only (YAML is not supported).`);
    expect(e.location).toEqual({ file: path, line: 1 });
    expect(e.fix).toBe(
      `Convert it to JSON, e.g. \`yq -o=json '.' ${path} > ${converted}\`, commit ${converted} and point feature-config at it.`,
    );
  });

  it.each([
    ['broken JSON', '{"a": 1,,}'],
    ['a word that is not a key', 'hello world\n'],
    ['only comments', '# a\n'],
    ['a key: inside a line', '  {"a": x: 1}\n'],
  ])('%s is a JSON error, not a YAML one', (_label, text) => {
    const e = thrown(() => readJsonFile('infra/a.json', ws({ 'infra/a.json': text }), 't'));
    expect(e.message).toMatch(/^Invalid JSON: /);
  });
});

describe('readJsonFile: only the last extension says YAML', () => {
  it('broken JSON in a .yml.json file is a JSON error', () => {
    const e = thrown(() => readJsonFile('infra/a.yml.json', ws({ 'infra/a.yml.json': '{' }), 't'));
    expect(e.message).toMatch(/^Invalid JSON: /);
  });
});

describe('loadFeatureConfig from a directory', () => {
  const files = {
    'features/zeta.json': json({ environments: {} }),
    'features/core.json': json({ environments: { dev: {} } }),
    'features/alpha.json': json({ environments: {} }),
    'features/menu.json': json({ feature: 'menu', environments: {} }),
    'features/notes.txt': '',
  };

  it('reads <feature>.json; without a key in the file the feature input names it', () => {
    const loaded = load(files, { kind: 'dir', dir: 'features', feature: 'core' });
    expect(loaded.doc.file).toBe('features/core.json');
    expect(loaded.config).toEqual({ environments: { dev: {} }, feature: 'core' });
  });

  it('an unknown feature lists the known ones (JSON files only, sorted)', () => {
    const e = thrown(() => load(files, { kind: 'dir', dir: 'features', feature: 'cart' }));
    expect(e.message).toBe("Unknown feature 'cart': there is no cart.json in features.");
    expect(e.location).toEqual({ input: 'feature' });
    expect(e.fix).toBe('Use one of the known features: alpha, core, menu, zeta.');
  });

  it('an empty directory: add the file', () => {
    const e = thrown(() => load({ 'features/x.txt': '' }, { kind: 'dir', dir: 'features', feature: 'cart' }));
    expect(e.fix).toBe('Add cart.json to features.');
  });

  it.each(['yml', 'yaml'])('a .%s of the feature is refused as YAML', (ext) => {
    const e = thrown(() => load({ [`features/cart.${ext}`]: 'a: 1' }, { kind: 'dir', dir: 'features', feature: 'cart' }));
    expect(e.message).toBe(
      `features-dir features/cart.${ext} is YAML: templates and feature configs are read as JSON only (YAML is not supported).`,
    );
  });

  it('a feature file that is YAML names the features-dir input', () => {
    const e = thrown(() => load({ 'features/cart.json': 'environments:\n  dev: {}\n' }, { kind: 'dir', dir: 'features', feature: 'cart' }));
    expect(e.message).toBe(
      'features-dir features/cart.json is YAML: templates and feature configs are read as JSON only (YAML is not supported).',
    );
  });

  it('a missing directory, or a file in its place', () => {
    for (const dir of ['nope', 'features/core.json']) {
      const e = thrown(() => load(files, { kind: 'dir', dir, feature: 'core' }));
      expect(e.message).toBe(`Features directory '${dir}' does not exist.`);
      expect(e.location).toEqual({ input: 'features-dir' });
      expect(e.fix).toBe('Point features-dir at the folder holding <feature>.json files, e.g. infra/env/features.');
    }
  });

  it('a file whose key differs from its name: rename it or set the key', () => {
    const e = thrown(() =>
      load({ 'features/cart.json': json({ featureKey: 'shop', environments: {} }) }, { kind: 'dir', dir: 'features', feature: 'cart' }),
    );
    expect(e.message).toBe("The config's feature key is 'shop', not 'cart'.");
    expect(e.location).toEqual({ file: 'features/cart.json', line: 2, field: 'featureKey' });
    expect(e.fix).toBe('Name the file shop.json or set "featureKey": "cart".');
  });
});

describe('loadFeatureConfig from a file', () => {
  it('without a feature input, the file says which feature; with neither there is none', () => {
    expect(load({ 'c.json': json({ featureKey: 'core', environments: {} }) }, { kind: 'file', path: 'c.json' }).config.feature).toBe(
      'core',
    );
    expect(load({ 'c.json': json({ environments: {} }) }, { kind: 'file', path: 'c.json' }).config.feature).toBeUndefined();
    expect(load({ 'c.json': json({ environments: {} }) }, { kind: 'file', path: 'c.json', feature: 'x' }).config.feature).toBe('x');
  });

  it('a feature input that differs from the key in the file', () => {
    const e = thrown(() =>
      load({ 'c.json': json({ environments: {}, feature: 'core' }) }, { kind: 'file', path: 'c.json', feature: 'menu' }),
    );
    expect(e.location).toEqual({ file: 'c.json', line: 3, field: 'feature' });
    expect(e.fix).toBe("Set the feature input to 'core' or remove it.");
  });

  it('feature and featureKey both set must agree', () => {
    const e = thrown(() => load({ 'c.json': json({ feature: 'a', featureKey: 'b', environments: {} }) }, { kind: 'file', path: 'c.json' }));
    expect(e.message).toBe("feature is 'a' but featureKey is 'b'.");
    expect(e.location).toEqual({ file: 'c.json', line: 3, field: 'featureKey' });
    expect(e.fix).toBe('Keep one of the two (they mean the same).');
    expect(
      load({ 'c.json': json({ feature: 'a', featureKey: 'a', environments: {} }) }, { kind: 'file', path: 'c.json', feature: 'a' }).config,
    ).toEqual({
      environments: {},
      feature: 'a',
    });
  });

  it('a missing file names the feature-config input', () => {
    expect(thrown(() => load({}, { kind: 'file', path: 'c.json' })).location).toEqual({ input: 'feature-config' });
  });
});

describe('loadFeatureConfig: schema errors', () => {
  const schemaErrors = (config: unknown, source: ConfigSource = { kind: 'file', path: 'c.json' }) => {
    const e = thrown(() => load({ 'c.json': json(config), 'f/c.json': json(config) }, source));
    // One problem is thrown as itself; several under one summary.
    const problems = e.problems.length ? e.problems : [e];
    return problems.map((p) => ({ message: p.message, ...p.location, fix: p.fix }));
  };
  const SEE =
    'See schemas/feature-config.schema.json for the format (add "$schema" to the file for editor completion) and "Adopting an existing app" ' +
    'in the render-taskdef README for the shapes accepted.';

  it('several problems: all at once, under the file name', () => {
    const e = thrown(() =>
      load({ 'c.json': json({ environments: { dev: { flags: 'x' } }, zzzzzzzz: 1 }) }, { kind: 'file', path: 'c.json' }),
    );
    expect(e.message).toMatch(/^Feature config c\.json does not match the schema \(2 problems\)/);
    expect(e.problems.map((p) => p.location.field)).toEqual(['environments.dev.flags', 'zzzzzzzz']);
  });

  it('an unknown key is reported on its own line, with a guess', () => {
    expect(schemaErrors({ environments: { dev: { ssn: { A: '/a' } } } })).toEqual([
      {
        message: "unknown field(s) 'ssn'.",
        file: 'c.json',
        line: 4,
        field: 'environments.dev.ssn',
        fix: `Did you mean 'ssm' for 'ssn'? ${SEE}`,
      },
    ]);
  });

  it('several unknown keys: all named, the line of the first, a guess for each that has one', () => {
    const [p] = schemaErrors({ environments: {}, placeholdrs: {}, zzzzzzzz: 1 });
    expect(p).toEqual({
      message: "unknown field(s) 'placeholdrs', 'zzzzzzzz'.",
      file: 'c.json',
      line: 3,
      field: 'placeholdrs',
      fix: `Did you mean 'placeholders' for 'placeholdrs'? ${SEE}`,
    });
  });

  it('a guess for each mistyped key, one after the other', () => {
    const [p] = schemaErrors({ environments: {}, placeholdrs: {}, flagz: [] });
    expect(p?.fix).toBe(`Did you mean 'placeholders' for 'placeholdrs'? Did you mean 'flags' for 'flagz'? ${SEE}`);
  });

  it.each([
    ['$schem', '$schema'],
    ['featur', 'feature'],
    ['featureKy', 'featureKey'],
    ['descripton', 'description'],
    ['container', 'containers'],
    ['default', 'defaults'],
    ['environmnts', 'environments'],
  ])('a root key %s: did you mean %s', (typo, guess) => {
    const [p] = schemaErrors({ environments: {}, [typo]: 1 });
    expect(p?.fix).toBe(`Did you mean '${guess}' for '${typo}'? ${SEE}`);
  });

  it.each([
    ['enviroment', 'environment'],
    ['secret', 'secrets'],
    ['secretManager', 'secretsManager'],
    ['flag', 'flags'],
    ['byContainr', 'byContainer'],
  ])('an environment key %s: did you mean %s', (typo, guess) => {
    const [p] = schemaErrors({ environments: { dev: { [typo]: {} } } });
    expect(p?.fix).toBe(`Did you mean '${guess}' for '${typo}'? ${SEE}`);
  });

  it('a wrong type at the root or deeper: the schema message, at the field', () => {
    const [deep] = schemaErrors({ environments: { dev: { flags: 'x' } } });
    expect(deep).toMatchObject({ file: 'c.json', line: 4, field: 'environments.dev.flags', fix: SEE });
    expect(deep?.message).toMatch(/^Invalid input: expected array, received string\.$/);
    const [root] = schemaErrors([]);
    expect(root).toMatchObject({ field: '(root)', line: 1, fix: SEE });
  });

  it('an SSM reference with a version or label: the SSM message, naming the input', () => {
    const problems = schemaErrors({ environments: { dev: { ssm: { DB: '/app/db:3' } } } }, { kind: 'dir', dir: 'f', feature: 'c' });
    expect(problems).toEqual([
      {
        message:
          "input features-dir: '/app/db:3' asks for version '3' of SSM parameter /app/db: ECS takes an SSM parameter by name or ARN only " +
          '(no :version or :label) and reads its current value when the task starts.',
        file: 'f/c.json',
        line: 5,
        field: 'environments.dev.ssm.DB',
        fix: expect.stringMatching(/^Write '\/app\/db'\./),
      },
    ]);
    expect(schemaErrors({ environments: { dev: { ssm: { DB: '/app/db:3' } } } })[0]?.message).toMatch(/^input feature-config: /);
  });
});

describe('fieldName and configLocation', () => {
  it('joins keys with dots and indexes in brackets', () => {
    expect(fieldName(['containerDefinitions', 0, 'environment', 2, 'value'])).toBe('containerDefinitions[0].environment[2].value');
    expect(fieldName([])).toBe('');
  });

  it('points at the file, the line and the field', () => {
    const loaded = load({ 'c.json': json({ environments: { dev: { flags: ['a'] } } }) }, { kind: 'file', path: 'c.json' });
    expect(configLocation(loaded, ['environments', 'dev', 'flags', 0])).toEqual({
      file: 'c.json',
      line: 5,
      field: 'environments.dev.flags[0]',
    });
  });
});
