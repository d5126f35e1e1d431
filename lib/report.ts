/**
 * The seam between an action and the runner: bundles use `runnerReporter`
 * from lib/runner.ts (the runner's protocol without @actions/core), unit tests
 * use `memoryReporter()` to capture what a user would see.
 */
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

export { code, escapeCell, markdownTable } from './markdown.js';
