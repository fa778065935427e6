/**
 * Selecting messages for `coord messages` (DESIGN.md section 7): by default this builder's
 * unread messages, newest last. Pure.
 */
import { CoordError } from '../errors.js';
import { parseTimestamp } from '../util/time.js';
import { byTime, isAddressedTo, messageTime, type Message, type MessageType } from './model.js';

/** What to list. */
export interface InboxFilter {
  /** Whose inbox: messages addressed to this builder; null for every message. */
  who: string | null;
  /** Include messages `who` has read (`--all`). Ignored when `who` is null. */
  includeRead: boolean;
  /** Messages `who` sent instead of received (`--sent`). */
  sent?: boolean;
  /** Only from this sender (`--from`). */
  from?: string;
  /** Only of this type (`--type`). */
  type?: MessageType;
  /** Only at or after this instant, epoch ms (`--since`). */
  since?: number;
  /** Only messages whose subject or body contains this text, case-insensitively (`--grep`). */
  grep?: string;
  /** Only the newest N (`--limit`), still listed newest last. */
  limit?: number;
  /**
   * `time` (default): oldest first. `severity` (`--order severity`, the order of the
   * upstream `read_messages.sh`): errors, then warnings, requests, info; oldest first
   * within each type. `--limit` still keeps the newest N, chosen before ordering.
   */
  order?: InboxOrder;
}

/** Listing orders of `coord messages --order`. */
export const INBOX_ORDERS = ['time', 'severity'] as const;
export type InboxOrder = (typeof INBOX_ORDERS)[number];

/** Message types from most to least severe (`--order severity`). */
export const SEVERITY_ORDER: readonly MessageType[] = ['error', 'warning', 'request', 'info'];

/** Compares by type severity ({@link SEVERITY_ORDER}), then by time (oldest first). */
export function bySeverity(a: Message, b: Message): number {
  const rank = (m: Message) => {
    const i = SEVERITY_ORDER.indexOf(m.type);
    return i < 0 ? SEVERITY_ORDER.length : i;
  };
  return rank(a) - rank(b) || byTime(a, b);
}

/** The messages matching `filter`, oldest first (or by severity with `order: 'severity'`). */
export function selectMessages(messages: readonly Message[], builders: readonly string[], filter: InboxFilter): Message[] {
  const needle = filter.grep?.toLowerCase();
  const out = messages.filter((m) => {
    if (filter.who !== null) {
      if (filter.sent) {
        if (m.from !== filter.who) return false;
      } else {
        if (!isAddressedTo(m, filter.who, builders)) return false;
        if (!filter.includeRead && m.read_by.includes(filter.who)) return false;
      }
    }
    if (filter.from !== undefined && m.from !== filter.from) return false;
    if (filter.type !== undefined && m.type !== filter.type) return false;
    if (filter.since !== undefined && messageTime(m) < filter.since) return false;
    if (needle && !`${m.subject}\n${m.body}`.toLowerCase().includes(needle)) return false;
    return true;
  });
  out.sort(byTime);
  const kept = filter.limit !== undefined && filter.limit >= 0 ? out.slice(Math.max(0, out.length - filter.limit)) : out;
  return filter.order === 'severity' ? [...kept].sort(bySeverity) : kept;
}

/** Counts for a summary line: unread, and awaiting this builder's acknowledgement. */
export function inboxCounts(messages: readonly Message[], builders: readonly string[], who: string): { unread: number; awaitingAck: number } {
  let unread = 0;
  let awaitingAck = 0;
  for (const m of messages) {
    if (!isAddressedTo(m, who, builders)) continue;
    if (!m.read_by.includes(who)) unread++;
    if (m.ack_required && !m.acked_by.includes(who)) awaitingAck++;
  }
  return { unread, awaitingAck };
}

const DURATION = /^([0-9]+)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`: a timestamp (`2026-11-30`, `2026-11-30 19:37`, ISO) or an age (`90m`, `2h`, `7d`).
 * @throws CoordError E_USAGE naming the option
 */
export function parseSince(text: string, now: number, option = '--since'): number {
  const t = text.trim();
  if (t === 'now') return now;
  const d = DURATION.exec(t);
  if (d) return now - Number(d[1]) * UNIT_MS[d[2].toLowerCase()];
  const ts = parseTimestamp(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t} 00:00` : t);
  if (ts === null) throw new CoordError('E_USAGE', `${option} "${text}": give a time (2026-11-30, 2026-11-30T19:37:00Z) or an age (90m, 2h, 7d)`, { details: { argument: option } });
  return ts;
}
