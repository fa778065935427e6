/**
 * README "Operator commands" holds one `--json` example per command (issue 6, "Done when");
 * the scenario suites check each command's real output against its example
 * (expectReadmeShape). This pins the list, so an example cannot silently disappear.
 */
import { readmeExamples, shapeDiff } from '../support/operator.js';

const COMMANDS = [
  'coord jobs add', 'coord jobs list', 'coord jobs show', 'coord jobs cancel', 'coord jobs retry', 'coord jobs logs', 'coord jobs wait',
  'coord lock acquire', 'coord lock release', 'coord lock renew', 'coord lock list', 'coord lock break', 'coord lock run',
  'coord queue pause', 'coord queue resume', 'coord queue status',
  'coord builder ground', 'coord builder unground', 'coord builder list',
  'coord schedule add', 'coord schedule list', 'coord schedule remove', 'coord schedule enable', 'coord schedule disable',
  'coord status', 'coord history', 'coord completion',
];

test('every operator command has one parseable JSON example with "ok"', () => {
  const ex = readmeExamples();
  expect([...ex.keys()].sort()).toEqual([...COMMANDS].sort());
  for (const [cmd, doc] of ex) expect([cmd, (doc as { ok?: unknown }).ok]).toEqual([cmd, expect.any(Boolean)]);
});

test('shapeDiff: missing and extra fields, types, nested arrays; null matches anything', () => {
  expect(shapeDiff({ a: 1, b: [{ c: 'x' }] }, { a: 2, b: [{ c: 'y' }] })).toEqual([]);
  expect(shapeDiff({ a: 1 }, { a: 1, b: 2 })).toEqual(['$.b: missing from the output']);
  expect(shapeDiff({ a: 1, z: 0 }, { a: 1 })).toEqual(['$.z: not in the README example']);
  expect(shapeDiff({ a: '1' }, { a: 1 })).toEqual(['$.a: number expected, got string']);
  expect(shapeDiff({ b: [{ c: 1 }] }, { b: [{ d: 1 }] })).toEqual(['$.b[0].d: missing from the output', '$.b[0].c: not in the README example']);
  expect(shapeDiff({ a: null, b: { x: 1 } }, { a: { deep: 1 }, b: null })).toEqual([]);
  expect(shapeDiff({ by_type: { build: {} } }, { by_type: { deb: {} } })).toEqual([]);
});
