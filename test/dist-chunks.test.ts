/**
 * SDK clients that only some runs call live in chunks of their own, which node loads on the first
 * call (lib/aws.ts lazyClient): every client in index.js is evaluated at start-up, whether the run
 * needs it or not (the CloudFront SDK cost deploy-static ~80 ms of every start, README "Rollback").
 * One static import of the package anywhere in the action's source brings it back into index.js.
 * A client is recognised by its Smithy namespace, which only the client's own code holds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const dist = new URL('../dist/', import.meta.url).pathname;

it.each([
  ['deploy-static', 'com.amazonaws.cloudfront'],
  ['deploy-ecs', 'com.amazonaws.cloudwatchlogs'],
])('%s: the client of %s is in a chunk of its own, not in index.js', (action, namespace) => {
  const dir = join(dist, action);
  const holding = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .filter((f) => readFileSync(join(dir, f), 'utf8').includes(`"${namespace}#`));
  expect(holding).toHaveLength(1);
  expect(holding[0]).not.toBe('index.js');
});
