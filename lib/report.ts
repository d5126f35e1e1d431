import * as core from '@actions/core';
import { ActionError, describeUnknown, formatProblem } from './errors.js';

/**
 * Log and summary helpers. `Reporter` is the seam between an action and the
 * runner: real code uses `coreReporter`, unit tests use `memoryReporter()`.
 */
export interface Reporter {
  info(line: string): void;
  warning(line: string, loc?: { file?: string; line?: number }): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  setOutput(name: string, value: string | number | boolean): void;
  setSecret(value: string): void;
}

export const coreReporter: Reporter = {
  info: (line) => core.info(line),
  warning: (line, loc) => core.warning(line, loc?.file ? { file: loc.file, startLine: loc.line } : undefined),
  group: (name, fn) => core.group(name, fn),
  setOutput: (name, value) => core.setOutput(name, String(value)),
  setSecret: (value) => core.setSecret(value),
};

export interface MemoryReporter extends Reporter {
  lines: string[];
  outputs: Record<string, string>;
}

export function memoryReporter(): MemoryReporter {
  const lines: string[] = [];
  const outputs: Record<string, string> = {};
  return {
    lines,
    outputs,
    info: (line) => void lines.push(line),
    warning: (line) => void lines.push(`warning: ${line}`),
    group: async (name, fn) => {
      lines.push(`::group::${name}`);
      try {
        return await fn();
      } finally {
        lines.push('::endgroup::');
      }
    },
    setOutput: (name, value) => void (outputs[name] = String(value)),
    setSecret: () => undefined,
  };
}

/** Markdown helpers for the step summary. Cells are escaped so a value cannot break the table. */
export function escapeCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => escapeCell(String(c))).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

export function code(value: string): string {
  return value === '' ? '' : `\`${value.replace(/`/g, "'")}\``;
}

/** Appends markdown to the step summary; a missing GITHUB_STEP_SUMMARY (local runs) is not an error. */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(markdown, true).write();
}

/**
 * Reports a failure the way the runner shows it best: one annotation per
 * problem (on the file and line where there is one) and a failed step.
 */
export function reportFailure(action: string, err: unknown): void {
  if (err instanceof ActionError) {
    const all = err.problems.length > 0 ? err.problems : [err];
    for (const p of all) {
      const { file, line, column } = p.location;
      core.error(`${action}: ${formatProblem(p)}`, file ? { file, startLine: line, startColumn: column, title: action } : { title: action });
    }
    core.setFailed(`${action} failed: ${err.problems.length > 0 ? err.message.split('\n')[0] : formatProblem(err)}`);
    return;
  }
  core.setFailed(`${action} failed: ${describeUnknown(err)}`);
  if (err instanceof Error && err.stack && process.env.RUNNER_DEBUG === '1') core.debug(err.stack);
}

/**
 * Entry point wrapper for every action's main.ts: runs it, turns any error
 * into annotations and exit code 1.
 */
export async function runAction(action: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    reportFailure(action, err);
    process.exitCode = 1;
  }
}
