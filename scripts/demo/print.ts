/** Terminal output of the demo: headings, and bundle logs with GitHub workflow commands made readable. */
import type { BundleRun } from '../../test/helpers/run-bundle.js';

const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const style = (code: string) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = style('1');
export const dim = style('2');
export const red = style('31');
export const green = style('32');
export const yellow = style('33');
export const cyan = style('36');

export function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((l) => (l ? prefix + l : l))
    .join('\n');
}

const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProp = (s: string) => unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',');

/** One log line as a reader wants it: groups as headings, annotations marked, plumbing hidden. */
export function readableLine(line: string): string | undefined {
  const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (!m) return line;
  const [, command, props = '', data = ''] = m;
  const where = Object.fromEntries(
    props
      .split(',')
      .filter(Boolean)
      .map((p) => [p.slice(0, p.indexOf('=')), unescapeProp(p.slice(p.indexOf('=') + 1))]),
  );
  const location = where.file ? ` (${where.file}${where.line ? `:${where.line}` : ''})` : '';
  const message = unescapeData(data);
  switch (command) {
    case 'group':
      return bold(`▸ ${message}`);
    case 'error':
      return red(`✖ error${location}: ${message}`);
    case 'warning':
      return yellow(`⚠ warning${location}: ${message}`);
    case 'notice':
      return cyan(`ℹ notice${location}: ${message}`);
    default:
      // endgroup, debug, add-mask, save-state, echo: runner plumbing, not output.
      return undefined;
  }
}

export function printLog(stdout: string): void {
  // `::stop-commands::<token>` … `::<token>::`: lines in between are output, never commands (as on the runner).
  let stopToken: string | undefined;
  const readable = (line: string): string | undefined => {
    if (stopToken !== undefined) {
      if (line === `::${stopToken}::`) stopToken = undefined;
      return stopToken === undefined ? undefined : line;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) {
      stopToken = stop[1];
      return undefined;
    }
    return readableLine(line);
  };
  const lines = stdout
    .replace(/\n$/, '')
    .split('\n')
    .map(readable)
    .filter((l): l is string => l !== undefined);
  if (lines.length) console.log(indent(lines.join('\n'), '  │ '));
}

export function printOutputs(run: BundleRun): void {
  const entries = Object.entries(run.outputs);
  if (!entries.length) return;
  console.log(dim('  outputs:'));
  for (const [name, value] of entries) {
    const lines = value.split('\n');
    const shown = lines[0]!.length > 140 ? `${lines[0]!.slice(0, 137)}...` : lines[0];
    console.log(`    ${name} = ${shown}${lines.length > 1 ? dim(` (+${lines.length - 1} lines)`) : ''}`);
  }
}

export function printSummary(run: BundleRun): void {
  if (!run.summary.trim()) return;
  console.log(dim('  step summary:'));
  // The summary is markdown (plus a little HTML); shown as is, minus tags a terminal cannot render.
  console.log(
    indent(
      run.summary
        .replace(/<\/?(details|summary|br|p|code|b|strong|em)[^>]*>/g, '')
        .replace(/\n{3,}/g, '\n\n')
        .trimEnd(),
      '    ',
    ),
  );
}

/** JSON.stringify with small objects and arrays kept on one line, so a task definition fits a screen. */
export function compactJson(value: unknown, pad = '', width = 110): string {
  const flat = JSON.stringify(value);
  if (flat === undefined) return 'null';
  if (flat.length + pad.length <= width || value === null || typeof value !== 'object') return flat;
  const inner = `${pad}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + compactJson(v, inner, width)).join(',\n')}\n${pad}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner, width)}`,
  );
  return `{\n${entries.join(',\n')}\n${pad}}`;
}
