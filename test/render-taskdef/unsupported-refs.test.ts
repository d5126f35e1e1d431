/**
 * Two things teams bring that render cannot take, each refused with a message that names the
 * input, the file, the line and the fix: an SSM parameter with a version or label (`/x:3`), which
 * ECS's valueFrom does not accept, and a feature config written in YAML.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseInputs, editJson, exampleWorkspace, render } from './fixture.js';

const CONFIG = 'infra/env/features/core.json';

describe('an SSM parameter name with a version or label', () => {
  it.each([
    ['/delivery/test/DATABASE_URL:3', "version '3'", "Write '/delivery/test/DATABASE_URL'"],
    ['/delivery/test/DATABASE_URL:live', "label 'live'", "Write '/delivery/test/DATABASE_URL'"],
    [
      'arn:aws:ssm:eu-west-1:123456789012:parameter/delivery/test/DATABASE_URL:2',
      "version '2'",
      "Write 'arn:aws:ssm:eu-west-1:123456789012:parameter/delivery/test/DATABASE_URL'",
    ],
  ])('in the feature config (%s): names the input, file, line, the reason and the fix', async (ref, what, fix) => {
    const root = exampleWorkspace();
    editJson(root, CONFIG, (doc) => {
      doc.environments.test.secrets = { ...doc.environments.test.secrets, DATABASE_URL: ref };
    });
    const r = await render(root, baseInputs);
    expect(r.result).toBeUndefined();
    const line = r.text.split('\n').find((l) => l.includes(what));
    expect(line, r.text).toMatch(
      new RegExp(`^${CONFIG.replaceAll('.', '\\.')}:\\d+ environments\\.test\\.secrets\\.DATABASE_URL: input features-dir: `),
    );
    expect(line).toContain('ECS takes an SSM parameter by name or ARN only (no :version or :label)');
    expect(line).toContain(`Fix: ${fix}`);
    expect(line).not.toMatch(/must match pattern/);
  });

  it('in the template: names the file, the line of the secret and the fix', async () => {
    const root = exampleWorkspace();
    editJson(root, 'infra/taskdef/backend.json', (doc) => {
      doc.containerDefinitions[0].secrets = [{ name: 'LEGACY_TOKEN', valueFrom: '/delivery/test/LEGACY_TOKEN:7' }];
    });
    const r = await render(root, baseInputs);
    const line = r.text.split('\n').find((l) => l.includes('LEGACY_TOKEN:7'));
    expect(line, r.text).toMatch(/^infra\/taskdef\/backend\.json:\d+ containerDefinitions\[0\]\.secrets\[0\]: /);
    expect(line).toContain("asks for version '7' of SSM parameter /delivery/test/LEGACY_TOKEN");
    expect(line).toContain("Fix: Write '/delivery/test/LEGACY_TOKEN'.");
  });
});

describe('a feature config in YAML', () => {
  const yaml = 'featureKey: core\nenvironments:\n  test:\n    ssm:\n      DATABASE_URL: /delivery/test/DATABASE_URL\n';

  it('feature-config pointing at a .yml file: says YAML is not supported and how to convert it', async () => {
    const root = exampleWorkspace();
    writeFileSync(join(root, 'infra/env/features/core.yml'), yaml);
    const r = await render(root, {
      ...baseInputs,
      'features-dir': '',
      feature: '',
      'feature-config': 'infra/env/features/core.yml',
    });
    expect(r.text).toBe(
      "infra/env/features/core.yml:1: feature-config infra/env/features/core.yml is YAML: templates and feature configs are read as JSON only (YAML is not supported). Fix: Convert it to JSON, e.g. `yq -o=json '.' infra/env/features/core.yml > infra/env/features/core.json`, commit infra/env/features/core.json and point feature-config at it.",
    );
  });

  it('YAML in a .json file is recognised too', async () => {
    const root = exampleWorkspace();
    writeFileSync(join(root, CONFIG), yaml);
    const r = await render(root, baseInputs);
    expect(r.text).toMatch(
      /^infra\/env\/features\/core\.json:1: features-dir infra\/env\/features\/core\.json is YAML: .*YAML is not supported.*Fix: Convert it to JSON/,
    );
  });

  it('features-dir holding only <feature>.yml: says so instead of "unknown feature"', async () => {
    const root = exampleWorkspace();
    renameSync(join(root, CONFIG), join(root, 'infra/env/features/core.yaml'));
    writeFileSync(join(root, 'infra/env/features/core.yaml'), yaml);
    const r = await render(root, baseInputs);
    expect(r.text).toMatch(
      /^infra\/env\/features\/core\.yaml:1: features-dir infra\/env\/features\/core\.yaml is YAML: .*point features-dir at it\.$/,
    );
  });

  it('broken JSON that is not YAML keeps the JSON syntax message', async () => {
    const root = exampleWorkspace();
    writeFileSync(join(root, CONFIG), '{ "featureKey": "core", }\n');
    const r = await render(root, baseInputs);
    expect(r.text).toMatch(/Invalid JSON/);
    expect(r.text).not.toMatch(/YAML/);
  });
});
