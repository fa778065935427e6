/**
 * Text-level refusals of coordination files (lib/store/parse.ts): each one names the file
 * and, where it helps, the line; none is guessed at or repaired.
 */
import { lineOfOffset, MAX_FILE_BYTES, MAX_NESTING, parseCoordinationBytes } from '../../lib/store/parse.js';

const F = 'coordination/jobs.json';

function refusal(text: string | Buffer) {
  const r = parseCoordinationBytes(F, typeof text === 'string' ? Buffer.from(text) : text);
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  for (const i of r.issues) expect(i).toMatchObject({ file: F, pointer: '', severity: 'error' });
  return r.issues;
}

describe('parseCoordinationBytes: accepted', () => {
  test.each([
    ['{"jobs": []}', { jobs: [] }],
    ['{\n  "jobs": []\n}\n', { jobs: [] }],
    ['[]\n', []],
    ['{"s": "a\\r\\nb"}', { s: 'a\r\nb' }], // an escaped CR inside a string is data, not a line end
    ['{"s": "<<<<<<< not at a line start"}', { s: '<<<<<<< not at a line start' }],
    ['{"s": "café ☕"}', { s: 'café ☕' }],
  ])('%j', (text, value) => {
    expect(parseCoordinationBytes(F, Buffer.from(text))).toEqual({ ok: true, value });
  });
});

describe('parseCoordinationBytes: refused', () => {
  test.each<[string, string | Buffer, RegExp, number | undefined]>([
    ['empty file', '', /file is empty; restore it with `git checkout HEAD -- coordination\/jobs\.json`/, undefined],
    ['whitespace only', ' \n\t\n', /file is empty/, undefined],
    ['UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"jobs": []}\n')]), /byte-order mark/, 1],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), /not valid UTF-8/, undefined],
    ['CRLF from the first line', '{\r\n  "jobs": []\r\n}\r\n', /CRLF \(Windows\) line ends/, 1],
    ['CRLF only on line 3', '{\n  "jobs": [\n  ]\r\n}\n', /CRLF/, 3],
    ['a lone CR', '{\n  "jobs": []\r}\n', /CRLF/, 2],
    ['truncated between values', '{\n  "jobs": [\n', /JSON ends early \(truncated file\?\)/, 3],
    ['truncated inside a string (bug fixed: was "invalid JSON at line 2")', '{\n  "jobs": [{"id": "job-2025', /JSON ends early \(truncated file\?\)/, 2],
    ['truncated after a key', '{"jobs"', /JSON ends early/, 1],
    ['missing comma on line 3', '{\n  "jobs": [\n    {"id": 1 "x": 2}\n  ]\n}\n', /invalid JSON at line 3, column 14: a comma is missing between two values \(CommaExpected\)/, 3],
    ['trailing comma', '{\n  "jobs": [],\n}\n', /invalid JSON at line 3, column 1: trailing comma before "}": remove it \(PropertyNameExpected\)/, 3],
    ['trailing comma in an array (third trial: parser jargon alone)', '{"jobs": [1,]}\n', /trailing comma before "]": remove it \(ValueExpected\)/, 1],
    ['comment', '{\n  // note\n  "jobs": []\n}\n', /invalid JSON at line 2, column 3: JSON has no comments: remove it/, 2],
    ['single quotes', "{'jobs': []}", /invalid JSON at line 1, column 2: strings and keys take double quotes, not single/, 1],
    ['a string broken by a real newline (not a truncation)', '{"a": "x\ny"}\n', /invalid JSON at line 1, column 7/, 1],
  ])('%s', (_name, text, reason, line) => {
    const issues = refusal(text);
    expect(issues).toHaveLength(1);
    expect(issues[0].reason).toMatch(reason);
    expect(issues[0].line).toBe(line);
  });

  test('git conflict markers: one issue per marker, each with its line', () => {
    const text = '{\n  "messages": [\n<<<<<<< HEAD\n    {"id": "a"}\n=======\n    {"id": "b"}\n>>>>>>> origin/main\n  ]\n}\n';
    const issues = refusal(text);
    expect(issues.map((i) => [i.line, /^git conflict marker "(.{7})": resolve the conflict/.exec(i.reason)?.[1]])).toEqual([
      [3, '<<<<<<<'],
      [5, '======='],
      [7, '>>>>>>>'],
    ]);
    expect(issues[0].reason).toMatch(/keep both sides' records/);
  });

  test('conflict markers are reported before CRLF', () => {
    const issues = refusal('{\r\n<<<<<<< HEAD\r\n}\r\n');
    expect(issues[0].reason).toMatch(/conflict marker/);
  });

  test(`more than MAX_FILE_BYTES (${MAX_FILE_BYTES}) is refused before decoding`, () => {
    const big = Buffer.alloc(MAX_FILE_BYTES + 1, 0x20);
    const issues = refusal(big);
    expect(issues[0].reason).toMatch(new RegExp(`file is ${MAX_FILE_BYTES + 1} bytes, over the ${MAX_FILE_BYTES}-byte limit`));
  });

  test('exactly MAX_FILE_BYTES is not refused for its size', () => {
    const text = Buffer.alloc(MAX_FILE_BYTES, 0x20);
    text.write('{}', 0);
    expect(parseCoordinationBytes(F, text)).toEqual({ ok: true, value: {} });
  });
});

/** Structural refusals: valid JSON that JSON.parse would read wrong (issues carry a pointer). */
function structural(text: string) {
  const r = parseCoordinationBytes(F, Buffer.from(text));
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  for (const i of r.issues) expect(i).toMatchObject({ file: F, severity: 'error' });
  return r.issues.map((i) => ({ pointer: i.pointer, line: i.line, reason: i.reason }));
}

describe('parseCoordinationBytes: duplicate keys, nesting, non-finite numbers', () => {
  test('a second "jobs" above the first: the key, both lines, the fix (the bug: the earlier value vanished)', () => {
    const text = '{\n  "$schema": "../schemas/jobs.schema.json",\n  "jobs": [\n    {"id": "new"}\n  ],\n  "jobs": []\n}\n';
    expect(structural(text)).toEqual([{
      pointer: '/jobs', line: 6,
      reason: 'duplicate key "jobs" (the first is on line 3): the later value would silently replace the earlier; merge them into one',
    }]);
  });

  test('duplicates at any depth, each with its pointer; keys compared decoded', () => {
    const text = [
      '{"jobs": [',
      '  {"id": "a", "params": {"x": 1}},',
      '  {"id": "b", "params": {"x": 1, "x": 2}},',
      '  {"id": "c", "\\u0069d": "d", "a/b~": 1, "a/b~": 2}',
      '], "paused": {"by": "x"}, "paused": null}',
    ].join('\n');
    expect(structural(text).map((i) => [i.pointer, i.line])).toEqual([
      ['/jobs/1/params/x', 3],
      ['/jobs/2/id', 4],
      ['/jobs/2/a~1b~0', 4],
      ['/paused', 5],
    ]);
  });

  test.each([
    ['the same key in sibling objects', '{"a": {"k": 1}, "b": {"k": 1}, "c": [{"k": 1}, {"k": 2}]}'],
    ['a key equal to a string value', '{"k": "k", "v": ["k", "k"]}'],
    ['escaped quotes and backslashes in keys and values', '{"a\\"": "\\\\", "a\\\\": "\\"", "a": 1}'],
    ['the same key at different depths', '{"k": {"k": {"k": 1}}}'],
    ['equal strings after an empty object in an array (not keys)', '[{}, "a", "a", {"a": 1}, "a"]'],
    ['a value after an empty object in an object', '{"k": {}, "v": "k", "w": [{}, "v"]}'],
    [`nesting of exactly ${MAX_NESTING}`, '['.repeat(MAX_NESTING) + ']'.repeat(MAX_NESTING)],
    ['large finite numbers', '{"a": 1e308, "b": -1.7976931348623157e308, "c": 1e-400, "d": 12345678901234567890}'],
  ])('accepted: %s', (_name, text) => {
    expect(parseCoordinationBytes(F, Buffer.from(text))).toEqual({ ok: true, value: JSON.parse(text) });
  });

  test.each([101, 2000, 200_000])('nesting %d deep is refused before any recursive walk (bug: stack overflow at 2000)', (depth) => {
    const text = '{\n  "jobs": [],\n  "x": ' + '['.repeat(depth) + ']'.repeat(depth) + '\n}\n';
    const issues = structural(text);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toEqual({ pointer: '/x/0/0/0', line: 3, reason: expect.stringMatching(/^nested more than 100 levels deep \(objects and arrays inside each other\); .*remove or flatten this value$/) });
  });

  test.each([
    ['1e400', '{"jobs": [{"priority": 1e400}]}', '/jobs/0/priority', '1e400'],
    ['-1E+999', '{"jobs": [{"priority": -1E+999}]}', '/jobs/0/priority', '-1E+999'],
    ['400 digits', `{"n": ${'9'.repeat(400)}}`, '/n', '9'.repeat(40) + '…'],
    ['in an array', '{"n": [1, 2, 1e999]}', '/n/2', '1e999'],
  ])('a number beyond a double (%s) is refused, not read as Infinity (bug: "found number null")', (_name, text, pointer, shown) => {
    expect(structural(text)).toEqual([{ pointer, line: 1, reason: `not a finite number (${shown}): it is beyond what a JSON number can hold here (about ±1.8e308); write a smaller number` }]);
  });
});

describe('lineOfOffset', () => {
  test.each([
    ['abc', 0, 1],
    ['a\nb\nc', 2, 2],
    ['a\nb\nc', 4, 3],
    ['a\nb', 99, 2],
    ['', 0, 1],
  ])('%j at %d → line %d', (text, offset, line) => {
    expect(lineOfOffset(text, offset)).toBe(line);
  });
});
