import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureConfigJsonSchema, featureConfigSchema } from '../../actions/render-taskdef/config-schema.js';
import { repoRoot } from '../helpers/run-bundle.js';

// The JSON Schema is generated from the zod schema the action validates with, so the two cannot
// disagree; this test only has to prove the committed file is the generated one.
describe('schemas/feature-config.schema.json', () => {
  const committed = JSON.parse(readFileSync(join(repoRoot, 'schemas/feature-config.schema.json'), 'utf8'));

  it('equals the schema generated from the zod validation (run npx tsx actions/render-taskdef/gen-schema.ts)', () => {
    expect(committed).toEqual(featureConfigJsonSchema());
  });

  it('is draft 2020-12 and closed (typos in field names are errors, not silently ignored)', () => {
    expect(committed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(committed.additionalProperties).toBe(false);
    expect(committed.required).toEqual(['environments']);
    // featureKey / feature are optional: an app without features sets neither.
    expect(committed.anyOf).toBeUndefined();
    expect(Object.keys(committed.properties)).toEqual(expect.arrayContaining(['feature', 'featureKey']));
  });

  it.each(['core', 'menu-rewrite'])('the team-shaped config %s of examples/delivery-legacy validates as is', (feature) => {
    const doc = JSON.parse(readFileSync(join(repoRoot, 'examples/delivery-legacy/infra/env/features', `${feature}.json`), 'utf8'));
    expect(doc.featureKey).toBe(feature);
    expect(featureConfigSchema.safeParse(doc).success).toBe(true);
  });

  it('rejects a typo next to the team shape (ssm spelled ssn) instead of ignoring it', () => {
    const r = featureConfigSchema.safeParse({ featureKey: 'core', environments: { test: { ssn: { A: '/a' } } } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['ssn'], path: ['environments', 'test'] });
  });

  it.each(['core', 'menu-rewrite'])('the example feature config %s validates and points at the schema', (feature) => {
    const path = join(repoRoot, 'examples/delivery-app/infra/env/features', `${feature}.json`);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    expect(featureConfigSchema.safeParse(doc).success).toBe(true);
    expect(join(path, '..', doc.$schema)).toBe(join(repoRoot, 'schemas/feature-config.schema.json'));
  });
});
