/** The gate's report: the lines for the log and the diagnosis, the step-summary section and the `gate` output. */
import { code, markdownTable } from '../../lib/markdown.js';
import type { GateResult, ProbeAttempt } from './gate-types.js';

/** "503×4, 200×3": the statuses in order, repeats folded. */
export function statusRuns(attempts: ProbeAttempt[]): string {
  const runs: [string, number][] = [];
  for (const a of attempts) {
    const v = a.status !== undefined ? String(a.status) : 'error';
    const lastRun = runs.at(-1);
    if (lastRun && lastRun[0] === v) lastRun[1] += 1;
    else runs.push([v, 1]);
  }
  return runs.map(([v, n]) => (n > 1 ? `${v}×${n}` : v)).join(', ');
}

function timings(attempts: ProbeAttempt[]): string {
  if (!attempts.length) return '';
  const ms = attempts.map((a) => a.ms);
  return `${Math.min(...ms)} / ${Math.round(ms.reduce((a, b) => a + b, 0) / ms.length)} / ${Math.max(...ms)} ms`;
}

/** Lines for the log and the failure's diagnosis. */
export function gateDiagnosis(r: GateResult): string[] {
  const lines = [`gate ${r.status}${r.stage ? ` (${r.stage})` : ''}: ${r.reason}`];
  for (const u of r.urls) {
    const lastError = [...u.attempts].reverse().find((a) => a.error)?.error;
    lines.push(
      `  ${u.url}: ${u.passed ? 'passed' : 'failed'}; ${statusRuns(u.attempts)}${lastError ? ` (last error: ${lastError})` : ''}; min/avg/max ` +
        `${timings(u.attempts)}`,
    );
  }
  if (r.command) {
    lines.push(`  command: exit ${r.command.exitCode ?? r.command.signal ?? 'none'}${r.command.timedOut ? ', killed at the timeout' : ''}`);
    for (const l of r.command.lastLines.slice(-10)) lines.push(`  │ ${l}`);
  }
  return lines;
}

const ICON = { passed: '✅ passed', failed: '❌ failed', skipped: '➖ skipped', expired: '⌛ expired' } as const;

/** The step-summary section: per URL its status codes and timings, or the command's exit code and last lines. */
export function gateMarkdown(results: GateResult[]): string {
  if (!results.length) return '';
  const parts = ['\n#### Test-traffic gate'];
  const rows = results.flatMap((r) =>
    r.urls.length
      ? r.urls.map((u) => [
          r.service,
          r.stage ?? '',
          code(u.url),
          u.passed ? ICON.passed : r.status === 'failed' ? ICON.failed : ICON[r.status],
          statusRuns(u.attempts),
          timings(u.attempts),
        ])
      : [
          [
            r.service,
            r.stage ?? '',
            r.command ? 'command' : '',
            ICON[r.status],
            r.command
              ? `exit ${r.command.exitCode ?? r.command.signal ?? '–'}${r.command.timedOut ? ' (killed at timeout)' : ''}`
              : r.reason,
            `${Math.round(r.durationMs / 100) / 10} s`,
          ],
        ],
  );
  parts.push(markdownTable(['service', 'stage', 'check', 'result', 'status codes / exit', 'min / avg / max'], rows));
  for (const r of results.filter((x) => x.status === 'failed' || x.status === 'expired')) {
    parts.push(`**${r.service}:** ${r.reason.replace(/[<>]/g, '')}`);
    if (r.command?.lastLines.length) parts.push(`\`\`\`text\n${r.command.lastLines.join('\n').replace(/```/g, "'''")}\n\`\`\``);
  }
  return `${parts.join('\n\n')}\n`;
}

/** The `gate` output: failed if any failed, expired if a pause ended before its gate passed, passed if any ran and all passed, else skipped. */
export function gateOutput(results: GateResult[]): GateResult['status'] {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  if (results.some((r) => r.status === 'expired')) return 'expired';
  return results.some((r) => r.status === 'passed') ? 'passed' : 'skipped';
}
