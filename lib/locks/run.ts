/**
 * `coord lock run NAME -- CMD…` (DESIGN.md section 6): hold a lock for the duration of a
 * command, like flock(1) — acquire, run CMD (execa with an argument array, never a shell,
 * stdio inherited), renew at a third of the lease time through transactions, release on
 * exit and on SIGINT/SIGTERM/SIGHUP (the signal is forwarded to CMD first; SIGKILL follows
 * after `killAfterS` if CMD ignores it).
 *
 * A lock found lost while CMD runs (broken by a person, or expired and taken because
 * renewals could not reach the remote) stops CMD: running on without the lock is exactly
 * what the lock exists to prevent.
 */
import os from 'node:os';
import { execa } from 'execa';
import { systemClock } from '../util/time.js';
import type { LockEntry, LockRefusal } from './model.js';
import { acquireLockTx, releaseLockTx, renewLockTx, type LockOpOptions } from './transactions.js';

export interface LockRunOptions extends LockOpOptions {
  name: string;
  /** Lease time (s); default `policy.lease_ttl_s`. */
  ttlS?: number;
  reason?: string;
  /** CMD and its arguments (CMD is looked up in PATH). */
  command: readonly string[];
  /** Seconds to keep trying while the lock is held by someone else. 0: fail at once (like `flock -n`). */
  waitS: number;
  /** Where CMD's standard output goes: inherited, or to our stderr (keeps `--json` stdout one document). */
  childStdout: 'inherit' | 'stderr';
  /** Seconds between a forwarded SIGTERM/SIGINT and SIGKILL. Default 10. */
  killAfterS?: number;
  /** Diagnostics, one line each (the command line prints them on stderr). */
  log: (line: string) => void;
  /** Sleep between acquisition attempts (tests may shorten it). */
  sleep?: (ms: number) => Promise<void>;
}

export type LockRunResult =
  | { status: 'refused'; refusal: LockRefusal }
  /** A signal came while waiting for a held lock: nothing was acquired or run. */
  | { status: 'interrupted'; signal: string; exitCode: number }
  | {
      status: 'ran';
      /** The exit code `coord lock run` should end with: CMD's, 128+N after signal N, 127 not found, 126 not executable. */
      exitCode: number;
      /** CMD's own exit code (null when it did not start or died by a signal). */
      childExitCode: number | null;
      /** The signal that ended CMD, if any. */
      signal: string | null;
      /** The signal we received and forwarded, if any. */
      interruptedBy: string | null;
      /** CMD could not be started: `not_found` (ENOENT) or `not_executable` (EACCES). */
      spawnError: 'not_found' | 'not_executable' | null;
      /** The lock was found lost while CMD ran (CMD was stopped). */
      lost: boolean;
      released: boolean;
      renewals: number;
      entry: LockEntry;
      durationS: number;
    };

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signalExit(sig: string): number {
  return 128 + ((os.constants.signals as Record<string, number>)[sig] ?? 0);
}

/** Acquires (waiting up to `waitS`), runs, renews, releases. Never leaves the lock held on a normal or signalled exit. */
export async function runWithLock(o: LockRunOptions): Promise<LockRunResult> {
  const clock = o.clock ?? systemClock;
  const sleep = o.sleep ?? realSleep;
  let interruptedBy: string | null = null;
  let child: ReturnType<typeof execa> | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interruptedBy && child) {
      child.kill('SIGKILL');
      return;
    }
    interruptedBy = sig;
    o.log(`${sig} received: ${child ? 'forwarding it to the command, then releasing' : 'releasing'} lock ${o.name}`);
    child?.kill(sig);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    // 1. Acquire, waiting while held when asked to.
    const deadline = clock.now() + o.waitS * 1000;
    let acquired: Awaited<ReturnType<typeof acquireLockTx>>;
    let told = false;
    for (;;) {
      acquired = await acquireLockTx({ ...o, name: o.name, ...(o.ttlS ? { ttlS: o.ttlS } : {}), ...(o.reason ? { reason: o.reason } : {}) });
      if (acquired.status !== 'refused' || acquired.refusal.code !== 'E_LOCK_HELD' || interruptedBy) break;
      const left = deadline - clock.now();
      if (left <= 0) break;
      if (!told) { o.log(`waiting up to ${o.waitS}s for ${acquired.refusal.message}`); told = true; }
      const expiresIn = Number(acquired.refusal.details?.expires_in_s ?? 5) * 1000;
      // Poll every 2 s, sooner when the holder's lease runs out earlier (the transaction itself backs off on races).
      await sleep(Math.max(200, Math.min(left, 2000, expiresIn + 500)));
    }
    if (acquired.status === 'refused') {
      return interruptedBy ? { status: 'interrupted', signal: interruptedBy, exitCode: signalExit(interruptedBy) } : { status: 'refused', refusal: acquired.refusal };
    }
    const entry = acquired.entry!;
    const token = entry.token;
    const started = clock.now();
    if (interruptedBy) {
      // Signalled while acquiring: give the lock straight back, run nothing.
      const rel = await releaseLockTx({ ...o, name: o.name, token }).catch(() => null);
      return {
        status: 'ran', entry, renewals: 0, lost: false, exitCode: signalExit(interruptedBy), childExitCode: null, signal: null,
        interruptedBy, spawnError: null, released: rel !== null && rel.status !== 'refused', durationS: 0,
      };
    }

    // 2. Run CMD; renew at a third of the lease time.
    const [file, ...args] = o.command;
    child = execa(file, args, {
      stdin: 'inherit', stdout: o.childStdout === 'inherit' ? 'inherit' : 2, stderr: 'inherit',
      reject: false, env: { COORD_LOCK: o.name }, extendEnv: true,
      forceKillAfterDelay: (o.killAfterS ?? 10) * 1000,
    });
    let renewals = 0;
    let lost = false;
    let stopRenewing = false;
    let timer: NodeJS.Timeout | null = null;
    let inFlight: Promise<void> = Promise.resolve();
    const every = Math.max(500, ((entry.ttl_s ?? o.ttlS ?? 300) * 1000) / 3);
    const renewOnce = async () => {
      try {
        const r = await renewLockTx({ ...o, name: o.name, token });
        if (r.status === 'refused') {
          lost = true;
          o.log(`lock ${o.name} was lost: ${r.refusal.message}; stopping the command`);
          child?.kill('SIGTERM');
          return;
        }
        renewals++;
      } catch (err) {
        o.log(`warning: could not renew lock ${o.name} (${(err as Error).message.split('\n')[0]}); retrying in ${Math.round(every / 1000)}s`);
      }
    };
    const schedule = () => {
      if (stopRenewing || lost) return;
      timer = setTimeout(() => {
        inFlight = renewOnce().then(schedule);
      }, every);
    };
    schedule();
    const r = await child;
    stopRenewing = true;
    if (timer) clearTimeout(timer);
    await inFlight;

    // 3. Release (unless lost), whatever CMD did.
    let released = false;
    if (!lost) {
      try {
        const rel = await releaseLockTx({ ...o, name: o.name, token });
        released = rel.status !== 'refused';
        if (rel.status === 'refused') o.log(`lock ${o.name} not released: ${rel.refusal.message}`);
      } catch (err) {
        o.log(`warning: could not release lock ${o.name} (${(err as Error).message.split('\n')[0]}); it stays held until it expires at ${entry.expires_at} or later renewals lapse`);
      }
    }
    const spawnError = r.code === 'ENOENT' ? 'not_found' as const : r.code === 'EACCES' ? 'not_executable' as const : null;
    const signal = r.signal ?? null;
    const exitCode = spawnError === 'not_found' ? 127 : spawnError === 'not_executable' ? 126
      : typeof r.exitCode === 'number' ? r.exitCode : signal ? signalExit(signal) : 1;
    return {
      status: 'ran', exitCode, childExitCode: typeof r.exitCode === 'number' ? r.exitCode : null, signal, interruptedBy,
      spawnError, lost, released, renewals, entry, durationS: Math.round((clock.now() - started) / 1000),
    };
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}
