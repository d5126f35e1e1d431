import { ActionError, type Location } from '../../lib/errors.js';
import type { JsonPath } from './json-source.js';
import { didYouMean } from './placeholders.js';
import type { ContainerDef } from './taskdef-types.js';
import { parseSecretRef } from './secret-ref.js';
import type { TerraformOutputs } from './terraform.js';

// Checks render makes while it merges: they need the template before the merge, or the config's paths.

export function fixFor(placeholder: string, values: ReadonlyMap<string, string>, terraform: TerraformOutputs | undefined): string {
  const name = placeholder.slice(2, -1).trim();
  const guess = didYouMean(name, [...values.keys()]);
  const hint = guess ? `Did you mean \${${guess}}? ` : '';
  if (name.startsWith('tf:')) {
    const out = terraform?.get(name.slice(3));
    if (out)
      return `${hint}Terraform output ${name.slice(3)} is a ${out.type}; only strings, numbers and booleans can fill a placeholder (add a string output).`;
    const known = [...(terraform?.keys() ?? [])];
    return `${hint}${terraform?.size ? `Terraform outputs given: ${known.join(', ')}.` : 'Pass terraform-outputs (the JSON of terraform output -json).'}`;
  }
  // ${PORT:-8000} is shell syntax: the fix names the valid placeholder first, not "PORT:-8000".
  const shell = /^([A-Za-z_][A-Za-z0-9_]*):?[-=+?](.*)$/s.exec(name);
  if (shell) {
    const [, base, fallback] = shell;
    return (
      `Placeholders take no shell default: write \${${base}} and give ${base} a value (vars input ${base}=${fallback}, or the ` +
      `feature config's placeholders); or write $${placeholder} to leave ${placeholder} for the container's shell.`
    );
  }
  if (name === 'IMAGE_URI') return `${hint}Set the image input (\${IMAGE_URI} is its URI).`;
  if (name === 'AWS_REGION') return `${hint}Set the aws-region input, or AWS_REGION in the environment.`;
  return (
    `${hint}Give ${name} a value in the vars input (${name}=value), the feature config's placeholders, or terraform-outputs as ` +
    `\${tf:${name}}; write $${placeholder} for a literal ${placeholder}.`
  );
}

/** The names a container's template declares; a name twice (ECS keeps the last silently) is an error. */
export function declaredNames(
  c: ContainerDef,
  tpath: JsonPath,
  locate: (path: JsonPath) => Location,
  problems: ActionError[],
): Set<string> {
  const first = new Map<string, string>();
  for (const kind of ['environment', 'secrets'] as const) {
    const list = c[kind];
    if (!Array.isArray(list)) continue;
    list.forEach((e, j) => {
      if (typeof e?.name !== 'string') return;
      const prev = first.get(e.name);
      if (prev === undefined) {
        first.set(e.name, `${kind}[${j}]`);
        return;
      }
      problems.push(
        new ActionError(
          `container '${String(c.name)}': ${e.name} is declared twice (also ${prev}); ECS would silently keep only one of them.`,
          {
            ...locate([...tpath, kind, j]),
            fix: `Keep one ${e.name} entry${prev.startsWith(kind) ? '' : ', in environment or in secrets'}.`,
          },
        ),
      );
    });
  }
  return new Set(first.keys());
}

/**
 * An `ssm` entry must be an SSM reference and a `secretsManager` entry a Secrets Manager ARN: ECS takes
 * "the full ARN of the Secrets Manager secret" and an SSM parameter by name or ARN (ECS API reference, Secret.valueFrom).
 */
export function checkStore(store: 'ssm' | 'secretsmanager', value: string, name: string, at: Location, problems: ActionError[]): void {
  const ref = parseSecretRef(value);
  if ('error' in ref || ref.kind === store) return; // shape errors are reported by validation
  problems.push(
    new ActionError(
      store === 'ssm'
        ? `${name} is under ssm but ${value} is not an SSM parameter (it is a ` +
            `${ref.kind === 'secretsmanager' ? 'Secrets Manager ARN' : 'reference of another store'}).`
        : `${name} is under secretsManager but '${value}' is not a Secrets Manager ARN.`,
      {
        ...at,
        fix:
          store === 'ssm'
            ? `Move ${name} to secretsManager.`
            : 'ECS needs the full ARN of the secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>); an SSM ' +
              'parameter name belongs under ssm.',
      },
    ),
  );
}
