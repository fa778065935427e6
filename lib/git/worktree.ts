/**
 * Fast-forwarding the user's working tree after a transaction — only when it is safe
 * (DESIGN.md section 3): HEAD is on the coordination branch, the tree is clean, HEAD is an
 * ancestor of the new commit, and HEAD is still where the tool itself last left it (a
 * person who reset or checked out something on purpose is never undone).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { git } from './run.js';
import { coordStateDir, resolveCommit, type RemoteSpec } from './repo.js';

export type WorkTreeOutcome =
  | { moved: true }
  | { moved: false; reason: string };

async function lastLeftFile(repoRoot: string): Promise<string> {
  return path.join(await coordStateDir(repoRoot), 'last-head');
}

/** Records that the tool left HEAD at `commit`. */
export async function recordLastLeft(repoRoot: string, commit: string): Promise<void> {
  await fs.writeFile(await lastLeftFile(repoRoot), commit + '\n');
}

/** Is the working tree clean (tracked files, index)? Untracked files do not count. */
export async function isWorkTreeClean(repoRoot: string): Promise<boolean> {
  const r = await git(repoRoot, ['status', '--porcelain=v1', '--untracked-files=no', '--ignore-submodules'], { allowFailure: true });
  return r.exitCode === 0 && r.stdout.trim() === '';
}

/**
 * Moves HEAD (the branch) and the working tree to `target` when safe.
 * @param force skip the "where the tool last left it" rule (an explicit `coord sync`)
 */
export async function fastForwardWorkTree(repoRoot: string, spec: RemoteSpec, target: string, force = false): Promise<WorkTreeOutcome> {
  const sym = await git(repoRoot, ['symbolic-ref', '-q', 'HEAD'], { allowFailure: true });
  if (sym.stdout.trim() !== `refs/heads/${spec.branch}`) {
    return { moved: false, reason: `HEAD is not on ${spec.branch} (${sym.stdout.trim() || 'detached'})` };
  }
  const head = await resolveCommit(repoRoot, 'HEAD');
  if (head === target) return { moved: false, reason: 'already up to date' };
  const lastLeft = (await fs.readFile(await lastLeftFile(repoRoot), 'utf8').catch(() => '')).trim() || null;
  if (head !== null) {
    const anc = await git(repoRoot, ['merge-base', '--is-ancestor', head, target], { allowFailure: true });
    if (anc.exitCode !== 0) return { moved: false, reason: `local ${spec.branch} has commits that are not on the remote; push or reset them` };
    if (!force && lastLeft !== null && lastLeft !== head) {
      return { moved: false, reason: `HEAD was moved by someone else (to ${head.slice(0, 12)}); run coord sync to fast-forward` };
    }
    // First sight of this clone: adopt its HEAD as where "the tool left it", so a reset
    // made after this point is recognised and never undone.
    if (lastLeft === null) await recordLastLeft(repoRoot, head);
  }
  if (!(await isWorkTreeClean(repoRoot))) {
    return { moved: false, reason: 'working tree has local changes; run coord sync when they are committed or gone' };
  }
  // Two-tree read-tree: updates index and files from HEAD to target, refusing to
  // overwrite anything changed meanwhile; no hooks run (unlike merge).
  const rt = head
    ? await git(repoRoot, ['read-tree', '-m', '-u', head, target], { allowFailure: true })
    : await git(repoRoot, ['read-tree', '-m', '-u', target], { allowFailure: true });
  if (rt.exitCode !== 0) return { moved: false, reason: `working tree not updated: ${rt.stderr.trim()}` };
  const upd = await git(repoRoot, ['update-ref', `refs/heads/${spec.branch}`, target, ...(head ? [head] : [])], { allowFailure: true });
  if (upd.exitCode !== 0) return { moved: false, reason: `branch moved meanwhile: ${upd.stderr.trim()}` };
  await recordLastLeft(repoRoot, target);
  return { moved: true };
}
