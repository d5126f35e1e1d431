/**
 * Deploy-ecs never moves a service to another task-definition family
 * unless `allow-family-change: true`. A rollback typed by hand
 * (`delivery-test-backend:12` on the prod service) is the case this stops:
 * the families differ, so the run fails before any write, naming both.
 */
import type { Service } from '@aws-sdk/client-ecs';
import { ActionError, aggregate } from '../../lib/errors.js';

/** `family` of `arn:…:task-definition/family:12` or `family:12`. */
export function familyOf(ref: string | undefined): string | undefined {
  const m = /(?:^|task-definition\/)([A-Za-z0-9_-]{1,255}):\d+$/.exec(ref ?? '');
  return m?.[1];
}

export interface FamilyChange {
  service: string;
  from: string;
  to: string;
}

/** The services whose current family differs from `family` (pure). */
function familyChanges(family: string, services: Map<string, Service>): FamilyChange[] {
  const changes: FamilyChange[] = [];
  for (const [service, svc] of services) {
    const from = familyOf(svc.taskDefinition);
    if (from && from !== family) changes.push({ service, from, to: family });
  }
  return changes;
}

/** Throws (input `task-definition`) when a family would change and that is not allowed. */
export function checkFamily(family: string | undefined, services: Map<string, Service>, allowFamilyChange: boolean): FamilyChange[] {
  if (!family) return [];
  const changes = familyChanges(family, services);
  if (changes.length === 0 || allowFamilyChange) return changes;
  throw aggregate(
    'Refusing to change task-definition family',
    changes.map(
      (c) =>
        new ActionError(`Service '${c.service}' runs family '${c.from}'; the task definition given is family '${c.to}'.`, {
          input: 'task-definition',
          fix:
            `Check the environment and the revision (a rollback must stay in '${c.from}'), or set allow-family-change: true if ` +
            `moving '${c.service}' to '${c.to}' is intended.`,
        }),
    ),
  );
}
