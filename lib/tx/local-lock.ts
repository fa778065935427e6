/**
 * The local lock that serialises processes sharing one clone (daemon, cron heartbeat,
 * `sm`, a person's `coord`): proper-lockfile on `.git/coord/clone`, stale-aware (a lock
 * left by a killed process is taken over after `stale` ms, or after 2 s when the holder
 * recorded in `.git/coord/clone.owner` is provably dead on this host). PLATFORM.md: the default
 * `onCompromised` throws and would crash a daemon, so we pass our own.
 */
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
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
  /** Told once when the wait passes about a second (one line). Default: printed on stderr. */
  onWait?: (line: string) => void;
}

/** What the `.owner` file beside the lock says about the last process that took it. */
interface LockOwner { pid: number; host: string; since: string; command: string; procStart: string | null }

/** The recorded owner, or null (none, unreadable, or written by an older version). */
async function readLockOwner(file: string): Promise<LockOwner | null> {
  try {
    const o = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockOwner> | null;
    return o && typeof o.pid === 'number' && typeof o.host === 'string' ? { since: '?', command: '?', procStart: null, ...o } as LockOwner : null;
  } catch {
    return null;
  }
}

/** Start time of `pid` from /proc (field 22 of stat), or null where there is no /proc. */
function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the owner's process provably gone (same host, pid absent or reused)? */
function provablyDead(o: LockOwner): boolean {
  if (o.host !== os.hostname() || !Number.isInteger(o.pid) || o.pid <= 0) return false;
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${o.pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true; // exited, not reaped
  } catch { /* no /proc: judge by the pid alone */ }
  const now = procStart(o.pid);
  return o.procStart !== null && now !== null && now !== o.procStart;
}

function describe(o: LockOwner | null): string {
  return o ? `pid ${o.pid} on ${o.host} since ${o.since}, ${o.command}` : 'a process that did not record itself';
}

/** proper-lockfile's smallest staleness (ms): the takeover delay for a provably dead holder. */
/** How long (ms) waiting for a live holder stays silent before one line on stderr names it (at most half the staleness). */
const LIVE_HOLDER_QUIET_MS = 5000;
const MIN_STALE_MS = 2000;

/**
 * Runs `fn` holding the clone's local lock. When it has to wait over about a second, says so
 * once (`onWait`, default: a line on stderr). A lock whose recorded holder is provably dead
 * on this host (pid gone, or reused by another process) is taken over once it has not
 * been refreshed for 2 s (proper-lockfile's minimum staleness; a live holder refreshes it
 * every `staleMs / 2` and records itself within moments of taking it), else after `staleMs`.
 * @throws CoordError E_CONTENTION when the lock stays held longer than `waitMs`, naming the holder
 */
export async function withLocalLock<T>(repoRoot: string, fn: () => Promise<T>, opts: LocalLockOptions = {}): Promise<T> {
  const dir = await coordStateDir(repoRoot);
  const target = path.join(dir, 'clone');
  const ownerFile = `${target}.owner`;
  const waitMs = opts.waitMs ?? 60_000;
  const stale = Math.max(MIN_STALE_MS, opts.staleMs ?? 10_000);
  const onWait = opts.onWait ?? ((line: string) => { process.stderr.write(line + '\n'); });
  const started = Date.now();
  let told = false;
  let delay = 5;
  let release: () => Promise<void>;
  for (;;) {
    // Read before trying: a holder records itself within moments of taking the lock, so an
    // owner read now that is dead cannot belong to a lock refreshed in the last 2 s.
    const owner = await readLockOwner(ownerFile);
    const dead = owner !== null && provablyDead(owner);
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        stale: dead ? MIN_STALE_MS : stale,
        update: Math.floor(stale / 2),
        retries: 0,
        onCompromised: opts.onCompromised ?? ((err) => { process.emitWarning(`local lock on ${repoRoot} compromised: ${err.message}`); }),
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      const waited = Date.now() - started;
      if (waited > waitMs) {
        throw new CoordError('E_CONTENTION', `local lock ${target}.lock is held by ${describe(owner)} for over ${Math.round(waitMs / 1000)} s; is a coord process stuck?`, { cause: err });
      }
      // A dead holder is named at once; a live one only after a wait longer than any normal
      // transaction (under load a few seconds), so ordinary contention stays quiet.
      if (!told && waited >= (dead ? 500 : Math.min(LIVE_HOLDER_QUIET_MS, stale / 2))) {
        told = true;
        onWait(`waiting for the clone lock ${target}.lock (held by ${describe(owner)}; ${dead ? 'that process is gone: taking the lock over within 2 s' : `a lock of a dead process is taken over after ${Math.round(stale / 1000)} s`})`);
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(200, Math.ceil(delay * 1.3));
    }
  }
  // Beside the lock folder, not inside it: proper-lockfile removes the folder with rmdir.
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command: process.argv.slice(1, 4).join(' '), procStart: procStart(process.pid) };
  await fs.writeFile(ownerFile, JSON.stringify(me) + '\n').catch(() => undefined);
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
