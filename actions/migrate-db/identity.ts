import { createHash } from 'node:crypto';

/**
 * Who a migration task is, as ECS sees it: the `clientToken` that makes a
 * retried step idempotent, the `startedBy` the concurrency guard lists by,
 * and the tags that let a human find the run that started a task.
 */

/** The workflow identity of this step, from the runner's environment. */
export interface RunIdentity {
  repository: string;
  runId: string;
  runAttempt: string;
  job: string;
  /** GITHUB_ACTION: the step's `id`, or `__owner_repo` (+ a suffix when a job uses the action twice). */
  step: string;
}

export function runIdentity(env: NodeJS.ProcessEnv = process.env): RunIdentity {
  return {
    repository: env.GITHUB_REPOSITORY ?? 'local',
    runId: env.GITHUB_RUN_ID ?? '0',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '1',
    job: env.GITHUB_JOB ?? '',
    step: env.GITHUB_ACTION ?? '',
  };
}

function sha(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/**
 * RunTask's clientToken: ≤ 64 ASCII characters (33–126), kept by ECS for 24 h.
 * "The same migration" = same repository, run id, run attempt, job, step and
 * cluster/service/container/command. A step retried inside one attempt gets the
 * original task back instead of starting a second migration; "Re-run jobs"
 * (a new attempt) deliberately starts a new one. A retry whose other RunTask
 * parameters changed gets ConflictException from ECS.
 */
export function clientToken(id: RunIdentity, what: { cluster: string; service?: string; container: string; command?: string[] }): string {
  const hash = sha([
    id.repository,
    id.job,
    id.step,
    what.cluster,
    what.service ?? '',
    what.container,
    JSON.stringify(what.command ?? null),
  ]);
  const runId = id.runId.replace(/[^0-9A-Za-z]/g, '').slice(0, 20);
  const attempt = id.runAttempt.replace(/[^0-9]/g, '').slice(0, 4);
  return `migrate-${runId}-${attempt}-${hash.slice(0, 24)}`;
}

/**
 * Default `startedBy` (≤ 36 of [A-Za-z0-9_/-]): `migrate/<service or family>`,
 * shortened with a hash when the name is long, so the concurrency guard's
 * ListTasks(startedBy) finds exactly the migrations of this service.
 */
export function defaultStartedBy(serviceOrFamily: string): string {
  const clean = serviceOrFamily.replace(/[^A-Za-z0-9_-]/g, '-');
  const full = `migrate/${clean}`;
  if (full.length <= 36) return full;
  return `migrate/${clean.slice(0, 19)}-${sha([serviceOrFamily]).slice(0, 8)}`;
}

/** Tag values allow letters, digits, spaces and `_ . : / = + - @`, ≤ 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{N} _.:/=+\-@]/gu, '_').slice(0, 256) || '-';
}

export function runTags(id: RunIdentity, token: string): { key: string; value: string }[] {
  return [
    { key: 'aws-deploy-actions:action', value: 'migrate-db' },
    { key: 'aws-deploy-actions:client-token', value: token },
    { key: 'github:repository', value: tagValue(id.repository) },
    { key: 'github:run', value: tagValue(`${id.runId}/${id.runAttempt}`) },
  ];
}

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|PASS|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|DSN|DATABASE_URL|_URL$|URI$)/i;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s]+@/i;

/**
 * Whether an environment override should be treated as a secret: by its name
 * (…PASSWORD, …TOKEN, DATABASE_URL, …) or by its shape (a URL with a password).
 * Such values are registered with the runner as secrets (::add-mask::) and shown as *** by us.
 */
export function isSecretOverride(name: string, value: string): boolean {
  if (value.length < 4) return false;
  return SECRET_NAME.test(name) || URL_WITH_PASSWORD.test(value);
}

export function maskedEnvironment(env: Map<string, string>): { name: string; value: string }[] {
  return [...env].map(([name, value]) => ({ name, value: isSecretOverride(name, value) ? '***' : value }));
}
