/**
 * safeForTerminal / terminalSafe: file text shown to a person never carries control or bidi
 * characters to the terminal (finding: escape injection through message bodies, job
 * descriptions, lock reasons).
 */
import { safeForTerminal, terminalSafe } from '../../lib/util/terminal-text.js';

test.each([
  ['ESC and BEL', 'x \x1b]0;PWNED\x07 \x1b[2J', 'x \\x1b]0;PWNED\\x07 \\x1b[2J'],
  ['carriage return and NUL', 'a\rb\0c', 'a\\x0db\\x00c'],
  ['DEL and C1 CSI', 'a\x7fb\x9bc', 'a\\x7fb\\x9bc'],
  ['bidi overrides, isolates and marks', 'a\u202eb\u2066c\u200fd\u061ce', 'a\\u202eb\\u2066c\\u200fd\\u061ce'],
  ['newline and tab kept', 'one\n\ttwo', 'one\n\ttwo'],
  ['ordinary unicode kept', 'build → ünïcode ✓ 日本', 'build → ünïcode ✓ 日本'],
])('safeForTerminal: %s', (_what, input, shown) => {
  expect(safeForTerminal(input)).toBe(shown);
});

test('terminalSafe: deep copy with every string (keys too) made safe; the input is untouched', () => {
  const rec = { id: 'j1', n: 3, ok: true, none: null, params: { 'K\x1b': 'v\u202e' }, list: ['\x1b[2J'] };
  const copy = terminalSafe(rec);
  expect(copy).toEqual({ id: 'j1', n: 3, ok: true, none: null, params: { 'K\\x1b': 'v\\u202e' }, list: ['\\x1b[2J'] });
  expect(rec.list[0]).toBe('\x1b[2J');
  expect(terminalSafe(safeForTerminal('\x1b'))).toBe('\\x1b'); // idempotent on its own output
});
