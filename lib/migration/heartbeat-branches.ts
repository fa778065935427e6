/**
 * The remote side of a migration: listing the branches the upstream heartbeat scripts
 * pushed, and deleting them when asked (`coord migrate --remove-derived`). Git only; the
 * choice of which branches are heartbeat branches is legacy-layout.ts's.
 */
import { classifyTransportFailure } from '../git/classify.js';
import { git } from '../git/run.js';

/** How listing the remote's branches went. */
export type BranchListing = { ok: true; branches: string[] } | { ok: false; reason: string };

/**
 * The branch names (without `refs/heads/`) on `remote`.
 * @param timeoutMs give up after this long (an unreachable host must not hang a migration)
 * @returns `ok: false` with the reason when the clone has no such remote or it cannot be reached
 */
export async function listRemoteBranches(repoRoot: string, remote: string, timeoutMs = 30_000): Promise<BranchListing> {
  const url = await git(repoRoot, ['remote', 'get-url', remote], { allowFailure: true });
  if (url.exitCode !== 0) return { ok: false, reason: `the clone has no remote "${remote}"` };
  const r = await git(repoRoot, ['ls-remote', '--heads', remote], { allowFailure: true, timeoutMs });
  if (r.exitCode !== 0) {
    const f = classifyTransportFailure(r);
    return { ok: false, reason: `${remote}: ${f.detail.split('\n')[0] ?? 'ls-remote failed'}` };
  }
  const branches = r.stdout.split('\n').map((l) => /\trefs\/heads\/(.+)$/.exec(l)?.[1]).filter((b): b is string => Boolean(b));
  return { ok: true, branches };
}

/**
 * Deletes `branch` on `remote` (a plain delete push; never a force of anything else).
 * @returns null when deleted, else git's reason
 */
export async function deleteRemoteBranch(repoRoot: string, remote: string, branch: string, timeoutMs = 60_000): Promise<string | null> {
  const r = await git(repoRoot, ['push', '--quiet', remote, '--delete', `refs/heads/${branch}`], { allowFailure: true, timeoutMs });
  return r.exitCode === 0 ? null : (r.stderr.trim() || r.stdout.trim() || `git push exited ${r.exitCode}`).split('\n')[0];
}
