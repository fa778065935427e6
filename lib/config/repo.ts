/**
 * Finding the coordination repository (DESIGN.md section 9): `--repo`, `COORD_REPO`, or
 * the nearest parent of the working directory that holds `coordination/`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { CoordError } from '../errors.js';

/**
 * @param flag value of `--repo`, if given
 * @param env the environment (only the config layer reads it)
 * @throws CoordError E_USAGE when no repository is found, or the given one does not exist or
 *   is not a directory
 */
export function resolveRepoRoot(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const given = flag ?? env.COORD_REPO;
  if (given) {
    const abs = path.resolve(cwd, given);
    const from = flag ? '--repo' : 'COORD_REPO';
    if (!existsSync(abs)) throw new CoordError('E_USAGE', `repository ${abs} does not exist (from ${from})`);
    if (!statSync(abs).isDirectory()) {
      throw new CoordError('E_USAGE', `repository ${abs} is not a directory (from ${from}); give the folder of the clone, which holds coordination/`);
    }
    return abs;
  }
  let dir = path.resolve(cwd);
  for (;;) {
    if (existsSync(path.join(dir, 'coordination')) && statSync(path.join(dir, 'coordination')).isDirectory()) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new CoordError('E_USAGE', `no coordination repository here: no parent of ${cwd} holds coordination/; pass --repo DIR, set COORD_REPO, or run coord init`);
}

/**
 * Why `root` cannot be a git clone, or null when it may be one: neither `root` nor a parent
 * holds `.git` (a folder, or the file of a worktree or submodule) and GIT_DIR is unset.
 * Used to explain git's "not a git repository" (commands that need git), never to refuse
 * commands that work on plain files (`init`, `validate`).
 * @returns a CoordError E_USAGE naming the folder and what to do, or null
 */
export function notAGitClone(root: string, env: NodeJS.ProcessEnv): CoordError | null {
  if (env.GIT_DIR) return null;
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return null;
    if (path.dirname(dir) === dir) break;
  }
  return new CoordError('E_USAGE', `${root} is not a git clone (no .git): clone the fleet's repository, or coord init in a git repository`);
}

/**
 * `err` restated as {@link notAGitClone} when it is git's "not a git repository" and `root`
 * has no `.git`; otherwise `err` itself.
 */
export function explainNotAGitClone(err: unknown, root: string | undefined, env: NodeJS.ProcessEnv): unknown {
  if (root === undefined || !(err instanceof Error) || !/not a git repository/i.test(err.message)) return err;
  return notAGitClone(root, env) ?? err;
}
