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
 *
 * The holder does not wait to find out: when no renewal has landed for the TTL less a safety
 * margin ({@link selfStopMarginMs}) by its own monotonic clock — counted from the moment the
 * last acquire or renewal that succeeded took its decision — it stops CMD the same way
 * (METHODOLOGY.md section 6). An observer judges the lease expired only once it has watched
 * the entry unchanged for the whole TTL, from a first sighting no earlier than the push of
 * that decision (or, for a value it never saw change, from the entry's whole-second
 * timestamp plus `clock_skew_s`); so CMD has been signalled before anyone may take the lock
 * over.
 */
import os from 'node:os';
import { execa } from 'execa';
import { isCoordError, type ErrorCode } from '../errors.js';
import { formatDuration, systemClock } from '../util/time.js';
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
      /**
       * No renewal landed for the TTL less the margin, so CMD was stopped before the lease
       * could run out: the last renewal's error (`code` null when none finished) and the
       * seconds since the lease's last renewal.
       */
      leaseRanOut: { code: ErrorCode | null; reason: string; sinceRenewalS: number } | null;
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

/**
 * How long before its lease runs out the holder stops CMD when renewals fail (ms):
 * max(2 s, ttl/10) — time for CMD to stop after SIGTERM and for clocks that tick at
 * slightly different rates — but at most a quarter of the TTL, so that the renewal due at
 * a third of it still fits on a short lease.
 */
export function selfStopMarginMs(ttlMs: number): number {
  return Math.min(ttlMs / 4, Math.max(2000, ttlMs / 10));
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
    let attemptMono = clock.monotonic();
    for (;;) {
      attemptMono = clock.monotonic();
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
        status: 'ran', entry, renewals: 0, lost: false, leaseRanOut: null, exitCode: signalExit(interruptedBy), childExitCode: null, signal: null,
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
    const ttlMs = (entry.ttl_s ?? o.ttlS ?? 300) * 1000;
    const every = Math.max(500, ttlMs / 3);
    // After a failed renewal, try again sooner, so that one landing soon after the remote
    // returns keeps CMD running.
    const retry = Math.min(every, Math.max(1000, ttlMs / 10));
    const deadlineMs = ttlMs - selfStopMarginMs(ttlMs);
    // The moment the lease now on the remote counts from (monotonic ms): when the decision
    // that wrote it was taken (before its push, so no observer can start counting earlier).
    let leaseFrom = acquired.decidedMono ?? attemptMono;
    let lastFailure: { code: ErrorCode | null; reason: string } | null = null;
    let leaseRanOut: Extract<LockRunResult, { status: 'ran' }>['leaseRanOut'] = null;
    let watchdog: NodeJS.Timeout | null = null;
    const checkLease = () => {
      if (stopRenewing || lost || leaseRanOut) return;
      const since = clock.monotonic() - leaseFrom;
      if (since < deadlineMs) {
        watchdog = setTimeout(checkLease, Math.max(50, deadlineMs - since));
        return;
      }
      const failure = lastFailure ?? { code: null, reason: 'no renewal finished: the remote does not answer' };
      leaseRanOut = { ...failure, sinceRenewalS: Math.round(since / 1000) };
      stopRenewing = true;
      if (timer) clearTimeout(timer);
      o.log(`lock ${o.name} could not be renewed for ${formatDuration(since)} (${failure.reason}); its ${formatDuration(ttlMs)} lease runs out in ${formatDuration(ttlMs - since)}, after which another machine may take it over: stopping the command`);
      child?.kill('SIGTERM');
    };
    watchdog = setTimeout(checkLease, Math.max(50, deadlineMs - (clock.monotonic() - leaseFrom)));
    const renewOnce = async (): Promise<boolean> => {
      try {
        const r = await renewLockTx({ ...o, name: o.name, token });
        if (r.status === 'refused') {
          lost = true;
          o.log(`lock ${o.name} was lost: ${r.refusal.message}; stopping the command`);
          child?.kill('SIGTERM');
          return false;
        }
        renewals++;
        lastFailure = null;
        leaseFrom = Math.max(leaseFrom, r.decidedMono ?? leaseFrom);
        return true;
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0] ?? '';
        lastFailure = { code: isCoordError(err) ? err.code : null, reason };
        if (!stopRenewing) o.log(`warning: could not renew lock ${o.name} (${reason}); retrying in ${formatDuration(retry)}`);
        return false;
      }
    };
    // Renewals fall due a third of the TTL after the lease they extend was decided (not after
    // the previous renewal finished, which would let slow renewals drift toward the deadline).
    const schedule = (delay: number) => {
      if (stopRenewing || lost) return;
      timer = setTimeout(() => {
        inFlight = renewOnce().then((ok) => schedule(ok ? Math.max(0, leaseFrom + every - clock.monotonic()) : retry));
      }, delay);
    };
    schedule(Math.max(0, leaseFrom + every - clock.monotonic()));
    const r = await child;
    stopRenewing = true;
    if (timer) clearTimeout(timer);
    if (watchdog) clearTimeout(watchdog);
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
      spawnError, lost, leaseRanOut, released, renewals, entry, durationS: Math.round((clock.now() - started) / 1000),
    };
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}
