import { describe, expect, it } from 'vitest';
import { describeOutcome, summaryMarkdown } from '../../actions/migrate-db/summary.js';

describe('describeOutcome', () => {
  it.each([
    [{ result: 'succeeded', exitCode: 0 } as const, 'succeeded (exit code 0)'],
    [{ result: 'failed', exitCode: 2 } as const, 'failed with exit code 2'],
    [
      {
        result: 'not-started',
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'ResourceInitializationError: unable to pull secrets',
      } as const,
      'never ran: TaskFailedToStart — ResourceInitializationError: unable to pull secrets',
    ],
    [{ result: 'not-started' } as const, 'never ran: no exit code and no reason reported'],
    [{ result: 'timed-out' } as const, 'timed out after timeout-minutes (0.5); StopTask sent'],
  ])('%j reads "%s"', (outcome, text) => {
    expect(describeOutcome(outcome, 0.5)).toBe(text);
  });
});

describe('summaryMarkdown', () => {
  it('shows command, result, duration, a console link and the last lines in a fence they cannot close', () => {
    const md = summaryMarkdown({
      command: 'bin/rails db:migrate | tee out',
      result: 'failed with exit code 1',
      durationSeconds: 12.3,
      taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/delivery-test/0123abcd',
      consoleUrl: 'https://console.example/t/0123abcd',
      logStream: 'backend/backend/0123abcd',
      lastLines: ['```', 'rake aborted!'],
    });
    expect(md).toContain('| command | `bin/rails db:migrate \\| tee out` |');
    expect(md).toContain('| result | failed with exit code 1 |');
    expect(md).toContain('| duration | 12.3 s |');
    expect(md).toContain('| task | [0123abcd](https://console.example/t/0123abcd) |');
    expect(md).toContain('Last 2 log lines');
    expect(md).toContain('````\n```\nrake aborted!\n````');
  });

  it('says a dry run started nothing', () => {
    expect(summaryMarkdown({ command: 'true', result: 'dry run', lastLines: [], dryRun: true })).toContain(
      '| task | dry run: none started |',
    );
  });
});
