/** The one escape function of the page, and JSON safe inside a script element. */
import { escapeHtml, jsonForScript } from '../../lib/dashboard/escape.js';

describe('escapeHtml', () => {
  test.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['a & b', 'a &amp; b'],
    ['"quoted" \'single\'', '&quot;quoted&quot; &#39;single&#39;'],
    ['&lt; already escaped', '&amp;lt; already escaped'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['plain text, ünïcödé ✓', 'plain text, ünïcödé ✓'],
    ['', ''],
    // Control and bidi characters become visible escapes (as on a terminal); tab and newline stay.
    ['a\u001b[31mred\u0007', 'a\\x1b[31mred\\x07'],
    ['\u202e<b>txt.exe', '\\u202e&lt;b&gt;txt.exe'],
    ['del\u007f c1\u0085 lrm\u200e', 'del\\x7f c1\\x85 lrm\\u200e'],
    ['line\n\tindented', 'line\n\tindented'],
  ])('%j → %j', (input, want) => {
    expect(escapeHtml(input)).toBe(want);
  });
  test('numbers, booleans, null and undefined', () => {
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml(false)).toBe('false');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
  });
  test('repeated calls give the same answer (no regular-expression state kept between calls)', () => {
    for (let i = 0; i < 3; i++) {
      expect(escapeHtml('<a>')).toBe('&lt;a&gt;');
      expect(escapeHtml('x')).toBe('x');
    }
  });
});

describe('jsonForScript', () => {
  test('no character that could end a script element or open a comment survives; the value round-trips', () => {
    const value = { body: '</script><!-- & \u2028 \u2029 >' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
