/**
 * The builder daemon (DESIGN.md sections 4–6): beats, reports status, claims the jobs it
 * may run, runs them, renews their leases, requeues peers' expired leases, and reports
 * back — every shared write through the transaction engine. Loop errors (remote down, an
 * invalid file pushed by someone) are logged and shown as `degraded`; the daemon never
 * exits on them. SIGTERM/SIGINT drain: stop claiming, let jobs finish for
 * `policy.drain_timeout_s`, then stop and requeue them, beat `offline`, exit 0.
 * One daemon per builder and fleet on a machine: {@link Daemon.run} takes the daemon lock
 * (./daemon-lock.ts) first and refuses (E_LOCK_HELD) while another live daemon holds it.
 */
import os from 'node:os';
import path from 'node:path';
import { statusPath } from '../store/kinds.js';
import type { StatusFile } from '../schemas/types.gen.js';
import { CoordError, isCoordError } from '../errors.js';
import { classifyTransportFailure } from '../git/classify.js';
import { coordStateDir, DEFAULT_REMOTE, fetchBranch, readFilesAt, resolveCommit, trackingRef, type RemoteSpec } from '../git/repo.js';
import { HEARTBEAT_FETCH_REFSPEC, readSeenHeartbeats } from '../heartbeat/refs.js';
import { leaseExpired, leaseWriterTime, loadObservations, noteLook, observe, recordObservations, type SeenValue } from '../heartbeat/observe.js';
import { pickNextJob, type BuilderFacts, type Claim, type JobRecord } from '../jobs/model.js';
import { systemClock, formatTimestamp, parseTimestamp, type Clock } from '../util/time.js';
import { machineArch } from '../commands/init.js';
import { readFleetState, type FleetState } from './fleet-state.js';
import { scheduleDueSlot } from '../schedules/model.js';
import { startJob, tailOf, type RunningJob, type RunOutcome } from './runner.js';
import { attemptsRunningFor, killJobTree } from './process-tree.js';
import { machineFacts, readSystemFigures } from './system.js';
import { buildHeartbeat, buildStatus, statusNeedsWrite, type StatusInput } from './status.js';
import * as tx from './transactions.js';
import { pendingCommits } from '../tx/pending.js';
import { acquireDaemonLock, liveDaemonHolder, liveDaemonPid, type DaemonLock } from './daemon-lock.js';

export interface DaemonOptions {
  repoRoot: string;
  builder: string;
  clock?: Clock;
  /** One cycle: beat, claim up to capacity, run those jobs to the end, report, exit. */
  once?: boolean;
  /** Claim/poll period (ms). Default: min(5 s, heartbeat interval). */
  pollMs?: number;
  log: (line: string) => void;
  remote?: RemoteSpec;
  version?: string;
}

interface Active {
  claim: Claim;
  job: JobRecord;
  run: RunningJob;
  startedAt: number;
  lastRenew: number;
  logFile: string;
  result: RunOutcome | null;
  stopReason: string | null;
}

/** The degraded reason `coord heartbeat` publishes when no daemon of this builder is alive. */
export const DAEMON_NOT_RUNNING = 'daemon not running';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Daemon {
  private readonly o: DaemonOptions;
  private readonly clock: Clock;
  private readonly spec: RemoteSpec;
  private readonly active = new Map<string, Active>();
  private draining = false;
  private stopped = false;
  private degraded: StatusFile['degraded'] = null;
  /** True in `coord heartbeat` without a live daemon: the beat names no daemon. */
  private standalone = false;
  private lastBeat = 0;
  /** The figures and sequence of the last heartbeat built, reused by the status that rides in a claim or completion commit. */
  private lastFigures: { system: StatusInput['system']; sequence: number } = { system: {}, sequence: 0 };
  private lastHousekeeping = 0;
  private strayCheckDone = false;
  /** A status commit may sit in refs/coord/pending (an earlier run, or an outage since). */
  private mayHaveQueued = true;
  private readonly reasonsLogged = new Set<string>();
  private consecutiveFailures = 0;
  private lastBuild: StatusFile['last_build'] = null;
  private readonly startedAt: number;
  private wake: (() => void) | null = null;
  private stateDir = '';
  private lock: DaemonLock | null = null;

  constructor(o: DaemonOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.spec = o.remote ?? DEFAULT_REMOTE;
    this.startedAt = this.clock.now();
  }

  private log(msg: string): void {
    this.o.log(`${formatTimestamp(this.clock.now())} ${this.o.builder} ${msg}`);
  }

  /** Asks the daemon to drain and stop (idempotent). */
  requestStop(): void {
    if (!this.draining) this.log('draining: no new claims; running jobs may finish');
    this.draining = true;
    this.wake?.();
  }

  /** Second signal: stop running jobs now and requeue them. */
  forceStop(): void {
    this.requestStop();
    this.log('stopping running jobs now; they will be requeued');
    void this.stopAll('shutdown').then(() => this.wake?.());
  }

  /**
   * One heartbeat for cron (`coord heartbeat`): publishes the heartbeat ref and refreshes
   * `main`'s status when needed. When a daemon of this builder is alive on this machine,
   * only the ref is published (the daemon owns the status).
   */
  async heartbeatOnce(): Promise<{ published: boolean; statusWritten: boolean; daemonAlive: boolean }> {
    this.stateDir = await coordStateDir(this.o.repoRoot);
    const fail = await fetchBranch(this.o.repoRoot, this.spec, [HEARTBEAT_FETCH_REFSPEC]);
    if (fail) this.setDegraded(`remote unreachable: ${classifyTransportFailure(fail).detail.split('\n')[0]}`);
    let state: FleetState | null = null;
    try { state = await readFleetState(this.o.repoRoot, this.spec, this.o.builder, this.clock.now()); } catch (err) { this.setDegraded((err as Error).message); }
    // Alive: a live process holds this builder's daemon lock (the heartbeat never takes
    // it), or status.json names a live `coord daemon` process other than ours (one under
    // systemd's PrivateTmp, whose lock we cannot see; a pid since reused does not count).
    const holder = await liveDaemonHolder(this.o.repoRoot, this.o.builder, this.spec.remote).catch(() => null);
    const pid = state?.ownStatus ? await liveDaemonPid(JSON.stringify(state.ownStatus)) : null;
    const daemonAlive = Boolean((holder && holder.pid !== process.pid) || (pid !== null && pid !== process.pid));
    this.lastBeat = 0;
    if (daemonAlive) {
      const seq = await tx.nextSequence(this.o.repoRoot, this.o.builder);
      const input = { ...this.statusInput(state, await readSystemFigures(this.o.repoRoot), seq), state: state?.ownStatus?.state ?? 'idle' };
      const r = await tx.publishBeat(this.o.repoRoot, this.spec, buildHeartbeat(input, this.clock.now()), this.clock.now());
      return { published: r.pushed, statusWritten: false, daemonAlive };
    }
    // Nothing claims jobs here: say so (health `degraded`), and name no daemon pid, so the
    // status stays the same from one cron minute to the next and main is not rewritten.
    this.standalone = true;
    const reason = [this.degraded?.reason, `${DAEMON_NOT_RUNNING} (beat from coord heartbeat; start it: systemctl start build-coord-${this.o.builder}, or coord daemon)`].filter(Boolean).join('; ');
    const prev = state?.ownStatus?.degraded;
    this.degraded = { since: prev?.reason === reason ? prev.since : formatTimestamp(this.clock.now()), reason };
    const before = state?.ownStatus?.updated_at;
    await this.beat(state);
    const after = await readFleetState(this.o.repoRoot, this.spec, this.o.builder, this.clock.now()).catch(() => null);
    return { published: this.lastBeat > 0, statusWritten: after?.ownStatus?.updated_at !== before, daemonAlive };
  }

  /**
   * Runs until stopped (or one cycle with `once`), holding the daemon lock of this builder
   * for the whole run. Never rejects on loop errors.
   * @throws CoordError E_LOCK_HELD (exit 4), before anything is written, when another live
   *   daemon of this builder (same clone, or another clone of the same fleet) holds the lock
   */
  async run(): Promise<void> {
    this.stateDir = await coordStateDir(this.o.repoRoot);
    this.lock = await acquireDaemonLock(this.o.repoRoot, this.o.builder, this.startedAt, this.spec.remote);
    try {
      await this.refuseIfStatusNamesLiveDaemon();
      await this.runLocked();
    } finally {
      this.lock.release();
      this.lock = null;
    }
  }

  /**
   * The lock lives in $TMPDIR, which systemd's PrivateTmp makes private to the unit: a daemon
   * started by hand would not see the unit's lock. The pid status.json on main names is the
   * second witness (checked live in /proc, so a stale or reused pid does not count).
   * @throws CoordError E_LOCK_HELD (exit 4) naming that daemon
   */
  private async refuseIfStatusNamesLiveDaemon(): Promise<void> {
    await fetchBranch(this.o.repoRoot, this.spec, []);
    const head = await resolveCommit(this.o.repoRoot, trackingRef(this.spec)).catch(() => null);
    const bytes = head ? (await readFilesAt(this.o.repoRoot, head, [statusPath(this.o.builder)]).catch(() => null))?.get(statusPath(this.o.builder)) : null;
    const pid = await liveDaemonPid(bytes ? bytes.toString('utf8') : null);
    if (pid && pid !== process.pid) {
      throw new CoordError('E_LOCK_HELD',
        `another daemon for ${this.o.builder} is running: pid ${pid} on this machine (named by ${statusPath(this.o.builder)} on main; its lock is not visible from here, e.g. under systemd's PrivateTmp). ` +
        `Stop it first (systemctl stop build-coord-${this.o.builder}, or kill ${pid}) if you mean to replace it`,
        { details: { pid } });
    }
  }

  private async runLocked(): Promise<void> {
    this.log(`daemon started (pid ${process.pid})`);
    let drainDeadline = 0;
    for (;;) {
      const state = await this.tick();
      if (this.o.once) {
        while ([...this.active.values()].some((a) => !a.result)) await sleep(200);
        await this.tick();
        if (![...this.active.values()].length) break;
        continue;
      }
      if (this.draining) {
        const drainS = state?.policy.drain_timeout_s ?? 600;
        if (!drainDeadline) drainDeadline = this.clock.now() + drainS * 1000;
        if (!this.active.size) break;
        if (this.clock.now() >= drainDeadline) {
          await this.stopAll('shutdown');
          await this.tick();
          if (!this.active.size) break;
        }
      }
      const poll = this.o.pollMs ?? Math.min(5000, (state?.policy.heartbeat_interval_s ?? 60) * 1000);
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, this.draining ? Math.min(poll, 500) : poll); });
      this.wake = null;
    }
    await this.shutdownBeat();
    this.stopped = true;
    this.log('daemon stopped');
  }

  private async stopAll(reason: 'shutdown' | 'cancelled'): Promise<void> {
    await Promise.all([...this.active.values()].filter((a) => !a.result).map(async (a) => {
      a.stopReason = reason;
      await a.run.stop(reason);
    }));
  }

  /** One cycle. Returns the fleet state it worked from (null when unavailable). */
  private async tick(): Promise<FleetState | null> {
    const now = this.clock.now();
    let state: FleetState | null = null;
    try {
      const fail = await fetchBranch(this.o.repoRoot, this.spec, [HEARTBEAT_FETCH_REFSPEC]);
      if (fail) throw new Error(`remote unreachable: ${classifyTransportFailure(fail).detail.split('\n')[0]}`);
      state = await readFleetState(this.o.repoRoot, this.spec, this.o.builder, now);
      this.degraded = null;
    } catch (err) {
      this.setDegraded((err as Error).message);
    }
    const steps: [string, () => Promise<void>][] = [
      ['stop stray attempts', () => this.stopStrayAttempts(state)],
      ['recover orphaned claims', () => this.recoverOrphans(state)],
      ['report finished jobs', () => this.reportFinished(state)],
      ['watch own jobs', () => this.watchOwnJobs(state)],
      ['requeue expired leases', () => this.expirePeers(state)],
      ['schedules', () => this.enqueueSchedules(state)],
      ['claim', () => this.claimJobs(state)],
      ['heartbeat', () => this.beat(state)],
      ['housekeeping', () => this.housekeeping(state)],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (err) {
        this.setDegraded(`${name}: ${(err as Error).message.split('\n')[0]}`);
        this.log(`error in ${name}: ${(err as Error).message}`);
      }
    }
    if (!this.degraded && this.reasonsLogged.size) {
      this.reasonsLogged.clear();
      this.log('no longer degraded');
    }
    return state;
  }

  private setDegraded(reason: string): void {
    // Each reason is logged once per degraded spell (an outage alternates "remote
    // unreachable" and "heartbeat not published" every poll; the log said both each time).
    if (!this.reasonsLogged.has(reason)) {
      this.reasonsLogged.add(reason);
      this.log(`degraded: ${reason}`);
    }
    this.degraded = { since: this.degraded?.since ?? formatTimestamp(this.clock.now()), reason: reason.slice(0, 2000) };
  }

  private facts(state: FleetState, sys: { cpu: number | null; mem: number | null }): BuilderFacts {
    const cfg = state.config?.builders?.[this.o.builder] ?? {};
    const g = state.jobs.grounded?.[this.o.builder];
    const groundedNow = Boolean(g && !(g.until && (parseTimestamp(g.until) ?? Infinity) <= this.clock.now()));
    return {
      builder: this.o.builder, arch: cfg.arch ?? machineArch(), labels: cfg.labels ?? [],
      grounded: groundedNow, running: this.active.size, maxConcurrent: cfg.max_concurrent_jobs ?? 1,
      cpuPercent: sys.cpu, memoryPercent: sys.mem, maxCpuPercent: cfg.max_cpu_percent ?? 100, maxMemoryPercent: cfg.max_memory_percent ?? 100,
    };
  }

  private async claimJobs(state: FleetState | null): Promise<void> {
    if (!state || this.draining || this.stopped) return;
    if (state.config && !state.config.builders?.[this.o.builder]) {
      // Removed from the build config while running (decommissioned): say so, claim nothing.
      this.setDegraded(`${this.o.builder} is not in shared/build_config.json any more: it claims nothing; stop this daemon, or add the builder back`);
      return;
    }
    const lock = state.locks.locks.job_assignment;
    const skew = state.policy.clock_skew_s * 1000;
    const holder = lock && (parseTimestamp(lock.expires_at) ?? 0) + skew > this.clock.now() ? lock.locked_by : null;
    for (;;) {
      const cur: FleetState = state;
      const facts = this.facts(cur, { cpu: null, mem: null });
      if (!pickNextJob(cur.jobs, facts, cur.config, holder, this.clock.now())) return;
      const out = await tx.claimNext(this.o.repoRoot, this.spec, this.o.builder, (jobs, now) => pickNextJob(jobs, { ...facts, running: this.active.size }, cur.config, holder, now),
        (job) => this.statusAfter(cur, { running: [{ id: job.id, type: job.type, attempt: job.attempt ?? 1, started_at: job.started_at ?? formatTimestamp(this.clock.now()) }] }));
      if (!out) return;
      const { job, config } = out;
      const type = config?.job_types?.[job.type];
      if (!type) return;
      this.log(`claimed ${job.id} (${job.type}, priority ${job.priority}, attempt ${job.attempt})`);
      const workDir = path.join(this.stateDir, 'work', `${job.id}-${job.attempt}`);
      const logFile = path.join(this.stateDir, 'logs', `${job.id}.log`);
      const run = startJob({ job, type, builder: this.o.builder, repoRoot: this.o.repoRoot, workDir, logFile, artifactDir: path.join(this.stateDir, 'artifacts', job.id) });
      const a: Active = { claim: { id: job.id, builder: this.o.builder, attempt: job.attempt }, job, run, startedAt: parseTimestamp(job.started_at ?? '') ?? this.clock.now(), lastRenew: this.clock.now(), logFile, result: null, stopReason: null };
      this.active.set(job.id, a);
      void run.done.then((r) => { a.result = r; this.wake?.(); });
      // Re-read so the next pick sees this claim.
      state = await readFleetState(this.o.repoRoot, this.spec, this.o.builder, this.clock.now());
    }
  }

  /**
   * Jobs `running` on this builder that this process does not run: claims of an earlier run
   * of this daemon that ended without reporting them (SIGKILL, crash, power loss). Peers
   * never expire them — this builder keeps beating — so the daemon gives them up itself:
   * it kills what is left of that attempt's process tree (found by its tags) and ends the
   * attempt as a lost lease, requeued while attempts are left. Runs before reporting, so a
   * job that just finished here is still in `active`.
   *
   * Only while this process holds the daemon lock (no other live daemon of this builder on
   * this machine), and only for a claim that is provably nobody's: claimed before this
   * process started, and its lease not renewed since — judged once a live owner would have
   * renewed it (`lease_ttl_s / 3` after its last renewal, plus a poll and slack), so a
   * daemon of the same builder elsewhere (a misconfigured second machine) keeps its job.
   * That wait is skipped when main's status.json proves the earlier run was this machine's
   * and is dead (its `daemon.host` is this host, started before this process, and its pid
   * is no live coord daemon): a daemon restarted after a crash requeues at once.
   */
  private async recoverOrphans(state: FleetState | null): Promise<void> {
    if (!state || !this.lock) return;
    const now = this.clock.now();
    const ttlMs = state.policy.lease_ttl_s * 1000;
    const orphans = state.jobs.jobs.filter((j) => j.status === 'running' && j.assigned_to === this.o.builder && !this.active.has(j.id));
    if (!orphans.length) return; // the usual tick: nothing to prove, no /proc reads
    const prev = state.ownStatus?.daemon;
    const prevStarted = parseTimestamp(prev?.started_at ?? '');
    const earlierRunHereIsDead = Boolean(prev && prev.host === os.hostname() && prev.pid !== process.pid &&
      prevStarted !== null && prevStarted <= this.startedAt && (await liveDaemonPid(JSON.stringify(state.ownStatus))) === null);
    const renewWindowMs = earlierRunHereIsDead ? 0 : Math.max(ttlMs / 2, ttlMs / 3 + 5000);
    for (const j of orphans) {
      const attempt = j.attempt ?? 0;
      const claimedAt = parseTimestamp((j.history ?? []).find((h) => h.attempt === attempt)?.claimed_at ?? j.started_at ?? '');
      if (claimedAt !== null && claimedAt >= this.startedAt) continue; // claimed since this daemon started
      const writer = leaseWriterTime(j.lease_expires_at, state.policy.lease_ttl_s);
      if (writer !== null && (writer >= this.startedAt || now < writer + renewWindowMs)) continue; // renewed lately: may have a live owner
      await killJobTree(undefined, { jobId: j.id, builder: this.o.builder, attempt }, 2000);
      if (await tx.recoverOrphan(this.o.repoRoot, this.spec, j.id, attempt, this.o.builder, j.lease_expires_at ?? null)) {
        this.log(`requeued ${j.id}: attempt ${attempt} was claimed by an earlier run of this daemon that never reported it`);
      }
    }
  }

  /**
   * Once, at the first tick with state: processes an earlier run of this daemon left behind
   * for attempts that are over — a peer expired the lease, or the job was cancelled, while
   * the daemon was down — are stopped (process tree by tags, SIGTERM then SIGKILL). Only
   * attempts of jobs this fleet's jobs.json knows and no longer runs on this builder with
   * that attempt: another fleet's build1 on the same machine, or an attempt still `running`
   * here (recoverOrphans judges those), is left alone.
   */
  private async stopStrayAttempts(state: FleetState | null): Promise<void> {
    if (!state || !this.lock || this.strayCheckDone) return;
    this.strayCheckDone = true;
    for (const t of await attemptsRunningFor(this.o.builder)) {
      if (this.active.get(t.jobId)?.claim.attempt === t.attempt) continue;
      const j = state.jobs.jobs.find((x) => x.id === t.jobId);
      if (!j) continue;
      if (j.status === 'running' && j.assigned_to === this.o.builder && j.attempt === t.attempt) continue;
      this.log(`stopping ${t.pids.length} process(es) left by an earlier run for ${t.jobId} attempt ${t.attempt} (the job is now ${j.status}${j.assigned_to && j.assigned_to !== this.o.builder ? ` on ${j.assigned_to}` : ''})`);
      await killJobTree(undefined, { jobId: t.jobId, builder: this.o.builder, attempt: t.attempt }, 2000);
    }
  }

  private async watchOwnJobs(state: FleetState | null): Promise<void> {
    if (!state) return;
    const now = this.clock.now();
    for (const a of this.active.values()) {
      if (a.result) continue;
      const j = state.jobs.jobs.find((x) => x.id === a.claim.id);
      const ours = j && j.status === 'running' && j.assigned_to === a.claim.builder && j.attempt === a.claim.attempt;
      if (!ours) {
        this.log(`lease lost on ${a.claim.id} (now ${j?.status ?? 'gone'} on ${j?.assigned_to ?? 'nobody'}); stopping its processes`);
        a.stopReason = 'lease_lost';
        await a.run.stop('lease_lost');
        continue;
      }
      if (j.cancel_requested && !a.stopReason) {
        this.log(`cancel requested for ${a.claim.id}; stopping its process tree`);
        a.stopReason = 'cancelled';
        await a.run.stop('cancelled');
        continue;
      }
      if (now - a.lastRenew >= (state.policy.lease_ttl_s * 1000) / 3) {
        const tail = await tailOf(a.logFile, state.policy.log_tail_bytes);
        const ok = await tx.renew(this.o.repoRoot, this.spec, a.claim, tail);
        if (ok) a.lastRenew = now;
        else {
          this.log(`lease lost on ${a.claim.id} while renewing; stopping its processes`);
          a.stopReason = 'lease_lost';
          await a.run.stop('lease_lost');
        }
      }
    }
  }

  private async reportFinished(state: FleetState | null): Promise<void> {
    for (const a of [...this.active.values()]) {
      if (!a.result) continue;
      if (a.stopReason === 'lease_lost') {
        this.log(`discarding the result of ${a.claim.id} attempt ${a.claim.attempt}: the lease was lost`);
        this.active.delete(a.claim.id);
        continue;
      }
      const policy = state?.policy;
      const tail = await tailOf(a.logFile, policy?.log_tail_bytes ?? 65536);
      if (a.stopReason === 'shutdown') {
        await tx.requeue(this.o.repoRoot, this.spec, a.claim, `requeued: ${this.o.builder} shut down`, tail);
        this.log(`requeued ${a.claim.id} (shutdown)`);
        this.active.delete(a.claim.id);
        continue;
      }
      const failed = a.result.outcome === 'failed' || a.result.outcome === 'timed_out';
      const failures = failed ? this.consecutiveFailures + 1 : a.result.outcome === 'completed' ? 0 : this.consecutiveFailures;
      const groundAfter = policy?.ground_after_failures ?? 3;
      const ground = failed && failures >= groundAfter ? { reason: `${failures} consecutive failures (last: ${a.claim.id})`, cooldownS: policy?.ground_cooldown_s ?? 1800 } : null;
      const result = a.result;
      // The last_build the commit carries (the attempt's last try wins), so the next beat
      // finds main's status already current.
      let committed: StatusFile['last_build'] = null;
      const lastBuild = (now: number): NonNullable<StatusFile['last_build']> =>
        (committed = { id: a.claim.id, status: result.outcome, completed_at: formatTimestamp(now), duration_seconds: result.durationS });
      const out = await tx.complete(this.o.repoRoot, this.spec, a.claim, result, tail, ground,
        state ? (now) => this.statusAfter(state, {
          without: a.claim.id, lastBuild: lastBuild(now), consecutiveFailures: failures,
          ...(ground ? { grounded: { since: formatTimestamp(now), reason: ground.reason, until: formatTimestamp(now + ground.cooldownS * 1000), by: this.o.builder } } : {}),
        })(now) : undefined);
      if (out === 'lease_lost') this.log(`late completion of ${a.claim.id} attempt ${a.claim.attempt} discarded: the lease was lost meanwhile`);
      else {
        this.log(`${a.claim.id} ${result.outcome}${result.exitCode !== null ? ` (exit ${result.exitCode})` : ''} in ${result.durationS}s`);
        this.consecutiveFailures = failures;
        this.lastBuild = committed ?? lastBuild(this.clock.now());
        if (ground) this.log(`grounded: ${ground.reason}`);
      }
      this.active.delete(a.claim.id);
    }
  }

  private async enqueueSchedules(state: FleetState | null): Promise<void> {
    if (!state || this.draining) return;
    for (const s of state.schedules.schedules) {
      let due: string | null;
      try {
        due = scheduleDueSlot(s, this.clock.now());
      } catch {
        continue; // an invalid expression: coord validate / schedule list report it
      }
      if (!due) continue;
      const id = await tx.enqueueDueSlot(this.o.repoRoot, this.spec, this.o.builder, s.id);
      if (id) this.log(`enqueued ${id} (schedule ${s.id})`);
    }
  }

  /**
   * Requeues peers' expired leases, judged by this observer's watched time (METHODOLOGY.md
   * section 5): a tick without state (main could not be fetched or read) is a failed look,
   * and the time until the next good look does not count against anyone's lease — the
   * holder could not renew while the remote was down, and this daemon could not have seen it.
   */
  private async expirePeers(state: FleetState | null): Promise<void> {
    const now = this.clock.now();
    if (!state) {
      const before = await loadObservations(this.o.repoRoot);
      if (before.sight.failed_since === null) await recordObservations(this.o.repoRoot, { look: { ok: false, at: now } });
      return;
    }
    const obs = await loadObservations(this.o.repoRoot);
    const sight = noteLook(obs.sight, true, now);
    const heartbeats: Record<string, SeenValue> = {};
    const seen = await readSeenHeartbeats(this.o.repoRoot);
    for (const [b, hb] of seen) heartbeats[b] = observe(obs.heartbeats, b, hb.commit, now, parseTimestamp(hb.heartbeat.timestamp));
    const ttl = state.policy.lease_ttl_s;
    const grace = Math.max(state.policy.clock_skew_s, Math.ceil(ttl / 5));
    for (const j of state.jobs.jobs) {
      if (j.status !== 'running' || !j.assigned_to) continue;
      const lease = observe(obs.leases, j.id, `${j.attempt}|${j.lease_expires_at ?? ''}`, now, leaseWriterTime(j.lease_expires_at, ttl));
      if (j.assigned_to === this.o.builder) continue;
      if (leaseExpired(lease, obs.heartbeats[j.assigned_to], now, ttl, grace, sight)) {
        const done = await tx.expire(this.o.repoRoot, this.spec, j.id, j.attempt ?? 0, this.o.builder);
        if (done) this.log(`requeued ${j.id}: lease of ${j.assigned_to} expired (attempt ${j.attempt})`);
      }
    }
    const gone = Object.keys(obs.leases).filter((id) => !state.jobs.jobs.some((j) => j.id === id && j.status === 'running'));
    for (const id of gone) delete obs.leases[id];
    // Merged into the file (not overwritten): a lock command of this clone may have noted a
    // look or a lock sighting meanwhile.
    await recordObservations(this.o.repoRoot, { heartbeats, leases: obs.leases, forgetLeases: gone, look: { ok: true, at: now } });
  }

  private statusInput(state: FleetState | null, system: StatusInput['system'], sequence: number, finalState?: 'offline'): StatusInput {
    const cfg = state?.config?.builders?.[this.o.builder] ?? {};
    // An expired grounding (its `until` passed) no longer grounds: the builder claims again,
    // so its status must not say grounded (as `facts` judges it for claiming).
    const g0 = state?.jobs.grounded?.[this.o.builder] ?? null;
    const g = g0 && !(g0.until && (parseTimestamp(g0.until) ?? Infinity) <= this.clock.now()) ? g0 : null;
    const running = [...this.active.values()].filter((a) => !a.result).map((a) => ({ id: a.claim.id, type: a.job.type, attempt: a.claim.attempt, started_at: formatTimestamp(a.startedAt) }));
    const st = finalState ?? (this.draining ? 'draining' : g ? 'grounded' : running.length ? 'building' : 'idle');
    return {
      builder: this.o.builder, state: st, running, lastBuild: this.lastBuild ?? state?.ownStatus?.last_build ?? null,
      grounded: g ? { since: g.at, reason: g.reason, until: g.until ?? null, by: g.by } : null,
      degraded: finalState ? null : this.degraded, consecutiveFailures: this.consecutiveFailures,
      capabilities: { arch: cfg.arch ?? machineArch(), labels: cfg.labels ?? [], ...machineFacts() },
      system, daemon: finalState || this.standalone ? null : { pid: process.pid, host: os.hostname(), version: this.o.version ?? '0', started_at: formatTimestamp(this.startedAt) },
      sequence, intervalS: state?.policy.heartbeat_interval_s ?? 60,
    };
  }

  /**
   * The status and heartbeat as they will stand once a claim or completion commits (see
   * tx.StatusAfter): this daemon's running jobs plus `change.running`, less `change.without`,
   * with the outcome fields `change` gives. Figures and sequence are the last beat's.
   */
  private statusAfter(state: FleetState, change: {
    running?: StatusInput['running']; without?: string; lastBuild?: StatusFile['last_build'];
    consecutiveFailures?: number; grounded?: StatusFile['grounded'];
  }): tx.StatusAfter {
    return (now) => {
      const base = this.statusInput(state, this.lastFigures.system, this.lastFigures.sequence);
      const running = [...base.running.filter((r) => r.id !== change.without), ...(change.running ?? [])];
      const grounded = change.grounded ?? base.grounded;
      const st = this.draining ? 'draining' : grounded ? 'grounded' : running.length ? 'building' : 'idle';
      const input: StatusInput = {
        ...base, state: st, running, grounded,
        lastBuild: change.lastBuild ?? base.lastBuild,
        consecutiveFailures: change.consecutiveFailures ?? base.consecutiveFailures,
      };
      return { status: buildStatus(input, now), heartbeat: buildHeartbeat(input, now) };
    };
  }

  private async beat(state: FleetState | null, finalState?: 'offline'): Promise<void> {
    const now = this.clock.now();
    const interval = (state?.policy.heartbeat_interval_s ?? 60) * 1000;
    const input0 = this.statusInput(state, {}, 0, finalState);
    const next = buildStatus(input0, now);
    const mainEvery = state?.policy.main_heartbeat_every_s ?? 3600;
    // Status commits queued while the remote was away describe that time ("degraded: remote
    // unreachable"): once the remote is back (state read), write the current status on top
    // at once — the transaction pushes the queue and it in one go — rather than leaving the
    // queue to the next change, when main would show the outage as current.
    // Only after a tick that could not reach the remote can anything be queued: a healthy
    // tick asks git nothing more.
    const flushQueued = state !== null && this.mayHaveQueued && (await pendingCommits(this.o.repoRoot, trackingRef(this.spec)).catch(() => [])).length > 0;
    if (state !== null && this.mayHaveQueued && !flushQueued) this.mayHaveQueued = false;
    const writeMain = finalState !== undefined || flushQueued || statusNeedsWrite(state?.ownStatus ?? null, next, mainEvery, now);
    if (!finalState && !writeMain && now - this.lastBeat < interval) return;
    const system = await readSystemFigures(this.o.repoRoot);
    const seq = await tx.nextSequence(this.o.repoRoot, this.o.builder);
    const input = { ...input0, system, sequence: seq };
    this.lastFigures = { system, sequence: seq };
    if (finalState || now - this.lastBeat >= interval) {
      const r = await tx.publishBeat(this.o.repoRoot, this.spec, buildHeartbeat(input, now), now);
      if (r.pushed) this.lastBeat = now;
      else this.setDegraded(`heartbeat not published: ${r.reason ?? 'unknown'}`);
    }
    if (writeMain) {
      const written = await tx.writeStatus(this.o.repoRoot, this.spec, buildStatus(input, now), buildHeartbeat(input, now), mainEvery, finalState !== undefined || flushQueued);
      if (state === null && written) this.mayHaveQueued = true; // queued while the remote was away
    }
  }

  private async shutdownBeat(): Promise<void> {
    let state: FleetState | null = null;
    try {
      state = await readFleetState(this.o.repoRoot, this.spec, this.o.builder, this.clock.now());
    } catch { /* remote may be gone: beat anyway (queued) */ }
    try {
      await this.beat(state, 'offline');
    } catch (err) {
      this.log(`final heartbeat failed: ${(err as Error).message}`);
    }
  }

  private async housekeeping(state: FleetState | null): Promise<void> {
    if (!state || this.clock.now() - this.lastHousekeeping < 3600_000) return;
    this.lastHousekeeping = this.clock.now();
    try {
      const n = await tx.archiveFinishedJobs(this.o.repoRoot, this.spec, this.o.builder, state.policy.job_retention_days);
      if (n) this.log(`archived ${n} finished job(s) older than ${state.policy.job_retention_days} days`);
    } catch (err) {
      if (!isCoordError(err, 'E_CONTENTION')) throw err;
    }
  }
}
