/**
 * The IAM log: every call an action's code makes to the emulator or the test S3, with the IAM
 * authorizations it needs (iam.ts, iam-s3.ts), appended as one JSON line to
 * `$IAM_CALLS_DIR/calls-<pid>.ndjson`. Nothing is written when IAM_CALLS_DIR is unset (the demo,
 * benchmarks). The acting action is read from the User-Agent: lib/aws.ts adds `action/<name>` to
 * every client the suite creates, so the test's own seeding calls (no such token) are not logged.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IamCall } from './iam.js';

export interface IamLogEntry {
  /** The action whose code made the call: deploy-ecs, deploy-static, migrate-db, render-taskdef. */
  actor: string;
  service: string;
  operation: string;
  status: number;
  calls: IamCall[];
}

/** The suite's action named in the request's user agent (`action/deploy-ecs#1.2.3`), if any. */
function actorOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const agents = [headers['x-amz-user-agent'], headers['user-agent']].flat().join(' ');
  return /(?:^|\s)action\/([a-z0-9-]+)/.exec(agents)?.[1];
}

export function logIamCall(entry: Omit<IamLogEntry, 'actor'>, headers: Record<string, string | string[] | undefined>): void {
  const dir = process.env.IAM_CALLS_DIR;
  const actor = actorOf(headers);
  if (!dir || !actor) return;
  appendFileSync(join(dir, `calls-${process.pid}.ndjson`), `${JSON.stringify({ actor, ...entry })}\n`);
}
