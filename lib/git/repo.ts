/**
 * Git plumbing the transaction engine is built from. Commits are built on a temporary
 * index (`GIT_INDEX_FILE`), so the user's index and working tree are never touched
 * (DESIGN.md section 3). Knows nothing about jobs or messages: paths and bytes only.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cryptoRandomHex } from '../util/ids.js';
import { git, gitBytes, GitCommandError, type GitResult } from './run.js';

/** The remote and branch the coordination state lives on. */
export interface RemoteSpec {
  remote: string;
  branch: string;
}

export const DEFAULT_REMOTE: RemoteSpec = { remote: 'origin', branch: 'main' };

/** `refs/remotes/<remote>/<branch>`: our view of the remote's main. */
export function trackingRef(spec: RemoteSpec): string {
  return `refs/remotes/${spec.remote}/${spec.branch}`;
}

/** The folder for the tool's local state inside `.git` (never committed). */
export async function coordStateDir(repoRoot: string): Promise<string> {
  const r = await git(repoRoot, ['rev-parse', '--git-dir']);
  const dir = path.resolve(repoRoot, r.stdout.trim(), 'coord');
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** `git rev-parse --verify -q REV^{commit}` or null. */
export async function resolveCommit(repoRoot: string, rev: string): Promise<string | null> {
  const r = await git(repoRoot, ['rev-parse', '--verify', '-q', `${rev}^{commit}`], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/**
 * Another process of the same clone updated a local ref this fetch was writing (the
 * daemon's tick fetches outside the local lock while `sm` runs a transaction):
 * `cannot lock ref 'refs/remotes/origin/main': is at X but expected Y`.
 */
const LOCAL_REF_RACE = /cannot lock ref|unable to update local ref|Unable to create '.*\.lock'/i;

/**
 * Fetches the remote's branch into its tracking ref. A fetch that lost a race for a local
 * ref to another process of the same clone is simply run again (both fetched the same
 * remote state; the ref is forced anyway).
 * @returns the failed result, or null on success (callers classify failures)
 */
export async function fetchBranch(repoRoot: string, spec: RemoteSpec, extraRefspecs: string[] = []): Promise<GitResult | null> {
  for (let attempt = 1; ; attempt++) {
    const r = await git(repoRoot, [
      'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', spec.remote,
      `+refs/heads/${spec.branch}:${trackingRef(spec)}`, ...extraRefspecs,
    ], { allowFailure: true, timeoutMs: 60_000 });
    if (r.exitCode === 0) return null;
    if (attempt >= 5 || !LOCAL_REF_RACE.test(r.stderr)) return r;
    await new Promise((res) => setTimeout(res, 20 * attempt + Math.floor(Math.random() * 30)));
  }
}

/**
 * Reads several files at one commit with a single `git cat-file --batch`.
 * @returns path → bytes (null when the path does not exist at that commit)
 */
export async function readFilesAt(repoRoot: string, commit: string, paths: readonly string[]): Promise<Map<string, Buffer | null>> {
  const out = new Map<string, Buffer | null>();
  if (!paths.length) return out;
  const input = paths.map((p) => `${commit}:${p}`).join('\n') + '\n';
  const buf = (await gitBytes(repoRoot, ['cat-file', '--batch'], { input }))!;
  let pos = 0;
  for (const p of paths) {
    const nl = buf.indexOf(10, pos);
    const header = buf.subarray(pos, nl).toString('utf8');
    pos = nl + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) { out.set(p, null); continue; }
    const [, type, sizeText] = header.split(' ');
    const size = Number(sizeText);
    if (type !== 'blob') { out.set(p, null); pos += size + 1; continue; }
    out.set(p, Buffer.from(buf.subarray(pos, pos + size)));
    pos += size + 1;
  }
  return out;
}

/** A file change inside a commit: new bytes, or null to delete. */
export type FileChanges = ReadonlyMap<string, Buffer | string | null>;

export interface CommitIdentity {
  name: string;
  email: string;
}

/** The tree of `parent` with `changes` applied, written with a throw-away index. */
export async function writeTreeWithChanges(repoRoot: string, parent: string | null, changes: FileChanges, rawIndexInfo: string[] = []): Promise<string> {
  const stateDir = await coordStateDir(repoRoot);
  const indexFile = path.join(stateDir, `index-${process.pid}-${cryptoRandomHex(4)}`);
  const env = { GIT_INDEX_FILE: indexFile };
  try {
    if (parent) await git(repoRoot, ['read-tree', parent], { env });
    else await git(repoRoot, ['read-tree', '--empty'], { env });
    const lines: string[] = [...rawIndexInfo];
    for (const [p, content] of changes) {
      if (content === null) {
        lines.push(`0 0000000000000000000000000000000000000000\t${p}`);
        continue;
      }
      const h = await git(repoRoot, ['hash-object', '-w', '--stdin'], { input: content });
      lines.push(`100644 ${h.stdout.trim()}\t${p}`);
    }
    if (lines.length) await git(repoRoot, ['update-index', '--index-info'], { env, input: lines.join('\n') + '\n' });
    const t = await git(repoRoot, ['write-tree'], { env });
    return t.stdout.trim();
  } finally {
    await fs.rm(indexFile, { force: true });
  }
}

/** `git commit-tree` with a fixed identity; no hooks, no signing. */
export async function commitTree(repoRoot: string, tree: string, parents: readonly string[], message: string, who: CommitIdentity, dateMs?: number): Promise<string> {
  const date = dateMs !== undefined ? `${Math.floor(dateMs / 1000)} +0000` : undefined;
  const env: Record<string, string> = {
    GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email,
    ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
  };
  const r = await git(repoRoot, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', '-'], { env, input: message });
  return r.stdout.trim();
}

/**
 * Pushes `commit` to `refs/heads/<branch>` as a fast-forward only (no `+`): the remote
 * accepts it only if its branch has not moved — the compare-and-swap.
 * @returns null on success, else the failed result
 */
export async function pushFastForward(repoRoot: string, spec: RemoteSpec, commit: string, extra: string[] = []): Promise<GitResult | null> {
  const r = await git(repoRoot, ['push', '--porcelain', '--no-verify', '--quiet', spec.remote, `${commit}:refs/heads/${spec.branch}`, ...extra], { allowFailure: true, timeoutMs: 60_000 });
  return r.exitCode === 0 ? null : r;
}

/** `git update-ref REF NEW [OLD]`. */
export async function updateRef(repoRoot: string, ref: string, value: string, old?: string): Promise<void> {
  await git(repoRoot, ['update-ref', ref, value, ...(old ? [old] : [])]);
}

export async function deleteRef(repoRoot: string, ref: string): Promise<void> {
  await git(repoRoot, ['update-ref', '-d', ref], { allowFailure: true });
}

/** The identity commits are made with: the clone's user.name/email, else `<actor> (coord)`. */
export async function commitIdentity(repoRoot: string, actor: string): Promise<CommitIdentity> {
  const name = await git(repoRoot, ['config', '--get', 'user.name'], { allowFailure: true });
  const email = await git(repoRoot, ['config', '--get', 'user.email'], { allowFailure: true });
  return {
    name: name.exitCode === 0 && name.stdout.trim() ? name.stdout.trim() : `${actor} (coord)`,
    email: email.exitCode === 0 && email.stdout.trim() ? email.stdout.trim() : `${actor}@build-coord.invalid`,
  };
}

export { GitCommandError };
