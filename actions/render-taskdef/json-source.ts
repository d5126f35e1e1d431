import { isUtf8 } from 'node:buffer';
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

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

function lineColumn(text: string, offset: number): { line: number; column: number } {
  return lineIndex(text)(offset);
}

/**
 * Line starts computed once, then a binary search per lookup: a 3 MB template
 * has ~100k entries and each is located once, so scanning from the start of
 * the file for every lookup (as this did before) was quadratic (236 s).
 */
function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    const at = Math.min(Math.max(offset, 0), text.length);
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - starts[lo]! + 1 };
  };
}

/**
 * Where a value is: for an object member the offset of its key, else of the
 * value. A tree mirroring the JSON, not a map keyed by the serialized path:
 * building a key string and a path array per value made the garbage
 * collector the biggest cost on a 3 MB template.
 */
interface PositionNode {
  at: number;
  kids?: Record<string, PositionNode> | PositionNode[];
}

export function parseJsonDoc(text: string, file: string): JsonDoc {
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
    for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 13 || c === 10; c = text.charCodeAt(++i));
  };

  const parseString = (): string => {
    const start = i;
    let escaped = false;
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
      }
      if (c === '\\') {
        escaped = true;
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

  const parseValue = (node: PositionNode): unknown => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const kids: Record<string, PositionNode> = Object.create(null);
      node.kids = kids;
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"')
          fail(text[i] === '}' ? 'trailing comma before }' : `expected a property name in double quotes, found ${describe(i)}`);
        const keyAt = i;
        const name = parseString();
        if (Object.prototype.hasOwnProperty.call(obj, name)) fail(`duplicate key "${name}"`, keyAt);
        const kid: PositionNode = { at: keyAt };
        kids[name] = kid;
        skip();
        if (text[i] !== ':') fail(`expected ':' after "${name}", found ${describe(i)}`);
        i++;
        obj[name] = parseValue(kid);
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
      const kids: PositionNode[] = [];
      node.kids = kids;
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        skip();
        if (text[i] === ']') fail('trailing comma before ]');
        skip();
        const kid: PositionNode = { at: i };
        kids.push(kid);
        arr.push(parseValue(kid));
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
    // Sticky regex and startsWith at i: slicing the rest of the text per value was quadratic.
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num && /[-\d]/.test(c ?? '')) {
      i += num[0].length;
      return Number(num[0]);
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    return fail(`unexpected ${describe(i)} where a value was expected`);
  };

  if (text.trim() === '') fail('the file is empty', i);
  skip();
  const root: PositionNode = { at: i };
  const value = parseValue(root);
  skip();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON value`);

  let lines: ReturnType<typeof lineIndex> | undefined;
  return {
    file,
    text,
    value,
    lineOf(path) {
      let node = root;
      for (const step of path) {
        const kids = node.kids;
        const kid: PositionNode | undefined = Array.isArray(kids)
          ? typeof step === 'number'
            ? kids[step]
            : undefined
          : kids?.[String(step)];
        if (!kid) break;
        node = kid;
      }
      return (lines ??= lineIndex(text))(node.at).line;
    },
  };
}

/**
 * Decodes a template or config file as UTF-8, the only encoding JSON allows
 * between systems (RFC 8259 §8.1). Node's 'utf8' decoding replaces bad bytes
 * with U+FFFD without a word, so a Latin-1 "é" or a UTF-16 file (what Windows
 * PowerShell's `>` writes) used to render as mangled text; here they fail
 * with the encoding named and the way to convert.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const convert = `Save ${file} as UTF-8 (e.g. iconv -f <encoding> -t UTF-8, or "Save with encoding: UTF-8" in the editor).`;
  const utf16 = (order: 'LE' | 'BE', bom: boolean) =>
    new ActionError(
      `${file} is UTF-16 ${order}${bom ? ' (it starts with a UTF-16 byte-order mark)' : ' without a byte-order mark (every other byte is 0)'}, not UTF-8.`,
      {
        file,
        line: 1,
        fix: `${convert} In PowerShell, write files with Out-File -Encoding utf8.`,
      },
    );
  if (bytes[0] === 0xff && bytes[1] === 0xfe) throw utf16('LE', true);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) throw utf16('BE', true);
  // JSON text starts with ASCII ('{', '[', whitespace): in UTF-16 one of its first two bytes is 0.
  if (bytes.length >= 2 && bytes[0] !== 0 && bytes[1] === 0) throw utf16('LE', false);
  if (bytes.length >= 2 && bytes[0] === 0 && bytes[1] !== 0) throw utf16('BE', false);
  // isUtf8 is native and allocation-free; TextDecoder's fatal mode was the slowest step on a 3 MB file.
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const bad = Math.min(firstInvalidUtf8(bytes), bytes.length - 1);
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
  const { line, column } = lineColumn(before, before.length);
  const byte = bytes[bad]!;
  const guess =
    byte >= 0xa0
      ? ` In Latin-1 (ISO-8859-1) or Windows-1252 that byte is '${String.fromCharCode(byte)}': the file is probably in one of those.`
      : '';
  throw new ActionError(
    `${file} is not UTF-8: byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at line ${line}, column ${column} is not valid UTF-8.${guess}`,
    {
      file,
      line,
      column,
      fix: convert.replace('<encoding>', byte >= 0xa0 ? 'LATIN1' : '<encoding>'),
    },
  );
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return bytes.length;
}
