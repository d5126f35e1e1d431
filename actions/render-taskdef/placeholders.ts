import type { JsonPath } from './json-source.js';

/**
 * `${NAME}` placeholders. Anything else between `${` and `}` is reported as
 * unresolved too. `$${NAME}` is an escape for a literal `${NAME}` (a shell
 * command in a healthCheck, say).
 */
const PLACEHOLDER = /\$?\$\{([^}]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{[^}]*\}$/;

/** Replaces known placeholders; returns the new string, the names it resolved and those it could not. */
export function substitute(text: string, values: ReadonlyMap<string, string>): { text: string; used: string[]; unresolved: string[] } {
  const unresolved: string[] = [];
  const used: string[] = [];
  const out = text.replace(PLACEHOLDER, (whole: string, name: string) => {
    if (whole.startsWith('$$')) return whole.slice(1);
    const v = values.get(name.trim());
    if (v === undefined) {
      unresolved.push(whole);
      return whole;
    }
    used.push(name.trim());
    return v;
  });
  return { text: out, used, unresolved };
}

/**
 * Substitutes placeholders in every string value and key of a JSON value, calling `onUnresolved` with the JSON path of each string that
 * still holds a `${...}` so the caller can report its file and line.
 */
export function substituteDeep(
  value: unknown,
  values: ReadonlyMap<string, string>,
  onUnresolved: (path: JsonPath, names: string[]) => void,
  /** Called with the path of each string and the placeholder names it resolved (to trace sensitive values). */
  onResolved?: (path: JsonPath, names: string[]) => void,
  /** A string that is one placeholder and nothing else: the value to put there instead of the text (a number). */
  typed?: (path: JsonPath, text: string) => unknown,
): unknown {
  // One path stack, copied only for a report: a new path array per value was most of the garbage on large templates.
  const path: (string | number)[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      const r = substitute(v, values);
      if (r.unresolved.length) onUnresolved([...path], r.unresolved);
      if (r.used.length && onResolved) onResolved([...path], r.used);
      if (typed && r.unresolved.length === 0 && WHOLE_PLACEHOLDER.test(v)) return typed([...path], r.text);
      return r.text;
    }
    if (Array.isArray(v)) {
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out[i] = walk(v[i]);
        path.pop();
      }
      return out;
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        path.push(k);
        // A key may vary too (a dockerLabels or log option name): substituted, or reported on its line.
        let key = k;
        if (k.includes('${')) {
          const r = substitute(k, values);
          if (r.unresolved.length) onUnresolved([...path], r.unresolved);
          if (r.used.length && onResolved) onResolved([...path], r.used);
          key = r.text;
        }
        out[key] = walk(x);
        path.pop();
      }
      return out;
    }
    return v;
  };
  return walk(value);
}

/** The closest known name, when it is close enough to be the intended one (a typo, a case slip). */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = candidate.toUpperCase() === name.toUpperCase() ? 0.5 : editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
