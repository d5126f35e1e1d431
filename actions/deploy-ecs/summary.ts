/** The step summary: per-service before → after, the task-definition diff, and the diagnosis of failures. */
import { code, markdownTable } from '../../lib/markdown.js';
import type { DeployResult } from './deploy-types.js';
import { formatDiagnosis } from './diagnose.js';
import { revisionOf } from './judge.js';

const seconds = (ms: number): string => (ms > 0 ? `${Math.round(ms / 100) / 10} s` : '');

const ICON: Record<string, string> = {
  succeeded: '✅ succeeded',
  unchanged: '➖ unchanged',
  failed: '❌ failed',
  'timed-out': '⏱️ timed out',
  interrupted: '⏸️ interrupted',
  'rolled back': '↩️ rolled back',
  'rollback failed': '❌ rollback failed',
  superseded: '⚠️ replaced by another deployment',
  cancelled: '🛑 cancelled',
  planned: '📝 planned',
};

export function summaryMarkdown(r: DeployResult, cluster: string): string {
  const parts: string[] = [];
  const verb = {
    succeeded: 'deployed',
    unchanged: 'already deployed',
    'timed-out': 'timed out',
    failed: 'failed',
    cancelled: 'cancelled',
    'dry-run': 'dry run (nothing changed)',
    superseded: 'replaced by another deployment',
  }[r.status];
  if (r.dryRun) {
    const diffs = r.dryRun.diffs.map(
      (d) =>
        `<details open><summary>${d.service}: task definition vs ${code(revisionOf(d.against))} (what it runs ` +
        `now)</summary>\n\n${d.diff.map((l) => `- ${l.replace(/[<>]/g, '')}`).join('\n')}\n\n</details>`,
    );
    return `${[`### deploy-ecs: ${verb} on ${code(cluster)}`, r.dryRun.lines.map((l) => `- ${l}`).join('\n'), ...diffs].join('\n\n')}\n`;
  }
  parts.push(`### deploy-ecs: ${revisionOf(r.taskDefinitionArn)} ${verb} on ${code(cluster)}${r.rolledBack ? ' (rolled back)' : ''}`);
  parts.push(
    markdownTable(
      ['service', 'before', 'after', 'image', 'result', 'duration'],
      r.services.map((s) => [
        s.service,
        revisionOf(s.before),
        revisionOf(s.after),
        r.image,
        `${ICON[s.result] ?? s.result}${s.reason ? `: ${s.reason}` : ''}`,
        seconds(s.durationMs),
      ]),
    ),
  );
  parts.push(
    `Task definition: ${code(r.taskDefinitionArn)} (${r.changed ? 'new revision registered' : 'no new revision: unchanged'}); took ${r.durationSeconds} s.`,
  );
  if (r.diff.length) {
    parts.push(
      `<details${r.diff.length <= 12 ? ' open' : ''}><summary>Changes against the previous ` +
        `revision</summary>\n\n${r.diff.map((l) => `- ${l.replace(/[<>]/g, '')}`).join('\n')}\n\n</details>`,
    );
  }
  for (const d of r.diagnoses) {
    parts.push(
      `#### Why ${d.service} failed\n\n${d.hint ? `**Hint:** ${d.hint}\n\n` : ''}\`\`\`text\n${formatDiagnosis(d).join('\n').replace(/```/g, "'''")}\n\`\`\``,
    );
  }
  if (r.leftInEcr?.length)
    parts.push(`#### Left in ECR by this run\n\n${r.leftInEcr.map((l) => `- ${l.replace(/[<>]/g, '')}`).join('\n')}`);
  if (r.error) parts.push(`**Result:** ${r.error.message.split('\n')[0]}`);
  return `${parts.join('\n\n')}\n`;
}
