/**
 * The holder's side of a lock: its token kept in `.git/coord/locks/<name>.json`, so that
 * `coord lock release` / `renew` by the same builder work across invocations (the token is
 * the proof of holding; `locked_by` alone is not — another process of the same builder
 * must not release a lock it never took). Never committed: `.git` is local.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { coordStateDir } from '../git/repo.js';

export interface LocalLockToken {
  name: string;
  token: string;
  /** Who acquired it (builder id or person). */
  holder: string;
  acquired_at: string;
  ttl_s: number;
}

async function fileOf(repoRoot: string, name: string): Promise<string> {
  const dir = path.join(await coordStateDir(repoRoot), 'locks');
  await fs.mkdir(dir, { recursive: true });
  return path.join(dir, `${name}.json`);
}

/** Writes the token file atomically (mode 0600: the token is a capability). */
export async function saveLockToken(repoRoot: string, t: LocalLockToken): Promise<void> {
  const f = await fileOf(repoRoot, t.name);
  const tmp = `${f}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(t, null, 2) + '\n', { mode: 0o600 });
  await fs.rename(tmp, f);
}

/** The token this clone holds for `name` as `holder`, or null. */
export async function readLockToken(repoRoot: string, name: string, holder: string): Promise<LocalLockToken | null> {
  try {
    const t = JSON.parse(await fs.readFile(await fileOf(repoRoot, name), 'utf8')) as Partial<LocalLockToken>;
    if (typeof t.token !== 'string' || t.name !== name || t.holder !== holder) return null;
    return t as LocalLockToken;
  } catch {
    return null;
  }
}

/**
 * Forgets the token of `name` (after release, or when the lock turned out to be lost) —
 * only if the file still holds `token`: another process of this clone may have acquired
 * the lock anew meanwhile, and its token must survive.
 */
export async function removeLockToken(repoRoot: string, name: string, token: string): Promise<void> {
  const f = await fileOf(repoRoot, name);
  try {
    const t = JSON.parse(await fs.readFile(f, 'utf8')) as Partial<LocalLockToken>;
    if (t.token !== token) return;
  } catch {
    return;
  }
  await fs.rm(f, { force: true });
}
