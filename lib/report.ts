/**
 * The seam between an action and the runner: bundles use `runnerReporter`
 * from lib/runner.ts (the runner's protocol without @actions/core), unit tests
 * use `memoryReporter()` to capture what a user would see.
 */
import { randomUUID } from 'node:crypto';
export interface Reporter {
  info(line: string): void;
  warning(line: string, loc?: { file?: string; line?: number }): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  setOutput(name: string, value: string | number | boolean): void;
  setSecret(value: string): void;
}

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

/**
 * Prints text that came from an application or AWS (container log lines, service events, stopped
 * reasons, a gate command's output) as data. The runner reads any line as a workflow command once
 * leading whitespace is stripped, so an app line `::error::…`, `::add-mask::…` or
 * `::stop-commands::x` would otherwise annotate, mask, or silence the action's own commands. Inside a
 * `::stop-commands::<token>` block nothing is a command until `::<token>::`; the token is random, so
 * the printed text cannot end the block. Embedded line breaks are split here, so every line is inside.
 * https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#stopping-and-starting-workflow-commands
 */
export function printUntrusted(report: Pick<Reporter, 'info'>, lines: string[]): void {
  if (!lines.length) return;
  const token = randomUUID();
  report.info(`::stop-commands::${token}`);
  for (const line of lines) for (const part of line.split(/\r\n|\r|\n/)) report.info(part);
  report.info(`::${token}::`);
}
