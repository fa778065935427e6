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
 * line ends; git conflict markers; JSON syntax errors (with line and column).
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
  const lines = text.split('\n');
  lines.forEach((l, i) => {
    if (/^(<{7}|>{7})( |$)/.test(l) || /^={7}$/.test(l.replace(/\r$/, ''))) {
      issues.push(problem(file, `git conflict marker "${l.slice(0, 7)}": resolve the conflict (keep both sides' records), then run coord validate`, i + 1));
    }
  });
  if (issues.length) return { ok: false, issues };
  const cr = text.indexOf('\r');
  if (cr >= 0) {
    return { ok: false, issues: [problem(file, 'file has CRLF (Windows) line ends; save it with LF line ends', lineOfOffset(text, cr))] };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    // JSON.parse does not always say where; jsonc-parser (strict options) does.
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const offset = first ? first.offset : text.length;
    const line = lineOfOffset(text, offset);
    const col = offset - text.lastIndexOf('\n', offset - 1);
    const detail = first ? printParseErrorCode(first.error) : (err as Error).message;
    // Truncated: the error sits at the end, or is a string left open at the end (the usual
    // cut: jsonc-parser reports that at the string's start).
    const openStringAtEnd = first !== undefined && first.error === ParseErrorCode.UnexpectedEndOfString && first.offset + first.length >= text.trimEnd().length;
    const what = offset >= text.trimEnd().length || openStringAtEnd ? 'JSON ends early (truncated file?)' : `invalid JSON at line ${line}, column ${col}`;
    return { ok: false, issues: [problem(file, `${what}: ${detail}`, line)] };
  }
}
