/**
 * The one error type every action throws for problems the user can fix.
 * It carries where the problem is (input, file, line) and how to fix it, so the
 * runner can show it as an annotation on the offending file and the message
 * reads as "what was wrong" + "how to fix it".
 */
export interface Location {
  /** The action input that carried the bad value, e.g. `task-definition`. */
  input?: string;
  /** Path of the file the problem is in, relative to the workspace when possible. */
  file?: string;
  line?: number;
  column?: number;
  /** A JSON path or field name inside the file, e.g. `environments.prod.secrets.DB`. */
  field?: string;
}

export class ActionError extends Error {
  readonly location: Location;
  readonly fix?: string;
  /** Further problems found in the same pass; all are reported at once. */
  readonly problems: ActionError[];

  constructor(message: string, opts: Location & { fix?: string; problems?: ActionError[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ActionError';
    const { fix, problems, cause: _cause, ...location } = opts;
    this.location = location;
    this.fix = fix;
    this.problems = problems ?? [];
  }

  /** `file:line:col` (or the input name) prefix, then the message, then the fix. */
  override toString(): string {
    return formatProblem(this);
  }
}

export function where(loc: Location): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.line ? `${loc.file}:${loc.line}${loc.column ? `:${loc.column}` : ''}` : loc.file);
  if (loc.field) parts.push(loc.field);
  if (loc.input && !loc.file) parts.push(`input '${loc.input}'`);
  return parts.join(' ');
}

export function formatProblem(err: ActionError): string {
  const at = where(err.location);
  return `${at ? `${at}: ` : ''}${err.message}${err.fix ? ` Fix: ${err.fix}` : ''}`;
}

/** Combine several problems into one error that lists them all (one per line). */
export function aggregate(summary: string, problems: ActionError[]): ActionError {
  if (problems.length === 1) return problems[0]!;
  const lines = problems.map((p) => `  - ${formatProblem(p)}`).join('\n');
  return new ActionError(`${summary} (${problems.length} problems):\n${lines}`, { problems });
}

/** Input checks that report every problem in one pass instead of stopping at the first. */
export interface ProblemCollector {
  readonly problems: ActionError[];
  /** `fn`'s value; if it throws an ActionError, that error is collected (an aggregate's problems one by one) and `fallback` returned. */
  attempt<T>(fn: () => T, fallback: T): T;
  attempt<T>(fn: () => T): T | undefined;
}

export function collectProblems(): ProblemCollector {
  const problems: ActionError[] = [];
  function attempt<T>(fn: () => T, fallback?: T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      problems.push(...(err.problems.length > 0 ? err.problems : [err]));
      return fallback;
    }
  }
  return { problems, attempt };
}

/** Message of anything thrown, including AWS SDK errors (which carry `name`). */
export function describeUnknown(err: unknown): string {
  if (err instanceof ActionError) return formatProblem(err);
  if (err instanceof Error) {
    const code = (err as { name?: string }).name;
    return code && code !== 'Error' && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
