import { ActionError } from './errors.js';

/**
 * Typed readers for action inputs. Every failure names the input and says how
 * to fix it; nothing here talks to AWS, so bad input fails before any call.
 */
export type InputReader = (name: string) => string;

/**
 * What `core.getInput` does, without `required` (we produce our own, better,
 * message): INPUT_<NAME> (spaces → _, upper-cased, dashes kept), trimmed.
 * See lib/runner.ts for why the suite does not use @actions/core.
 */
export const envReader: InputReader = (name) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim();

export class Inputs {
  constructor(private readonly read: InputReader = envReader) {}

  string(name: string): string | undefined {
    const v = this.read(name).trim();
    return v === '' ? undefined : v;
  }

  required(name: string, fix: string): string {
    const v = this.string(name);
    if (v === undefined) throw new ActionError(`Input '${name}' is required.`, { input: name, fix });
    return v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (/^(true|yes|on|1)$/i.test(v)) return true;
    if (/^(false|no|off|0)$/i.test(v)) return false;
    throw new ActionError(`Input '${name}' must be true or false, got '${v}'.`, {
      input: name,
      fix: `Set ${name}: true or ${name}: false.`,
    });
  }

  number(name: string, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    const range = `${opts.min ?? '-∞'}..${opts.max ?? '∞'}`;
    const bad =
      !Number.isFinite(n) ||
      (opts.integer && !Number.isInteger(n)) ||
      (opts.min !== undefined && n < opts.min) ||
      (opts.max !== undefined && n > opts.max);
    if (bad) {
      throw new ActionError(`Input '${name}' must be ${opts.integer ? 'a whole number' : 'a number'} in ${range}, got '${v}'.`, {
        input: name,
        fix: `Use a value in ${range}, or remove the input to use the default (${fallback}).`,
      });
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ActionError(`Input '${name}' must be one of ${allowed.join(', ')}; got '${v}'.`, {
        input: name,
        fix: `Use one of: ${allowed.join(', ')}.`,
      });
    }
    return v as T;
  }

  /** Non-empty, trimmed lines; `#` comment lines are skipped. Commas also separate when `commas` is set. */
  lines(name: string, commas = false): string[] {
    const raw = this.read(name);
    const parts = raw.split(/\r?\n/).flatMap((l) => (commas ? l.split(',') : [l]));
    return parts.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  }

  /** `KEY=VALUE` lines, split on the first `=` only (values may contain `=`); empty values are kept. */
  keyValues(name: string, keyPattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/): Map<string, string> {
    return parseKeyValueLines(this.read(name), name, keyPattern);
  }
}

export function parseKeyValueLines(raw: string, input: string, keyPattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/): Map<string, string> {
  const out = new Map<string, string>();
  raw.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const eq = trimmed.indexOf('=');
    const where = `line ${i + 1} of input '${input}'`;
    if (eq <= 0) {
      throw new ActionError(`${where} is '${trimmed}', not KEY=VALUE.`, {
        input,
        fix: 'Write one KEY=VALUE per line; the value may be empty (KEY=).',
      });
    }
    const key = trimmed.slice(0, eq).trim();
    if (!keyPattern.test(key)) {
      throw new ActionError(`${where} has an invalid key '${key}'.`, { input, fix: `Keys must match ${keyPattern}.` });
    }
    if (out.has(key)) {
      throw new ActionError(`${where} sets '${key}' a second time.`, { input, fix: `Keep one ${key}= line.` });
    }
    out.set(key, trimmed.slice(eq + 1));
  });
  return out;
}
