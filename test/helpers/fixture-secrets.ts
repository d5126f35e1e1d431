/**
 * The test fixtures' secret values, and the check that no bundle run prints one. run-bundle.ts
 * registers what a run is given (every string of a sensitive Terraform output, a password in a
 * URL, an access key id in an input) and the emulator registers what it stores (SSM SecureString
 * values, Secrets Manager secret strings and their JSON string leaves); after every run,
 * run-bundle.ts fails the run when any captured output (stdout, stderr, GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_STATE, GITHUB_STEP_SUMMARY) shows one. One registry per test file (vitest isolates files).
 *
 * What the runner shows: it consumes an `::add-mask::X` line (X never appears), unless the line
 * sits inside a `::stop-commands::<token>` block, where it is printed as is. Every other line
 * naming X is a leak, even after X was masked: the check does not rely on the mask.
 */

/** Shorter values match ordinary text (`v`, `abc`); fixtures use longer secrets. */
const MIN_LENGTH = 4;

const registry = new Map<string, string>();

/** Registers `value` (from `source`, e.g. 'SSM SecureString /x/DB') as a secret no log may show. */
export function registerFixtureSecret(value: string, source: string): void {
  if (value.length < MIN_LENGTH || registry.has(value)) return;
  registry.set(value, source);
}

/** A stored secret string, and when it is a JSON object (a Secrets Manager secret with keys), each string in it. */
export function registerSecretString(value: string, source: string): void {
  registerFixtureSecret(value, source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return;
  }
  for (const leaf of stringLeaves(parsed)) registerFixtureSecret(leaf, `${source} (JSON key)`);
}

function stringLeaves(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(stringLeaves);
  if (v && typeof v === 'object') return Object.values(v).flatMap(stringLeaves);
  return [];
}

/** Every string of every sensitive output of a `terraform output -json` document (a map's, a list's, an object's). */
export function registerTerraformOutputs(text: string, source: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return; // not JSON: the bundle reports that itself
  }
  if (!doc || typeof doc !== 'object') return;
  for (const [name, output] of Object.entries(doc as Record<string, unknown>)) {
    if (!output || typeof output !== 'object' || (output as { sensitive?: unknown }).sensitive !== true) continue;
    for (const leaf of stringLeaves((output as { value?: unknown }).value))
      registerFixtureSecret(leaf, `${source}: sensitive output ${name}`);
  }
}

/** Secrets spelled inside an input value: the password of a `scheme://user:password@host` URL, an AWS access key id. */
export function registerSecretsInText(text: string, source: string): void {
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:([^\s@/"']+)@/gi))
    registerFixtureSecret(m[1]!, `${source}: password in a URL`);
  for (const m of text.matchAll(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g)) registerFixtureSecret(m[0], `${source}: access key id`);
}

export interface Leak {
  /** Where it was shown: 'stdout', 'GITHUB_OUTPUT', … */
  stream: string;
  line: number;
  source: string;
}

/** Lines of `text` the runner would show that contain a registered secret (see the file comment). */
export function findLeaks(streams: Record<string, string>, secrets: ReadonlyMap<string, string> = registry): Leak[] {
  const leaks: Leak[] = [];
  for (const [stream, text] of Object.entries(streams)) {
    let stopToken: string | undefined;
    text.split('\n').forEach((raw, i) => {
      const line = raw.trimStart();
      if (stopToken !== undefined) {
        if (line === `::${stopToken}::`) stopToken = undefined;
      } else if (line.startsWith('::stop-commands::')) {
        stopToken = line.slice('::stop-commands::'.length);
      } else if (line.startsWith('::add-mask::')) {
        return; // consumed by the runner, never shown
      }
      for (const [secret, source] of secrets) if (raw.includes(secret)) leaks.push({ stream, line: i + 1, source });
    });
  }
  return leaks;
}

/** Throws when a run showed a registered secret, naming where (never the value itself). */
export function assertNoFixtureSecrets(action: string, streams: Record<string, string>): void {
  const leaks = findLeaks(streams);
  if (leaks.length === 0) return;
  const where = leaks.map((l) => `  ${l.stream} line ${l.line}: ${l.source}`).join('\n');
  throw new Error(`${action} bundle showed a test fixture's secret value:\n${where}`);
}
