/**
 * Checks on the values a task definition stores in the clear (readable by anyone with
 * ecs:DescribeTaskDefinition, in every revision): secret-shaped plain variables, and sensitive
 * Terraform outputs anywhere but a secret's valueFrom.
 */
import { fieldName } from './config-load.js';
import type { JsonPath } from './json-source.js';
import { looksSecret, secretByValue } from './secret-ref.js';
import type { Checker, PathProblem } from './check-types.js';

/**
 * Plain variables are stored in the task definition, readable by anyone
 * with ecs:DescribeTaskDefinition, in every revision. A value shaped like a
 * secret is an error; a name like one (TOKEN_ISS) only a warning, which
 * allow-plain-names silences.
 */
export const checkPlainValues: Checker = (r, opts) => {
  const problems: PathProblem[] = [];
  r.taskDef.containerDefinitions.forEach((c, i) => {
    for (const [j, e] of (c.environment ?? []).entries()) {
      if (typeof e?.name !== 'string' || typeof e.value !== 'string' || e.value === '') continue;
      const path = ['containerDefinitions', i, 'environment', j];
      const move =
        `Store the value in SSM Parameter Store (SecureString) or Secrets Manager and reference it from secrets/ssm/secretsManager ` +
        `instead, so the task definition holds a reference, not the value`;
      const shape = secretByValue(e.value);
      if (shape) {
        problems.push({
          path,
          message: `container '${String(c.name)}': ${e.name} holds ${shape} as a plain environment variable.`,
          fix: `${move}; and rotate it, since it was committed.`,
        });
      } else if (looksSecret(e.name) && !opts.allowPlainName(e.name)) {
        problems.push({
          path,
          severity: 'warning',
          message: `container '${String(c.name)}': ${e.name} is named like a secret but is a plain environment variable.`,
          fix: `If it is not a secret, add ${e.name} to the allow-plain-names input; if it is: ${move}.`,
        });
      }
    }
  });
  return problems;
};

/** A sensitive string shorter than this is only traced through its placeholder: searching for it would flag unrelated text. */
const MIN_SEARCHED_SECRET = 4;

/**
 * A sensitive Terraform output may only fill a secret's valueFrom (a reference ECS resolves at task
 * start): anywhere else (an environment value, command, entryPoint, dockerLabels, a log option) it is
 * stored in the task definition, readable by anyone with ecs:DescribeTaskDefinition, in every
 * revision. Found by the placeholder that carried it (numbers and booleans too) and, for strings, by
 * its value (pasted into the template or the config).
 */
export const checkSensitive: Checker = (r, opts) => {
  const found = new Map<string, PathProblem>();
  const report = (at: JsonPath, output: string) => {
    // An environment or secrets entry is reported as a whole, where its value was set.
    const entry = at[0] === 'containerDefinitions' && (at[2] === 'environment' || at[2] === 'secrets') && typeof at[3] === 'number';
    const path = entry ? at.slice(0, 4) : at;
    if (entry && at[2] === 'secrets' && (at.length === 4 || at[4] === 'valueFrom')) return;
    const key = path.join('\0');
    if (found.has(key)) return;
    const c = at[0] === 'containerDefinitions' && typeof at[1] === 'number' ? r.taskDef.containerDefinitions[at[1]] : undefined;
    const what =
      entry && at[2] === 'environment'
        ? `${String(c?.[at[2]]?.[at[3] as number]?.name)} holds a sensitive Terraform output (${output}) as a plain environment variable`
        : `${fieldName(path)} holds a sensitive Terraform output (${output}) in the clear`;
    found.set(key, {
      path,
      message:
        `${c ? `container '${String(c.name)}': ` : ''}${what}; a task definition is readable by anyone with ecs:DescribeTaskDefinition, in ` +
        `every revision.`,
      fix:
        `A sensitive output may only fill a secret's valueFrom: store the value in Secrets Manager or SSM Parameter Store (SecureString), output ` +
        `its ARN or name from Terraform, and reference it under secrets (or the config's ssm / secretsManager).`,
    });
  };
  for (const u of r.sensitive) report(u.path, u.output);
  const searched = [...opts.sensitiveValues].filter(([v]) => v.length >= MIN_SEARCHED_SECRET);
  if (searched.length) {
    walkStrings(r.taskDef, [], (path, text) => {
      for (const [value, output] of searched) if (text.includes(value)) report(path, output);
    });
  }
  return [...found.values()];
};

function walkStrings(v: unknown, path: (string | number)[], visit: (path: JsonPath, text: string) => void): void {
  if (typeof v === 'string') visit([...path], v);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, [...path, i], visit));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkStrings(x, [...path, k], visit);
}
