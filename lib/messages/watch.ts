/**
 * `coord messages watch`: hands every new message for this builder over exactly once —
 * printed, or to `--exec CMD…` — across restarts.
 *
 * Sources (watch-sources.ts): the remote's `main`, fetched every `fetchIntervalMs`, and
 * the working-tree messages file. Triggers: chokidar on the folders (debounced), plus a
 * periodic content-hash poll as the safety net (watchers miss atomic-rename saves and
 * mtime-preserving writes). Guards (loop-guards.ts) keep auto-responders from talking
 * to each other forever.
 *
 * Exactly once: a message is recorded in the local state (watch-state.ts) as soon as it
 * is handed over; for `--exec` it is recorded as in flight, with a fresh claim file, before
 * the command starts, and the command is started through a launcher (exec-wrapper.ts) that
 * claims that file exclusively just before running it. A graceful stop (SIGINT/SIGTERM)
 * lets the running command finish. After a crash (even SIGKILL) the restart claims the
 * file itself: success proves the command never ran, so the message is handed over again;
 * finding it claimed means the command ran or still runs, so the restart waits for it and
 * counts the message delivered (`redeliverInterrupted` hands it over again anyway).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { coordStateDir, DEFAULT_REMOTE, type RemoteSpec } from '../git/repo.js';
import { formatTimestamp, parseTimestamp, type Clock } from '../util/time.js';
import { execEnvironment, startExec, type ExecHandle } from './exec.js';
import { indexById } from './lookup.js';
import { judgeMessage, pruneLedger, type GuardSettings } from './loop-guards.js';
import { byTime, type Message } from './model.js';
import { markMessages } from './send.js';
import { newMarkerPath, recoverInFlight, sweepMarkers } from './watch-handoff.js';
import { MessageSources, type WatchEvent } from './watch-sources.js';
import { Wakeup } from './watch-wake.js';
import { acquireWatcherLock } from './watch-lock.js';
import { freshWatchState, loadWatchState, pruneDelivered, saveWatchState, watchStatePath, type Outcome, type WatchState } from './watch-state.js';

const DAY_MS = 86_400_000;

export type { WatchEvent };

export interface WatchOptions {
  repoRoot: string;
  builder: string;
  clock: Clock;
  remote?: RemoteSpec;
  /** The command to run per message; null prints them (through `onMessage`). */
  exec: readonly string[] | null;
  /** Kill a command after this many ms. */
  execTimeoutMs: number;
  /** Mark handed-over messages read on the remote. */
  markRead: boolean;
  guards: Omit<GuardSettings, 'self' | 'exec'>;
  /** Explicit backlog cut-off (epoch ms); default: the first start. */
  since: number | null;
  /** Re-hand a message whose command was cut off by a crash. */
  redeliverInterrupted: boolean;
  fetchIntervalMs: number;
  pollIntervalMs: number;
  debounceMs: number;
  /** One pass, then return (cron, tests). */
  once: boolean;
  /** The base environment for commands. */
  env: NodeJS.ProcessEnv;
  /** The watcher's own command line, named by a second watcher's refusal. */
  commandLine: string;
  /** Stops the watcher (graceful: a running command finishes). */
  signal: AbortSignal;
  /** Stops it now: a running command gets SIGTERM (then SIGKILL after 5 s). */
  forceSignal?: AbortSignal;
  /** Print mode: show one message (`builders`: who `all` is). */
  onMessage: (m: Message, builders: readonly string[]) => void;
  onEvent: (e: WatchEvent) => void;
}

/** Counts for the end of a run. */
export interface WatchSummary {
  delivered: number;
  skipped: number;
  failed: number;
  passes: number;
}

/**
 * Runs the watcher until `signal` aborts (or one pass with `once`).
 * @throws CoordError E_LOCK_HELD when another watcher for this builder runs; E_INVALID when
 *   the local watcher state is unreadable
 */
export async function watchMessages(opts: WatchOptions): Promise<WatchSummary> {
  const lock = await acquireWatcherLock(opts.repoRoot, opts.builder, opts.commandLine, opts.clock);
  const w = new Watcher(opts, await coordStateDir(opts.repoRoot));
  try {
    return await w.run();
  } finally {
    await w.close();
    lock.release();
  }
}

class Watcher {
  private readonly spec: RemoteSpec;
  private readonly stateFile: string;
  private state!: WatchState;
  private readonly sources: MessageSources;
  private readonly wakeup: Wakeup;
  private running: ExecHandle | null = null;
  private readonly summary: WatchSummary = { delivered: 0, skipped: 0, failed: 0, passes: 0 };

  constructor(private readonly o: WatchOptions, private readonly stateDir: string) {
    this.spec = o.remote ?? DEFAULT_REMOTE;
    this.stateFile = watchStatePath(stateDir, o.builder);
    this.sources = new MessageSources(o.repoRoot, this.spec, () => o.clock.now(), (e) => o.onEvent(e));
    this.wakeup = new Wakeup(o.signal, o.debounceMs, (text) => o.onEvent({ level: 'warn', code: 'fs-watch', text }));
  }

  private sleep(ms: number): Promise<void> { return this.wakeup.sleep(ms); }

  private now(): number { return this.o.clock.now(); }

  private save(): void { saveWatchState(this.stateFile, this.state); }

  async run(): Promise<WatchSummary> {
    const loaded = loadWatchState(this.stateFile, this.o.builder);
    // Stored timestamps have whole seconds: by default the backlog is everything up to and
    // including the second of the first start (it was there before we looked).
    this.state = loaded ?? freshWatchState(this.o.builder, this.o.since ?? Math.floor(this.now() / 1000) * 1000 + 1000);
    if (loaded && this.o.since !== null) this.rebaseline(this.o.since);
    const recovered = await recoverInFlight(this.state.in_flight, {
      execTimeoutMs: this.o.execTimeoutMs, redeliver: this.o.redeliverInterrupted, monotonic: () => this.o.clock.monotonic(),
      sleep: (ms) => this.sleep(ms), stopped: () => this.o.signal.aborted, onEvent: (e) => this.o.onEvent(e),
    });
    if (recovered) {
      if (recovered.outcome === 'redeliver') delete this.state.delivered[recovered.id];
      else this.record(recovered.id, 'interrupted', this.state.delivered[recovered.id]?.ts ?? formatTimestamp(this.now()), 'the previous watcher stopped while its command ran');
      this.state.in_flight = null;
    }
    this.save();
    sweepMarkers(this.stateDir, this.stateFile, null, this.now());
    this.o.onEvent({
      level: 'info', code: 'start',
      text: `messages for ${this.o.builder} since ${this.state.since}; ${this.o.exec ? `running ${this.o.exec.join(' ')} per message` : 'printing them'}${this.o.once ? '' : '; Ctrl-C stops'}`,
    });
    this.o.forceSignal?.addEventListener('abort', () => { this.running?.stop(5000); this.wakeup.wake(); }, { once: true });
    if (!this.o.once) {
      // The working-tree file's folder, and the tracking ref (moved by any fetch in this clone).
      const gitDir = path.dirname(this.stateDir);
      this.wakeup.watch([path.join(this.o.repoRoot, 'coordination'), path.join(gitDir, 'refs', 'remotes', this.spec.remote), path.join(gitDir, 'packed-refs')]);
    }
    let lastFetch = Number.NEGATIVE_INFINITY;
    let lastProblem = '';
    while (!this.o.signal.aborted) {
      try {
        if (this.o.clock.monotonic() - lastFetch >= this.o.fetchIntervalMs) {
          lastFetch = this.o.clock.monotonic();
          await this.sources.fetch();
        }
        await this.pass();
        lastProblem = '';
      } catch (err) {
        // A stop signal also ends the git commands of a pass (execa's clean-up): not a
        // problem. Otherwise a background loop reports and carries on (STYLE.md).
        if (this.o.signal.aborted) break;
        const text = err instanceof Error ? err.message : String(err);
        if (text !== lastProblem) this.o.onEvent({ level: 'warn', code: 'pass-failed', text: `${text.split('\n')[0]}; trying again` });
        lastProblem = text;
        if (this.o.once) throw err;
      }
      if (this.o.once || this.o.signal.aborted) break;
      const untilFetch = Math.max(0, this.o.fetchIntervalMs - (this.o.clock.monotonic() - lastFetch));
      // The poll: after every pause the next pass re-reads both sources and compares hashes.
      await this.sleep(Math.min(this.o.pollIntervalMs, untilFetch));
    }
    await this.flushReadMarks();
    return this.summary;
  }

  async close(): Promise<void> {
    await this.wakeup.close();
    if (this.state) this.save();
  }

  /** An explicit `--since` on a later start: backlog skipped before it becomes deliverable. */
  private rebaseline(since: number): void {
    this.state.since = formatTimestamp(since);
    for (const [id, rec] of Object.entries(this.state.delivered)) {
      if (rec.outcome === 'skipped' && rec.reason === 'backlog' && (parseTimestamp(rec.ts) ?? 0) >= since) delete this.state.delivered[id];
    }
  }

  private record(id: string, outcome: Outcome, ts: string, reason?: string): void {
    this.state.delivered[id] = { at: formatTimestamp(this.now()), outcome, ts, ...(reason ? { reason } : {}) };
  }

  /** One pass: re-read the sources; hand over what is new. */
  private async pass(): Promise<void> {
    this.summary.passes++;
    const changed = await this.sources.refresh();
    const first = !this.state.baseline_done;
    if (changed || first) await this.deliverNew(first);
    await this.flushReadMarks();
  }

  private async deliverNew(first: boolean): Promise<void> {
    const view = this.sources.view();
    const all = [...view.remote, ...view.localOnly];
    const byId = indexById(all);
    const now = this.now();
    const skewMs = view.policy.clock_skew_s * 1000;
    const horizonMs = Math.max(14, 2 * view.policy.message_retention_days) * DAY_MS;
    const since = parseTimestamp(this.state.since) ?? now;
    // First pass of a fresh state: exactly --since. Later, a message from a peer whose clock
    // runs behind may carry a slightly older time than its arrival: allow the skew.
    const cutoff = Math.max(first ? since : since - skewMs, now - horizonMs);
    const settings: GuardSettings = { ...this.o.guards, self: this.o.builder, exec: this.o.exec !== null };
    for (const m of all.filter((x) => !(x.id in this.state.delivered)).sort(byTime)) {
      if (this.o.signal.aborted) break;
      const v = judgeMessage(m, { byId, builders: view.builders, since: cutoff, now, ledger: this.state.ledger, settings });
      if (v.action === 'ignore') {
        if (first && v.reason === 'backlog') this.record(m.id, 'skipped', m.timestamp, 'backlog');
        continue;
      }
      if (v.action === 'skip') {
        this.record(m.id, 'skipped', m.timestamp, v.reason);
        this.summary.skipped++;
        this.o.onEvent({ level: 'warn', code: `skip-${v.reason}`, id: m.id, text: `not handing ${m.id} from ${m.from} to the command: ${v.detail}` });
        this.save();
        continue;
      }
      await this.handOver(m, v.thread, view.builders);
    }
    if (first) this.state.baseline_done = true;
    this.state.ledger = pruneLedger(this.state.ledger, now, this.o.guards.windowMs);
    pruneDelivered(this.state, now, horizonMs);
    this.save();
  }

  private async handOver(m: Message, thread: string, builders: readonly string[]): Promise<void> {
    if (this.o.exec === null) {
      this.o.onMessage(m, builders);
      this.record(m.id, 'delivered', m.timestamp);
      this.summary.delivered++;
      if (this.o.markRead) this.state.pending_read.push(m.id);
      this.save();
      return;
    }
    const marker = newMarkerPath(this.stateFile);
    this.state.in_flight = { id: m.id, pid: null, started_at: formatTimestamp(this.now()), marker };
    this.record(m.id, 'delivered', m.timestamp, 'in flight');
    this.save();
    let handle: ExecHandle;
    try {
      handle = startExec(this.o.exec, JSON.stringify(m) + '\n', {
        cwd: this.o.repoRoot, env: this.o.env, inputFile: `${this.stateFile}.stdin`, marker,
        extraEnv: execEnvironment(m, this.o.builder, this.o.repoRoot), timeoutMs: this.o.execTimeoutMs,
      }, () => this.o.clock.monotonic());
    } catch (err) {
      // Not started (no space for the input file…): not handed over; a later pass tries again.
      this.state.in_flight = null;
      delete this.state.delivered[m.id];
      this.save();
      throw err;
    }
    this.running = handle;
    this.state.in_flight.pid = handle.pid ?? null;
    this.save();
    this.state.ledger.push({ id: m.id, thread, peer: m.from, at: this.now() });
    const r = await handle.result;
    this.running = null;
    this.state.in_flight = null;
    const ok = r.exitCode === 0;
    const why = r.startError ?? (r.timedOut ? `timed out after ${Math.round(this.o.execTimeoutMs / 1000)} s` : r.signal ? `ended by ${r.signal}` : `exit code ${r.exitCode}`);
    this.record(m.id, ok ? 'delivered' : 'failed', m.timestamp, ok ? undefined : why);
    if (ok) {
      this.summary.delivered++;
      if (this.o.markRead) this.state.pending_read.push(m.id);
    } else {
      this.summary.failed++;
      this.o.onEvent({ level: 'warn', code: 'exec-failed', id: m.id, text: `command for ${m.id} failed (${why}); not retried, the message stays unread` });
    }
    this.save();
    rmSync(marker, { force: true }); // its launcher has ended: nobody can still claim it
  }

  /** Pushes read marks of delivered messages (one transaction for all of them). */
  private async flushReadMarks(): Promise<void> {
    if (!this.state.pending_read.length) return;
    const remote = new Map(this.sources.view().remote.map((m) => [m.id, m]));
    // Only messages on the remote can be marked there; a hand-added one waits until pushed.
    const ids = this.state.pending_read.filter((id) => remote.has(id) && !remote.get(id)!.read_by.includes(this.o.builder));
    const stillLocal = this.state.pending_read.filter((id) => !remote.has(id) && id in this.state.delivered);
    if (ids.length) {
      try {
        await markMessages({ repoRoot: this.o.repoRoot, who: this.o.builder, ids, ack: false, clock: this.o.clock, remote: this.spec });
      } catch (err) {
        this.o.onEvent({ level: 'warn', code: 'mark-read-failed', text: `could not mark ${ids.length} message(s) read (${(err as Error).message}); retrying later` });
        return;
      }
    }
    this.state.pending_read = stillLocal;
    this.save();
  }

}
