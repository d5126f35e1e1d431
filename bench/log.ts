/**
 * The measurement log: every benchmark run appends what it printed to bench/RESULTS.md, dated,
 * with the command, the commit and the machine's load, so a figure quoted in a README can be traced
 * to the run that measured it. Import it first and call `logMeasurements(title)`; BENCH_LOG=0 skips
 * the file (a run made only to look at the output).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';

const RESULTS = join(new URL('..', import.meta.url).pathname, 'bench', 'RESULTS.md');

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // This file itself changes with every run logged: not a change to what was measured.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', ':(top)', ':(top,exclude)bench/RESULTS.md'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha} + uncommitted changes` : sha;
  } catch {
    return 'unknown';
  }
}

/** Captures what the bench prints from now on and appends it to bench/RESULTS.md when the process exits. */
export function logMeasurements(title: string): void {
  if (process.env.BENCH_LOG === '0') return;
  const printed: string[] = [];
  const original = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    printed.push(format(...args));
    original(...args);
  };
  const command = [process.argv[1]?.replace(`${process.cwd()}/`, '') ?? '', ...process.argv.slice(2)].join(' ');
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const startLoad = loadavg()[0]!.toFixed(1);
  process.on('exit', (code) => {
    const head = [
      `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${title}`,
      '',
      `\`${[env, 'npx tsx', command].filter(Boolean).join(' ')}\` · commit ${commit()} · ${cpus().length} CPUs, load ${startLoad} at start, ${loadavg()[0]!.toFixed(1)} at end · exit ${code}`,
      '',
      '```',
    ];
    appendFileSync(RESULTS, `${[...head, ...printed, '```', '', ''].join('\n')}`);
  });
}
