/**
 * Text from files (messages, job records, locks, status) made safe to print on a terminal.
 * Anyone who can push to the coordination repository chooses that text; written raw, an
 * escape sequence in it could clear the reader's screen, retitle the window or hide text,
 * and bidirectional-override characters could make one line read as another. Human output
 * shows such characters as visible escapes instead; `--json` output and the stored bytes
 * are never changed (JSON escapes control characters itself).
 */

/**
 * C0 controls except tab and newline, DEL, C1 controls, and the bidi controls: LRM/RLM
 * (U+200E/F), the embeddings and overrides (U+202A–U+202E), the isolates (U+2066–U+2069)
 * and the Arabic letter mark (U+061C).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `\x1b` for a code point below 0x100, `\u202e` above. */
function visibleEscape(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every unsafe character (see {@link UNSAFE}) replaced by a visible escape:
 * ESC becomes the four characters `\x1b`, U+202E becomes `\u202e`. Newlines and tabs stay.
 * Pure; returns `text` itself when nothing needs replacing.
 */
export function safeForTerminal(text: string): string {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text) ? text.replace(UNSAFE, visibleEscape) : text;
}

/**
 * A deep copy of `value` with {@link safeForTerminal} applied to every string in it (object
 * keys included), for handing a record read from a file to a human renderer. Numbers,
 * booleans and null pass unchanged; the input is not modified.
 */
export function terminalSafe<T>(value: T): T {
  if (typeof value === 'string') return safeForTerminal(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => terminalSafe(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[safeForTerminal(k)] = terminalSafe(v);
    return out as T;
  }
  return value;
}
