import { afterAll, describe, expect, it } from 'vitest';
import { runSchedule } from './oracle/run.js';

/**
 * The oracle: generated fault schedules over deploy-ecs (oracle/schedule.ts), run in-process on a fake
 * clock against the emulator's own ECS model (oracle/world.ts, oracle/wire.ts), the invariants of
 * oracle/invariants.ts checked after every request and at the end. ORACLE_SEED=<n> replays one
 * schedule; ORACLE_SCHEDULES=<n> runs more. The schedules run in chunks, one test each, so every test
 * stays well inside the project's timeout on a busy machine.
 */
const COUNT = Number(process.env.ORACLE_SCHEDULES ?? 300);
// About 1.5 s a chunk on an idle machine; chunks of 10 went past the 30 s limit at a load of 20.
const CHUNK = 5;
const seeds = process.env.ORACLE_SEED ? [Number(process.env.ORACLE_SEED)] : Array.from({ length: COUNT }, (_, i) => 1 + i);
const chunks = Array.from({ length: Math.ceil(seeds.length / CHUNK) }, (_, i) => seeds.slice(i * CHUNK, (i + 1) * CHUNK));
const replay = (seed: number) => `ORACLE_SEED=${seed} npx vitest run test/deploy-ecs/oracle.test.ts`;
const total = { schedules: 0, requests: 0, checks: 0, failed: [] as number[] };

describe('deploy-ecs under generated fault schedules', () => {
  afterAll(() => {
    console.log(
      `oracle: ${total.schedules} schedules, ${total.requests} requests, ${total.checks} invariant checks, ${total.failed.length} failed` +
        (total.failed.length ? `; replay one with ${replay(total.failed[0]!)} (failing seeds: ${total.failed.join(', ')})` : ''),
    );
  });

  it.each(chunks.map((c) => [c[0]!, c.at(-1)!, c] as const))(
    'seeds %i–%i keep every invariant after every request and at the end',
    async (_a, _b, chunk) => {
      const failed: string[] = [];
      for (const seed of chunk) {
        const res = await runSchedule(seed);
        total.schedules++;
        total.checks += res.checks;
        total.requests += res.requests;
        if (process.env.ORACLE_VERBOSE)
          console.log(`seed ${seed}: ${res.requests} requests, ${res.checks} checks, ${res.violations.length} violations`);
        if (res.violations.length === 0) continue;
        total.failed.push(seed);
        failed.push(
          `${res.story}\n  violations:\n  - ${[...new Set(res.violations)].slice(0, 8).join('\n  - ')}\n  replay: ${replay(seed)}`,
        );
      }
      expect(failed.slice(0, 2), failed.slice(0, 2).join('\n\n')).toEqual([]);
    },
  );
});
