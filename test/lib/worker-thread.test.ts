/**
 * lib/worker-thread.ts through a real process, as the runner starts an action: `node <entry>`,
 * on the Node release the bundles run on. The worker's exit code, uncaught errors, output and
 * the runner's cancel signals must reach the runner as if there were no worker.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_MB } from '../../lib/worker-thread.js';

const entry = join(import.meta.dirname, 'worker-thread-main.ts');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture entry in WORKER_MODE; `onLine` sees each stdout line as it arrives. */
function run(mode: string, onLine?: (line: string, child: import('node:child_process').ChildProcess) => void): Promise<Ended> {
  const node = process.env.BUNDLE_NODE ?? process.execPath;
  const child = spawn(node, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, WORKER_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) onLine?.(l, child);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  // A run that never ends (a signal not passed on, a worker kept alive) is killed, and fails its test.
  const hung = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(hung);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

describe('lib/worker-thread: an action run in a worker thread', () => {
  it('runs in a worker whose young generation is capped', async () => {
    const r = await run('limits');
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as { isMainThread: boolean; resourceLimits: { maxYoungGenerationSizeMb: number } };
    expect(seen.isMainThread).toBe(false);
    expect(seen.resourceLimits.maxYoungGenerationSizeMb).toBe(YOUNG_GENERATION_MB);
  });

  it("ends the process with the worker's exit code", async () => {
    expect((await run('exit-code')).code).toBe(3);
  });

  it('fails the step on an error the worker did not catch: an annotation, exit code 1', async () => {
    const r = await run('throw');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::fixture failed: boom in the worker');
  });

  it('passes on every line the worker wrote before process.exit', async () => {
    const r = await run('lines');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5000);
    expect(lines.at(-1)).toBe('line 4999');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)("passes the runner's %s on to the action's listener in the worker", async (signal) => {
    const r = await run('listen', (line, child) => {
      if (line === 'listening') child.kill(signal);
    });
    expect(r.stdout).toContain(`got ${signal}`);
    expect(r.code).toBe(1);
    expect(r.signal).toBeNull();
  });

  it('ends the run on a signal the action does not listen for, as a process without a handler would end', async () => {
    const r = await run('not-listening', (line, child) => {
      if (line === 'ready') child.kill('SIGINT');
    });
    expect(r.code).toBe(1);
  });
});
