/**
 * Text-level refusals of coordination files (lib/store/parse.ts): each one names the file
 * and, where it helps, the line; none is guessed at or repaired.
 */
import { lineOfOffset, MAX_FILE_BYTES, parseCoordinationBytes } from '../../lib/store/parse.js';

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
    ['missing comma on line 3', '{\n  "jobs": [\n    {"id": 1 "x": 2}\n  ]\n}\n', /invalid JSON at line 3, column 14: CommaExpected/, 3],
    ['trailing comma', '{\n  "jobs": [],\n}\n', /invalid JSON at line 3, column 1/, 3],
    ['comment', '{\n  // note\n  "jobs": []\n}\n', /invalid JSON at line 2/, 2],
    ['single quotes', "{'jobs': []}", /invalid JSON at line 1, column 2/, 1],
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
