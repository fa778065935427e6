/**
 * Parsing operator input (issue 6, "Bad input"), table-driven: each rejection is E_USAGE
 * (exit 2) naming the flag.
 */
import {
  durationSeconds, parseBranch, parseCommitId, parseDurationFlag, parseParams, parsePriority, parseRequires, parseSince,
  parseStatuses, parseTimeInput, parseWholeNumber,
} from '../../lib/ops/input.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const usage = (fn: () => unknown, msg: RegExp) => {
  expect(fn).toThrow(expect.objectContaining({ code: 'E_USAGE', exitCode: 2 }));
  expect(fn).toThrow(msg);
};

describe('priority', () => {
  test.each([['1', 1], ['10', 10], [' 5 ', 5], [7, 7]])('%p → %p', (raw, n) => expect(parsePriority(raw)).toBe(n));
  test.each([
    ['0', /--priority 0: must be from 1 to 10/], ['11', /--priority 11: must be from 1 to 10/], ['high', /--priority "high": give a whole number/],
    ['1.5', /whole number/], ['1e1', /whole number/], ['0x5', /whole number/], ['-1', /whole number/], ['', /whole number/],
  ])('%p refused', (raw, msg) => usage(() => parsePriority(raw), msg));
  test('other bounded numbers', () => {
    expect(parseWholeNumber('100', '--max-attempts', 1, 100)).toBe(100);
    usage(() => parseWholeNumber('101', '--max-attempts', 1, 100), /--max-attempts 101: must be from 1 to 100/);
  });
});

describe('--param NAME=VALUE', () => {
  test('names and values (the value may hold = and be empty)', () => {
    expect(parseParams(['A=1', '_B=x=y', 'c9=', 'PATH_2=/opt/bin'])).toEqual({ A: '1', _B: 'x=y', c9: '', PATH_2: '/opt/bin' });
    expect(parseParams([])).toEqual({});
  });
  test.each([
    ['TARGET', /--param "TARGET": write NAME=VALUE/],
    ['=x', /"" is not a valid environment variable name/],
    ['1X=a', /"1X" is not a valid environment variable name/],
    ['A-B=c', /"A-B" is not a valid environment variable name/],
    ['A B=c', /not a valid environment variable name/],
    ['É=c', /not a valid environment variable name/],
  ])('%p refused', (item, msg) => usage(() => parseParams([item]), msg));
  test('a name given twice is refused', () => usage(() => parseParams(['A=1', 'A=2']), /--param A is given twice/));
  test('a value over 4096 characters is refused', () => usage(() => parseParams([`A=${'x'.repeat(4097)}`]), /over the 4096 limit/));
});

describe('--requires / --label', () => {
  test('merged, labels de-duplicated', () => {
    expect(parseRequires(['arch=aarch64', 'labels=deb,maven'], ['deb', 'gpu'])).toEqual({ arch: 'aarch64', labels: ['deb', 'maven', 'gpu'] });
    expect(parseRequires([], [])).toEqual({});
  });
  test.each([['arch'], ['os=linux'], ['arch=']])('%p refused', (item) => usage(() => parseRequires([item], []), /--requires/));
});

describe('times and durations', () => {
  test.each([
    ['90', 90], ['90s', 90], ['5m', 300], ['2h', 7200], ['1d', 86400], ['1w', 604800], ['1h30m', 5400], ['1H', 3600],
    ['', null], ['5 m', null], ['soon', null], ['-5m', null], ['1.5h', null],
  ])('duration %p → %p', (t, s) => expect(durationSeconds(t)).toBe(s));

  test('duration flags are bounded', () => {
    expect(parseDurationFlag('5m', '--ttl', 1, 3600)).toBe(300);
    usage(() => parseDurationFlag('0', '--ttl', 1, 3600), /--ttl "0": must be from 1 to 3600 seconds/);
    usage(() => parseDurationFlag('soon', '--ttl', 1, 3600), /--ttl "soon": give seconds/);
  });

  test.each([
    ['2026-12-01T08:00:00Z', '2026-12-01T08:00:00Z'],
    ['2026-12-01T10:00:00+02:00', '2026-12-01T08:00:00Z'],
    ['2026-12-01 08:00', '2026-12-01T08:00:00Z'],
    ['2026-12-01', '2026-12-01T00:00:00Z'],
    ['now', '2026-11-30T12:00:00Z'],
    ['+30m', '2026-11-30T12:30:00Z'],
    ['in 2h', '2026-11-30T14:00:00Z'],
  ])('--not-before %p', (raw, want) => expect(new Date(parseTimeInput(raw, '--not-before', NOW)).toISOString().replace('.000Z', 'Z')).toBe(want));

  test.each([['yesterday-ish'], ['tomorrow'], ['2026-13-01'], ['2026-02-30'], ['+soon'], ['']])('--not-before %p refused', (raw) =>
    usage(() => parseTimeInput(raw, '--not-before', NOW), /--not-before .*: not a time; give an ISO-8601 time/));

  test.each([
    ['2h', NOW - 7_200_000], ['3d ago', NOW - 3 * 86_400_000], ['today', Date.parse('2026-11-30T00:00:00Z')],
    ['2026-11-29', Date.parse('2026-11-29T00:00:00Z')],
  ])('--since %p', (raw, want) => expect(parseSince(raw, NOW)).toBe(want));
  test.each([['the other day'], ['90'], ['']])('--since %p refused', (raw) => usage(() => parseSince(raw, NOW), /--since/));
});

test('statuses, branch, commit', () => {
  expect(parseStatuses(['queued,running', 'failed', 'queued'])).toEqual(['queued', 'running', 'failed']);
  usage(() => parseStatuses(['done']), /--status "done": one of queued, running, completed, failed, cancelled, blocked/);
  expect(parseBranch('release/2.3')).toBe('release/2.3');
  for (const bad of ['a b', 'a..b', '-x', 'x.lock', 'x/', 'a~1', '']) usage(() => parseBranch(bad), /--branch/);
  expect(parseCommitId('ABC1234')).toBe('ABC1234');
  for (const bad of ['abc', 'xyz1234', '']) usage(() => parseCommitId(bad), /--commit/);
});
