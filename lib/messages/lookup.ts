/**
 * Finding messages by id, and walking reply chains (`in_reply_to`). Pure.
 */
import { resolveIdFragment } from '../util/id-match.js';
import type { Message } from './model.js';


/**
 * Resolves what a person typed to one message: the exact id, else the only id holding it as
 * a substring of at least 4 characters (normally the start of the random tail, e.g.
 * `4f9a2c1d`; lib/util/id-match.ts).
 * @returns the message, or null when nothing matches
 * @throws CoordError E_USAGE when the fragment is too short or matches several messages (listing them)
 */
export function findMessage(messages: readonly Message[], typed: string, argument = 'ID'): Message | null {
  const id = resolveIdFragment(messages.map((m) => m.id), typed, { noun: 'message', argument });
  return id === null ? null : messages.find((m) => m.id === id) ?? null;
}

/** An index of messages by id. */
export function indexById(messages: Iterable<Message>): Map<string, Message> {
  const map = new Map<string, Message>();
  for (const m of messages) map.set(m.id, m);
  return map;
}

/**
 * The reply chain above `m`, nearest parent first. A parent that is not in `byId` (archived,
 * or a dangling reference) ends the chain and is reported in `missingParent`. A cycle (a bad
 * hand edit) ends it too.
 */
export function ancestry(m: Message, byId: ReadonlyMap<string, Message>): { chain: Message[]; missingParent: string | null } {
  const chain: Message[] = [];
  const seen = new Set([m.id]);
  let parentId = m.in_reply_to ?? null;
  while (parentId) {
    const p = byId.get(parentId);
    if (!p) return { chain, missingParent: parentId };
    if (seen.has(p.id)) break;
    seen.add(p.id);
    chain.push(p);
    parentId = p.in_reply_to ?? null;
  }
  return { chain, missingParent: null };
}

/**
 * How deep `m` sits in its reply chain: 0 for a message that replies to nothing, 1 for a
 * reply, 2 for a reply to a reply… An unknown parent counts as one more level.
 */
export function replyDepth(m: Message, byId: ReadonlyMap<string, Message>): number {
  const { chain, missingParent } = ancestry(m, byId);
  return chain.length + (missingParent ? 1 : 0);
}

/** The id of the thread `m` belongs to: the oldest known message of its reply chain. */
export function threadId(m: Message, byId: ReadonlyMap<string, Message>): string {
  const { chain, missingParent } = ancestry(m, byId);
  return missingParent ?? chain[chain.length - 1]?.id ?? m.id;
}

/** One entry of a thread listing. */
export interface ThreadEntry {
  message: Message;
  /** 0 for the root, 1 for its replies… */
  depth: number;
}

/**
 * The whole thread holding `m`: its root, then every reply below it, depth first, each
 * level oldest first.
 */
export function threadOf(m: Message, all: readonly Message[]): ThreadEntry[] {
  const byId = indexById(all);
  const rootId = threadId(m, byId);
  const root = byId.get(rootId);
  const children = new Map<string, Message[]>();
  for (const x of all) {
    if (!x.in_reply_to) continue;
    const list = children.get(x.in_reply_to) ?? [];
    list.push(x);
    children.set(x.in_reply_to, list);
  }
  const out: ThreadEntry[] = [];
  const seen = new Set<string>();
  const walk = (node: Message, depth: number) => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    out.push({ message: node, depth });
    for (const k of repliesTo(node.id)) walk(k, depth + 1);
  };
  const repliesTo = (id: string) => [...(children.get(id) ?? [])].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.id.localeCompare(b.id));
  if (root) walk(root, 0);
  // The root itself may be gone (archived): its known replies start the listing, at depth 1.
  else for (const k of repliesTo(rootId)) walk(k, 1);
  return out;
}
