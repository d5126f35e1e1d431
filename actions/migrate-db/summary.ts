import { code, markdownTable } from '../../lib/markdown.js';
import type { Outcome } from './outcome.js';

/** One line a human reads first: what happened to the migration. */
export function describeOutcome(outcome: Outcome, timeoutMinutes: number): string {
  switch (outcome.result) {
    case 'succeeded':
      return 'succeeded (exit code 0)';
    case 'failed': {
      const stop = outcome.stop;
      const why = [stop?.stopCode, stop?.stoppedReason].filter(Boolean).join(': ');
      const others = stop?.others.length ? `; other containers: ${stop.others.join(', ')}` : '';
      return `failed with exit code ${outcome.exitCode}${why || others ? ` (task stopped: ${why || 'no reason reported'}${others})` : ''}`;
    }
    case 'not-started': {
      const parts = [outcome.stopCode, outcome.stoppedReason, outcome.containerReason].filter(Boolean);
      return `never ran: ${parts.join(' — ') || 'no exit code and no reason reported'}`;
    }
    case 'timed-out':
      return (
        `timed out after timeout-minutes ` +
        `(${timeoutMinutes})${outcome.waitedSeconds ? `, ${outcome.waitedSeconds} s of it waiting for another migration` : ''}; StopTask sent`
      );
    case 'cancelled':
      return 'cancelled (workflow cancelled); StopTask sent';
  }
}

export interface SummaryData {
  command: string;
  result: string;
  durationSeconds?: number;
  taskArn?: string;
  consoleUrl?: string;
  logStream?: string;
  lastLines: string[];
  dryRun?: boolean;
}

/** A fence longer than any backtick run in the lines, so log output cannot close it. */
function fence(lines: string[]): string {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  return '`'.repeat(longest + 1);
}

export function summaryMarkdown(d: SummaryData): string {
  const task = d.taskArn
    ? d.consoleUrl
      ? `[${d.taskArn.split('/').pop()}](${d.consoleUrl})`
      : d.taskArn
    : d.dryRun
      ? 'dry run: none started'
      : 'none';
  const rows: (string | number)[][] = [
    ['command', code(d.command)],
    ['result', d.result],
    ['duration', d.durationSeconds === undefined ? '' : `${d.durationSeconds} s`],
    ['task', task],
  ];
  if (d.logStream) rows.push(['log stream', code(d.logStream)]);
  const out = ['### migrate-db', '', markdownTable(['', ''], rows), ''];
  if (d.lastLines.length > 0) {
    const f = fence(d.lastLines);
    out.push(`<details open><summary>Last ${d.lastLines.length} log lines</summary>`, '', f, ...d.lastLines, f, '', '</details>', '');
  }
  return out.join('\n');
}
