/**
 * What deploy-static asks S3 beyond what `aws s3 sync` asks (bench/static/run.ts):
 * each request the proxy saw is classified by method and key (the bookkeeping
 * keys are those of actions/deploy-static/state.ts under the default
 * `<prefix>.deploy-static/`), and the requests before the first site write and
 * after the last are measured as a chain: how many of them had to wait for the
 * one before (the critical path), which is what a per-request latency multiplies.
 */
import type { LocalS3 } from '../../test/deploy-static/local-s3.js';

type Logged = LocalS3['requests'][number];

const STATE = '.deploy-static/';

/** The kind of one request; site writes (PUT, multipart, COPY, DELETE of site keys) and listings are what the CLI makes too. */
function kindOf(r: Logged): string {
  const i = r.key.indexOf(STATE);
  if (i >= 0) {
    const rest = r.key.slice(i + STATE.length);
    const what =
      rest === 'lock.json' ? 'lock' : rest === 'manifest.json' ? 'record head' : rest.startsWith('record/') ? 'file list' : 'snapshot';
    return `${what} ${r.op}`;
  }
  if (r.op === 'LIST') return 'listing';
  if (r.op === 'HEAD') return 'site HEAD';
  if (r.op === 'GET') return 'site GET';
  return `site ${r.op}`;
}

const isSiteWrite = (r: Logged) => !r.key.includes(STATE) && (r.op === 'PUT' || r.op === 'MPU' || r.op === 'COPY' || r.op === 'DELETE');

/** The longest run of requests each sent after the previous one was answered. */
function chain(rs: Logged[]): number {
  const sorted = [...rs].sort((a, b) => a.at - b.at);
  const depth: number[] = [];
  let best = 0;
  for (const [i, r] of sorted.entries()) {
    let d = 1;
    for (let j = 0; j < i; j++) if ((sorted[j]!.end ?? Infinity) <= r.at) d = Math.max(d, depth[j]! + 1);
    depth.push(d);
    best = Math.max(best, d);
  }
  return best;
}

export interface RoundTrips {
  /** Requests per kind. */
  kinds: Record<string, number>;
  /** Listing requests before the first site write / after it. */
  listsBefore: number;
  listsAfter: number;
  /** Requests on the critical path before the first site write (all of them when nothing is written) and after the last. */
  seqBefore: number;
  seqAfter: number;
  /** ms from the start of the run to the first site write, and from the end of the last to the end of the run. */
  msBefore: number;
  msAfter: number;
}

export function roundTrips(rs: Logged[], t0: number, t1: number): RoundTrips {
  const kinds: Record<string, number> = {};
  for (const r of rs) kinds[kindOf(r)] = (kinds[kindOf(r)] ?? 0) + 1;
  const writes = rs.filter(isSiteWrite);
  const first = writes.length > 0 ? Math.min(...writes.map((r) => r.at)) : Infinity;
  const last = writes.length > 0 ? Math.max(...writes.map((r) => r.end ?? r.at)) : t1;
  const before = rs.filter((r) => r.at < first);
  const after = writes.length > 0 ? rs.filter((r) => r.at >= last) : [];
  return {
    kinds,
    listsBefore: rs.filter((r) => r.op === 'LIST' && r.at < first).length,
    listsAfter: rs.filter((r) => r.op === 'LIST' && r.at >= first).length,
    seqBefore: chain(before),
    seqAfter: chain(after),
    msBefore: (writes.length > 0 ? first : t1) - t0,
    msAfter: writes.length > 0 ? t1 - last : 0,
  };
}

const EXTRA_KINDS: [string, (k: string) => boolean][] = [
  ['lock (PUT / GET / DELETE)', (k) => k.startsWith('lock ')],
  ['record head (GET / HEAD / PUT)', (k) => k.startsWith('record head ')],
  ['file lists (GET / PUT)', (k) => k.startsWith('file list ')],
  ['release snapshots (COPY / PUT / DELETE)', (k) => k.startsWith('snapshot ')],
  ['site HEAD / GET', (k) => k === 'site HEAD' || k === 'site GET'],
];

/** One markdown table: per scenario, our requests the CLI does not make, and the critical path around the uploads. */
export function roundTripTable(rows: { scenario: string; ours: RoundTrips; cli: RoundTrips }[]): string[] {
  const sum = (t: RoundTrips, f: (k: string) => boolean) =>
    Object.entries(t.kinds)
      .filter(([k]) => f(k))
      .map(([k, n]) => `${n} ${k.split(' ').at(-1)}`)
      .join(', ') || '0';
  return [
    `| scenario | ${EXTRA_KINDS.map(([h]) => h).join(' | ')} | listings before / after the first write (ours; cli) | requests ours / cli | sequential before first write / after last (ours; cli) | ms before first write / after last (ours; cli) |`,
    `| --- |${EXTRA_KINDS.map(() => ' --- |').join('')} --- | --- | --- | --- |`,
    ...rows.map(
      ({ scenario, ours, cli }) =>
        `| ${scenario} | ${EXTRA_KINDS.map(([, f]) => sum(ours, f)).join(' | ')} | ${ours.listsBefore} / ${ours.listsAfter}; ${cli.listsBefore} / ${cli.listsAfter} | ` +
        `${total(ours)} / ${total(cli)} | ${ours.seqBefore} / ${ours.seqAfter}; ${cli.seqBefore} / ${cli.seqAfter} | ` +
        `${ours.msBefore.toFixed(0)} / ${ours.msAfter.toFixed(0)}; ${cli.msBefore.toFixed(0)} / ${cli.msAfter.toFixed(0)} |`,
    ),
  ];
}

const total = (t: RoundTrips) => Object.values(t.kinds).reduce((a, b) => a + b, 0);

/** Per field, the median over the repetitions (kinds: the median count per kind). */
export function medianTrips(ts: RoundTrips[]): RoundTrips {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const kinds: Record<string, number> = {};
  for (const k of new Set(ts.flatMap((t) => Object.keys(t.kinds)))) kinds[k] = med(ts.map((t) => t.kinds[k] ?? 0));
  return {
    kinds,
    listsBefore: med(ts.map((t) => t.listsBefore)),
    listsAfter: med(ts.map((t) => t.listsAfter)),
    seqBefore: med(ts.map((t) => t.seqBefore)),
    seqAfter: med(ts.map((t) => t.seqAfter)),
    msBefore: med(ts.map((t) => t.msBefore)),
    msAfter: med(ts.map((t) => t.msAfter)),
  };
}
