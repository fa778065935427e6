/**
 * What a watcher remembers between runs, in `.git/coord/messages-watch-<builder>.json`
 * (local to the clone, never committed): the messages already handled, the backlog
 * cut-off, the rate ledger, the message being handed to the command right now, and
 * read marks still to push. Written atomically (temp file, fsync, rename) after every
 * hand-off, so a crash can lose at most the one in flight — which is recorded before the
 * command starts (see watch.ts for how a restart treats it).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';
import type { Handoff } from './loop-guards.js';

/** How a message was handled. */
export type Outcome = 'delivered' | 'failed' | 'skipped' | 'interrupted';

export interface DeliveryRecord {
  /** When it was handled (ISO). */
  at: string;
  outcome: Outcome;
  /** Why it was skipped or failed. */
  reason?: string;
  /** The message's own timestamp (ISO), for pruning. */
  ts: string;
}

export interface InFlight {
  id: string;
  /** The launcher's pid once started; null just before the start. */
  pid: number | null;
  started_at: string;
  /** The claim file of this hand-off (exec-wrapper.ts); absent in states of older versions. */
  marker?: string;
}

/** The watcher's local state file. */
export interface WatchState {
  version: 1;
  builder: string;
  /** Backlog cut-off: messages older than this were not delivered on first start (ISO). */
  since: string;
  /** The first start already recorded the backlog it skipped. */
  baseline_done: boolean;
  delivered: Record<string, DeliveryRecord>;
  ledger: Handoff[];
  /** Delivered ids to mark read on the remote (`--mark-read`), not yet pushed. */
  pending_read: string[];
  in_flight: InFlight | null;
}

/** The state file of `builder` in the state folder `dir` (`.git/coord`). */
export function watchStatePath(dir: string, builder: string): string {
  return path.join(dir, `messages-watch-${builder}.json`);
}

/** A fresh state: nothing delivered, backlog before `since` (epoch ms). */
export function freshWatchState(builder: string, since: number): WatchState {
  return { version: 1, builder, since: formatTimestamp(since), baseline_done: false, delivered: {}, ledger: [], pending_read: [], in_flight: null };
}

/**
 * Loads the state, or null when there is none (first start).
 * @throws CoordError E_INVALID when the file exists but is unreadable: refusing is safer
 *   than delivering everything again
 */
export function loadWatchState(file: string, builder: string): WatchState | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const s = JSON.parse(text) as Partial<WatchState>;
    if (s.version !== 1 || typeof s.since !== 'string' || parseTimestamp(s.since) === null || typeof s.delivered !== 'object' || s.delivered === null) {
      throw new Error('unexpected shape');
    }
    return {
      version: 1, builder, since: s.since, baseline_done: s.baseline_done ?? true, delivered: s.delivered,
      ledger: Array.isArray(s.ledger) ? s.ledger : [], pending_read: Array.isArray(s.pending_read) ? s.pending_read : [],
      in_flight: s.in_flight ?? null,
    };
  } catch (err) {
    throw new CoordError('E_INVALID', `watcher state ${file} is unreadable (${(err as Error).message}); delete it to start over (messages newer than --since, default now, are delivered again)`, { cause: err });
  }
}

/** Writes the state atomically: temp file beside it, fsync, rename. */
export function saveWatchState(file: string, state: WatchState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Drops records of messages older than `horizonMs` before `now` (they can no longer come back). */
export function pruneDelivered(state: WatchState, now: number, horizonMs: number): void {
  for (const [id, rec] of Object.entries(state.delivered)) {
    const t = parseTimestamp(rec.ts);
    if (t !== null && t < now - horizonMs) delete state.delivered[id];
  }
}
