/**
 * The crash-safe part of a hand-off to `watch --exec` (see watch.ts "Exactly once"): claim
 * files, recovering the hand-off a crashed watcher left in flight, and sweeping old claims.
 */
import { closeSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { cryptoRandomHex } from '../util/ids.js';
import type { WatchEvent } from './watch-sources.js';
import { pidAlive } from '../util/pid-lock.js';
import type { InFlight } from './watch-state.js';

/** How long a claim file made by a recovery is kept (a crashed watcher's launcher may still be starting), ms. */
export const MARKER_KEEP_MS = 600_000;

/** A fresh claim file path beside the state file. */
export function newMarkerPath(stateFile: string): string {
  return `${stateFile}.started-${cryptoRandomHex(6)}`;
}

export interface RecoverOptions {
  execTimeoutMs: number;
  /** Hand the message over again even when its command ran (`--redeliver-interrupted`). */
  redeliver: boolean;
  monotonic: () => number;
  sleep: (ms: number) => Promise<void>;
  /** True once the watcher is asked to stop. */
  stopped: () => boolean;
  onEvent: (e: WatchEvent) => void;
}

/**
 * Decides about the hand-off a previous watcher left in flight. The launcher claims the
 * hand-off's marker before it runs the command; claiming it here first means the command
 * never ran (nor will: a late launcher finds the claim and gives up), so the message is
 * handed over again. Finding it claimed means the command ran or runs: wait for it to end,
 * and count the message delivered.
 * @returns null when nothing was in flight
 */
export async function recoverInFlight(f: InFlight | null, o: RecoverOptions): Promise<{ id: string; outcome: 'redeliver' | 'delivered' } | null> {
  if (!f) return null;
  let started = true;
  if (f.marker) {
    try {
      closeSync(openSync(f.marker, 'wx'));
      started = false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } else {
    started = f.pid !== null; // a state written by an older version: best guess
  }
  if (started && f.pid !== null && pidAlive(f.pid)) {
    o.onEvent({ level: 'info', code: 'wait-in-flight', id: f.id, text: `waiting for the command the previous watcher started for ${f.id} (pid ${f.pid}) to end` });
    const deadline = o.monotonic() + o.execTimeoutMs;
    while (pidAlive(f.pid) && o.monotonic() < deadline && !o.stopped()) await o.sleep(200);
  }
  if (!started || o.redeliver) {
    o.onEvent({ level: 'warn', code: 'redeliver', id: f.id, text: `message ${f.id} was being handed over when the previous watcher stopped${started ? '' : ' (its command had not started)'}; handing it over again` });
    return { id: f.id, outcome: 'redeliver' };
  }
  o.onEvent({ level: 'warn', code: 'interrupted', id: f.id, text: `message ${f.id} was being handed to the command when the previous watcher stopped; the command ran, so it counts as delivered (--redeliver-interrupted would hand it over again)` });
  return { id: f.id, outcome: 'delivered' };
}

/**
 * Removes claim files of earlier hand-offs older than {@link MARKER_KEEP_MS}, except
 * `keep`. A claim made by a recovery must outlive any launcher of the crashed watcher that
 * might still be starting.
 */
export function sweepMarkers(stateDir: string, stateFile: string, keep: string | null, now: number): void {
  const prefix = `${path.basename(stateFile)}.started-`;
  for (const name of readdirSync(stateDir)) {
    if (!name.startsWith(prefix)) continue;
    const p = path.join(stateDir, name);
    if (p === keep) continue;
    const st = statSync(p, { throwIfNoEntry: false });
    if (st && now - st.mtimeMs > MARKER_KEEP_MS) rmSync(p, { force: true });
  }
}
