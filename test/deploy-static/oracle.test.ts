import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeBuilds } from './oracle/actors.js';
import { runSchedule } from './oracle/schedule.js';

/**
 * The oracle: generated schedules of concurrent deploys and rollbacks with
 * faults (see oracle/schedule.ts for the invariants, oracle/actors.ts for the
 * faults). ORACLE_SEED=<n> replays one schedule; ORACLE_SCHEDULES sets how many.
 */
const COUNT = Number(process.env.ORACLE_SCHEDULES ?? 300);
const seeds = process.env.ORACLE_SEED ? [Number(process.env.ORACLE_SEED)] : Array.from({ length: COUNT }, (_, i) => 1000 + i);

describe('deploy-static under generated fault schedules', () => {
  const builds = makeBuilds(6);
  beforeAll(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it(`${seeds.length} schedules keep every invariant after every write`, async () => {
    let checks = 0;
    const failed: string[] = [];
    for (const seed of seeds) {
      const res = await runSchedule(seed, builds);
      checks += res.checks;
      if (res.violations.length > 0)
        failed.push(`${res.story}\n  violations:\n  - ${[...new Set(res.violations)].slice(0, 8).join('\n  - ')}`);
      if (failed.length >= Number(process.env.ORACLE_MAX_FAILURES ?? 3)) break;
    }
    console.log(`oracle: ${seeds.length} schedules, ${checks} invariant checks, ${failed.length} failed`);
    expect(failed, failed.join('\n\n')).toEqual([]);
  }, 600_000);
});
