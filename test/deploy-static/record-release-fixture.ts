/**
 * The fixture of the record-release tests (record-release*.test.ts): a site in the oracle's in-memory S3 with its
 * record store, record entries and the options recordRelease takes.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Manifest, Release } from '../../actions/deploy-static/record.js';
import { RecordStore } from '../../actions/deploy-static/record-store.js';
import type { RecordReleaseOptions } from '../../actions/deploy-static/releases.js';
import { MemoryS3 } from './oracle/memory-s3.js';

export const md5 = (c: string) => c.repeat(32).slice(0, 32);
const NOW = new Date('2026-12-01T10:00:00.000Z');
export const ASSET = 'assets/app-Ab3dEf9h.js';

/** MemoryS3 takes any command with an input, as the SDK's clients do. */
const asInput = (c: PutObjectCommand) => c as unknown as { input: Record<string, unknown> };

export function site(files: Record<string, string>) {
  const mem = new MemoryS3('site');
  const s3 = { send: async (c: { input: Record<string, unknown> }) => mem.apply(c) } as unknown as S3Client;
  const put = (rel: string, body: string) => mem.apply(asInput(new PutObjectCommand({ Bucket: 'site', Key: `app/${rel}`, Body: body })));
  for (const [rel, body] of Object.entries(files)) put(rel, body);
  const store = new RecordStore(s3, { bucket: 'site', prefix: 'app/' });
  return { mem, s3, store, put, keys: () => [...mem.objects.keys()].sort() };
}

export const recordOf = (store: RecordStore): Manifest => {
  const parsed = store.parsed();
  if (!parsed?.ok) throw new Error('no readable record');
  return parsed.manifest;
};

/** Record entries for live files: the ETag is the content's marker, the header hash `h`. */
export const entries = (files: Record<string, string>): Manifest['entries'] =>
  Object.fromEntries(Object.entries(files).map(([rel, etag]) => [rel, { etag, md5: md5('a'), headers: 'h' }]));

/** An earlier deploy whose `index.html` (ETag `e-<id>`) has a snapshot under its own id. */
export const snapshotted = (id: string): Release => ({
  id,
  commit: id,
  at: '2026-11-01T00:00:00.000Z',
  kind: 'deploy',
  files: { 'index.html': { etag: `e-${id}`, md5: md5('a'), headers: 'h', snap: id } },
});

export const base = (over: Partial<RecordReleaseOptions> = {}): RecordReleaseOptions & { lines: string[] } => {
  const lines: string[] = [];
  return { id: 'r1', keep: 5, who: { commit: 'c1' }, now: NOW, kind: 'deploy', concurrency: 4, log: (l) => lines.push(l), lines, ...over };
};
