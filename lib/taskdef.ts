/**
 * Task-definition helpers shared by render-taskdef, deploy-ecs and migrate-db.
 */

/**
 * Keys that `DescribeTaskDefinition` returns but `RegisterTaskDefinition`
 * rejects. Stripping them lets the output of
 * `aws ecs describe-task-definition` serve as a template or an input.
 */
export const READ_ONLY_KEYS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
] as const;

export function stripReadOnly<T extends Record<string, unknown>>(def: T): T {
  const out: Record<string, unknown> = { ...def };
  for (const key of READ_ONLY_KEYS) delete out[key];
  return out as T;
}
