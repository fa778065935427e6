/**
 * One watcher per builder and clone: `coord messages watch` holds a lock folder under
 * `.git/coord/` naming its process. A second watcher refuses, naming the first. A lock left
 * by a watcher that died (its process is gone, or the pid now belongs to another process)
 * is taken over.
 *
 * Why a folder and a pid rather than proper-lockfile's timed lock: a watcher blocked in a
 * long `--exec` command must not lose its lock, and a restart right after a crash must
 * not wait for a staleness timeout — the pid says at once whether the holder lives.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { coordStateDir } from '../git/repo.js';
import { cryptoRandomHex } from '../util/ids.js';
import { formatTimestamp, type Clock } from '../util/time.js';

/** Who holds the watcher lock (`owner.json` inside the lock folder). */
export interface WatcherOwner {
  pid: number;
  host: string;
  started_at: string;
  /** The command line, for the refusal message. */
  command: string;
  /** Kernel start time of the process (Linux), to tell a reused pid from the holder. */
  proc_start: string | null;
}

export interface WatcherLock {
  owner: WatcherOwner;
  /** Removes the lock if this process still holds it. Idempotent. */
  release(): void;
}

/** Start time of `pid` from /proc (field 22 of stat), or null where there is no /proc. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** Does a process with this pid exist (on this host)? EPERM means it does. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Is the process that wrote `owner` still running? */
export function ownerAlive(owner: WatcherOwner): boolean {
  if (owner.host !== os.hostname()) return true; // cannot tell: assume it lives
  if (!pidAlive(owner.pid)) return false;
  if (owner.proc_start !== null) {
    const now = processStartTime(owner.pid);
    if (now !== null && now !== owner.proc_start) return false; // pid reused
  }
  return true;
}

function readOwner(dir: string): WatcherOwner | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as WatcherOwner;
  } catch {
    return null;
  }
}

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
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = readOwner(dir);
      if (!held) {
        // Being created right now (folder made, owner not written yet), or left half-made
        // by a crash: wait a moment, then treat an old ownerless folder as stale.
        const age = clock.now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < 2000) { await new Promise((r) => setTimeout(r, 50)); continue; }
      } else if (ownerAlive(held)) {
        throw new CoordError('E_LOCK_HELD',
          `another watcher for ${builder} is running: pid ${held.pid} on ${held.host}, started ${held.started_at} (${held.command}); stop it first (kill ${held.pid}), or wait for it to end`,
          { details: { holder: held, lock: dir } });
      }
      // Stale: move it aside atomically (only one taker's rename succeeds), then retry.
      const aside = `${dir}.stale-${process.pid}-${cryptoRandomHex(4)}`;
      try {
        renameSync(dir, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = readOwner(aside);
      if (moved && held && (moved.pid !== held.pid || moved.started_at !== held.started_at) && !existsSync(dir)) {
        // A live watcher took over between our read and our rename: put its lock back.
        renameSync(aside, dir);
        continue;
      }
      rmSync(aside, { recursive: true, force: true });
      continue;
    }
    const tmp = path.join(dir, `owner.json.${cryptoRandomHex(4)}`);
    writeFileSync(tmp, JSON.stringify(owner, null, 2) + '\n');
    renameSync(tmp, path.join(dir, 'owner.json'));
    let released = false;
    return {
      owner,
      release() {
        if (released) return;
        released = true;
        const cur = readOwner(dir);
        if (cur && cur.pid === owner.pid && cur.started_at === owner.started_at) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new CoordError('E_LOCK_HELD', `could not take the watcher lock ${dir}: it keeps changing hands; is another watcher for ${builder} starting?`);
}
