/**
 * Id abbreviations (finding: "any unique part of at least 4 characters" was only a prefix
 * or suffix for messages, and nothing for jobs): one resolver for both.
 */
import type { CoordError } from '../../lib/errors.js';
import { resolveIdFragment } from '../../lib/util/id-match.js';

const IDS = [
  'msg-20261201-101010-build1-9027aff34fc3',
  'msg-20261201-101011-build2-4f9a2c1d0b7e',
  'msg-20261202-090000-build1-77aa00bb11cc',
];
const o = { noun: 'message', argument: 'ID' };

function failure(typed: string): CoordError {
  try { resolveIdFragment(IDS, typed, o); } catch (err) { return err as CoordError; }
  throw new Error(`${typed} resolved`);
}

test('a whole id, and any unique substring of at least 4 characters (start of the random tail, middle, end)', () => {
  expect(resolveIdFragment(IDS, IDS[1], o)).toBe(IDS[1]);
  expect(resolveIdFragment(IDS, '9027', o)).toBe(IDS[0]);
  expect(resolveIdFragment(IDS, '101011', o)).toBe(IDS[1]);
  expect(resolveIdFragment(IDS, '0b7e', o)).toBe(IDS[1]);
  expect(resolveIdFragment(IDS, '20261202', o)).toBe(IDS[2]);
});

test('ambiguous: E_USAGE (exit 2) listing the candidates', () => {
  const err = failure('20261201');
  expect(err.code).toBe('E_USAGE');
  expect(err.exitCode).toBe(2);
  expect(err.message).toContain('matches several messages');
  expect(err.details.candidates).toEqual([IDS[0], IDS[1]]);
});

test('at most 5 candidates are listed in the message; all are in details', () => {
  const many = Array.from({ length: 7 }, (_, i) => `job-20261201-10101${i}-b-aaaaaaaaaaa${i}`);
  try { resolveIdFragment(many, 'aaaa', { noun: 'job', argument: 'ID' }); } catch (err) {
    expect((err as CoordError).message).toContain('… (7 in all)');
    expect((err as CoordError).details.candidates).toHaveLength(7);
    return;
  }
  throw new Error('not ambiguous');
});

test('no match: null (the caller says not found, exit 5); too short: E_USAGE', () => {
  expect(resolveIdFragment(IDS, 'zzzz', o)).toBeNull();
  const short = failure('902');
  expect(short.code).toBe('E_USAGE');
  expect(short.message).toContain('at least 4 characters');
});
