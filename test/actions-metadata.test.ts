import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionNames, readActionYml, readmeTable } from './helpers/actions.js';
import { repoRoot, runBundle } from './helpers/run-bundle.js';

const names = actionNames();

describe('action metadata', () => {
  it('finds the actions', () => {
    expect(names).toContain('render-taskdef');
  });

  describe.each(names)('%s', (name) => {
    const yml = readActionYml(name);

    it('runs its committed bundle on node24', () => {
      expect(yml.runs.using).toBe('node24');
      expect(yml.runs.main).toBe(`../../dist/${name}/index.js`);
      expect(existsSync(join(repoRoot, 'dist', name, 'index.js'))).toBe(true);
      expect(existsSync(join(repoRoot, 'dist', name, 'licenses.txt'))).toBe(true);
    });

    it('has branding and describes every input and output', () => {
      expect(yml.branding?.icon).toBeTruthy();
      expect(yml.branding?.color).toBeTruthy();
      for (const [input, spec] of Object.entries(yml.inputs ?? {})) {
        expect(spec.description?.trim(), `input ${input}`).toBeTruthy();
      }
      for (const [output, spec] of Object.entries(yml.outputs ?? {})) {
        expect(spec.description?.trim(), `output ${output}`).toBeTruthy();
      }
    });

    it('README input and output tables list exactly what action.yml declares', () => {
      const inputs = readmeTable(name, 'Inputs');
      const outputs = readmeTable(name, 'Outputs');
      expect([...inputs.keys()].sort()).toEqual(Object.keys(yml.inputs ?? {}).sort());
      expect([...outputs.keys()].sort()).toEqual(Object.keys(yml.outputs ?? {}).sort());
      // Defaults in the README (second column: required, third: default) match action.yml.
      for (const [input, spec] of Object.entries(yml.inputs ?? {})) {
        const [required, def] = inputs.get(input)!;
        expect(required, `${input} required`).toBe(spec.required ? 'yes' : 'no');
        expect(def?.replace(/^`|`$/g, ''), `${input} default`).toBe(spec.default === undefined ? '' : String(spec.default));
      }
    });

    // A bundle that builds but crashes at start (ESM/CJS mix-ups, missing
    // files) must fail CI: with no inputs every action must fail *cleanly*,
    // with an annotation that names an input, not a stack trace.
    it('bundle starts under node like the runner and fails cleanly without inputs', async () => {
      const run = await runBundle(name, { env: { AWS_REGION: 'eu-west-1' } });
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/SyntaxError|ReferenceError|ERR_REQUIRE_ESM|ERR_MODULE_NOT_FOUND|Cannot find module/);
      expect(run.errors.length).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/Input '[a-z-]+'|input '[a-z-]+'/);
    });
  });
});
