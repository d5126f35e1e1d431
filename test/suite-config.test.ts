/**
 * The suite's own rules, read from vitest.config.ts: every test must assert something (each
 * project loads the setup that calls expect.hasAssertions()), and unit tests keep vitest's
 * default 5 s timeout — only the bundle tests, and the files that start a server or a process, wait longer.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import config from '../vitest.config.js';

type Project = {
  test?: { name?: string; setupFiles?: string[]; testTimeout?: number; sequence?: { groupOrder?: number }; globalSetup?: string[] };
};
const projects = (config.test?.projects ?? []) as Project[];

describe('vitest.config.ts', () => {
  it('has the unit, unit-isolated, processes, bundles and iam projects, each loading the setup that requires an assertion per test', () => {
    expect(projects.map((p) => p.test?.name)).toEqual(['unit', 'unit-isolated', 'processes', 'bundles', 'iam']);
    for (const p of projects) expect(p.test?.setupFiles, p.test?.name).toContain('test/helpers/assertions-required.ts');
  });

  it('runs the IAM policy check after every other project, with the IAM log directory set up for the whole run', () => {
    const order = (name: string) => projects.find((p) => p.test?.name === name)?.test?.sequence?.groupOrder ?? 0;
    for (const name of ['unit', 'unit-isolated', 'processes', 'bundles']) expect(order('iam'), name).toBeGreaterThan(order(name));
    expect(projects.find((p) => p.test?.name === 'iam')?.test?.globalSetup).toEqual(['test/iam/setup.ts']);
  });

  it('gives unit tests the default timeout of vitest; processes and bundles longer ones', () => {
    expect(config.test?.testTimeout).toBeUndefined();
    expect(projects.find((p) => p.test?.name === 'unit')?.test?.testTimeout).toBeUndefined();
    expect(projects.find((p) => p.test?.name === 'unit-isolated')?.test?.testTimeout).toBeUndefined();
    expect(projects.find((p) => p.test?.name === 'processes')?.test?.testTimeout).toBe(30_000);
    expect(projects.find((p) => p.test?.name === 'bundles')?.test?.testTimeout).toBe(60_000);
  });

  it('runs the bundles on the Node release every action.yml declares, pinned in package.json', () => {
    const pinned = (JSON.parse(readFileSync('package.json', 'utf8')) as { config: { node24: string } }).config.node24;
    expect(pinned).toMatch(/^24\./);
    // Set by test/helpers/bundle-node.ts (globalSetup) for every worker of the run.
    expect(process.env.BUNDLE_NODE).toBeTruthy();
    expect(execFileSync(process.env.BUNDLE_NODE!, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${pinned}`);
  });
});
