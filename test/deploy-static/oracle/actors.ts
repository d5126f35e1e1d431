/**
 * The oracle's actors: deploy-static's own planning and applying code
 * (deploy.ts, apply.ts, rollback.ts) run in-process, each with its own S3
 * client: a fault layer in front of one MemoryS3, its own skewed clock, and
 * the process's (fake) timers. The fault layer plays the SDK's part: a
 * retried 5xx, a write S3 applied whose answer was lost and which the SDK
 * sent again (the answer the caller sees is the retry's), a kill at a
 * request index (nothing more is sent), a pause (a stopped runner: no answer
 * is delivered and nothing new is sent until it ends; requests already on
 * their way still reach S3), a slow network.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { memoryReporter } from '../../../lib/report.js';
import { applyAll } from '../../../actions/deploy-static/apply.js';
import { attachDistributionView } from '../../../actions/deploy-static/deploy-invalidation.js';
import { planAll, type Deps } from '../../../actions/deploy-static/deploy.js';
import type { Inputs } from '../../../actions/deploy-static/inputs.js';
import type { DeployLock } from '../../../actions/deploy-static/lock.js';
import { applyRollbackAll, planRollbackAll } from '../../../actions/deploy-static/rollback.js';
import { staticInputs } from '../deploy-plan-fixture.js';
import { MemoryS3, S3Error } from './memory-s3.js';

const BUCKET = 'site';

/** A seeded random source (mulberry32): a schedule is a function of its seed. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
export type Rng = ReturnType<typeof rng>;

/** A build: an HTML page per build that references that build's fingerprinted assets, and shared files. */
export function makeBuilds(n: number): { dir: string; files: Map<string, string> }[] {
  const root = mkdtempSync(join(tmpdir(), 'oracle-builds-'));
  return Array.from({ length: n }, (_, b) => {
    const h = (s: string) => `${s}${b}`.padEnd(8, 'x').slice(0, 8);
    const files = new Map<string, string>([
      [`assets/app-${h('a')}.js`, `console.log(${b});`],
      [`assets/app-${h('c')}.css`, `body{order:${b}}`],
      [`assets/chunk-${h('k')}.js`, `export const k=${b};`],
      [
        'index.html',
        `<html><head><link href="/assets/app-${h('c')}.css"><script src="/assets/app-${h('a')}.js"></script></head><body>build ${b}</body></html>`,
      ],
      ['about/index.html', `<html><script src="/assets/chunk-${h('k')}.js"></script><img src="/logo.svg">about ${b}</html>`],
      ['logo.svg', '<svg></svg>'],
      ...(b % 2 === 0 ? ([['robots.txt', `build ${b}`]] as const) : []),
    ]);
    const dir = join(root, `build-${b}`);
    for (const [rel, text] of files) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    return { dir, files };
  });
}

class Killed extends Error {
  constructor() {
    super('killed');
  }
}

export interface Faults {
  /** Chance that one attempt is answered 5xx without being applied (the SDK retries, up to 3 attempts). */
  serverError: number;
  /** Chance that a write is applied and its answer lost: the SDK sends it again and the caller sees that answer. */
  lostAnswer: number;
  /** The request index at which the runner is killed: that request and every later one are never sent. */
  killAt?: number;
  /** The request index after whose answer the runner stops for `pauseMs` (longer than the stale age). */
  pauseAt?: number;
  pauseMs: number;
  /** A slow network: answers take up to 4 s, so a run lasts long enough for heartbeats. */
  slow?: boolean;
  /** The runner's clock minus S3's. */
  skewMs: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The S3 client an actor sees: MemoryS3 behind the fault layer. */
export class FaultyS3 {
  index = 0;
  killed = false;
  paused = false;
  private pauseUntil = 0;
  /** What happened, for the report of a failed schedule. */
  readonly log: string[] = [];
  readonly config = {};

  constructor(
    private readonly s3: MemoryS3,
    private readonly faults: Faults,
    private readonly random: Rng,
    readonly name: string,
    private readonly onApply: (actor: string, command: object) => void,
  ) {}

  private async held(): Promise<void> {
    while (Date.now() < this.pauseUntil) await realSleep(this.pauseUntil - Date.now());
  }

  async send(command: { input: Record<string, unknown> }): Promise<unknown> {
    const i = this.index++;
    if (this.killed || (this.faults.killAt !== undefined && i >= this.faults.killAt)) {
      if (!this.killed) this.log.push(`#${i} killed`);
      this.killed = true;
      throw new Killed();
    }
    await this.held();
    const what = `${command.constructor.name.replace('Command', '')} ${String(command.input.Key ?? command.input.Prefix ?? '')}`;
    const latency = this.random.int(2, this.faults.slow ? 4000 : 120);
    const write = MemoryS3.isWrite(command);
    for (let attempt = 1; ; attempt++) {
      // A request on its way reaches S3 whether or not its runner is stopped meanwhile.
      await realSleep(latency);
      if (attempt < 3 && this.random.next() < this.faults.serverError) {
        this.log.push(`#${i} ${what}: 500 (retried)`);
        continue;
      }
      let out: unknown;
      let err: unknown;
      this.onApply(this.name, command);
      try {
        out = this.s3.apply(command);
      } catch (e) {
        err = e;
      }
      if (write && attempt < 3 && this.random.next() < this.faults.lostAnswer) {
        this.log.push(`#${i} ${what}: applied, answer lost (retried)`);
        continue;
      }
      if (this.faults.pauseAt === i) {
        this.pauseUntil = Date.now() + this.faults.pauseMs;
        this.paused = true;
        this.log.push(`#${i} ${what}: paused ${this.faults.pauseMs} ms`);
      }
      await realSleep(latency);
      await this.held();
      this.log.push(`#${i} ${what}: ${err ? (err as S3Error).name : 'ok'}`);
      if (err) throw err;
      return out;
    }
  }
}

export interface Actor {
  name: string;
  kind: 'deploy' | 'rollback';
  build?: number;
  faults: Faults;
  startMs: number;
  client: FaultyS3;
  locks: DeployLock[];
  reporter: ReturnType<typeof memoryReporter>;
  outcome?: 'ok' | Error;
}

function inputsFor(kind: 'deploy' | 'rollback', source: string, keep: number): Inputs {
  return staticInputs({
    source: kind === 'deploy' ? source : '',
    targets: [{ bucket: BUCKET, prefix: '' }],
    concurrency: 3,
    lockWaitSeconds: 3600,
    keepReleases: keep,
    ...(kind === 'rollback' ? { rollbackTo: 'previous' } : {}),
  });
}

/** Runs one actor to its end: deploy-static's planning and applying, as run.ts calls them. */
export async function runActor(actor: Actor, source: string, keep: number, releaseId: string): Promise<void> {
  await realSleep(actor.startMs);
  const deps: Deps = {
    s3: actor.client as unknown as S3Client,
    cloudfront: () => {
      throw new Error('no distribution in the oracle');
    },
    sleep: realSleep,
    now: () => Date.now() + actor.faults.skewMs,
    reporter: actor.reporter,
    runId: actor.name,
    where: `oracle ${actor.name}`,
    locks: actor.locks,
    releaseId,
    who: { commit: actor.name },
  };
  const inputs = inputsFor(actor.kind, source, keep);
  if (actor.kind === 'rollback') {
    const plans = await planRollbackAll(inputs, deps);
    await applyRollbackAll(plans, inputs, deps);
    return;
  }
  const results = await planAll(inputs, deps);
  for (const r of results) await attachDistributionView(r, inputs, deps);
  await applyAll(results, inputs, deps);
}
