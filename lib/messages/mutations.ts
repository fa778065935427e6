/**
 * The pure state changes of messaging, each one transaction (DESIGN.md section 3):
 * send (and reply), mark read, acknowledge. `(state, now) → decision`, re-run on a fresh
 * state after every lost compare-and-swap, so every precondition (targets configured,
 * replied-to message present, recipient) is checked against the state being committed.
 *
 * Commit subjects name the message ids and targets, never the subject or body text: a
 * message may be private to its recipients, and `git log` is read by everyone.
 */
import { CoordError } from '../errors.js';
import { schemaRefFor } from '../store/kinds.js';
import type { Refusal, TxDecision, TxState } from '../tx/transaction.js';
import { formatTimestamp } from '../util/time.js';
import { findMessage } from './lookup.js';
import {
  configuredBuilders, formatTo, isAddressedTo, MESSAGES_PATH, recipientsOf, trustedSenders,
  type Message, type MessagesFile, type MessageType, type Priority,
} from './model.js';
import { resolveTargets, type TargetSpec } from './targets.js';

/** Whom a new message goes to: parsed TARGETS, or the people of the message replied to. */
export type SendTargets =
  | { kind: 'spec'; spec: TargetSpec; raw: string }
  /** Reply to the sender of `in_reply_to` (and with `all`, to its other recipients too). */
  | { kind: 'reply'; all: boolean };

/** Everything a send needs besides the state. */
export interface SendInput {
  /** Chosen before the transaction, so every attempt writes the same id. */
  id: string;
  from: string;
  targets: SendTargets;
  type: MessageType;
  priority: Priority;
  subject: string;
  body: string;
  ackRequired: boolean;
  /** The message replied to (id or unique fragment); required for a reply. */
  inReplyTo: string | null;
  /** `inReplyTo` was implied (`COORD_MESSAGE_ID` inside `watch --exec`): drop it when unknown. */
  inReplyToSoft?: boolean;
  tags: string[];
  /** Sent by an automatic responder (loop guard, METHODOLOGY.md "Messages"). */
  auto: boolean;
  /** Ids known to exist in an archive (a reply to an archived message). */
  archivedIds?: ReadonlySet<string>;
}

/** What a send committed (or would commit). */
export interface SendResult {
  message: Message;
  recipients: string[];
  /** The sender named itself among several targets and was left out. */
  droppedSelf: boolean;
  /** The message already existed (an earlier attempt landed): nothing new was written. */
  existing: boolean;
}

function refuse(code: Refusal['code'], message: string, details?: Record<string, unknown>): { kind: 'refuse'; refusal: Refusal } {
  return { kind: 'refuse', refusal: { code, message, ...(details ? { details } : {}) } };
}

function refusalOf(err: unknown): { kind: 'refuse'; refusal: Refusal } {
  if (err instanceof CoordError) return refuse(err.code, err.message, Object.keys(err.details).length ? err.details : undefined);
  throw err;
}

/** The messages document of a state, or a new empty one when the file does not exist yet. */
export function messagesDoc(state: TxState): MessagesFile {
  const doc = state.files.get(MESSAGES_PATH) as MessagesFile | null | undefined;
  if (doc) return structuredClone(doc);
  return { $schema: schemaRefFor(MESSAGES_PATH, 'messages.schema.json'), messages: [] };
}

/**
 * Checks that `from` may send: a configured builder, or a name listed in the build config's
 * `trust.senders`.
 */
export function senderRefusal(state: TxState, from: string): Refusal | null {
  const builders = configuredBuilders(state.config);
  const trusted = trustedSenders(state.config);
  if (builders.includes(from) || trusted.includes(from)) return null;
  return {
    code: 'E_USAGE',
    message: `--from ${from}: not a configured builder and not listed in trust.senders of shared/build_config.json ` +
      `(builders: ${builders.join(', ') || 'none'}; trusted senders: ${trusted.join(', ') || 'none'})`,
    details: { argument: '--from', builders, trusted },
  };
}

/** The send transaction's mutation: appends one message. */
export function planSend(input: SendInput) {
  return (state: TxState, now: number): TxDecision<SendResult> => {
    if (!state.config) return refuse('E_INVALID', 'shared/build_config.json is missing on the remote; run coord init there first');
    const notSender = senderRefusal(state, input.from);
    if (notSender) return { kind: 'refuse', refusal: notSender };
    const doc = messagesDoc(state);
    const already = doc.messages.find((m) => m.id === input.id);
    if (already) return { kind: 'noop', result: { message: already, recipients: recipientsOf(already, configuredBuilders(state.config)), droppedSelf: false, existing: true } };
    const builders = configuredBuilders(state.config);
    let parent: Message | null = null;
    let inReplyTo: string | null = null;
    try {
      if (input.inReplyTo !== null) {
        parent = findMessage(doc.messages, input.inReplyTo, '--reply-to');
        if (parent) inReplyTo = parent.id;
        else if (input.archivedIds?.has(input.inReplyTo)) inReplyTo = input.inReplyTo;
        else if (input.inReplyToSoft) inReplyTo = null;
        else return refuse('E_NOT_FOUND', `--reply-to ${input.inReplyTo}: no such message in ${MESSAGES_PATH} or its archive; list ids with coord messages --all`, { argument: '--reply-to' });
      }
      let to: Message['to'];
      let recipients: string[];
      let droppedSelf = false;
      if (input.targets.kind === 'spec') {
        const r = resolveTargets(input.targets.spec, input.targets.raw, { builders, sender: input.from });
        ({ to, recipients, droppedSelf } = r);
      } else {
        if (!parent) return refuse('E_NOT_FOUND', `cannot reply to ${input.inReplyTo ?? '(none)'}: it is not in ${MESSAGES_PATH} (archived messages cannot be replied to with coord messages reply; use sm TARGETS --reply-to ID)`);
        const people = new Set([parent.from, ...(input.targets.all ? recipientsOf(parent, builders) : [])]);
        people.delete(input.from);
        const allowed = [...builders, ...trustedSenders(state.config)];
        const list = [...people].filter((p) => allowed.includes(p));
        if (!list.length) return refuse('E_USAGE', `nobody to reply to: ${parent.id} came from ${parent.from}${parent.from === input.from ? ' (you)' : ', which is no longer a builder or trusted sender'}`);
        const r = resolveTargets({ kind: 'builders', builders: list }, list.join(','), { builders, sender: input.from, alsoAllowed: trustedSenders(state.config) });
        ({ to, recipients } = r);
      }
      const message: Message = {
        id: input.id, from: input.from, to, type: input.type, priority: input.priority,
        subject: input.subject, body: input.body, timestamp: formatTimestamp(now),
        ack_required: input.ackRequired, read_by: [], acked_by: [], in_reply_to: inReplyTo, tags: [...input.tags],
        ...(input.auto ? { auto: true } : {}),
      };
      doc.messages.push(message);
      // Replying means having read what one replies to.
      if (parent && isAddressedTo(parent, input.from, builders) && !parent.read_by.includes(input.from)) parent.read_by.push(input.from);
      const targets = formatTo(to);
      return {
        kind: 'commit',
        writes: new Map([[MESSAGES_PATH, doc]]),
        summary: `${input.id} to ${targets}${inReplyTo ? ` (reply to ${inReplyTo})` : ''}`,
        trailers: { 'Message-Id': input.id, 'Message-To': targets, ...(inReplyTo ? { 'Message-Reply-To': inReplyTo } : {}), ...(input.auto ? { 'Message-Auto': 'true' } : {}) },
        result: { message, recipients, droppedSelf, existing: false },
      };
    } catch (err) {
      return refusalOf(err);
    }
  };
}

/** What `read`/`ack` did. */
export interface MarkResult {
  /** Ids newly marked. */
  changed: string[];
  /** Ids that were already marked. */
  unchanged: string[];
  /** The messages concerned, after the change. */
  messages: Message[];
  /** Configured builders (to show who `all` is). */
  builders: string[];
}

export interface MarkInput {
  /** Ids or unique fragments; empty with `allUnread`. */
  ids: readonly string[];
  /** The recipient marking them. */
  who: string;
  /** Acknowledge (implies read). */
  ack: boolean;
  /** Every message to `who` not yet read (or, with `ack`, not yet acknowledged). */
  allUnread?: boolean;
}

/**
 * The `read`/`ack` mutation: adds `who` to `read_by` (and `acked_by`) of each message.
 * Refuses an unknown id (E_NOT_FOUND), a message not addressed to `who` and a `who` that
 * is not a configured builder (E_USAGE).
 */
export function planMark(input: MarkInput) {
  return (state: TxState): TxDecision<MarkResult> => {
    const doc = messagesDoc(state);
    const builders = configuredBuilders(state.config);
    // Read state is per configured recipient: marking as a builder the fleet does not
    // know would write a read_by entry nobody can ever list (compat scripts take the
    // builder as an argument, so a typo must not pass silently).
    if (state.config && !builders.includes(input.who)) {
      return refuse('E_USAGE', `${input.who} is not a configured builder (shared/build_config.json has: ${builders.join(', ') || 'none'}); only a recipient reads or acknowledges a message`, { argument: 'builder', builders });
    }
    const targets: Message[] = [];
    try {
      if (input.allUnread) {
        targets.push(...doc.messages.filter((m) => isAddressedTo(m, input.who, builders) && !(input.ack ? m.acked_by : m.read_by).includes(input.who)));
      }
      for (const typed of input.ids) {
        const m = findMessage(doc.messages, typed);
        if (!m) return refuse('E_NOT_FOUND', `message ${typed} not found in ${MESSAGES_PATH} (archived messages are read by everyone already; see coord messages --archived)`, { argument: 'ID', id: typed });
        if (!isAddressedTo(m, input.who, builders)) {
          return refuse('E_USAGE', `message ${m.id} is addressed to ${formatTo(m.to)}${m.to === 'all' ? ` (everyone but ${m.from})` : ''}, not to ${input.who}; only a recipient reads or acknowledges it`, { argument: 'ID', id: m.id });
        }
        if (!targets.includes(m)) targets.push(m);
      }
    } catch (err) {
      return refusalOf(err);
    }
    const changed: string[] = [];
    const unchanged: string[] = [];
    for (const m of targets) {
      let touched = false;
      if (!m.read_by.includes(input.who)) { m.read_by.push(input.who); touched = true; }
      if (input.ack && !m.acked_by.includes(input.who)) { m.acked_by.push(input.who); touched = true; }
      (touched ? changed : unchanged).push(m.id);
    }
    const result: MarkResult = { changed, unchanged, messages: targets, builders };
    if (!changed.length) return { kind: 'noop', result };
    const shown = changed.length <= 3 ? changed.join(' ') : `${changed.slice(0, 3).join(' ')} and ${changed.length - 3} more`;
    return {
      kind: 'commit',
      writes: new Map([[MESSAGES_PATH, doc]]),
      summary: `${shown} by ${input.who}`,
      trailers: { 'Message-Ids': changed.slice(0, 50).join(' ') + (changed.length > 50 ? ` (+${changed.length - 50})` : '') },
      result,
    };
  };
}
