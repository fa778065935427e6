/**
 * The message model (DESIGN.md section 7): limits, enumerations, and who a message is for.
 *
 * Read and ack are per recipient: `read_by`/`acked_by` list the recipients that did it, so
 * a broadcast read by build1 stays unread for build2. Legacy records with a single `read`
 * flag are normalised by the store on reading (lib/store/legacy.ts) into `read_by`.
 */
import type { BuildConfigFile, Message, MessagesFile } from '../schemas/types.gen.js';
import { PATHS } from '../store/kinds.js';
import { parseTimestamp } from '../util/time.js';

export type { Message, MessagesFile };

/** `type` values (schema `message.type`). */
export const MESSAGE_TYPES = ['info', 'warning', 'error', 'request'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** `priority` values, lowest first (schema `message.priority`). */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Subject limit in characters (Unicode code points, as JSON Schema counts). */
export const SUBJECT_MAX = 100;
/** Body limit in characters (Unicode code points). */
export const BODY_MAX = 10_000;
/** Longest tag (schema `message.tags` items). */
export const TAG_MAX = 64;

/** The hot messages file. */
export const MESSAGES_PATH = PATHS.messages;

/** Length in Unicode code points (what the schema's `maxLength` counts). */
export function charLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The configured builder ids of a build config, in numeric order. */
export function configuredBuilders(config: BuildConfigFile | null): string[] {
  return sortBuilders(Object.keys(config?.builders ?? {}));
}

/** Non-builder senders allowed by `trust.senders` in the build config. */
export function trustedSenders(config: BuildConfigFile | null): string[] {
  return [...(config?.trust?.senders ?? [])];
}

/** Sorts builder ids by number (`build2` before `build10`); other names after, by name. */
export function sortBuilders(ids: Iterable<string>): string[] {
  const num = (s: string) => {
    const m = /^build([0-9]+)$/.exec(s);
    return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
  };
  return [...ids].sort((a, b) => num(a) - num(b) || a.localeCompare(b));
}

/**
 * Who a message is for: `all` → every configured builder except the sender; one name →
 * that name; a list → the list.
 */
export function recipientsOf(m: Pick<Message, 'to' | 'from'>, builders: readonly string[]): string[] {
  if (m.to === 'all') return builders.filter((b) => b !== m.from);
  if (typeof m.to === 'string') return [m.to];
  return [...m.to];
}

/** True when `who` is one of the message's recipients. */
export function isAddressedTo(m: Pick<Message, 'to' | 'from'>, who: string, builders: readonly string[]): boolean {
  if (m.to === 'all') return m.from !== who && builders.includes(who);
  return typeof m.to === 'string' ? m.to === who : m.to.includes(who);
}

/** True when `who` has read the message. */
export function isReadBy(m: Pick<Message, 'read_by'>, who: string): boolean {
  return m.read_by.includes(who);
}

/** True when `who` has acknowledged the message. */
export function isAckedBy(m: Pick<Message, 'acked_by'>, who: string): boolean {
  return m.acked_by.includes(who);
}

/** True when the message asks for an acknowledgement that `who` has not given. */
export function awaitsAckFrom(m: Message, who: string): boolean {
  return Boolean(m.ack_required) && !m.acked_by.includes(who);
}

/** The message time in epoch ms (0 when unparseable, so it sorts first). */
export function messageTime(m: Pick<Message, 'timestamp'>): number {
  return parseTimestamp(m.timestamp) ?? 0;
}

/** The `to` field as people read it: `all`, `build2`, `build1,build3`. */
export function formatTo(to: Message['to']): string {
  return typeof to === 'string' ? to : to.join(',');
}

/** The messages of a parsed messages file (tolerates null/absent). */
export function messagesOf(doc: unknown): Message[] {
  const list = (doc as Partial<MessagesFile> | null)?.messages;
  return Array.isArray(list) ? list : [];
}

/** Oldest first; a stable sort keeps messages of the same second in file (commit) order. */
export function byTime(a: Message, b: Message): number {
  return messageTime(a) - messageTime(b);
}
