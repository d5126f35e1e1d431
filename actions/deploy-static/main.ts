import { isMainThread } from 'node:worker_threads';
import { envReader } from '../../lib/inputs.js';
import { receiveSignals, runInWorker } from '../../lib/worker-thread.js';
import { WORKER_ABOVE_FILES, holdsMoreFilesThan } from './source-size.js';

// A large build runs in a worker thread with a capped young generation (lib/worker-thread.ts);
// the worker re-enters this file and runs the action.
if (isMainThread && holdsMoreFilesThan(envReader('source'), WORKER_ABOVE_FILES))
  await runInWorker('deploy-static', new URL(import.meta.url));
else {
  receiveSignals();
  await import(/* webpackMode: "eager" */ './run.js');
}
