import { ActionError, aggregate } from '../../lib/errors.js';
import type { StateLocation } from './state.js';

/** One place the build goes: a bucket prefix and, optionally, the distribution in front of it. */
export interface Target {
  bucket: string;
  /** Normalised: '' (whole bucket) or ending in '/', never starting with '/'. */
  prefix: string;
  distributionId?: string;
  /** Where the record, lock and snapshots live when not `<prefix>.deploy-static/` here (state.ts stateOf). */
  state?: StateLocation;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DISTRIBUTION = /^[A-Z0-9]{1,64}$/;

/**
 * `app`, `/app`, `app/` all mean the keys under `app/`: without the trailing
 * slash a prefix `app` would also match (and delete) `app2/...`.
 */
export function normalizePrefix(raw: string | undefined): string {
  const p = (raw ?? '').trim().replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '' ? '' : `${p}/`;
}

function validate(t: { bucket?: string; prefix?: string; distributionId?: string }, where: string, input: string): Target {
  const problems: ActionError[] = [];
  const at = where ? `${where}: ` : '';
  const bucket = t.bucket?.trim() ?? '';
  if (!BUCKET.test(bucket))
    problems.push(
      new ActionError(`${at}'${bucket}' is not an S3 bucket name.`, {
        input,
        fix: 'Use the bucket name only (3–63 lower-case letters, digits, dots, dashes), not an ARN or s3:// URL.',
      }),
    );
  const prefix = normalizePrefix(t.prefix);
  if (/(^|\/)\.\.?(\/|$)/.test(prefix) || prefix.includes('//'))
    problems.push(
      new ActionError(`${at}prefix '${t.prefix}' has empty, '.' or '..' segments.`, {
        input,
        fix: 'Use a plain key prefix such as site or stores/eu.',
      }),
    );
  const dist = t.distributionId?.trim() || undefined;
  if (dist !== undefined && !DISTRIBUTION.test(dist))
    problems.push(
      new ActionError(`${at}'${dist}' is not a CloudFront distribution id.`, {
        input,
        fix: 'Use the id (e.g. E2QWRUHAPOMQZL), not the domain name or ARN.',
      }),
    );
  if (problems.length > 0) throw aggregate('Invalid target', problems);
  return { bucket, prefix, ...(dist ? { distributionId: dist } : {}) };
}

const FIELDS: Record<string, 'bucket' | 'prefix' | 'distributionId'> = {
  bucket: 'bucket',
  prefix: 'prefix',
  'distribution-id': 'distributionId',
};

/** `targets` input: a JSON array of objects, or one `bucket=… prefix=… distribution-id=…` line per target. */
export function parseTargets(raw: string): Target[] {
  const text = raw.trim();
  if (text === '') return [];
  const input = 'targets';
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ActionError(`Input 'targets' is not valid JSON: ${(err as Error).message}.`, {
        input,
        fix: 'Use [{"bucket":"…","prefix":"…","distribution-id":"…"}] or one line per target.',
      });
    }
    if (!Array.isArray(parsed)) throw new ActionError("Input 'targets' must be a JSON array.", { input });
    return parsed.map((item, i) => {
      if (typeof item !== 'object' || item === null) throw new ActionError(`targets[${i}] must be an object.`, { input });
      const t: Record<string, string> = {};
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
        const field = FIELDS[k] ?? (k === 'distributionId' ? 'distributionId' : undefined);
        if (!field)
          throw new ActionError(`targets[${i}] has an unknown field '${k}'.`, { input, fix: 'Use bucket, prefix and distribution-id.' });
        t[field] = String(v);
      }
      return validate(t, `targets[${i}]`, input);
    });
  }
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ l: l.trim(), i }))
    .filter(({ l }) => l !== '' && !l.startsWith('#'))
    .map(({ l, i }) => {
      const t: Record<string, string> = {};
      for (const part of l.split(/\s+/)) {
        const eq = part.indexOf('=');
        const field = eq > 0 ? FIELDS[part.slice(0, eq)] : undefined;
        if (!field)
          throw new ActionError(`line ${i + 1} of input 'targets' has '${part}', not bucket=, prefix= or distribution-id=.`, {
            input,
            fix: 'Write e.g. bucket=shop-eu prefix=app distribution-id=E2QWRUHAPOMQZL.',
          });
        t[field] = part.slice(eq + 1);
      }
      return validate(t, `line ${i + 1} of input 'targets'`, input);
    });
}

/**
 * The single-target inputs and `targets` are alternatives. Also refuses two
 * targets whose prefixes nest in one bucket: deleting what one does not have
 * locally would delete the other's files.
 */
export function resolveTargets(single: { bucket?: string; prefix?: string; distributionId?: string }, targetsRaw: string): Target[] {
  const list = parseTargets(targetsRaw);
  const singleGiven = [single.bucket, single.prefix, single.distributionId].some((v) => v !== undefined && v.trim() !== '');
  if (list.length > 0 && singleGiven) {
    throw new ActionError("Both 'targets' and bucket/prefix/distribution-id are set; it is unclear where to deploy.", {
      input: 'targets',
      fix: 'Put every destination in targets (one line each), or use bucket/prefix/distribution-id for a single one.',
    });
  }
  if (list.length === 0) {
    if (!single.bucket?.trim())
      throw new ActionError("Input 'bucket' is required (or list destinations in 'targets').", {
        input: 'bucket',
        fix: 'Set bucket: <your-bucket>.',
      });
    list.push(validate(single, '', 'bucket'));
  }
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i]!;
      const b = list[j]!;
      if (a.bucket === b.bucket && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix))) {
        throw new ActionError(
          `Targets ${i + 1} and ${j + 1} overlap in bucket '${a.bucket}' ('${a.prefix}' and '${b.prefix}'): one would delete the other's files.`,
          { input: 'targets', fix: 'Use prefixes that do not contain each other, or one target.' },
        );
      }
    }
  }
  return list;
}
