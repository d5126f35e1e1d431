/**
 * Runs an action in a worker thread whose V8 young generation is capped.
 *
 * Why: Node ≥ 22 sizes V8's young generation from the machine's memory
 * (nodejs/node#62723): 128 MiB of new space on any machine with 4 GiB or
 * more, which covers every GitHub-hosted runner. A run that keeps most of what
 * it allocates (deploy-static reading 100,000 files and their listing) grows
 * it to that size: ~90 MiB of RSS the heap never needed. A step cannot set
 * node options for a JavaScript action (action.yml has no `env:` for
 * `using: node24`), and V8 fixes the size when it starts, so the cap is set
 * where Node allows it per isolate: `resourceLimits` of a Worker
 * (https://nodejs.org/api/worker_threads.html#new-workerfilename-options).
 *
 * The process stays the runner's: its exit code is the worker's, the worker's
 * stdout and stderr are this process's, and the runner's cancel signals
 * (SIGINT, then SIGTERM 7.5 s later), which only the main thread receives,
 * are passed on to the worker as the same `process` events.
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { reportFailure } from './runner.js';

/** The worker's young generation: semi-spaces of 16 MiB (V8 sizes it as 3 semi-spaces). */
export const YOUNG_GENERATION_MB = 48;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

interface SignalMessage {
  signal: Signal;
}

function isSignalMessage(m: unknown): m is SignalMessage {
  return typeof m === 'object' && m !== null && SIGNALS.includes((m as SignalMessage).signal);
}

/**
 * Main thread: runs `script` in a worker thread and resolves when it has
 * ended, with `process.exitCode` set to the worker's exit code. An error the
 * worker did not catch fails the step as `runAction` would.
 */
export function runInWorker(action: string, script: string | URL): Promise<void> {
  return new Promise((resolve) => {
    const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    const forward = (signal: Signal) => worker.postMessage({ signal } satisfies SignalMessage);
    for (const s of SIGNALS) process.on(s, forward);
    worker.on('error', (err) => reportFailure(action, err));
    worker.on('exit', (code) => {
      for (const s of SIGNALS) process.off(s, forward);
      if (code !== 0) process.exitCode = code;
      resolve();
    });
  });
}

/**
 * Worker: a signal passed on by the main thread is emitted as the `process`
 * event the action listens for. Before the action listens (still loading) or
 * after it stopped listening, the signal ends the run as it would end a
 * process without a handler.
 */
export function receiveSignals(): void {
  if (isMainThread || !parentPort) return;
  parentPort.on('message', (m: unknown) => {
    if (!isSignalMessage(m)) return;
    if (!process.emit(m.signal, m.signal)) process.exit(1);
  });
  // Listening must not keep the worker alive once the action is done.
  parentPort.unref();
}
