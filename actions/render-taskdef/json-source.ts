import { ActionError } from '../../lib/errors.js';

/**
 * A small JSON parser that remembers where every value is, so template and
 * config errors can point at `file:line:column`. `JSON.parse` on Node 20 gives
 * no position for most syntax errors ("Unexpected token '}', ... is not valid
 * JSON"), and no position at all for fields, so we parse ourselves.
 */
export type JsonPath = readonly (string | number)[];

export interface JsonDoc {
  /** Path relative to the workspace, as shown in annotations. */
  file: string;
  text: string;
  value: unknown;
  /** 1-based line of the value (or of its key, for object members) at `path`; the nearest ancestor when absent. */
  lineOf(path: JsonPath): number;
}

const key = (path: JsonPath) => JSON.stringify(path);

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastBreak = i;
    }
  }
  return { line, column: offset - lastBreak };
}

export function parseJsonDoc(text: string, file: string): JsonDoc {
  const positions = new Map<string, number>();
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (message: string, at = i): never => {
    const { line, column } = lineColumn(text, at);
    throw new ActionError(`Invalid JSON: ${message} (line ${line}, column ${column}).`, {
      file,
      line,
      column,
      fix: 'Fix the JSON syntax at that position (templates and feature configs are plain JSON: no comments, no trailing commas).',
    });
  };
  const describe = (at: number) => (at >= text.length ? 'end of file' : `'${text[at]}'`);
  const skip = () => {
    while (i < text.length && /[ \t\r\n]/.test(text[i]!)) i++;
  };

  const parseString = (): string => {
    const start = i;
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in string', i);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`bad escape '\\${e ?? ''}' in string`, i);
        continue;
      }
      if (c === '\n' || c.charCodeAt(0) < 0x20) fail('unterminated string (line break or control character inside a string)', i);
      i++;
    }
    return fail('unterminated string', start);
  };

  const parseValue = (path: JsonPath): unknown => {
    skip();
    if (!positions.has(key(path))) positions.set(key(path), i);
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before }' : `expected a property name in double quotes, found ${describe(i)}`);
        const keyAt = i;
        const name = parseString();
        if (Object.prototype.hasOwnProperty.call(obj, name)) fail(`duplicate key "${name}"`, keyAt);
        positions.set(key([...path, name]), keyAt);
        skip();
        if (text[i] !== ':') fail(`expected ':' after "${name}", found ${describe(i)}`);
        i++;
        obj[name] = parseValue([...path, name]);
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail(`expected ',' or '}' after the value of "${name}", found ${describe(i)}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        skip();
        if (text[i] === ']') fail('trailing comma before ]');
        arr.push(parseValue([...path, arr.length]));
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail(`expected ',' or ']' in array, found ${describe(i)}`);
      }
    }
    if (c === '"') return parseString();
    const rest = text.slice(i);
    const num = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    if (num && /[-\d]/.test(c ?? '')) {
      i += num[0].length;
      return Number(num[0]);
    }
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (rest.startsWith(word)) {
        i += word.length;
        return value;
      }
    }
    return fail(`unexpected ${describe(i)} where a value was expected`);
  };

  if (text.slice(i).trim() === '') fail('the file is empty', i);
  const value = parseValue([]);
  skip();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON value`);

  return {
    file,
    text,
    value,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const at = positions.get(key(path.slice(0, n)));
        if (at !== undefined) return lineColumn(text, at).line;
      }
      return 1;
    },
  };
}
