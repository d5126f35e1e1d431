/**
 * Secret references (`valueFrom`) as ECS accepts them. Values are never
 * fetched: render only checks the shape, and `verify` only checks existence.
 */
export type SecretRef =
  | { kind: 'ssm'; ref: string; name: string; region?: string; account?: string }
  | {
      kind: 'secretsmanager';
      ref: string;
      /** The secret's ARN without the `:json-key:version-stage:version-id` suffix: what DescribeSecret takes. */
      secretId: string;
      /** Secret name without the 6-character random suffix, for humans. */
      name: string;
      region: string;
      account: string;
      jsonKey?: string;
      versionStage?: string;
      versionId?: string;
    };

const SSM_NAME = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const SSM_ARN = /^arn:aws[a-z-]*:ssm:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):parameter(\/.+)$/;
const SM_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):secret:(.+)$/;
const SM_NAME = /^[A-Za-z0-9/_+=.@-]+$/;

export function parseSecretRef(ref: string): SecretRef | { error: string } {
  if (ref.startsWith('arn:')) {
    const ssm = SSM_ARN.exec(ref);
    if (ssm) {
      // The ARN drops the leading '/' of hierarchical names: parameter/a/b is /a/b, parameter/x is x.
      const path = ssm[3]!.slice(1);
      const name = path.includes('/') ? `/${path}` : path;
      if (!SSM_NAME.test(name)) return { error: `'${ref}' is an SSM parameter ARN with an invalid parameter name '${name}'` };
      return { kind: 'ssm', ref, name, region: ssm[1], account: ssm[2] };
    }
    const sm = SM_ARN.exec(ref);
    if (sm) {
      const parts = sm[3]!.split(':');
      const base = parts[0]!;
      if (!SM_NAME.test(base)) return { error: `'${ref}' is a Secrets Manager ARN with an invalid secret name '${base}'` };
      if (parts.length !== 1 && parts.length !== 4) {
        return {
          error: `'${ref}' is a Secrets Manager ARN with ${parts.length - 1} ':'-separated field(s) after the name; ECS takes either none or exactly three (json-key:version-stage:version-id, each may be empty, e.g. ':api_key::')`,
        };
      }
      const secretId = ref.slice(0, ref.length - (sm[3]!.length - base.length));
      return {
        kind: 'secretsmanager',
        ref,
        secretId,
        name: base.replace(/-[A-Za-z0-9]{6}$/, ''),
        region: sm[1]!,
        account: sm[2]!,
        ...(parts.length === 4 ? { jsonKey: parts[1] || undefined, versionStage: parts[2] || undefined, versionId: parts[3] || undefined } : {}),
      };
    }
    return {
      error: `'${ref}' is not an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>) or a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>[:json-key:version-stage:version-id])`,
    };
  }
  if (!SSM_NAME.test(ref)) {
    return { error: `'${ref}' is neither an SSM parameter name (letters, digits, _ . - and / only, e.g. /delivery/test/DATABASE_URL) nor an ARN` };
  }
  if (/^\/?(aws|ssm)/i.test(ref)) return { error: `'${ref}' is not a valid SSM parameter name: names may not begin with 'aws' or 'ssm'` };
  return { kind: 'ssm', ref, name: ref };
}

/** Where a secret comes from, for logs and the step summary (never the value). */
export function describeSecretSource(ref: SecretRef): string {
  if (ref.kind === 'ssm') return `SSM ${ref.name}`;
  const extras = [ref.jsonKey && `json key ${ref.jsonKey}`, ref.versionStage && `stage ${ref.versionStage}`, ref.versionId && `version ${ref.versionId}`].filter(Boolean);
  return `Secrets Manager ${ref.name}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

/** Plain environment variable names that almost certainly hold a secret. */
export function looksSecret(name: string): boolean {
  return /PASSWORD|SECRET|TOKEN|PRIVATE_KEY/i.test(name);
}
