import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LogTail } from '../../actions/migrate-db/logs.js';

const logsMock = mockClient(CloudWatchLogsClient);
const notFound = () => new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} });

function tail() {
  let t = 0;
  const lines: string[] = [];
  const tail = new LogTail(new CloudWatchLogsClient({ region: 'eu-west-1' }), {
    group: '/ecs/delivery-test',
    stream: 'backend/backend/0123abcd',
    onLines: (l) => lines.push(...l),
    sleep: async (ms) => void (t += ms),
    now: () => t,
  });
  return { tail, lines, elapsed: () => t };
}

beforeEach(() => logsMock.reset());

describe('LogTail', () => {
  it('drains from the head and stops only when the forward token comes back unchanged (an empty page is not the end)', async () => {
    logsMock
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [], nextForwardToken: 'f/1' })
      .resolvesOnce({ events: [{ message: 'a' }, { message: 'b\nc\n' }], nextForwardToken: 'f/3' })
      .resolves({ events: [], nextForwardToken: 'f/3' });
    const { tail: t, lines } = tail();
    expect(await t.read({ untilExhausted: true })).toBe(3);
    expect(lines).toEqual(['a', 'b', 'c']);
    const calls = logsMock.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({
      logGroupName: '/ecs/delivery-test',
      logStreamName: 'backend/backend/0123abcd',
      startFromHead: true,
      nextToken: undefined,
    });
    expect(calls.slice(1).map((c) => c.nextToken)).toEqual(['f/1', 'f/3']);
  });

  it('while the task runs, stops at the first page that is not full instead of chasing a chatty stream', async () => {
    let n = 0;
    // Every call finds a few new lines, as when a migration writes continuously.
    logsMock.on(GetLogEventsCommand).callsFake(() => {
      n += 3;
      return { events: [{ message: `l${n - 2}` }, { message: `l${n - 1}` }, { message: `l${n}` }], nextForwardToken: `f/${n}` };
    });
    const { tail: t, lines } = tail();
    expect(await t.read()).toBe(3);
    expect(await t.read()).toBe(3);
    expect(logsMock.commandCalls(GetLogEventsCommand)).toHaveLength(2);
    expect(lines).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'l6']);
    expect(logsMock.commandCalls(GetLogEventsCommand)[1]!.args[0].input.nextToken).toBe('f/3');
  });

  it('keeps reading while pages come back full (a backlog of more than 1 MB)', async () => {
    const big = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ message: `${from + i} ${'x'.repeat(1000)}` }));
    logsMock
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: big(0, 900), nextForwardToken: 'f/900' })
      .resolvesOnce({ events: big(900, 100), nextForwardToken: 'f/1000' })
      .resolves({ events: [], nextForwardToken: 'f/1000' });
    const { tail: t } = tail();
    expect(await t.read()).toBe(1000);
    expect(logsMock.commandCalls(GetLogEventsCommand)).toHaveLength(2);
  });

  it('treats a stream that does not exist yet as "nothing yet"', async () => {
    logsMock.on(GetLogEventsCommand).rejects(notFound());
    const { tail: t } = tail();
    expect(await t.read()).toBe(0);
    expect(t.exists).toBe(false);
  });

  it('drain waits a little for a stream that appears late, then reads it to the end', async () => {
    logsMock
      .on(GetLogEventsCommand)
      .rejectsOnce(notFound())
      .rejectsOnce(notFound())
      .resolvesOnce({ events: [{ message: 'Migrations complete' }], nextForwardToken: 'f/1' })
      .resolves({ events: [], nextForwardToken: 'f/1' });
    const { tail: t, lines, elapsed } = tail();
    await t.drain({ settleMs: 500, missingMs: 2000, maxMs: 20_000 });
    expect(lines).toEqual(['Migrations complete']);
    expect(elapsed()).toBeLessThanOrEqual(2000);
  });

  it('drain does not wait for the stream of a container that never ran', async () => {
    logsMock.on(GetLogEventsCommand).rejects(notFound());
    const { tail: t, elapsed } = tail();
    await t.drain({ settleMs: 500, missingMs: 0, maxMs: 20_000 });
    expect(logsMock.commandCalls(GetLogEventsCommand)).toHaveLength(1);
    expect(elapsed()).toBe(0);
  });

  it('keeps only the last 20 lines for the summary', async () => {
    logsMock
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: Array.from({ length: 25 }, (_, i) => ({ message: `line ${i + 1}` })), nextForwardToken: 'f/25' })
      .resolves({ events: [], nextForwardToken: 'f/25' });
    const { tail: t } = tail();
    await t.read();
    expect(t.total).toBe(25);
    expect(t.last).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 6}`));
  });
});
