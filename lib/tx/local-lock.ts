/**
 * The local lock that serialises processes sharing one clone (daemon, cron heartbeat,
 * `sm`, a person's `coord`): proper-lockfile on `.git/coord/clone`, stale-aware (a lock
 * left by a killed process is taken over after `stale` ms). PLATFORM.md: the default
 * `onCompromised` throws and would crash a daemon, so we pass our own.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { CoordError } from '../errors.js';
import { coordStateDir } from '../git/repo.js';

export interface LocalLockOptions {
  /** How long to wait for the lock before giving up (ms). Default 60000. */
  waitMs?: number;
  /** A holder silent this long (ms) is presumed dead. Default 10000 (proper-lockfile minimum 2000). */
  staleMs?: number;
  /** Called when the lock was lost while held (process paused past `staleMs`). */
  onCompromised?: (err: Error) => void;
}

/**
 * Runs `fn` holding the clone's local lock.
 * @throws CoordError E_CONTENTION when the lock stays held longer than `waitMs`, naming the holder
 */
export async function withLocalLock<T>(repoRoot: string, fn: () => Promise<T>, opts: LocalLockOptions = {}): Promise<T> {
  const dir = await coordStateDir(repoRoot);
  const target = path.join(dir, 'clone');
  const waitMs = opts.waitMs ?? 60_000;
  const stale = Math.max(2000, opts.staleMs ?? 10_000);
  const started = Date.now();
  let release: () => Promise<void>;
  for (;;) {
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        stale,
        update: Math.floor(stale / 2),
        retries: { retries: 20, factor: 1.3, minTimeout: 5, maxTimeout: 200, randomize: true },
        onCompromised: opts.onCompromised ?? ((err) => { process.emitWarning(`local lock on ${repoRoot} compromised: ${err.message}`); }),
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (Date.now() - started > waitMs) {
        const owner = await fs.readFile(`${target}.owner`, 'utf8').catch(() => 'unknown');
        throw new CoordError('E_CONTENTION', `local lock ${target}.lock is held by ${owner.trim()} for over ${Math.round(waitMs / 1000)} s; is a coord process stuck?`, { cause: err });
      }
    }
  }
  // Beside the lock folder, not inside it: proper-lockfile removes the folder with rmdir.
  await fs.writeFile(`${target}.owner`, `pid ${process.pid} (${process.argv.slice(1, 4).join(' ')})\n`).catch(() => undefined);
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
