/**
 * The pre-commit hook as setup installs it, driven by real `git commit`s: invalid staged
 * coordination files and credentials on added lines are refused (exit non-zero, commit not
 * made, the validator's lines on stderr); everything else commits.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync } from '../support/git-fixture.js';
import { issueLineRe } from '../support/cli.js';
import { gitRun, makeSetupFixture, runSetup, type SetupFixture } from '../support/setup-fixture.js';

// Assembled at run time so this file holds no credential-shaped literal for other scanners.
const j = (...parts: string[]) => parts.join('');

let f: SetupFixture;
beforeAll(async () => {
  f = await makeSetupFixture(3);
  const r = await runSetup(f, 3, ['--no-cron', '--no-systemd']);
  if (r.exitCode !== 0) throw new Error(`setup failed: ${r.stderr}`);
});
afterAll(() => f.fleet.cleanup());

const head = () => gitSync(f.clone, ['rev-parse', 'HEAD']);
function write(rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(f.clone, rel)), { recursive: true });
  writeFileSync(path.join(f.clone, rel), text);
}
function commit(files: string[], env: Record<string, string> = {}, extra: string[] = []) {
  if (files.length) gitRun(f.clone, ['add', '--', ...files]);
  return gitRun(f.clone, ['commit', '-q', '-m', 'test', ...extra], env);
}
function jobsWith(jobs: unknown[]): string {
  const doc = JSON.parse(readFileSync(path.join(f.clone, 'coordination/jobs.json'), 'utf8')) as Record<string, unknown>;
  return JSON.stringify({ ...doc, jobs }, null, 2) + '\n';
}
const job = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'noop', priority: 5, status: 'queued', created_at: '2025-11-04T20:45:00Z', ...extra });

test('an invalid coordination file is refused with the validator\'s line; the commit is not made', () => {
  const before = head();
  write('coordination/jobs.json', jobsWith([job('job-bad', { priority: 'high' })]));
  // The hook judges the clone git runs it in, whatever COORD_REPO says.
  const r = commit(['coordination/jobs.json'], { COORD_REPO: '/nonexistent' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(issueLineRe('coordination/jobs.json', '/jobs/0/priority', /integer/));
  expect(r.stderr).toMatch(/^coord pre-commit: commit refused: 1 problem\(s\) in staged coordination files/m);
  expect(head()).toBe(before);
  gitRun(f.clone, ['checkout', '--', '.']);
  gitRun(f.clone, ['reset', '-q']);
});

test('`git commit -a` is judged too (git hands the hook a temporary index)', () => {
  const before = head();
  write('coordination/jobs.json', '{ "jobs": [ \n');
  const r = commit([], {}, ['-a']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/^coordination\/jobs\.json: \/: /m);
  expect(head()).toBe(before);
  gitRun(f.clone, ['checkout', '--', '.']);
});

test('a valid edit commits; dropping its record is refused unless COORD_ALLOW_REMOVAL=1', () => {
  write('coordination/jobs.json', jobsWith([job('job-keep')]));
  const ok = commit(['coordination/jobs.json']);
  expect(ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  const before = head();
  write('coordination/jobs.json', jobsWith([]));
  const refused = commit(['coordination/jobs.json']);
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toMatch(/job-keep/);
  expect(refused.stderr).toContain('COORD_ALLOW_REMOVAL=1');
  expect(head()).toBe(before);
  const allowed = commit([], { COORD_ALLOW_REMOVAL: '1' });
  expect(allowed.status).toBe(0);
  expect(head()).not.toBe(before);
});

test('a staged private key is refused, naming file, place and kind — never the key', () => {
  const before = head();
  const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  write('deploy/id_ed25519', key);
  const r = commit(['deploy/id_ed25519']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/^deploy\/id_ed25519 line 1, column 1: private key/m);
  expect(r.stderr).toMatch(/commit refused: staged changes look like they carry credentials/);
  expect(r.stderr).not.toContain(key.split('\n')[1]);
  expect(head()).toBe(before);
  gitRun(f.clone, ['rm', '-q', '--cached', 'deploy/id_ed25519']);
});

test('a password in any text file is refused; COORD_ALLOW_SECRET=1 lets a deliberate one through', () => {
  const before = head();
  write('scripts/deploy.yml', j('db:\n  host: db.example\n  pass', 'word: "s3cr3t-Pa55"\n'));
  const r = commit(['scripts/deploy.yml']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/^scripts\/deploy\.yml line 3, column 3: password assignment/m);
  expect(head()).toBe(before);
  const allowed = commit([], { COORD_ALLOW_SECRET: '1' });
  expect(allowed.status).toBe(0);
});

test('only added lines count: editing elsewhere in a file that already holds one commits', () => {
  write('scripts/deploy.yml', j('db:\n  host: db2.example\n  pass', 'word: "s3cr3t-Pa55"\n'));
  const r = commit(['scripts/deploy.yml']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('ordinary files commit without a word', () => {
  write('docs/notes.md', 'Build 4f2a9c1 on build3 took 42 s; job-20251104-204500-build1-abc123.\n');
  const r = commit(['docs/notes.md']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
