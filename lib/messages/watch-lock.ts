/**
 * One watcher per builder and clone: `coord messages watch` holds a lock folder under
 * `.git/coord/` naming its process. A second watcher refuses, naming the first. A lock left
 * by a watcher that died (its process is gone, or the pid now belongs to another process)
 * is taken over.
 *
 * The mechanism (a folder naming its pid, why not a timed lock) is lib/util/pid-lock.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { coordStateDir } from '../git/repo.js';
import { acquirePidLock, processStartTime, type PidLock, type PidLockOwner } from '../util/pid-lock.js';
import { formatTimestamp, type Clock } from '../util/time.js';

/** Who holds the watcher lock (`owner.json` inside the lock folder). */
export interface WatcherOwner extends PidLockOwner {
  /** The command line, for the refusal message. */
  command: string;
}

export type WatcherLock = PidLock<WatcherOwner>;

/** The lock folder of `builder`'s watcher in the clone at `repoRoot`. */
export async function watcherLockDir(repoRoot: string, builder: string): Promise<string> {
  return path.join(await coordStateDir(repoRoot), `messages-watch-${builder}.lock`);
}

/**
 * Takes the watcher lock for `builder`.
 * @throws CoordError E_LOCK_HELD (exit 4) when a live watcher holds it, naming its pid,
 *   host, start time and command
 */
export async function acquireWatcherLock(repoRoot: string, builder: string, command: string, clock: Clock): Promise<WatcherLock> {
  const dir = await watcherLockDir(repoRoot, builder);
  const owner: WatcherOwner = {
    pid: process.pid, host: os.hostname(), started_at: formatTimestamp(clock.now()), command, proc_start: processStartTime(process.pid),
  };
  return acquirePidLock(dir, owner, {
    now: () => clock.now(),
    refuse: (held) => new CoordError('E_LOCK_HELD',
      `another watcher for ${builder} is running: pid ${held.pid} on ${held.host}, started ${held.started_at} (${held.command}); stop it first (kill ${held.pid}), or wait for it to end`,
      { details: { holder: held, lock: dir } }),
    giveUp: () => new CoordError('E_LOCK_HELD', `could not take the watcher lock ${dir}: it keeps changing hands; is another watcher for ${builder} starting?`),
  });
}
