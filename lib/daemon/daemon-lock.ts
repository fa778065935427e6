/**
 * One daemon per builder and fleet on a machine. `coord daemon` (and `--once`) holds a lock
 * folder naming its process; a second daemon for the same builder refuses (exit 4) naming
 * the first — whether it was started in the same clone or in another clone of the same
 * fleet. A lock left by a daemon that died (its pid is gone, or now belongs to another
 * process) is taken over at once. `coord heartbeat` (cron) never takes this lock: it only
 * reads it, to tell whether a daemon is alive.
 *
 * Where: `<os.tmpdir()>/build-coord-<uid>/daemon-<builder>-<fleet>.lock/owner.json`, with
 * `os.tmpdir()` honouring `TMPDIR`. `<fleet>` is the first 12 hex digits of the SHA-256 of
 * the remote's URL (`git remote get-url origin`; a local path made absolute and real), so
 * a machine serving two coordination repositories as build1 in each runs two daemons.
 * Machine-wide rather than in `.git/coord/`, because two clones of one fleet on one machine
 * acting as the same builder would otherwise each think the other's claims were orphans.
 *
 * The mechanism (a folder naming its pid, why not a timed lock) is lib/util/pid-lock.ts.
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { git } from '../git/run.js';
import { acquirePidLock, isZombie, ownerAlive, processStartTime, readLockOwner, type PidLock, type PidLockOwner } from '../util/pid-lock.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';

/** Who holds a daemon lock (`owner.json` inside the lock folder). */
export interface DaemonOwner extends PidLockOwner {
  /** The clone it runs in. */
  clone: string;
  /** The command line, for the refusal message. */
  command: string;
}

/** A held daemon lock. */
export type DaemonLock = PidLock<DaemonOwner>;

/** The folder holding this user's daemon locks: `<os.tmpdir()>/build-coord-<uid>`. */
export function daemonLockRoot(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `build-coord-${uid}`);
}

/** The remote URL the fleet key hashes: local paths made absolute and real. */
async function fleetUrl(repoRoot: string, remote: string): Promise<string> {
  const r = await git(repoRoot, ['remote', 'get-url', remote], { allowFailure: true });
  const url = r.exitCode === 0 ? r.stdout.trim() : '';
  if (!url) return `no-remote:${realOrResolved(repoRoot)}`;
  // scp-like (host:path) and scheme URLs are kept as written; a plain path is resolved.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+:/.test(url)) return url.replace(/\/+$/, '').replace(/\.git$/, '');
  return realOrResolved(path.resolve(repoRoot, url.replace(/^file:\/\//, ''))).replace(/\/+$/, '').replace(/\.git$/, '');
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The lock folder of `builder`'s daemon for the fleet the clone at `repoRoot` belongs to. */
export async function daemonLockDir(repoRoot: string, builder: string, remote = 'origin'): Promise<string> {
  const key = createHash('sha256').update(await fleetUrl(repoRoot, remote)).digest('hex').slice(0, 12);
  return path.join(daemonLockRoot(), `daemon-${builder}-${key}.lock`);
}

/** Is the daemon that wrote `o` still running (on another host: assumed so)? */
export function daemonAlive(o: DaemonOwner): boolean {
  return ownerAlive(o) && !(o.host === os.hostname() && isZombie(o.pid));
}

/** Makes the lock root (mode 0700) and refuses one that is not a folder of this user. */
function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = lstatSync(root);
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  if (!st.isDirectory() || (uid !== null && st.uid !== uid)) {
    throw new CoordError('E_PATH', `${root} is not a folder owned by this user (uid ${uid ?? '?'}); remove it, or set TMPDIR to a private folder`);
  }
}

/**
 * The live daemon holding `builder`'s lock for this clone's fleet, or null.
 * Never takes nor changes the lock.
 */
export async function liveDaemonHolder(repoRoot: string, builder: string, remote = 'origin'): Promise<DaemonOwner | null> {
  const held = readLockOwner<DaemonOwner>(await daemonLockDir(repoRoot, builder, remote));
  return held && daemonAlive(held) ? held : null;
}

/**
 * Takes the daemon lock of `builder` for the fleet of the clone at `repoRoot`.
 * @throws CoordError E_LOCK_HELD (exit 4) when a live daemon holds it, naming its pid,
 *   host, start time and clone; E_PATH when the lock root is not this user's folder
 */
export async function acquireDaemonLock(repoRoot: string, builder: string, now: number, remote = 'origin'): Promise<DaemonLock> {
  const dir = await daemonLockDir(repoRoot, builder, remote);
  ensureRoot(path.dirname(dir));
  const owner: DaemonOwner = {
    pid: process.pid, host: os.hostname(), started_at: formatTimestamp(now), clone: repoRoot,
    command: process.argv.slice(1).join(' ').slice(0, 300), proc_start: processStartTime(process.pid),
  };
  return acquirePidLock(dir, owner, {
    mode: 0o700,
    alive: daemonAlive,
    refuse: (held) => new CoordError('E_LOCK_HELD',
      `another daemon for ${builder} is running: pid ${held.pid} on ${held.host}, started ${held.started_at}, in ${held.clone}; ` +
      `it already claims and runs ${builder}'s jobs. Stop it first (systemctl stop build-coord-${builder}, or kill ${held.pid}) if you mean to replace it`,
      { details: { holder: held, lock: dir } }),
    giveUp: () => new CoordError('E_LOCK_HELD', `could not take the daemon lock ${dir}: it keeps changing hands; is another daemon for ${builder} starting?`),
  });
}

/**
 * The pid a builder's status.json names as its daemon, when that process is alive on this
 * machine and is a `coord … daemon` (its /proc cmdline says so, so a reused pid does not
 * count). It sees a daemon the lock cannot: one under systemd's PrivateTmp, whose
 * $TMPDIR is its own. @param statusText the builder's status.json text, or null
 * @returns the pid, or null
 */
export async function liveDaemonPid(statusText: string | null): Promise<number | null> {
  let daemon: { pid?: unknown; started_at?: unknown } | undefined;
  try {
    daemon = (JSON.parse(statusText ?? 'null') as { daemon?: { pid?: unknown; started_at?: unknown } } | null)?.daemon;
  } catch {
    return null;
  }
  const pid = daemon?.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1) return null;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
  if (cmdline === null) return null;
  const args = cmdline.split('\0');
  if (!(args.some((a) => a.endsWith('coord.js') || a.endsWith('/coord')) && args.includes('daemon'))) return null;
  // Another builder's daemon that got the same pid later started at another time.
  const started = typeof daemon?.started_at === 'string' ? parseTimestamp(daemon.started_at) : null;
  const procStarted = await processStartedAtMs(pid);
  if (started !== null && procStarted !== null && Math.abs(started - procStarted) > 120_000) return null;
  return pid;
}

/** Wall-clock start of `pid` (epoch ms) from /proc: boot time plus its start in clock ticks (100 Hz). */
async function processStartedAtMs(pid: number): Promise<number | null> {
  const ticks = Number(processStartTime(pid));
  const btime = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8').catch(() => ''))?.[1];
  return Number.isFinite(ticks) && btime ? Number(btime) * 1000 + (ticks / 100) * 1000 : null;
}
