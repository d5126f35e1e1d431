/**
 * The runner's workflow-command protocol, without @actions/core.
 *
 * Why: @actions/core 3 imports @actions/http-client (for OIDC tokens), which
 * imports undici; that adds ~470 KB to every minified bundle although no
 * action here asks for an OIDC token. This file does what the actions need —
 * inputs, log lines, groups, masks, outputs, the step summary, annotations and
 * a failed step — the way @actions/core does it (same escaping, same file
 * command format), so the runner sees no difference and every bundle is smaller.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { ActionError, describeUnknown, formatProblem } from './errors.js';
import type { Reporter } from './report.js';

const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

type Props = Record<string, string | number | undefined>;

export function issueCommand(name: string, props: Props, message: string): void {
  const p = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  process.stdout.write(`::${name}${p ? ` ${p}` : ''}::${escapeData(message)}${EOL}`);
}

/** Appends `name<<delimiter … delimiter` to a command file (GITHUB_OUTPUT), like core.setOutput. */
function setOutput(name: string, value: string): void {
  const file = process.env.GITHUB_OUTPUT;
  if (!file) {
    issueCommand('set-output', { name }, value);
    return;
  }
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) throw new Error(`Output ${name} contains the delimiter.`);
  appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8');
}

export const runnerReporter: Reporter = {
  info: (line) => void process.stdout.write(`${line}${EOL}`),
  warning: (line, loc) => issueCommand('warning', { file: loc?.file, line: loc?.line }, line),
  group: async (name, fn) => {
    process.stdout.write(`::group::${escapeData(name)}${EOL}`);
    try {
      return await fn();
    } finally {
      process.stdout.write(`::endgroup::${EOL}`);
    }
  },
  setOutput: (name, value) => setOutput(name, String(value)),
  setSecret: (value) => {
    if (value) issueCommand('add-mask', {}, value);
  },
};

/** Appends markdown to the step summary; no GITHUB_STEP_SUMMARY (local runs) is not an error. */
export function appendSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file) appendFileSync(file, `${markdown}${EOL}`, 'utf8');
}

/** One annotation per problem (on its file and line where there is one), then a failed step. */
export function reportFailure(action: string, err: unknown): void {
  if (err instanceof ActionError) {
    const all = err.problems.length > 0 ? err.problems : [err];
    for (const p of all) {
      const { file, line, column } = p.location;
      issueCommand('error', { title: action, file, line, col: column }, `${action}: ${formatProblem(p)}`);
    }
    issueCommand('error', {}, `${action} failed: ${err.problems.length > 0 ? err.message.split('\n')[0] : formatProblem(err)}`);
  } else {
    issueCommand('error', {}, `${action} failed: ${describeUnknown(err)}`);
    if (err instanceof Error && err.stack && process.env.RUNNER_DEBUG === '1') issueCommand('debug', {}, err.stack);
  }
  process.exitCode = 1;
}

/**
 * Entry point wrapper for every action's main.ts: runs it, turns any error
 * into annotations (on the file and line where there is one) and exit code 1.
 */
export async function runAction(action: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    reportFailure(action, err);
  }
}
