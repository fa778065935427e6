/**
 * Escaping for the dashboard page. Every piece of text that comes from the repository
 * (builder names, job descriptions, message subjects and bodies, lock reasons, grounding
 * reasons, error lines) goes through {@link escapeHtml} before it reaches the page, so a
 * message body holding `<script>` shows as text and never runs. Control characters (ESC,
 * BEL, …) and bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE, which would make the
 * browser show text reversed) are shown as visible escapes first, the same as on a terminal
 * (lib/util/terminal-text.ts). Pure.
 */
import { safeForTerminal } from '../util/terminal-text.js';

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const SPECIAL = /[&<>"']/g;
const ANY_SPECIAL = /[&<>"']/;

/**
 * Escapes text for HTML element content and for double- or single-quoted attribute values.
 * First C0 controls other than tab and newline, DEL, C1 controls and bidi controls become
 * visible escapes (ESC → the four characters `\x1b`, U+202E → `\u202e`; see
 * `safeForTerminal`); then `& < > " '` become entities; everything else is kept (the page is
 * UTF-8).
 * `null`/`undefined` give ''. Numbers and booleans are turned into text first.
 */
export function escapeHtml(text: string | number | boolean | null | undefined): string {
  if (text === null || text === undefined) return '';
  const s = safeForTerminal(String(text));
  // Fast path: most strings on the page (ids, numbers, timestamps) need nothing.
  return ANY_SPECIAL.test(s) ? s.replace(SPECIAL, (c) => ENTITIES[c]) : s;
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&`, U+2028 and U+2029
 * are written as `\uXXXX` escapes, so no text inside can close the element or open a comment.
 * `JSON.parse` of the element's text gives `value` back.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
