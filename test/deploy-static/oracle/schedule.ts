/**
 * One generated fault schedule, run on the fake clock, with the protocol's
 * invariants checked after every write S3 applies:
 * - I1: every live HTML file references only objects that exist;
 * - I2: every release the record keeps can be restored, after every write: each
 *   of its files is live with the recorded ETag or has its snapshot copy (a
 *   release's files are deleted only after a record without it is written);
 * - I3: no two actors write while both believe they hold the deploy lock;
 * - I4: after the schedule and one clean deploy, the live site is that build
 *   (plus only files the kept releases need), the lock is gone and the
 *   history holds `keep` releases;
 * - liveness: a deploy that was neither killed nor paused succeeds, and so
 *   does such a rollback unless it refused before any write (lost
 *   answers and retried 5xx are the SDK's business, not a failure).
 */
import { vi } from 'vitest';
import { STALE_MS, type DeployLock } from '../../../actions/deploy-static/lock.js';
import { lockKey, recordKey, releasesFolder, stateOf } from '../../../actions/deploy-static/state.js';
import { memoryReporter } from '../../../lib/report.js';
import { storedReleases } from '../record-files.js';
import { FaultyS3, rng, runActor, type Actor, type Faults } from './actors.js';
import { MemoryS3 } from './memory-s3.js';

const KEEP = 3;
const STATE = stateOf({ bucket: 'site', prefix: '' });
const MANIFEST_REL = recordKey(STATE);
const LOCK_REL = lockKey(STATE);
const RELEASES_DIR = releasesFolder(STATE);
const realImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const noFaults: Faults = { serverError: 0, lostAnswer: 0, pauseMs: 0, skewMs: 0 };

export interface ScheduleResult {
  seed: number;
  violations: string[];
  checks: number;
  /** What the actors were, and what each saw: printed for a failed schedule. */
  story: string;
}

/** Believes it holds the lock: `fresh` where the lock has a fence, else held and not known lost. */
const believes = (l: DeployLock): boolean => {
  const fresh = (l as { fresh?: boolean }).fresh;
  return fresh !== undefined ? fresh : l.held && !l.lostReason;
};

/** Lets the event loop run until no file-system request is pending (scanning a build), then flushes promises. */
const ioPending = () => process.getActiveResourcesInfo().some((r) => r.startsWith('FSReq') || r.endsWith('Req') || r === 'FileHandle');
async function settleIo(): Promise<void> {
  for (let i = 0; i < 1_000_000 && ioPending(); i++) await realImmediate();
  for (let i = 0; i < 3; i++) await realImmediate();
}

/** Advances the fake clock timer by timer until `done`. */
async function drive(done: () => boolean): Promise<void> {
  for (let step = 0; !done(); step++) {
    await settleIo();
    if (done()) return;
    if (vi.getTimerCount() === 0)
      throw new Error(`oracle: actors are waiting on nothing (no timer, no I/O): ${process.getActiveResourcesInfo().join(',')}`);
    if (step > 200_000) throw new Error('oracle: schedule did not end');
    await vi.advanceTimersToNextTimerAsync();
  }
}

function generate(seed: number) {
  const r = rng(seed);
  const n = r.int(2, 3);
  return Array.from({ length: n }, (_, i) => {
    const kind: Actor['kind'] = i === n - 1 && r.next() < 0.4 ? 'rollback' : 'deploy';
    const faults: Faults = {
      serverError: r.next() < 0.5 ? r.next() * 0.2 : 0,
      lostAnswer: r.next() < 0.6 ? 0.05 + r.next() * 0.3 : 0,
      ...(r.next() < 0.25 ? { killAt: r.int(0, 50) } : {}),
      ...(r.next() < 0.25 ? { pauseAt: r.int(0, 40) } : {}),
      pauseMs: STALE_MS + r.int(10_000, 180_000),
      skewMs: r.next() < 0.6 ? r.int(-600_000, 600_000) : 0,
      slow: r.next() < 0.3,
    };
    return { name: `actor${i}`, kind, build: 3 + i, faults, startMs: r.int(0, 15_000), latencySeed: r.int(1, 2 ** 30) };
  });
}

export async function runSchedule(seed: number, builds: { dir: string; files: Map<string, string> }[]): Promise<ScheduleResult> {
  const s3 = new MemoryS3('site');
  const violations: string[] = [];
  let checks = 0;
  const actors: Actor[] = [];
  const check = (where: string, writer?: string, command?: { input: Record<string, unknown> }) => {
    checks++;
    const v = (what: string) => violations.push(`${what} (after ${where})`);
    // I1
    for (const [key, o] of s3.objects) {
      if (!key.endsWith('.html') || key.startsWith(STATE.prefix)) continue;
      for (const m of o.body.toString().matchAll(/(?:src|href)="\/([^"]+)"/g))
        if (!s3.objects.has(m[1]!)) v(`I1: live ${key} references ${m[1]}, which does not exist`);
    }
    // I2
    const record = s3.objects.get(MANIFEST_REL);
    if (record) {
      let m: { releases?: { id: string; files: unknown }[] } | undefined;
      try {
        m = JSON.parse(record.body.toString()) as typeof m;
      } catch {
        v('I2: the record is not JSON');
      }
      for (const rel of storedReleases(m, (k) => s3.objects.get(k)?.body.toString(), STATE)) {
        if (!rel.files) v(`I2: release ${rel.id} cannot be restored: its file list is missing`);
        for (const [file, f] of Object.entries(rel.files ?? {})) {
          const at = s3.objects.get(f.snap ? `${RELEASES_DIR}${f.snap}/${file}` : file);
          if (at?.etag !== f.etag)
            v(
              `I2: release ${rel.id} cannot be restored: ${file}${f.snap ? ` (snapshot ${f.snap})` : ''} is ${at ? `another object (${at.etag})` : 'missing'}`,
            );
        }
      }
    }
    // I3: a write under the lock (not the lock's own) while another actor also believes it holds the lock.
    if (writer && command && command.input.Key !== LOCK_REL) {
      const others = actors.filter((a) => a.name !== writer && !a.client.killed && a.locks.some(believes));
      if (others.length > 0)
        v(
          `I3: ${writer} writes ${String(command.input.Key ?? 'a delete batch')} while ${others.map((a) => a.name).join(', ')} also believes it holds the lock`,
        );
    }
  };
  let writer: { name: string; command: { input: Record<string, unknown> } } | undefined;
  s3.onWrite = (what) => check(what, writer?.name, writer?.command);
  const onApply = (name: string, command: object) => void (writer = { name, command: command as { input: Record<string, unknown> } });

  const start = Date.now();
  const run = async (a: Actor, source: string, id: string) => {
    actors.push(a);
    try {
      await runActor(a, source, KEEP, id);
      a.outcome = 'ok';
    } catch (err) {
      a.outcome = err as Error;
    }
  };
  const clean = (name: string, build: number): Actor => ({
    name,
    kind: 'deploy',
    build,
    faults: noFaults,
    startMs: 0,
    client: new FaultyS3(s3, noFaults, rng(seed), name, onApply),
    locks: [],
    reporter: memoryReporter(),
  });
  const sequential = async (a: Actor, id: string) => {
    let finished = false;
    void run(a, builds[a.build!]!.dir, id).finally(() => (finished = true));
    await drive(() => finished);
  };
  // A history of `keep` releases before the schedule starts.
  for (let b = 0; b < KEEP; b++) await sequential(clean(`setup${b}`, b), `r-setup-${b}`);

  const plan = generate(seed);
  let running = plan.length;
  for (const p of plan) {
    const a: Actor = {
      ...p,
      client: new FaultyS3(s3, p.faults, rng(p.latencySeed), p.name, onApply),
      locks: [],
      reporter: memoryReporter(),
    };
    void run(a, p.kind === 'deploy' ? builds[p.build]!.dir : '', `r-${p.name}`).finally(() => running--);
  }
  await drive(() => running === 0);
  for (const a of actors.slice(KEEP)) {
    const spec = plan.find((p) => p.name === a.name)!;
    const benign = spec.faults.killAt === undefined && spec.faults.pauseAt === undefined && !a.client.killed;
    // A rollback to `previous` planned from a record that concurrent deploys then moved past may refuse, writing nothing.
    const refused = a.kind === 'rollback' && a.outcome instanceof Error && /Nothing was written/.test(a.outcome.message);
    if (benign && a.outcome !== 'ok' && !refused) v5(`liveness: ${a.name} (no kill, no pause) failed: ${(a.outcome as Error).message}`);
  }
  function v5(what: string) {
    violations.push(what);
  }
  // I4: one clean deploy afterwards.
  const final = clean('final', 5);
  await sequential(final, 'r-final');
  if (final.outcome !== 'ok') violations.push(`I4: the clean deploy after the schedule failed: ${(final.outcome as Error).message}`);
  // The build is live; any other live key is a file a kept release needs for a rollback (its assets), nothing else.
  const history = storedReleases(
    JSON.parse(s3.objects.get(MANIFEST_REL)?.body.toString() ?? '{}'),
    (k) => s3.objects.get(k)?.body.toString(),
    STATE,
  );
  const kept = new Set(history.flatMap((r) => Object.keys(r.files ?? {})));
  for (const k of s3.objects.keys())
    if (!k.startsWith(STATE.prefix) && !builds[5]!.files.has(k) && !kept.has(k))
      violations.push(`I4: ${k} is live but neither in the build nor in a kept release`);
  for (const [k, text] of builds[5]!.files)
    if (s3.objects.get(k)?.body.toString() !== text) violations.push(`I4: ${k} does not hold the build's content`);
  if (s3.objects.has(LOCK_REL)) violations.push('I4: the lock is still there after a clean deploy');
  const releases = history;
  if (releases.length !== KEEP) violations.push(`I4: the history holds ${releases.length} releases, not ${KEEP}`);
  check('the clean deploy');

  const story = [
    `seed ${seed} (replay: ORACLE_SEED=${seed}), ${Math.round((Date.now() - start) / 1000)} s of fake time`,
    ...actors
      .filter((a) => plan.some((p) => p.name === a.name))
      .map((a) => {
        const spec = plan.find((p) => p.name === a.name)!;
        return `${a.name}: ${a.kind}${a.kind === 'deploy' ? ` build ${a.build}` : ''} start +${spec.startMs} ms, faults ${JSON.stringify(spec.faults)} → ${a.outcome === 'ok' ? 'ok' : (a.outcome as Error | undefined)?.message}\n    requests: ${a.client.log.join('; ')}\n    log: ${a.reporter.lines.filter((l) => /lock|Stopped|record|warning/.test(l)).join(' | ')}`;
      }),
  ].join('\n');
  return { seed, violations, checks, story };
}
