/**
 * `coord doctor`'s result model and its pure judgements (no I/O): disk space, heartbeat
 * freshness and clock skew against peers. The checks that gather the facts are in
 * local-checks.ts, service-checks.ts and remote-checks.ts; run.ts puts them together.
 *
 * Every check ends `ok`, `warning` (worth a look, not a fault: clock skew, little disk),
 * `problem` (the set-up is broken: this builder will not work as it should) or `skipped`
 * (not applicable, e.g. setup ran with `--no-cron`). A problem or warning carries a fix.
 * Exit code: 0 when no check found a problem, {@link DOCTOR_PROBLEM_EXIT} otherwise.
 */
import { heartbeatHealth, type SeenValue } from '../heartbeat/observe.js';

export type CheckStatus = 'ok' | 'warning' | 'problem' | 'skipped';

export type CheckId =
  | 'identity' | 'git-identity' | 'hooks' | 'merge-driver' | 'links' | 'files'
  | 'remote' | 'heartbeat' | 'clock-skew' | 'cron' | 'systemd' | 'disk';

/** One line of the doctor's report. */
export interface DoctorCheck {
  id: CheckId;
  status: CheckStatus;
  /** What was found, for people. */
  detail: string;
  /** What to do (a command where there is one); null when nothing needs doing. */
  fix: string | null;
}

export interface DoctorReport {
  /** True when no check found a problem (warnings allowed). */
  ok: boolean;
  builder: string | null;
  repo: string;
  /** Where system files were looked for: `/`, or the setup's `--prefix`. */
  prefix: string;
  checks: DoctorCheck[];
  counts: Record<CheckStatus, number>;
}

/** Exit code when a problem was found: 3, as for invalid data (DESIGN.md section 9). */
export const DOCTOR_PROBLEM_EXIT = 3;

export function check(id: CheckId, status: CheckStatus, detail: string, fix: string | null = null): DoctorCheck {
  return { id, status, detail, fix };
}

export function summarize(repo: string, builder: string | null, prefix: string, checks: DoctorCheck[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { ok: 0, warning: 0, problem: 0, skipped: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.problem === 0, builder, repo, prefix, checks, counts };
}

export function doctorExitCode(r: DoctorReport): number {
  return r.ok ? 0 : DOCTOR_PROBLEM_EXIT;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Below this much free space the repository's file system is a problem: 1 GiB. */
export const DISK_PROBLEM_BYTES = GiB;
/** Below this much (or below {@link DISK_WARNING_FRACTION}) it is a warning: 5 GiB. */
export const DISK_WARNING_BYTES = 5 * GiB;
export const DISK_WARNING_FRACTION = 0.1;

/**
 * Free space of the repository's file system (job workspaces and artifacts live under
 * `.git/coord/`, so builds fill this one).
 * @param freeBytes available to unprivileged users (statfs `bavail`)
 */
export function judgeDisk(path: string, freeBytes: number, totalBytes: number): DoctorCheck {
  const pct = totalBytes > 0 ? (freeBytes / totalBytes) * 100 : 0;
  const detail = `${path}: ${(freeBytes / GiB).toFixed(1)} GiB free of ${(totalBytes / GiB).toFixed(1)} GiB (${pct.toFixed(0)}%)`;
  const fix = `free space on that file system (old job workspaces: ${path}/.git/coord/work, artifacts: .git/coord/artifacts)`;
  if (freeBytes < DISK_PROBLEM_BYTES) return check('disk', 'problem', detail, fix);
  if (freeBytes < DISK_WARNING_BYTES || freeBytes < totalBytes * DISK_WARNING_FRACTION) return check('disk', 'warning', detail, fix);
  return check('disk', 'ok', detail);
}

/** What is known about this builder's heartbeat ref. */
export interface HeartbeatFacts {
  builder: string;
  /** The commit on the remote's `refs/coord/heartbeats/<builder>`, null when absent. */
  remoteCommit: string | null;
  /** This observer's entry for that commit (lib/heartbeat/observe.ts), null when unknown. */
  seen: SeenValue | null;
  /** The heartbeat's own state (`offline` after a clean shutdown). */
  state: string | null;
  intervalS: number;
  now: number;
}

/**
 * Fresh means healthy by the observer rule of DESIGN.md section 5: the ref changed within 3
 * heartbeat intervals of this machine's elapsed time.
 * @param fixHint how heartbeats are supposed to come (cron entry, systemd unit), for the fix
 */
export function judgeHeartbeat(f: HeartbeatFacts, fixHint: string): DoctorCheck {
  const ref = `refs/coord/heartbeats/${f.builder}`;
  if (!f.remoteCommit) {
    return check('heartbeat', 'problem', `${ref} is not on the remote: ${f.builder} has never published a heartbeat`, `run coord heartbeat once and look at its output; then ${fixHint}`);
  }
  if (!f.seen) return check('heartbeat', 'problem', `${ref} could not be read (fetch failed)`, 'see the remote check');
  const ageMs = Math.max(0, f.now - f.seen.first_seen);
  const health = heartbeatHealth(ageMs, f.intervalS, f.state === 'offline');
  const age = `${Math.round(ageMs / 1000)} s old (${f.seen.source === 'observed' ? 'by this machine\'s observation' : 'by its timestamp'})`;
  if (health === 'healthy') return check('heartbeat', 'ok', `${ref} ${age}`);
  const why = f.state === 'offline' ? 'the daemon stopped cleanly (its last heartbeat says offline)' : `${health}: more than ${health === 'offline' ? 10 : 3} heartbeat intervals of ${f.intervalS} s`;
  return check('heartbeat', 'problem', `${ref} ${age}: ${why}`, fixHint);
}

/** A peer's current heartbeat as this observer sees it. */
export interface PeerHeartbeat {
  builder: string;
  commit: string;
  /** The heartbeat's timestamp by the peer's clock (epoch ms). */
  timestampMs: number;
  /** This observer's entry from before this run, when it had one for the same commit. */
  seenBefore: SeenValue | null;
}

/**
 * Clock skew against peers (a warning at most: judgements of liveness and leases never
 * rely on other clocks, DESIGN.md section 5, but timestamps people read do).
 *
 * - A peer's heartbeat stamped later than this machine's now by more than `skewS` means its
 *   clock is ahead (or ours behind): unambiguous.
 * - When this machine saw the commit appear itself (`observed`), the peer stamped it at most
 *   the observation gap before: a stamp older than `first_seen` by more than two heartbeat
 *   intervals plus `skewS` suggests the peer's clock is behind — or that it pushed late, so
 *   it is reported as "may be".
 */
export function judgeClockSkew(peers: readonly PeerHeartbeat[], now: number, skewS: number, intervalS: number): DoctorCheck {
  if (!peers.length) return check('clock-skew', 'ok', 'no peer heartbeats to compare with');
  const notes: string[] = [];
  for (const p of peers) {
    const ahead = p.timestampMs - now;
    if (ahead > skewS * 1000) { notes.push(`${p.builder}'s clock is about ${Math.round(ahead / 1000)} s ahead of this machine's`); continue; }
    if (p.seenBefore && p.seenBefore.source === 'observed' && p.seenBefore.value === p.commit) {
      const behind = p.seenBefore.first_seen - p.timestampMs;
      if (behind > (2 * intervalS + skewS) * 1000) notes.push(`${p.builder}'s clock may be about ${Math.round(behind / 1000)} s behind this machine's (or it pushes late)`);
    }
  }
  const compared = `compared with ${peers.map((p) => p.builder).join(', ')} (allowed: ${skewS} s)`;
  if (!notes.length) return check('clock-skew', 'ok', compared);
  return check('clock-skew', 'warning', `${notes.join('; ')}; ${compared}`, 'keep every builder on NTP (timedatectl set-ntp true, or chrony); timestamps in files are for people, but skew makes them misleading');
}
