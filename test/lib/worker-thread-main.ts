// An action entry as actions/deploy-static/main.ts has it: the main thread runs this file again in
// a worker (lib/worker-thread.ts), and the worker does what WORKER_MODE names (test/lib/worker-thread.test.ts).
import { isMainThread, resourceLimits } from 'node:worker_threads';
import { receiveSignals, runInWorker } from '../../lib/worker-thread.js';

if (isMainThread) await runInWorker('fixture', new URL(import.meta.url));
else {
  receiveSignals();
  const mode = process.env.WORKER_MODE;
  if (mode === 'limits') console.log(JSON.stringify({ isMainThread, resourceLimits }));
  if (mode === 'exit-code') process.exitCode = 3;
  if (mode === 'throw')
    setImmediate(() => {
      throw new Error('boom in the worker');
    });
  if (mode === 'lines') {
    for (let i = 0; i < 5000; i++) console.log(`line ${i}`);
    process.exit(0);
  }
  if (mode === 'listen') {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.on(signal, (s) => {
        console.log(`got ${s}`);
        // Ends the way deploy-static's cancel does: after its own clean-up, with code 1.
        setImmediate(() => process.exit(1));
      });
    setInterval(() => {}, 1000);
    console.log('listening');
  }
  if (mode === 'not-listening') {
    setInterval(() => {}, 1000);
    console.log('ready');
  }
}
