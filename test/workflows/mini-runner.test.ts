/**
 * The mini-runner (test/workflows/mini-runner.ts) against GitHub's documented
 * behaviour, so the workflow tests that rely on it prove what they claim.
 * Each case names the docs page it follows.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { condition, runJobs, type RunOptions } from './mini-runner.js';
import type { Workflow } from './workflow-files.js';

const opts = (): RunOptions => ({ contexts: { github: { ref_name: 'main', ref_type: 'branch' } }, env: {}, handlers: {} });
const wf = (yaml: string) => parse(yaml) as Workflow & { env?: Record<string, unknown> };

describe('status functions and the implicit success() (docs: expressions#status-check-functions, workflow-syntax#jobsjob_idstepsif)', () => {
  // https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions
  it('after a failed step: no-if and success() steps are skipped; always() and failure() steps run; cancelled() does not', async () => {
    const jobs = await runJobs(
      wf(`
jobs:
  j:
    steps:
      - { name: fails, run: exit 3 }
      - { name: plain, run: 'true' }
      - { name: on-success, if: success(), run: 'true' }
      - { name: plain-condition, if: "github.ref_name == 'main'", run: 'true' }
      - { name: on-always, if: always(), run: 'true' }
      - { name: on-failure, if: "\${{ failure() }}", run: 'true' }
      - { name: on-cancel, if: cancelled(), run: 'true' }
      - { name: not-cancelled, if: "!cancelled()", run: 'true' }
`),
      opts(),
    );
    expect(jobs.j!.ran_steps).toEqual(['fails', 'on-always', 'on-failure', 'not-cancelled']);
    expect(jobs.j!.failed).toBe('fails');
    expect(jobs.j!.result).toBe('failure');
  });

  it('a cancelled run: only always() and cancelled() steps run', async () => {
    const jobs = await runJobs(
      wf(`
jobs:
  j:
    if: always()
    steps:
      - { name: plain, run: 'true' }
      - { name: on-always, if: always(), run: 'true' }
      - { name: on-cancel, if: cancelled(), run: 'true' }
      - { name: on-failure, if: failure(), run: 'true' }
`),
      { ...opts(), status: { failed: false, cancelled: true } },
    );
    expect(jobs.j!.ran_steps).toEqual(['on-always', 'on-cancel']);
  });
});

describe("truthiness of if: (docs: expressions#operators — false, 0, -0, '', null, NaN are falsy)", () => {
  // https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#operators
  const ctx = { inputs: { flag: false, text: 'false', empty: '' } };
  it.each([
    ["${{ 'false' }}", true], // a non-empty string, even 'false', is truthy
    ['${{ 0 }}', false],
    ["${{ '' }}", false],
    ['${{ null }}', false],
    ['${{ 1 }}', true],
    ["fromJSON('[]')", true], // arrays are truthy
    ['inputs.flag', false], // a boolean input
    ['inputs.text', true], // a string input 'false' is truthy: compare with == 'true' instead
    ['inputs.empty', false],
    ["inputs.text == 'true'", false],
  ])('if: %s → %s', (expr, expected) => {
    expect(condition(expr, ctx)).toBe(expected);
  });
  it('no if: means success(): true before a failure, false after it', () => {
    expect(condition(undefined, {})).toBe(true);
    expect(condition(undefined, {}, { failed: true })).toBe(false);
    expect(condition('true', {}, { failed: true })).toBe(false);
  });
});

describe('default shell (docs: workflow-syntax#jobsjob_idstepsshell)', () => {
  // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell
  // unspecified: `bash -e {0}`; `shell: bash`: `bash --noprofile --norc -eo pipefail {0}`.
  it('without shell: a failing command before a pipe is hidden (no pipefail), a failing command stops the step (-e)', async () => {
    const jobs = await runJobs(
      wf(`
jobs:
  j:
    steps:
      - { name: pipe, run: "false | cat\\necho reached" }
      - { name: errexit, run: "false\\necho not reached" }
`),
      opts(),
    );
    expect(jobs.j!.ran_steps).toEqual(['pipe', 'errexit']);
    expect(jobs.j!.failed).toBe('errexit');
  });

  it('with shell: bash (step or defaults.run.shell) the same pipe fails the step', async () => {
    for (const doc of [
      `jobs:\n  j:\n    steps:\n      - { name: pipe, shell: bash, run: "false | cat" }\n`,
      `defaults:\n  run:\n    shell: bash\njobs:\n  j:\n    steps:\n      - { name: pipe, run: "false | cat" }\n`,
    ]) {
      const jobs = await runJobs(wf(doc), opts());
      expect(jobs.j!.failed).toBe('pipe');
    }
  });
});

describe('env precedence (docs: variables — the most specific definition wins: step > job > workflow)', () => {
  // https://docs.github.com/en/actions/reference/workflows-and-actions/variables#defining-environment-variables-for-a-single-workflow
  it('workflow, job and step env: each level overrides the one above', async () => {
    const jobs = await runJobs(
      wf(`
env: { A: workflow, B: workflow, C: workflow }
jobs:
  j:
    env: { B: job, C: job }
    outputs: { seen: "\${{ steps.s.outputs.seen }}", ctx: "\${{ env.B }}" }
    steps:
      - id: s
        env: { C: step }
        run: echo "seen=$A/$B/$C" >> "$GITHUB_OUTPUT"
`),
      opts(),
    );
    expect(jobs.j!.outputs.seen).toBe('workflow/job/step');
    expect(jobs.j!.outputs.ctx).toBe('job');
  });
});

describe('needs.<job>.result and dependent jobs (docs: workflow-syntax#jobsjob_idneeds)', () => {
  // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds
  // "If a job fails or is skipped, all jobs that need it are skipped unless the jobs use a
  // conditional expression that causes the job to continue."
  it('a failed job skips its dependants unless their if: continues; results are what happened', async () => {
    const jobs = await runJobs(
      wf(`
jobs:
  a:
    steps: [{ run: exit 1 }]
  b:
    needs: a
    steps: [{ run: 'true' }]
  c:
    needs: a
    if: always()
    outputs: { a: "\${{ needs.a.result }}" }
    steps: [{ run: 'true' }]
  d:
    needs: b
    if: failure()
    steps: [{ run: 'true' }]
  e:
    needs: [b, c]
    if: "always() && needs.b.result == 'skipped' && needs.c.result == 'success'"
    steps: [{ run: 'true' }]
  f:
    needs: c
    steps: [{ run: 'true' }]
`),
      opts(),
    );
    expect(Object.fromEntries(Object.entries(jobs).map(([k, j]) => [k, j.result]))).toEqual({
      a: 'failure',
      b: 'skipped',
      c: 'success',
      d: 'success', // failure() sees the failed ancestor a through b
      e: 'success',
      f: 'skipped', // c succeeded, but its ancestor a failed: success() is false
    });
    expect(jobs.c!.outputs.a).toBe('failure');
  });
});
