/**
 * Retention of messages (DESIGN.md section 4 "Retention", section 7): a message older than
 * `policy.message_retention_days` that every recipient has read (and, when it asks for
 * one, acknowledged) moves from `coordination/messages.json` to
 * `coordination/archive/messages-YYYY-MM.json` (the month of its timestamp, UTC), in one
 * transaction, so the hot file and every transaction on it stay small.
 *
 * Pure: {@link planMessageArchive} is the mutation the command and the daemon run;
 * {@link messageArchivePaths} names the archive files it needs to read.
 */
import type { ArchiveFile, BuildConfigFile } from '../schemas/types.gen.js';
import { archivePath, schemaRefFor } from '../store/kinds.js';
import type { TxDecision, TxState } from '../tx/transaction.js';
import { parseTimestamp } from '../util/time.js';
import { byTime, configuredBuilders, messagesOf, MESSAGES_PATH, recipientsOf, type Message, type MessagesFile } from './model.js';

const DAY_MS = 86_400_000;

/** What an archive run moved. */
export interface ArchiveResult {
  /** Ids moved to the archive. */
  moved: string[];
  /** Archive files written (`coordination/archive/messages-YYYY-MM.json`). */
  files: string[];
  /** Eligible ids left for the next run (their month's archive was not read this time). */
  deferred: string[];
  /** Messages left in the hot file. */
  remaining: number;
}

/** `YYYY-MM` of a message's timestamp (UTC), or null when the timestamp does not parse. */
export function monthOf(m: Pick<Message, 'timestamp'>): string | null {
  const t = parseTimestamp(m.timestamp);
  return t === null ? null : new Date(t).toISOString().slice(0, 7);
}

/**
 * May `m` be archived? Older than the cut-off, and read by every recipient that is a
 * configured builder (and acknowledged by each when it asks for that). Recipients who are
 * not builders (a person replied to) cannot mark messages read, so they do not hold a
 * message back. An unparseable timestamp is never archived.
 */
export function isArchivable(m: Message, builders: readonly string[], cutoffMs: number): boolean {
  const t = parseTimestamp(m.timestamp);
  if (t === null || t >= cutoffMs) return false;
  const recipients = recipientsOf(m, builders).filter((r) => builders.includes(r));
  if (!recipients.every((r) => m.read_by.includes(r))) return false;
  return !m.ack_required || recipients.every((r) => m.acked_by.includes(r));
}

/** The cut-off instant (epoch ms) for `retentionDays`. */
export function archiveCutoff(now: number, retentionDays: number): number {
  return now - retentionDays * DAY_MS;
}

/**
 * The archive files a run would write, from the hot file as last seen: the transaction
 * reads them (a mutation sees only the files it asked for).
 */
export function messageArchivePaths(messagesDoc: unknown, config: BuildConfigFile | null, now: number, retentionDays: number): string[] {
  const builders = configuredBuilders(config);
  const cutoff = archiveCutoff(now, retentionDays);
  const months = new Set<string>();
  for (const m of messagesOf(messagesDoc)) {
    if (!isArchivable(m, builders, cutoff)) continue;
    const month = monthOf(m);
    if (month) months.add(month);
  }
  return [...months].sort().map((month) => archivePath('messages', month));
}

/**
 * The archive mutation.
 * @param opts.retentionDays overrides `policy.message_retention_days` (the command's
 *   `--older-than`)
 */
export function planMessageArchive(opts: { retentionDays?: number } = {}) {
  return (state: TxState, now: number): TxDecision<ArchiveResult> => {
    const hot = state.files.get(MESSAGES_PATH) as MessagesFile | null | undefined;
    const result: ArchiveResult = { moved: [], files: [], deferred: [], remaining: hot?.messages.length ?? 0 };
    if (!hot) return { kind: 'noop', result };
    const builders = configuredBuilders(state.config);
    const cutoff = archiveCutoff(now, opts.retentionDays ?? state.policy.message_retention_days);
    const byFile = new Map<string, Message[]>();
    const keep: Message[] = [];
    for (const m of hot.messages) {
      const month = isArchivable(m, builders, cutoff) ? monthOf(m) : null;
      const file = month ? archivePath('messages', month) : null;
      if (!file) { keep.push(m); continue; }
      // A month nobody asked to read (the hot file changed since the paths were chosen)
      // waits for the next run rather than overwriting an archive unseen.
      if (!state.files.has(file)) { keep.push(m); result.deferred.push(m.id); continue; }
      byFile.set(file, [...(byFile.get(file) ?? []), m]);
    }
    if (!byFile.size) return { kind: 'noop', result };
    const writes = new Map<string, unknown>();
    for (const [file, moved] of byFile) {
      const existing = state.files.get(file) as ArchiveFile | null;
      const month = /messages-([0-9]{4}-[0-9]{2})\.json$/.exec(file)![1];
      const records = [...((existing?.records ?? []) as Message[])];
      const have = new Set(records.map((r) => r.id));
      for (const m of moved) if (!have.has(m.id)) records.push(m);
      records.sort(byTime);
      const doc: ArchiveFile = { $schema: existing?.$schema ?? schemaRefFor(file, 'archive.schema.json'), kind: 'messages', month, records };
      writes.set(file, doc);
      result.moved.push(...moved.map((m) => m.id));
      result.files.push(file);
    }
    writes.set(MESSAGES_PATH, { ...hot, messages: keep });
    result.remaining = keep.length;
    result.files.sort();
    return {
      kind: 'commit',
      writes,
      summary: `${result.moved.length} message(s) to ${result.files.map((f) => f.replace(/^coordination\/archive\//, '')).join(', ')}`,
      trailers: { 'Message-Archived': String(result.moved.length) },
      result,
    };
  };
}
