/**
 * The suite's workflow rules over every shipped workflow, and each rule against a
 * bad fixture so a broken rule (one that finds nothing) fails too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run-bundle.js';
import { actionNames } from '../helpers/actions.js';
import {
  artifactProblems,
  isBuildOnlyJob,
  concurrencyProblems,
  expressionsInRun,
  permissionProblems,
  sameCommitProblems,
  suiteActionName,
  suiteWorkflowName,
  unpinnedUses,
  usesRefs,
  withKeyProblems,
} from './rules.js';
import { fixture, isReusable, shippedWorkflows, steps } from './workflow-files.js';

const workflows = shippedWorkflows();
const OUR_ACTIONS = actionNames();

describe.each(workflows.map((w) => [w.path, w] as const))('%s', (_path, wf) => {
  it('has no ${{ }} expression inside run: (values go through env:)', () => {
    expect(expressionsInRun(wf)).toEqual([]);
  });

  it('pins every third-party uses: to a 40-hex SHA with a version comment', () => {
    expect(unpinnedUses(wf)).toEqual([]);
  });

  it('declares least-privilege permissions on the workflow and every job', () => {
    expect(permissionProblems(wf)).toEqual([]);
  });

  it('runs the suite from the same commit as the reusable workflow', () => {
    expect(sameCommitProblems(wf)).toEqual([]);
  });

  it('serialises deploys per repository + environment + target without cancelling', () => {
    expect(concurrencyProblems(wf)).toEqual([]);
  });

  it('gives our actions and reusable workflows only inputs they declare, and every required one', () => {
    expect(withKeyProblems(wf).problems).toEqual([]);
  });

  it('uploads artifacts with overwrite: true (so "Re-run all jobs" works)', () => {
    expect(artifactProblems(wf)).toEqual([]);
  });
});

// Only workflows with run: steps: for the others there is nothing to check.
const withRunSteps = workflows.filter((wf) => steps(wf).some(({ step }) => step.run !== undefined));

describe.each(withRunSteps.map((w) => [w.path, w] as const))('%s', (_path, wf) => {
  it('has run: scripts that bash can parse, and the suite scripts they call exist', () => {
    for (const { job, index, step } of steps(wf)) {
      if (step.run === undefined) continue;
      const check = spawnSync('bash', ['-n', '-c', step.run], { encoding: 'utf8' });
      expect(check.status, `${wf.path} jobs.${job}.steps[${index}]: ${check.stderr}`).toBe(0);
      for (const m of step.run.matchAll(/(?:\.aws-deploy-actions\/)?(\.github\/scripts\/[\w.-]+)/g)) {
        expect(existsSync(join(repoRoot, m[1]!)), `${wf.path} jobs.${job}.steps[${index}] calls ${m[1]}`).toBe(true);
      }
    }
  });
});

it('the bash check finds run: steps to parse and a script bash cannot parse fails it', () => {
  expect(withRunSteps.length).toBeGreaterThan(0);
  expect(spawnSync('bash', ['-n', '-c', 'if true; then echo'], { encoding: 'utf8' }).status).not.toBe(0);
});

describe('with: checks cover every action', () => {
  const present = new Set(actionNames());
  describe.each(OUR_ACTIONS)('%s', (name) => {
    const used = workflows.filter((wf) => steps(wf).some(({ step }) => step.uses && suiteActionName(step.uses) === name));
    it(`actions/${name}/action.yml exists, so its with: keys are checked`, () => {
      expect(present.has(name)).toBe(true);
      expect(used.flatMap((wf) => withKeyProblems(wf).unchecked)).not.toContain(name);
    });
  });
});

describe('reusable workflows', () => {
  const reusable = workflows.filter(isReusable);

  it('are the two deploy workflows', () => {
    expect(reusable.map((w) => w.path).sort()).toEqual([
      '.github/workflows/deploy-ecs-service.yml',
      '.github/workflows/deploy-static-site.yml',
    ]);
  });

  it.each(reusable.map((w) => [w.path, w] as const))('%s declares environment: on the job that gets the OIDC token', (_p, wf) => {
    const withToken = Object.entries(wf.doc.jobs).filter(
      ([, j]) => typeof j.permissions === 'object' && j.permissions['id-token'] === 'write' && !isBuildOnlyJob(j),
    );
    expect(withToken.length).toBeGreaterThan(0);
    for (const [, job] of withToken) expect(job.environment).toMatch(/needs\.plan\.outputs\.environment/);
  });

  it.each(reusable.map((w) => [w.path, w] as const))('%s runs only our actions from the suite checkout, never ./actions', (_p, wf) => {
    const ours = steps(wf).filter(({ step }) => step.uses && suiteActionName(step.uses));
    expect(ours.length).toBeGreaterThan(0);
    for (const { step } of ours) expect(step.uses).toMatch(/^\.\/\.aws-deploy-actions\/actions\/[a-z-]+$/);
  });
});

describe('build once, in its own job', () => {
  const ecs = workflows.find((w) => w.path === '.github/workflows/deploy-ecs-service.yml')!;
  it('the image is built only in the build job, which assumes only the build role and runs no deploy action', () => {
    const builders = Object.entries(ecs.doc.jobs).filter(([, j]) =>
      (j.steps ?? []).some((s) => s.uses?.startsWith('docker/build-push-action@')),
    );
    expect(builders.map(([name]) => name)).toEqual(['build']);
    expect(isBuildOnlyJob(builders[0]![1])).toBe(true);
    expect(builders[0]![1].environment).toBeUndefined();
  });
  it('every job that assumes the deploy role declares the environment', () => {
    for (const [, job] of Object.entries(ecs.doc.jobs)) {
      const deployRole = (job.steps ?? []).some((s) => /AWS_ROLE_ARN\b/.test(String(s.with?.['role-to-assume'] ?? '')));
      if (deployRole) expect(job.environment).toMatch(/needs\.plan\.outputs\.environment/);
    }
  });
});

describe('caller workflows', () => {
  const callers = workflows.filter((w) => w.path.startsWith('workflows/') || w.path.startsWith('examples/'));

  it('call the reusable workflows by repository path and ref (never ./, which is the app repo)', () => {
    const calls = callers.flatMap((wf) =>
      Object.values(wf.doc.jobs)
        .filter((j) => j.uses)
        .map((j) => j.uses!),
    );
    expect(calls.length).toBeGreaterThan(0);
    for (const uses of calls)
      expect(uses).toMatch(/^[\w.-]+\/aws-deploy-actions\/\.github\/workflows\/deploy-(ecs-service|static-site)\.yml@\S+$/);
  });

  it('rails-stores asks for one approval per release: one gating job, every deploy call waits for it', () => {
    const wf = callers.find((w) => w.path === 'examples/rails-stores/.github/workflows/deploy.yml')!;
    const jobs = wf.doc.jobs;
    // Jobs that name an environment themselves (the reusable calls name theirs inside).
    const gated = Object.entries(jobs).filter(([, j]) => j.environment !== undefined);
    expect(gated.map(([n]) => n)).toEqual(['approve']);
    expect(String(gated[0]![1].environment)).toContain('prod-release');
    const waitsFor = (name: string): boolean => [jobs[name]!.needs ?? []].flat().some((n) => n === 'approve' || waitsFor(n));
    const calls = Object.entries(jobs).filter(([, j]) => j.uses);
    expect(calls.length).toBe(3);
    for (const [name] of calls) expect(waitsFor(name), name).toBe(true);
  });

  it('the backend and frontend callers deploy on master too (the default mapping has master=prod)', () => {
    for (const file of ['workflows/backend.yml', 'workflows/frontend.yml']) {
      const wf = callers.find((w) => w.path === file)!;
      expect((wf.doc.on as { push: { branches: string[] } }).push.branches, file).toEqual(
        expect.arrayContaining(['main', 'master', 'staging']),
      );
    }
  });

  it('rollback callers never roll a failed rollback back', () => {
    const rollbacks = callers.filter((wf) => /rollback/.test(wf.path));
    for (const wf of rollbacks) {
      for (const job of Object.values(wf.doc.jobs).filter((j) => j.uses && suiteWorkflowName(j.uses) === 'deploy-ecs-service.yml')) {
        expect(job.with?.['rollback-on-failure'], wf.path).toBe(false);
      }
    }
  });

  it('a rollback never builds or migrates', () => {
    const rollbacks = callers.filter((wf) => /rollback/.test(wf.path));
    expect(rollbacks.length).toBeGreaterThan(0);
    for (const wf of rollbacks) {
      for (const job of Object.values(wf.doc.jobs).filter((j) => j.uses && suiteWorkflowName(j.uses) === 'deploy-ecs-service.yml')) {
        expect(job.with?.['migration-command']).toBeUndefined();
        expect(String(job.with?.['image-tag'] ?? '') + String(job.with?.['task-definition'] ?? '')).toMatch(/inputs\./);
      }
    }
  });
});

describe('rules catch the bad fixtures', () => {
  it('upload-artifact without overwrite: true', () => {
    const problems = artifactProblems(fixture('bad-artifact.yml'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/jobs\.build\.steps\[1\] \(Keep the bundle\): upload-artifact without overwrite: true/);
  });

  it('expressions in run:', () => {
    const problems = expressionsInRun(fixture('bad-run-expression.yml'));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/steps\[0\] \(Echo the title\): run: contains \$\{\{ github\.event\.pull_request\.title \}\}/);
    expect(problems[1]).toMatch(/inputs\.name/);
  });

  it('unpinned third-party actions and workflows', () => {
    const problems = unpinnedUses(fixture('bad-unpinned.yml'));
    expect(problems).toEqual([
      expect.stringMatching(/jobs\.call: uses: other-org\/workflows\/\.github\/workflows\/deploy\.yml@v2 is not pinned/),
      expect.stringMatching(/steps\[0\]: uses: actions\/checkout@v6 is not pinned/),
      expect.stringMatching(/steps\[1\]: uses: actions\/setup-node@main is not pinned/),
      expect.stringMatching(/steps\[2\]: uses: aws-actions\/configure-aws-credentials@a03048d8\w+ has no version comment/),
    ]);
  });

  it('reads the version comment of each uses: line', () => {
    const refs = usesRefs(fixture('bad-unpinned.yml'));
    expect(refs.find((r) => r.value.endsWith('df4cb1c069e1874edd31b4311f1884172cec0e10'))?.comment).toBe('v6.0.3');
  });

  it('missing or broad permissions', () => {
    expect(permissionProblems(fixture('bad-permissions.yml'))).toEqual([
      expect.stringMatching(/no top-level permissions/),
      expect.stringMatching(/jobs\.a has no permissions/),
      expect.stringMatching(/jobs\.b has write-all/),
      expect.stringMatching(/jobs\.c has id-token: write without environment/),
    ]);
    expect(permissionProblems(fixture('bad-write-top-level.yml'))).toEqual([
      expect.stringMatching(/top-level permissions give contents: write/),
      expect.stringMatching(/top-level permissions give id-token: write/),
    ]);
  });

  it('actions taken from the caller checkout or the wrong commit', () => {
    expect(sameCommitProblems(fixture('bad-same-commit.yml'))).toEqual([
      expect.stringMatching(/steps\[0\]: uses: \.\/actions\/render-taskdef resolves in the caller's checkout/),
      expect.stringMatching(/steps\[1\]: uses the suite from \.aws-deploy-actions before any step checks it out/),
      expect.stringMatching(/steps\[2\]: the suite checkout must use repository:/),
      expect.stringMatching(/steps\[2\]: the suite checkout must use ref:/),
    ]);
  });

  it('deploy concurrency by github.workflow, cancelling, or missing', () => {
    expect(concurrencyProblems(fixture('bad-concurrency.yml'))).toEqual([
      expect.stringMatching(/jobs\.deploy concurrency group uses github\.workflow/),
      expect.stringMatching(/jobs\.deploy concurrency group lacks github\.repository/),
      expect.stringMatching(/jobs\.deploy concurrency group lacks the environment/),
      expect.stringMatching(/jobs\.deploy concurrency group lacks the service or site/),
      expect.stringMatching(/jobs\.deploy must set cancel-in-progress: false/),
      expect.stringMatching(/jobs\.other deploys without concurrency/),
    ]);
  });

  it('unknown and missing inputs of our actions and reusable workflows', () => {
    const { problems } = withKeyProblems(fixture('bad-with-keys.yml'));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/jobs\.migrate\.steps\[0\]: with: comand is not an input of actions\/migrate-db/),
        expect.stringMatching(/jobs\.migrate\.steps\[0\]: actions\/migrate-db requires input cluster/),
        expect.stringMatching(/jobs\.deploy: with: service is not an input of \.github\/workflows\/deploy-ecs-service\.yml/),
        expect.stringMatching(/jobs\.deploy: with: rollback-on-failure is "no" \(string\), but .* declares it type: boolean/),
        expect.stringMatching(/jobs\.deploy: with: timeout-minutes is "ten" \(string\), but .* declares it type: number/),
      ]),
    );
  });
});

describe('reference parsing', () => {
  it.each([
    ['./actions/deploy-ecs', 'deploy-ecs'],
    ['./.aws-deploy-actions/actions/render-taskdef', 'render-taskdef'],
    ['acme/aws-deploy-actions/actions/migrate-db@v1', 'migrate-db'],
    ['$/actions/deploy-static', 'deploy-static'],
    ['acme/other/actions/migrate-db@v1', undefined],
    ['actions/checkout@v6', undefined],
  ])('%s -> %s', (uses, name) => {
    expect(suiteActionName(uses)).toBe(name);
  });
});
