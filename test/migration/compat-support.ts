/**
 * Running the compatibility scripts (scripts/*.sh, issue 11) for real, and checking what
 * they left in git: a script may only leave the commits the new semantics allow — never a
 * derived file, never a message with a global `read` flag, never a commit that is not on
 * the remote.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { CliResult } from '../support/cli.js';
import { gitSync, ROOT } from '../support/git-fixture.js';

/** The folder of the compatibility scripts. */
export const SCRIPTS = path.join(ROOT, 'scripts');

/** The files the upstream scripts derived and committed; a compat script must never commit one. */
export const DERIVED = ['coordination/message_stats.json', 'coordination/unread_messages_status.json', 'MESSAGES_ALL.txt', 'MESSAGES_STATUS.md'];

/**
 * Runs `scripts/NAME ARGS` with `cwd` as working folder (a builder's clone), the jest
 * process's hermetic environment, node on PATH, and `env` on top.
 */
export function runScript(name: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(SCRIPTS, name), args, {
      cwd,
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (signal ? 128 : 0), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A commit on the origin's main: id and the files it changed. */
export interface CommitFiles {
  commit: string;
  subject: string;
  files: string[];
}

/** The commits on the origin's main after `since`, oldest first. */
export function commitsSince(origin: string, since: string): CommitFiles[] {
  const ids = gitSync(origin, ['rev-list', '--reverse', `${since}..main`]).split('\n').filter(Boolean);
  return ids.map((c) => ({
    commit: c,
    subject: gitSync(origin, ['log', '-1', '--format=%s', c]),
    files: gitSync(origin, ['diff-tree', '--no-commit-id', '--name-only', '-r', '--root', c]).split('\n').filter(Boolean),
  }));
}

/**
 * Asserts that the history since `since` holds nothing the old semantics would have
 * committed and the new ones forbid: no derived file in any commit or in the tree, no
 * message with a single `read` flag, every message with per-recipient `read_by`/`acked_by`,
 * no branch besides main (heartbeat branches), and no commit of the clone missing on the origin.
 * @returns the new commits, for further checks
 */
export function expectNewSemantics(origin: string, since: string, clone: string): CommitFiles[] {
  const commits = commitsSince(origin, since);
  for (const c of commits) for (const f of c.files) expect(DERIVED).not.toContain(f);
  const tree = gitSync(origin, ['ls-tree', '-r', '--name-only', 'main']).split('\n');
  for (const f of DERIVED) expect(tree).not.toContain(f);
  const msgs = (JSON.parse(gitSync(origin, ['show', 'main:coordination/messages.json'])) as { messages: Record<string, unknown>[] }).messages;
  for (const m of msgs) {
    expect(m).not.toHaveProperty('read');
    expect(Array.isArray(m.read_by)).toBe(true);
    expect(Array.isArray(m.acked_by)).toBe(true);
  }
  expect(gitSync(origin, ['for-each-ref', '--format=%(refname)', 'refs/heads'])).toBe('refs/heads/main');
  gitSync(clone, ['fetch', '-q', 'origin']);
  expect(gitSync(clone, ['rev-list', '--count', 'origin/main..HEAD'])).toBe('0');
  return commits;
}
