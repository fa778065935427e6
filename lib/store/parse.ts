/**
 * From file bytes to a JSON value, with every text-level problem reported as an
 * {@link Issue} naming the file and, where it helps, the line.
 */
import { parse as parseJsonc, ParseErrorCode, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { Issue } from '../errors.js';

/** Largest coordination file accepted (bytes). Retention keeps hot files far below it. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

export type ParseResult = { ok: true; value: unknown } | { ok: false; issues: Issue[] };

function problem(file: string, reason: string, line?: number): Issue {
  return { file, pointer: '', reason, severity: 'error', ...(line !== undefined ? { line } : {}) };
}

/** 1-based line of a character offset. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parses coordination-file bytes. Refused (never guessed at): more than
 * {@link MAX_FILE_BYTES}; an empty file; a UTF-8 byte-order mark; invalid UTF-8; CRLF
 * line ends; git conflict markers; JSON syntax errors (with line and column); and what
 * {@link structureIssues} finds: duplicate keys, nesting deeper than {@link MAX_NESTING},
 * numbers outside the double range.
 */
export function parseCoordinationBytes(file: string, bytes: Buffer): ParseResult {
  if (bytes.length > MAX_FILE_BYTES) {
    return { ok: false, issues: [problem(file, `file is ${bytes.length} bytes, over the ${MAX_FILE_BYTES}-byte limit; archive old records (coord jobs/messages retention) instead of growing it`)] };
  }
  if (bytes.length === 0 || bytes.toString('utf8').trim() === '') {
    return { ok: false, issues: [problem(file, 'file is empty; restore it with `git checkout HEAD -- ' + file + '` or `coord init`')] };
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { ok: false, issues: [problem(file, 'file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM', 1)] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, issues: [problem(file, 'file is not valid UTF-8 text')] };
  }
  const issues: Issue[] = [];
  // Line by line only when a marker can be there (splitting a 10 MB hot file costs more
  // than the three searches).
  if (text.includes('<<<<<<<') || text.includes('=======') || text.includes('>>>>>>>')) {
    text.split('\n').forEach((l, i) => {
      if (/^(<{7}|>{7})( |$)/.test(l) || /^={7}$/.test(l.replace(/\r$/, ''))) {
        issues.push(problem(file, `git conflict marker "${l.slice(0, 7)}": resolve the conflict (keep both sides' records), then run coord validate`, i + 1));
      }
    });
  }
  if (issues.length) return { ok: false, issues };
  const cr = text.indexOf('\r');
  if (cr >= 0) {
    return { ok: false, issues: [problem(file, 'file has CRLF (Windows) line ends; save it with LF line ends', lineOfOffset(text, cr))] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    // JSON.parse does not always say where; jsonc-parser (strict options) does.
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const offset = first ? first.offset : text.length;
    const line = lineOfOffset(text, offset);
    const col = offset - text.lastIndexOf('\n', offset - 1);
    const detail = first ? parseErrorInWords(text, first) : (err as Error).message;
    // Truncated: the error sits at the end, or is a string left open at the end (the usual
    // cut: jsonc-parser reports that at the string's start).
    const openStringAtEnd = first !== undefined && first.error === ParseErrorCode.UnexpectedEndOfString && first.offset + first.length >= text.trimEnd().length;
    const what = offset >= text.trimEnd().length || openStringAtEnd ? 'JSON ends early (truncated file?)' : `invalid JSON at line ${line}, column ${col}`;
    return { ok: false, issues: [problem(file, `${what}: ${detail}`, line)] };
  }
  const structural = structureIssues(file, text);
  if (structural.length) return { ok: false, issues: structural };
  return { ok: true, value };
}

/**
 * jsonc-parser's error code in words, with the likely cause for the usual hand-edit slips
 * (a comma left before `]`/`}`, a missing comma, a comment, a single-quoted string); the
 * code stays in parentheses for searching.
 */
function parseErrorInWords(text: string, e: ParseError): string {
  const code = printParseErrorCode(e.error);
  const at = text.slice(e.offset, e.offset + 1);
  const before = text.slice(0, e.offset).trimEnd().slice(-1);
  const trailing = before === ',' && (at === ']' || at === '}');
  const words = ((): string | null => {
    if (at === "'") return 'strings and keys take double quotes, not single';
    switch (e.error) {
      case ParseErrorCode.ValueExpected: return trailing ? `trailing comma before "${at}": remove it` : 'a value is missing here';
      case ParseErrorCode.PropertyNameExpected: return trailing ? `trailing comma before "${at}": remove it` : 'a key in double quotes is expected here';
      case ParseErrorCode.CommaExpected: return 'a comma is missing between two values';
      case ParseErrorCode.ColonExpected: return 'a colon is missing after the key';
      case ParseErrorCode.InvalidCommentToken: return 'JSON has no comments: remove it';
      case ParseErrorCode.InvalidSymbol: return `unexpected character "${at}"`;
      default: return null;
    }
  })();
  return words ? `${words} (${code})` : code;
}

/**
 * Deepest nesting of objects and arrays accepted (the top-level value is level 1). The
 * schemas' deepest legitimate record nests well under 10; the limit keeps every recursive
 * walk after parsing (legacy normalization, schema, semantics) far from the stack limit.
 */
export const MAX_NESTING = 100;

/** Segments of the pointer reported for a too-deep value (its outer part is enough to find it). */
const DEPTH_POINTER_SEGMENTS = 4;

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * What `JSON.parse` accepts but would read wrong, found in one pass over text that is
 * already known to be valid JSON:
 * - a key twice in one object (`JSON.parse` keeps the later value and silently drops the
 *   earlier one — a hand edit that adds `"jobs": [...]` above the existing one would vanish);
 * - nesting deeper than {@link MAX_NESTING} (recursive walks would overflow the stack);
 * - a number outside the double range (`1e400` parses to Infinity, which is no JSON value).
 * Keys are compared decoded (`"a"` and `"\u0061"` are the same key). Issues carry the JSON
 * pointer of the offending key or value and its 1-based line.
 * Cost: one linear scan (strings are skipped with indexOf), plus one Map per object.
 */
export function structureIssues(file: string, text: string): Issue[] {
  const issues: Issue[] = [];
  // Per open container: is it an object, its keys (objects), current key or index.
  const isObject: boolean[] = [];
  // One Map per depth, reused: cleared when the next object at that depth opens.
  const keys: (Map<string, number> | undefined)[] = [];
  const segment: (string | number)[] = [];
  let depth = 0;
  let expectKey = false;
  const pointerOf = (upTo: number) => {
    let p = '';
    for (let d = 0; d < upTo; d++) p += '/' + (typeof segment[d] === 'string' ? escapePointer(segment[d] as string) : String(segment[d]));
    return p;
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = text.indexOf('"', i + 1);
      for (;;) {
        let b = 0;
        while (text.charCodeAt(j - 1 - b) === 0x5c /* \ */) b++;
        if (b % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (expectKey) {
        const raw = text.slice(i + 1, j);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
        const seen = keys[depth - 1]!;
        const first = seen.get(key);
        segment[depth - 1] = key;
        if (first !== undefined) {
          issues.push({
            file, pointer: pointerOf(depth), severity: 'error', line: lineOfOffset(text, i),
            reason: `duplicate key ${JSON.stringify(key)} (the first is on line ${lineOfOffset(text, first)}): the later value would silently replace the earlier; merge them into one`,
          });
        } else seen.set(key, i);
        expectKey = false;
      }
      i = j + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth >= MAX_NESTING) {
        issues.push({
          file, pointer: pointerOf(Math.min(depth, DEPTH_POINTER_SEGMENTS)), severity: 'error', line: lineOfOffset(text, i),
          reason: `nested more than ${MAX_NESTING} levels deep (objects and arrays inside each other); no coordination file nests that deep: remove or flatten this value`,
        });
        return issues;
      }
      const obj = c === 0x7b;
      isObject[depth] = obj;
      if (obj) {
        const m = keys[depth];
        if (m) m.clear(); else keys[depth] = new Map();
      }
      segment[depth] = obj ? '' : 0;
      depth++;
      expectKey = obj;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
      expectKey = false;
      i++;
    } else if (c === 0x2c /* , */) {
      if (isObject[depth - 1]) expectKey = true;
      else (segment[depth - 1] as number)++;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let exp = false;
      for (;;) {
        const d = text.charCodeAt(j);
        if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2b || d === 0x2d) j++;
        else if (d === 0x65 || d === 0x45) { exp = true; j++; } else break;
      }
      // Only long or exponent numbers can leave the double range.
      if ((exp || j - i > 300) && !Number.isFinite(Number(text.slice(i, j)))) {
        issues.push({
          file, pointer: pointerOf(depth), severity: 'error', line: lineOfOffset(text, i),
          reason: `not a finite number (${text.slice(i, Math.min(j, i + 40))}${j - i > 40 ? '…' : ''}): it is beyond what a JSON number can hold here (about ±1.8e308); write a smaller number`,
        });
      }
      i = j;
    } else i++;
  }
  return issues;
}
