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
 * @throws CoordError E_USAGE when no repository is found or the given one has no `coordination/`
 */
export function resolveRepoRoot(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const given = flag ?? env.COORD_REPO;
  if (given) {
    const abs = path.resolve(cwd, given);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      throw new CoordError('E_USAGE', `repository ${abs} does not exist (from ${flag ? '--repo' : 'COORD_REPO'})`);
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
