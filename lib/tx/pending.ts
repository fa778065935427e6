/**
 * Builder-owned commits made while the remote was unreachable (DESIGN.md section 3).
 *
 * They are kept as a chain on the local ref `refs/coord/pending` and pushed later, in
 * order, by the next transaction or `coord sync`. Replaying them onto a newer `main` is
 * safe — unlike a rebase of shared state — because they touch only files that their own
 * builder alone writes (status, heartbeat, logs); no one else's decision is re-applied.
 */
import { git } from '../git/run.js';
import { commitTree, writeTreeWithChanges, type CommitIdentity } from '../git/repo.js';

export const PENDING_REF = 'refs/coord/pending';

/** Pending commits not yet on `upstream`, oldest first. */
export async function pendingCommits(repoRoot: string, upstream: string | null): Promise<string[]> {
  const tip = await git(repoRoot, ['rev-parse', '--verify', '-q', PENDING_REF], { allowFailure: true });
  if (tip.exitCode !== 0) return [];
  const r = await git(repoRoot, ['rev-list', '--reverse', PENDING_REF, ...(upstream ? ['--not', upstream] : [])]);
  return r.stdout.split('\n').filter(Boolean);
}

async function commitInfo(repoRoot: string, commit: string): Promise<{ message: string; who: CommitIdentity; dateMs: number }> {
  const r = await git(repoRoot, ['log', '-1', '--format=%an%x00%ae%x00%at%x00%B', commit]);
  const [name = '', email = '', at = '0', ...rest] = r.stdout.split('\0');
  return { message: rest.join('\0').replace(/\n+$/, '\n'), who: { name, email }, dateMs: Number(at) * 1000 };
}

/**
 * Replays `commits` (each touching only builder-owned paths) onto `base`.
 * @returns the new tip (== base when there is nothing to replay)
 */
export async function replayOnto(repoRoot: string, base: string | null, commits: readonly string[]): Promise<string | null> {
  let tip = base;
  for (const c of commits) {
    const diff = await git(repoRoot, ['diff-tree', '-r', '-z', '--no-commit-id', '--no-renames', '--root', c]);
    const parts = diff.stdout.split('\0').filter((x) => x !== '');
    const lines: string[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const meta = parts[i].replace(/^:/, '').split(' ');
      const p = parts[i + 1];
      const [, newMode, , newSha, status] = meta;
      lines.push(status === 'D' ? `0 0000000000000000000000000000000000000000\t${p}` : `${newMode} ${newSha}\t${p}`);
    }
    const tree = await writeTreeWithChanges(repoRoot, tip, new Map(), lines);
    const info = await commitInfo(repoRoot, c);
    tip = await commitTree(repoRoot, tree, tip ? [tip] : [], info.message, info.who, info.dateMs);
  }
  return tip;
}
