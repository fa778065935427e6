/**
 * Bodies and subjects (DESIGN.md section 7). The subject is the first non-empty line of
 * the body, where a body with no real newline but literal `\n` sequences (as typed in
 * `sm 2 "done\nlog at …"`) is split on them; at most {@link SUBJECT_MAX} characters, cut
 * at a word. The body is stored exactly as given: never unescaped, never trimmed inside.
 */
import { CoordError } from '../errors.js';
import { BODY_MAX, charLength, SUBJECT_MAX } from './model.js';

/** The lines of a body: split on real newlines, else on literal `\n` sequences. */
export function bodyLines(body: string): string[] {
  if (/[\r\n]/.test(body)) return body.split(/\r\n|\r|\n/);
  if (body.includes('\\n')) return body.split(/\\r\\n|\\n/);
  return [body];
}

/** Control characters (tabs included) become spaces; runs of spaces collapse. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Cuts `text` to at most `max` characters at a word boundary, marking the cut with `…`
 * (counted in `max`). A single word longer than `max` is cut inside the word.
 */
export function cutAtWord(text: string, max: number = SUBJECT_MAX): string {
  if (charLength(text) <= max) return text;
  const chars = [...text];
  const head = chars.slice(0, max - 1);
  let cut = head.length;
  // Prefer the last space inside the limit, unless that would drop most of the line.
  for (let i = head.length; i > 0; i--) {
    if (/\s/.test(chars[i] ?? '')) { cut = i; break; }
  }
  if (cut < Math.floor(max / 2)) cut = head.length;
  return chars.slice(0, cut).join('').trimEnd() + '…';
}

/** The subject derived from a body: its first non-empty line, one line, cut at a word. */
export function deriveSubject(body: string): string {
  const first = bodyLines(body).map(oneLine).find((l) => l !== '') ?? '';
  return cutAtWord(first, SUBJECT_MAX);
}

function usage(message: string, argument: string): CoordError {
  return new CoordError('E_USAGE', message, { details: { argument } });
}

/**
 * Checks a body.
 * @param argument how the body was given, for the error (`BODY` or `standard input`)
 * @throws CoordError E_USAGE when empty (only whitespace), over {@link BODY_MAX}
 *   characters, or holding a NUL character
 */
export function checkBody(body: string, argument = 'BODY'): void {
  if (body.trim() === '') throw usage(`${argument} is empty: give the message text as words, or - to read it from standard input`, argument);
  const n = charLength(body);
  if (n > BODY_MAX) throw usage(`${argument} is ${n} characters, over the ${BODY_MAX}-character limit; shorten it, or put the text in a file or a job log and send its path`, argument);
  const nul = body.indexOf('\u0000');
  if (nul >= 0) throw usage(`${argument} holds a NUL character (at offset ${nul}); messages are text`, argument);
}

/**
 * Checks an explicit `--subject`.
 * @throws CoordError E_USAGE when empty, over {@link SUBJECT_MAX} characters, or not one line
 */
export function checkSubject(subject: string): void {
  if (subject.trim() === '') throw usage('--subject is empty; leave it out to use the first line of the body', '--subject');
  const n = charLength(subject);
  if (n > SUBJECT_MAX) throw usage(`--subject is ${n} characters, over the ${SUBJECT_MAX}-character limit; shorten it (without --subject the first line of the body is used, cut at a word)`, '--subject');
  if (/[\r\n]/.test(subject)) throw usage('--subject must be one line', '--subject');
}

/** The subject to store: the explicit one (checked), else derived from the body. */
export function chooseSubject(body: string, explicit: string | undefined): string {
  if (explicit !== undefined) {
    checkSubject(explicit);
    return oneLine(explicit);
  }
  return deriveSubject(body);
}

/**
 * Decodes bytes read from standard input as a body.
 * @throws CoordError E_USAGE when the input is empty (closed, or nothing piped), binary
 *   (a NUL byte), or not UTF-8 text
 */
export function decodeStdinBody(bytes: Buffer): string {
  const arg = 'standard input';
  if (bytes.length === 0) throw usage('standard input is empty (closed, or nothing was piped); pipe the message text into sm ... -, or give it as words', arg);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw usage(`standard input is binary (NUL byte at offset ${nul}); messages are text: send a path or a checksum instead`, arg);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw usage('standard input is not UTF-8 text (binary data?); messages are text', arg);
  }
  // `echo "$report" | sm 2 -` ends with the newline echo adds: drop trailing line breaks
  // only; everything else arrives byte-exact.
  return text.replace(/^\uFEFF/, '').replace(/(?:\r?\n)+$/, '');
}
