import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { realSleep, type Clock, type Sleep, realClock } from '../../lib/poll.js';

/**
 * Follows one CloudWatch Logs stream from its first event, the way a job log
 * should show a migration: every line, in order, including the last ones.
 *
 * How "the end of the stream" is detected: GetLogEvents with `startFromHead`
 * and the previous `nextForwardToken` returns the *same* token when there are
 * no newer events. An empty page alone proves nothing (the API documents that
 * it can return empty pages while more events exist), so only an unchanged
 * token ends the final drain.
 *
 * While the task runs, a read stops at the first page that is not full (the
 * service gave us everything it had at that moment); the next poll resumes
 * from the saved token, so nothing is skipped. Reading "until the token stops
 * changing" while a chatty migration writes would chase the stream in a tight
 * loop (hundreds of calls a minute, into the account's GetLogEvents quota).
 */
/** A page holds ≤ 10,000 events or ≤ 1 MB; with events of up to 256 KB, a page over 768 KB may have been cut short. */
const FULL_PAGE_EVENTS = 10_000;
const FULL_PAGE_BYTES = 1024 * 1024 - 256 * 1024;

export interface TailOptions {
  group: string;
  stream: string;
  onLines: (lines: string[]) => void;
  /** Page cap per read, so a misbehaving endpoint cannot spin forever; the next read resumes. */
  maxPagesPerRead?: number;
  sleep?: Sleep;
  now?: Clock;
}

export class LogTail {
  private token: string | undefined;
  /** True once GetLogEvents found the stream (it appears only when the container first writes). */
  exists = false;
  total = 0;
  readonly last: string[] = [];

  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly opts: TailOptions,
  ) {}

  /**
   * Reads what is available now; returns the number of new lines. `untilExhausted`
   * (the final drain) keeps reading until the forward token stops changing.
   */
  async read(opts: { untilExhausted?: boolean } = {}): Promise<number> {
    let count = 0;
    for (let page = 0; page < (this.opts.maxPagesPerRead ?? 100); page++) {
      let out;
      try {
        out = await this.client.send(
          new GetLogEventsCommand({
            logGroupName: this.opts.group,
            logStreamName: this.opts.stream,
            startFromHead: true,
            nextToken: this.token,
          }),
        );
      } catch (err) {
        // The stream does not exist until the container writes its first line: keep trying.
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return count;
        throw err;
      }
      this.exists = true;
      const lines = (out.events ?? []).flatMap((e) => (e.message ?? '').replace(/\r?\n$/, '').split(/\r?\n/));
      if (lines.length > 0) {
        this.emit(lines);
        count += lines.length;
      }
      const previous = this.token;
      this.token = out.nextForwardToken ?? previous;
      if (out.nextForwardToken === undefined || out.nextForwardToken === previous) return count;
      const events = out.events ?? [];
      const bytes = events.reduce((n, e) => n + Buffer.byteLength(e.message ?? '') + 26, 0);
      const full = events.length >= FULL_PAGE_EVENTS || bytes >= FULL_PAGE_BYTES;
      if (!opts.untilExhausted && !full) return count;
    }
    return count;
  }

  /**
   * After the task stopped: read until the stream is exhausted, then look once
   * more after `settleMs` (CloudWatch can make the driver's last batch visible
   * a moment after ECS reports STOPPED); repeat while new lines keep arriving.
   * A stream that does not exist yet is waited for up to `missingMs` (0 when
   * the container never started, so there is nothing to wait for).
   */
  async drain(opts: { settleMs: number; missingMs: number; maxMs: number }): Promise<void> {
    const sleep = this.opts.sleep ?? realSleep;
    const now = this.opts.now ?? realClock;
    const start = now();
    const all = { untilExhausted: true };
    await this.read(all);
    while (!this.exists && now() - start < opts.missingMs) {
      await sleep(Math.min(opts.settleMs, 500));
      await this.read(all);
    }
    if (!this.exists) return;
    while (now() - start < opts.maxMs) {
      await sleep(opts.settleMs);
      if ((await this.read(all)) === 0) return;
    }
  }

  private emit(lines: string[]): void {
    this.total += lines.length;
    this.last.push(...lines);
    if (this.last.length > 20) this.last.splice(0, this.last.length - 20);
    this.opts.onLines(lines);
  }
}
