/**
 * A lock folder that names the process holding it: the one mechanism behind "one daemon
 * per builder" (lib/daemon/daemon-lock.ts) and "one watcher per builder and clone"
 * (lib/messages/watch-lock.ts).
 *
 * `mkdir` takes the lock (atomic on every local file system); `owner.json` inside, written
 * by rename, names the holder. A lock whose holder is dead (its pid is gone, or now belongs
 * to a process that started at another time) is taken over at once; an ownerless folder
 * (being made right now, or left half-made by a crash) is waited on for 2 s, then taken.
 *
 * Why a folder and a pid rather than proper-lockfile's timed lock: a holder busy for long
 * (a daemon running a build, a watcher blocked in `--exec`) must not lose its lock, and a
 * restart right after a crash must not wait for a staleness timeout — the pid says at once
 * whether the holder lives.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cryptoRandomHex } from './ids.js';

/** The fields every lock owner record has (`owner.json`); lock kinds add their own. */
export interface PidLockOwner {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO 8601 UTC); with `pid`, what identifies a holder. */
  started_at: string;
  /** Kernel start time of the process (Linux, clock ticks since boot), to tell a reused pid from the holder. */
  proc_start: string | null;
}

/** A held lock. */
export interface PidLock<O extends PidLockOwner> {
  owner: O;
  /** The lock folder. */
  dir: string;
  /** Removes the lock if this process still holds it. Idempotent. */
  release(): void;
}

/** How {@link acquirePidLock} judges and refuses. */
export interface PidLockPolicy<O extends PidLockOwner> {
  /** Is the holder that wrote `held` still running? Default {@link ownerAlive}. */
  alive?: (held: O) => boolean;
  /** The error thrown when a live holder has the lock. */
  refuse: (held: O) => Error;
  /** The error thrown when the lock changed hands 50 times in a row (a start-up storm). */
  giveUp: () => Error;
  /** Current time (epoch ms), for the age of an ownerless folder. Default `Date.now`. */
  now?: () => number;
  /** Mode of the lock folder. Default 0o777 minus the umask. */
  mode?: number;
}

/** Start time of `pid` from /proc (field 22 of stat, clock ticks since boot), or null where there is no /proc. */
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

/** Is `pid` a zombie (exited, not yet reaped by its parent)? False where there is no /proc. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Is the process that wrote `owner` still running? On another host: cannot tell, assumed so. */
export function ownerAlive(owner: PidLockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  if (!pidAlive(owner.pid)) return false;
  if (owner.proc_start !== null) {
    const now = processStartTime(owner.pid);
    if (now !== null && now !== owner.proc_start) return false; // pid reused
  }
  return true;
}

/** The owner record in lock folder `dir`, or null (no folder, no owner yet, unreadable). */
export function readLockOwner<O extends PidLockOwner>(dir: string): O | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as O;
  } catch {
    return null;
  }
}

const sameHolder = (a: PidLockOwner, b: PidLockOwner): boolean => a.pid === b.pid && a.started_at === b.started_at;

/**
 * Takes the lock folder `dir` for `owner` (normally this process).
 * @throws whatever `policy.refuse` returns when a live holder has it, `policy.giveUp` after
 *   50 hand-overs in a row, and file-system errors other than EEXIST/ENOENT as they are
 */
export async function acquirePidLock<O extends PidLockOwner>(dir: string, owner: O, policy: PidLockPolicy<O>): Promise<PidLock<O>> {
  const alive = policy.alive ?? ownerAlive;
  const now = policy.now ?? Date.now;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      mkdirSync(dir, policy.mode === undefined ? undefined : { mode: policy.mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = readLockOwner<O>(dir);
      if (!held) {
        const age = now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < 2000) { await new Promise((r) => setTimeout(r, 50)); continue; }
      } else if (alive(held)) {
        throw policy.refuse(held);
      }
      // Stale: move it aside atomically (only one taker's rename succeeds), then retry.
      const aside = `${dir}.stale-${process.pid}-${cryptoRandomHex(4)}`;
      try {
        renameSync(dir, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const moved = readLockOwner<O>(aside);
      if (moved && held && !sameHolder(moved, held) && !existsSync(dir)) {
        // A live holder took over between our read and our rename: put its lock back.
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
      owner, dir,
      release() {
        if (released) return;
        released = true;
        const cur = readLockOwner<O>(dir);
        if (cur && sameHolder(cur, owner)) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw policy.giveUp();
}
