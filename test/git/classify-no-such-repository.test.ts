/**
 * Bug (found by `npm run chaos`): with the bare repository moved away behind `git daemon`,
 * `sm` failed with exit 1 (E_GIT, "internal") instead of 6 (remote unreachable): git
 * reports `fatal: remote error: no such repository: /fleet.git`, which no rule matched.
 */
import { classifyPushFailure, classifyTransportFailure } from '../../lib/git/classify.js';

const result = (stderr: string) => ({ stdout: '', stderr, exitCode: 128, args: ['fetch'] });

test('git daemon "no such repository" is an unreachable remote (fetch and push)', () => {
  const r = result('fatal: remote error: no such repository: /fleet.git\n');
  expect(classifyTransportFailure(r).kind).toBe('unreachable');
  expect(classifyPushFailure(r).kind).toBe('unreachable');
});

test('a missing path on a file remote stays unreachable', () => {
  expect(classifyTransportFailure(result("fatal: '/srv/x.git' does not appear to be a git repository\nfatal: Could not read from remote repository.")).kind).toBe('unreachable');
});
