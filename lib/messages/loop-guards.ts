/**
 * Loop guards for `coord messages watch` (issue 4; METHODOLOGY.md "Messages"). Upstream had
 * auto-responders on three hosts answer each other's canned replies until 2,225 messages
 * and 3,561 commits piled up in one day. Pure: `(message, ledger, settings, now) → verdict`.
 *
 * Always: a builder is never handed its own messages, nor messages for others, nor a
 * backlog older than the watcher's start (`--since`). With `--exec` also: messages marked
 * `auto` (sent from inside an `--exec` command, or with `sm --auto`) are not handed over
 * unless `--include-auto`; a reply chain `maxDepth` deep or deeper is not; and at most
 * `threadLimit` messages per thread and `peerLimit` per sender are handed over per window.
 */
import { replyDepth, threadId } from './lookup.js';
import { isAddressedTo, messageTime, type Message } from './model.js';

/** Guard settings (command-line flags of `watch`). */
export interface GuardSettings {
  /** This builder. */
  self: string;
  /** The auto-responder guards apply (`--exec`); printing shows everything addressed to us. */
  exec: boolean;
  /** Hand `auto` messages to the command too. Default false. */
  includeAuto: boolean;
  /** Reply-chain depth at which messages are no longer handed over. Default 5. */
  maxDepth: number;
  /** Messages of one thread handed over per window. Default 5. */
  threadLimit: number;
  /** Messages of one sender handed over per window. Default 30. */
  peerLimit: number;
  /** The rate window, ms. Default 300000 (5 minutes). */
  windowMs: number;
}

export const DEFAULT_GUARDS: Omit<GuardSettings, 'self' | 'exec'> = Object.freeze({
  includeAuto: false,
  maxDepth: 5,
  threadLimit: 5,
  peerLimit: 30,
  windowMs: 300_000,
});

/** One message handed to the command (the rate ledger). */
export interface Handoff {
  id: string;
  thread: string;
  peer: string;
  /** Epoch ms. */
  at: number;
}

/**
 * What to do with a message:
 * - `deliver`: hand it over (print or run the command);
 * - `ignore`: not for this watcher, now or ever (own, addressed to others, backlog):
 *   nothing is recorded;
 * - `skip`: for us but held back by a loop guard: recorded as handled, reported once.
 */
export type Verdict =
  | { action: 'deliver'; thread: string }
  | { action: 'ignore'; reason: 'own' | 'not-addressed' | 'backlog' }
  | { action: 'skip'; reason: 'auto' | 'depth' | 'thread-rate' | 'peer-rate'; detail: string; thread: string };

export interface JudgeContext {
  /** Every known message by id (for reply chains). */
  byId: ReadonlyMap<string, Message>;
  builders: readonly string[];
  /** Messages older than this (epoch ms) are backlog. */
  since: number;
  now: number;
  /** Hand-offs so far (any age; only those inside the window count). */
  ledger: readonly Handoff[];
  settings: GuardSettings;
}

/** Decides what the watcher does with `m`. */
export function judgeMessage(m: Message, ctx: JudgeContext): Verdict {
  const s = ctx.settings;
  if (m.from === s.self) return { action: 'ignore', reason: 'own' };
  if (!isAddressedTo(m, s.self, ctx.builders)) return { action: 'ignore', reason: 'not-addressed' };
  if (messageTime(m) < ctx.since) return { action: 'ignore', reason: 'backlog' };
  const thread = threadId(m, ctx.byId);
  if (!s.exec) return { action: 'deliver', thread };
  if (m.auto && !s.includeAuto) {
    return { action: 'skip', reason: 'auto', thread, detail: `sent automatically by ${m.from}; --include-auto hands such messages to the command` };
  }
  const depth = replyDepth(m, ctx.byId);
  if (depth >= s.maxDepth) {
    return { action: 'skip', reason: 'depth', thread, detail: `reply chain ${depth} deep (limit --max-depth ${s.maxDepth})` };
  }
  const recent = ctx.ledger.filter((h) => ctx.now - h.at < s.windowMs);
  const inThread = recent.filter((h) => h.thread === thread).length;
  if (inThread >= s.threadLimit) {
    return { action: 'skip', reason: 'thread-rate', thread, detail: `${inThread} messages of thread ${thread} handed over in the last ${Math.round(s.windowMs / 1000)} s (limit --thread-rate ${s.threadLimit})` };
  }
  const fromPeer = recent.filter((h) => h.peer === m.from).length;
  if (fromPeer >= s.peerLimit) {
    return { action: 'skip', reason: 'peer-rate', thread, detail: `${fromPeer} messages from ${m.from} handed over in the last ${Math.round(s.windowMs / 1000)} s (limit --peer-rate ${s.peerLimit})` };
  }
  return { action: 'deliver', thread };
}

/** The ledger without entries older than the window (they no longer count). */
export function pruneLedger(ledger: readonly Handoff[], now: number, windowMs: number): Handoff[] {
  return ledger.filter((h) => now - h.at < windowMs);
}
