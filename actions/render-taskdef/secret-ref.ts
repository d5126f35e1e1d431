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

/**
 * `/x:3`, `/x:live` or an SSM ARN ending in one: a parameter version or label, as SSM's own
 * GetParameter takes them. ECS does not: `valueFrom` takes "either the full ARN or name of the
 * parameter" (AWS::ECS::TaskDefinition Secret, ValueFrom, CloudFormation User Guide), and versioned
 * references were added for Secrets Manager only (https://github.com/aws/containers-roadmap/issues/636: "there is no way to use
 * a versioned secret from parameter store in a task definition"). Parameter names cannot contain ':'.
 */
export function ssmVersionProblem(ref: string): { error: string; fix: string } | undefined {
  const m = /^(arn:aws[a-z-]*:ssm:[^:]*:\d*:parameter\/[^:]+|\/?[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*):([A-Za-z0-9_.-]+)$/.exec(ref);
  if (!m) return undefined;
  const [, base, selector] = m;
  return {
    error:
      `'${ref}' asks for ${/^\d+$/.test(selector!) ? 'version' : 'label'} '${selector}' of SSM parameter ${base}: ECS takes an SSM parameter by ` +
      `name or ARN only (no :version or :label) and reads its current value when the task starts`,
    fix:
      `Write '${base}'. To pin a value, store it under a parameter name of its own (e.g. ${base}-v${/^\d+$/.test(selector!) ? selector : '2'}), or ` +
      `keep it in Secrets Manager, whose ARN takes :json-key:version-stage:version-id.`,
  };
}

export function parseSecretRef(ref: string): SecretRef | { error: string; fix?: string } {
  const versioned = ssmVersionProblem(ref);
  if (versioned) return versioned;
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
          error:
            `'${ref}' is a Secrets Manager ARN with ${parts.length - 1} ':'-separated field(s) after the name; ECS takes either ` +
            `none or exactly three (json-key:version-stage:version-id, each may be empty, e.g. ':api_key::')`,
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
        ...(parts.length === 4
          ? { jsonKey: parts[1] || undefined, versionStage: parts[2] || undefined, versionId: parts[3] || undefined }
          : {}),
      };
    }
    return {
      error:
        `'${ref}' is not an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>) or a Secrets Manager ARN ` +
        `(arn:aws:secretsmanager:<region>:<account>:secret:<name>[:json-key:version-stage:version-id])`,
    };
  }
  if (!SSM_NAME.test(ref)) {
    return {
      error: `'${ref}' is neither an SSM parameter name (letters, digits, _ . - and / only, e.g. /delivery/test/DATABASE_URL) nor an ARN`,
    };
  }
  if (/^\/?(aws|ssm)/i.test(ref)) return { error: `'${ref}' is not a valid SSM parameter name: names may not begin with 'aws' or 'ssm'` };
  return { kind: 'ssm', ref, name: ref };
}

/** Where a secret comes from, for logs and the step summary (never the value). */
export function describeSecretSource(ref: SecretRef): string {
  if (ref.kind === 'ssm') return `SSM ${ref.name}`;
  const extras = [
    ref.jsonKey && `json key ${ref.jsonKey}`,
    ref.versionStage && `stage ${ref.versionStage}`,
    ref.versionId && `version ${ref.versionId}`,
  ].filter(Boolean);
  return `Secrets Manager ${ref.name}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

/** Plain environment variable names that often hold a secret: a warning only (see secretByValue for errors). */
export function looksSecret(name: string): boolean {
  return /PASSWORD|SECRET|TOKEN|PRIVATE_KEY/i.test(name);
}

/**
 * What a plain value holds when it is a secret by its shape, or undefined.
 * Names are a weak signal (TOKEN_ISS is an issuer, not a token); values are
 * not: an access key ID or a private key in a task definition is readable by
 * anyone with ecs:DescribeTaskDefinition and stays in every old revision.
 */
export function secretByValue(value: string): string | undefined {
  // Cheap includes() first: this runs on every plain value of templates with tens of thousands of them.
  if ((value.includes('AKIA') || value.includes('ASIA')) && /(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/.test(value))
    return 'an AWS access key ID (AKIA…/ASIA…)';
  if (value.includes('PRIVATE KEY') && /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/.test(value)) return 'a private key block';
  if (value.includes('://') && value.includes('@') && /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s/@]+@/i.test(value))
    return 'a URL with a password (scheme://user:password@host)';
  if (value.includes('eyJ') && /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/.test(value)) return 'a JSON Web Token';
  if (value.length < 32) return undefined;
  for (const token of value.split(/[\s,;"'`()<>{}[\]]+/))
    if (token.length >= 32 && highEntropy(token)) return 'a long random string (an API key or token?)';
  return undefined;
}

/**
 * Random-looking: base64/base62 alphabet, upper case, lower case and digits
 * mixed, few vowels, and close to the Shannon entropy of random text.
 * Lower-case hex (git SHAs, UUIDs) and words glued together do not match.
 */
function highEntropy(token: string): boolean {
  if (!/^[A-Za-z0-9+/_=-]+$/.test(token)) return false;
  const count = (re: RegExp) => token.match(re)?.length ?? 0;
  if (count(/[a-z]/g) < 2 || count(/[A-Z]/g) < 2 || count(/[0-9]/g) < 1) return false;
  // Random letters are ~20% vowels (10 of 52); names glued together in camel case ~35-40%.
  if (count(/[aeiouAEIOU]/g) / count(/[A-Za-z]/g) > 0.3) return false;
  const freq = new Map<string, number>();
  for (const ch of token) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of freq.values()) bits -= (n / token.length) * Math.log2(n / token.length);
  return bits >= 4.2;
}
