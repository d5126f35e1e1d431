import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActionError } from '../../lib/errors.js';
import { envReader } from '../../lib/inputs.js';
import { appendSummary, reportFailure, runnerReporter } from '../../lib/runner.js';
import { parseCommandFile } from '../helpers/run-bundle.js';

let out: string[];
const saved = { ...process.env };
beforeEach(() => {
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = { ...saved };
  process.exitCode = undefined;
});

describe('lib/runner (the runner protocol without @actions/core)', () => {
  it('reads inputs like core.getInput: INPUT_<NAME>, spaces to _, trimmed', () => {
    process.env['INPUT_TASK-DEFINITION'] = '  td.json \n';
    process.env.INPUT_MY_INPUT = 'x';
    expect(envReader('task-definition')).toBe('td.json');
    expect(envReader('my input')).toBe('x');
    expect(envReader('absent')).toBe('');
  });

  it('writes outputs (multi-line too) in the GITHUB_OUTPUT format the runner parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-'));
    process.env.GITHUB_OUTPUT = join(dir, 'out');
    writeFileSync(process.env.GITHUB_OUTPUT, '');
    runnerReporter.setOutput('status', 'succeeded');
    runnerReporter.setOutput('previous', 'api=arn:1\nworker=arn:2');
    expect(parseCommandFile(readFileSync(process.env.GITHUB_OUTPUT, 'utf8'))).toEqual({
      status: 'succeeded',
      previous: 'api=arn:1\nworker=arn:2',
    });
  });

  it('appends the step summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-'));
    process.env.GITHUB_STEP_SUMMARY = join(dir, 'summary');
    writeFileSync(process.env.GITHUB_STEP_SUMMARY, 'before\n');
    appendSummary('### deploy-ecs');
    expect(readFileSync(process.env.GITHUB_STEP_SUMMARY, 'utf8')).toMatch(/^before\n### deploy-ecs\r?\n$/);
  });

  it('masks secrets, groups and escapes workflow commands', async () => {
    runnerReporter.setSecret('s3cr3t');
    await runnerReporter.group('Wait', async () => runnerReporter.info('polling'));
    runnerReporter.warning('a: b\n50%', { file: 'td.json', line: 3 });
    expect(out.join('')).toBe('::add-mask::s3cr3t\n::group::Wait\npolling\n::endgroup::\n::warning file=td.json,line=3::a: b%0A50%25\n');
  });

  it('fails the step with one annotation per problem, on the file and line', () => {
    const err = new ActionError('bad', {
      problems: [new ActionError('Unknown key x.', { file: 'td.json', line: 2 }), new ActionError('Input required.', { input: 'cluster' })],
    });
    reportFailure('deploy-ecs', err);
    expect(process.exitCode).toBe(1);
    expect(out).toEqual([
      '::error title=deploy-ecs,file=td.json,line=2::deploy-ecs: td.json:2: Unknown key x.\n',
      "::error title=deploy-ecs::deploy-ecs: input 'cluster': Input required.\n",
      '::error::deploy-ecs failed: bad\n',
    ]);
  });
});
