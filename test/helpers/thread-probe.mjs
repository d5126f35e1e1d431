// Loaded with `node --import` into a bundle under test; node loads it again in every worker
// thread. Each thread appends one JSON line to THREAD_PROBE_OUT: whether it is the main thread,
// and its V8 resource limits (what lib/worker-thread.ts sets for a worker).
import { appendFileSync } from 'node:fs';
import { isMainThread, resourceLimits } from 'node:worker_threads';

appendFileSync(process.env.THREAD_PROBE_OUT, `${JSON.stringify({ isMainThread, resourceLimits })}\n`);
