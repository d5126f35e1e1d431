import { Inputs as InputReaderHelper, type InputReader, envReader } from '../../lib/inputs.js';
import { ActionError } from '../../lib/errors.js';
import { PRESETS, parseHeaderRules, type HeaderRule, type Preset } from './rules.js';
import type { DeleteMode } from './plan.js';
import { withState } from './state.js';
import { resolveTargets, type Target } from './targets.js';

/** keep-releases when neither the input nor the record gives one. */
export const DEFAULT_KEEP_RELEASES = 5;

const INVALIDATE_MODES = ['changed', 'all', 'none'] as const;
type InvalidateMode = (typeof INVALIDATE_MODES)[number];

/** Everything the action reads; keys mirror action.yml. */
export interface Inputs {
  source: string;
  targets: Target[];
  awsRegion?: string;
  delete: DeleteMode;
  maxDeleteCount: number;
  maxDeleteRatio: number;
  forceDelete: boolean;
  preset: Preset;
  headers: HeaderRule[];
  exclude: string[];
  includeDotfiles: boolean;
  acl?: string;
  concurrency: number;
  multipartThresholdMb: number;
  dryRun: boolean;
  invalidate: InvalidateMode;
  invalidationMaxPaths: number;
  waitForInvalidation: boolean;
  waitTimeoutSeconds: number;
  maxAttempts: number;
  lockWaitSeconds: number;
  /** Undefined when not given: the record's stored value applies (keepOf). */
  keepReleases?: number;
  /** Rebuild an unreadable record from the bucket and the release snapshots before the run. */
  repairRecord: boolean;
  /** `previous` or a release id; set, the run restores that release instead of deploying `source`. */
  rollbackTo?: string;
  /** Globs; set, the run removes matching keys from the site, every snapshot and the record instead of deploying. */
  purge: string[];
}

const ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
];

/** `delete` was a boolean before `all` existed: every boolean spelling keeps working. */
function deleteMode(v: string | undefined): DeleteMode {
  if (v === undefined || /^(true|yes|on|1)$/i.test(v)) return 'true';
  if (/^(false|no|off|0)$/i.test(v)) return 'false';
  if (/^all$/i.test(v)) return 'all';
  throw new ActionError(`Input 'delete' must be true, false or all; got '${v}'.`, {
    input: 'delete',
    fix: 'Use true (delete files this action deployed that are gone from source), all (also files other tools put under the prefix) or false.',
  });
}

export function getInputs(read: InputReader = envReader): Inputs {
  const i = new InputReaderHelper(read);
  // A rollback restores a recorded release; it takes no build.
  const rollbackTo = i.string('rollback-to');
  if (rollbackTo !== undefined && i.string('source') !== undefined) {
    throw new ActionError(`Inputs 'rollback-to' and 'source' were both set: a rollback restores a recorded release and uploads no build.`, {
      input: 'rollback-to',
      fix: "Remove 'source' to roll back (or forward) to a recorded release, or remove 'rollback-to' to deploy the build in 'source'.",
    });
  }
  // A purge removes files everywhere they are kept; it takes no build and restores nothing.
  const purge = i.lines('purge');
  if (purge.length > 0 && (rollbackTo !== undefined || i.string('source') !== undefined)) {
    throw new ActionError(
      `Input 'purge' was set together with '${rollbackTo !== undefined ? 'rollback-to' : 'source'}': a purge run only removes files.`,
      {
        input: 'purge',
        fix: 'Run the purge as its own step (no source, no rollback-to); deploy a build without the files first or after.',
      },
    );
  }
  const source =
    rollbackTo !== undefined || purge.length > 0
      ? ''
      : i.required(
          'source',
          'Set source to the folder your build writes (e.g. dist), set rollback-to (previous or a release id) to restore a recorded ' +
            'release, or purge to remove files.',
        );
  const targets = withState(
    resolveTargets(
      { bucket: i.string('bucket'), prefix: i.string('prefix'), distributionId: i.string('distribution-id') },
      read('targets'),
    ),
    { bucket: i.string('state-bucket'), prefix: i.string('state-prefix') },
  );
  const acl = i.string('acl');
  if (acl !== undefined && !ACLS.includes(acl))
    throw new ActionError(`Input 'acl' must be a canned ACL, got '${acl}'.`, {
      input: 'acl',
      fix: `Use one of ${ACLS.join(', ')}, or leave it empty (recommended: serve through CloudFront OAC).`,
    });
  return {
    source,
    targets,
    awsRegion: i.string('aws-region'),
    delete: deleteMode(i.string('delete')),
    maxDeleteCount: i.number('max-delete-count', 500, { min: 0, integer: true }),
    maxDeleteRatio: i.number('max-delete-ratio', 0.5, { min: 0, max: 1 }),
    forceDelete: i.bool('force-delete', false),
    preset: i.oneOf('preset', PRESETS, 'static'),
    headers: parseHeaderRules(read('headers')),
    exclude: i.lines('exclude'),
    includeDotfiles: i.bool('include-dotfiles', false),
    acl,
    concurrency: i.number('concurrency', 16, { min: 1, max: 128, integer: true }),
    multipartThresholdMb: i.number('multipart-threshold-mb', 8, { min: 5, max: 5000, integer: true }),
    dryRun: i.bool('dry-run', false),
    invalidate: i.oneOf('invalidate', INVALIDATE_MODES, 'changed'),
    invalidationMaxPaths: i.number('invalidation-max-paths', 100, { min: 1, max: 3000, integer: true }),
    waitForInvalidation: i.bool('wait-for-invalidation', false),
    waitTimeoutSeconds: i.number('wait-timeout-seconds', 900, { min: 1, max: 3600, integer: true }),
    maxAttempts: i.number('max-attempts', 8, { min: 1, max: 20, integer: true }),
    lockWaitSeconds: i.number('lock-wait-seconds', 600, { min: 0, max: 3600, integer: true }),
    // The action.yml default is empty so that "not given" can be told from 5 (the runner passes defaults as INPUT_*).
    ...(i.string('keep-releases') !== undefined
      ? { keepReleases: i.number('keep-releases', DEFAULT_KEEP_RELEASES, { min: 1, max: 100, integer: true }) }
      : {}),
    repairRecord: i.bool('repair-record', false),
    ...(rollbackTo !== undefined ? { rollbackTo } : {}),
    purge,
  };
}
