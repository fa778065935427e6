/**
 * `coord history` parsing: the commit messages the transaction engine writes
 * (commitMessage), read back from real `git log` output of a real repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commitMessage } from '../../lib/tx/transaction.js';
import { HISTORY_LOG_FORMAT, isCoordinationCommit, matchesHistory, parseCommit, parseHistoryLog } from '../../lib/ops/history.js';
import { hermeticEnv } from '../support/git-fixture.js';

describe('parseCommit', () => {
  test('a transaction commit: actor, action, summary, trailers, files', () => {
    const msg = commitMessage('build2', 'job.complete', 'job-1 attempt 2 failed', ['coordination/jobs.json', 'build2/logs/job-1.log'], { Job: 'job-1', Attempt: '2', Result: 'failed' });
    expect(parseCommit('abc', 1_796_040_000, 'someone', msg, [])).toEqual({
      commit: 'abc', time: '2026-11-30T12:00:00Z', actor: 'build2', action: 'job.complete', summary: 'job-1 attempt 2 failed',
      files: ['coordination/jobs.json', 'build2/logs/job-1.log'], trailers: { job: 'job-1', attempt: '2', result: 'failed' }, coord: true, author: 'someone',
    });
  });
  test('a trailer value with a newline stays on one line', () => {
    const msg = commitMessage('alice', 'lock.break', 'deploy held by build1', ['coordination/locks.json'], { Lock: 'deploy', Reason: 'two\nlines' });
    expect(parseCommit('abc', 0, 'x', msg, []).trailers).toEqual({ lock: 'deploy', reason: 'two lines' });
  });
  test('a commit without Coord- trailers: manual, by its author, files from git', () => {
    expect(parseCommit('abc', 0, 'Jane Doe', 'fix jobs.json by hand\n\nsee ticket 12\n', ['coordination/jobs.json'])).toMatchObject({
      actor: 'Jane Doe', action: 'manual', summary: 'fix jobs.json by hand', coord: false, files: ['coordination/jobs.json'],
    });
  });
  test('coord migrate (Coord-Action without Coord-Actor)', () => {
    expect(parseCommit('abc', 0, 'build1 (coord)', 'coord migrate: 2 file(s) rewritten\n\n- a\n\nCoord-Action: migrate\n', ['coordination/locks.json'])).toMatchObject({
      action: 'migrate', actor: 'build1 (coord)', coord: true, files: ['coordination/locks.json'],
    });
  });
});

test('parseHistoryLog reads real git log output (RS/US separated, --name-only)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coord-history-'));
  try {
    const env = hermeticEnv();
    const git = (args: string[], input?: string) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8', input }).trim();
    git(['init', '-q', '-b', 'main']);
    const tree = git(['mktree'], '');
    const blob = git(['hash-object', '-w', '--stdin'], '{}\n');
    const tree2 = git(['mktree'], `040000 tree ${git(['mktree'], `100644 blob ${blob}\tjobs.json\n`)}\tcoordination\n`);
    const c1 = git(['commit-tree', tree, '-m', 'initial'], undefined);
    const c2 = git(['commit-tree', tree2, '-p', c1, '-F', '-'], commitMessage('build1', 'job.add', 'job-9 build priority 5', ['coordination/jobs.json'], { Job: 'job-9' }));
    git(['update-ref', 'refs/heads/main', c2]);
    const raw = git(['log', `--format=${HISTORY_LOG_FORMAT}`, '--name-only', 'main']);
    const entries = parseHistoryLog(raw);
    expect(entries.map((e) => [e.commit, e.action, e.actor])).toEqual([[c2, 'job.add', 'build1'], [c1, 'manual', 'coord test']]);
    expect(entries[0].files).toEqual(['coordination/jobs.json']);
    expect(isCoordinationCommit(entries[0])).toBe(true);
    expect(isCoordinationCommit(entries[1])).toBe(false); // touches no coordination file
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('matchesHistory', () => {
  const e = parseCommit('abc', Date.parse('2026-11-30T12:00:00Z') / 1000, 'x', commitMessage('alice', 'builder.ground', 'build2: disk', ['coordination/jobs.json'], { Builder: 'build2', Reason: 'disk' }), []);
  const cancel = parseCommit('def', 0, 'x', commitMessage('build1', 'job.cancel', 'job-1 job-2', ['coordination/jobs.json'], { Job: 'job-1 job-2' }), []);
  const removal = parseCommit('fed', 0, 'x', commitMessage('operator', 'edit.commit', 'coordination/jobs.json', ['coordination/jobs.json'], { Removed: 'job-7 job-8' }), []);
  test.each([
    { f: { builder: 'build2' }, hit: true, of: e }, { f: { builder: 'alice' }, hit: true, of: e }, { f: { builder: 'build3' }, hit: false, of: e },
    { f: { action: 'builder' }, hit: true, of: e }, { f: { action: 'builder.ground' }, hit: true, of: e }, { f: { action: 'build' }, hit: false, of: e },
    { f: { since: Date.parse('2026-11-30T11:00:00Z') }, hit: true, of: e }, { f: { since: Date.parse('2026-11-30T13:00:00Z') }, hit: false, of: e },
    { f: { job: 'job-2' }, hit: true, of: cancel }, { f: { job: 'job-3' }, hit: false, of: cancel }, { f: { job: 'job' }, hit: false, of: cancel },
    { f: { job: 'job-8' }, hit: true, of: removal }, { f: { job: 'job-9' }, hit: false, of: removal },
  ])('$f → $hit', ({ f, hit, of }) => expect(matchesHistory(of, f)).toBe(hit));
});
