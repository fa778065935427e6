/**
 * Sending, reading and acknowledging messages: the imperative shell around the pure
 * mutations in mutations.ts. Every input check that needs no state runs before anything
 * touches git, so a bad input never costs a fetch and never writes.
 */
import { CoordError } from '../errors.js';
import { DEFAULT_REMOTE, type RemoteSpec } from '../git/repo.js';
import { runTransaction, type TxDecision, type TxState } from '../tx/transaction.js';
import { cryptoRandomHex, newRecordId, type RandomHex } from '../util/ids.js';
import type { Clock } from '../util/time.js';
import { findMessage } from './lookup.js';
import { MESSAGES_PATH, TAG_MAX, charLength, type Message, type MessageType, type Priority } from './model.js';
import { planMark, planSend, type MarkResult, type SendResult, type SendTargets } from './mutations.js';
import { loadMessages, readArchivedMessages, readableCommit, readTxState } from './repo-state.js';
import { scanSecrets, secretRefusal } from './secrets.js';
import { checkBody, chooseSubject } from './subject.js';

/** A message to send. */
export interface SendOptions {
  repoRoot: string;
  from: string;
  targets: SendTargets;
  body: string;
  /** How the body was given, for errors: `BODY` or `standard input`. */
  bodySource?: string;
  /** Explicit `--subject`; otherwise derived from the body. */
  subject?: string | undefined;
  type: MessageType;
  priority: Priority;
  ackRequired: boolean;
  inReplyTo: string | null;
  /**
   * A reply-to implied by the environment (`COORD_MESSAGE_ID` inside `watch --exec`):
   * used when it names a known message, dropped otherwise. Ignored with `inReplyTo`.
   */
  implicitReplyTo?: string;
  tags: readonly string[];
  auto: boolean;
  /** Send even when the text looks like it carries a credential. */
  allowSecret: boolean;
  /** Build and show the record; write nothing. */
  dryRun: boolean;
  clock: Clock;
  random?: RandomHex;
  remote?: RemoteSpec;
}

/** What a send did. */
export interface SendOutcome extends SendResult {
  status: 'sent' | 'dry-run' | 'existing';
  /** The commit that carries the message (null for a dry run). */
  commit: string | null;
}

function refusalError(r: { code: CoordError['code']; message: string; details?: Record<string, unknown> }): CoordError {
  return new CoordError(r.code, r.message, r.details ? { details: r.details } : {});
}

/**
 * Checks the inputs that need no state: body, subject, tags, credentials.
 * @returns the subject to store
 * @throws CoordError E_USAGE naming the argument
 */
export async function checkSendInput(opts: Pick<SendOptions, 'body' | 'bodySource' | 'subject' | 'tags' | 'allowSecret'>): Promise<string> {
  checkBody(opts.body, opts.bodySource ?? 'BODY');
  const subject = chooseSubject(opts.body, opts.subject);
  for (const t of opts.tags) {
    if (t.trim() === '' || charLength(t) > TAG_MAX || /[\r\n]/.test(t)) {
      throw new CoordError('E_USAGE', `--tag "${t.slice(0, 80)}": a tag is one line of 1 to ${TAG_MAX} characters`, { details: { argument: '--tag' } });
    }
  }
  if (!opts.allowSecret) {
    const findings = await scanSecrets({ ...(opts.subject !== undefined ? { subject: opts.subject } : {}), body: opts.body });
    if (findings.length) throw secretRefusal(findings);
  }
  return subject;
}

/**
 * Sends one message in one transaction.
 * @throws CoordError E_USAGE (bad input, unknown target, untrusted sender), E_NOT_FOUND
 *   (`--reply-to` names no message), E_INVALID (messages.json or the build config invalid
 *   on the remote: refused, never repaired), E_UNREACHABLE, E_CONTENTION
 */
export async function sendMessage(opts: SendOptions): Promise<SendOutcome> {
  const subject = await checkSendInput(opts);
  const spec = opts.remote ?? DEFAULT_REMOTE;
  const id = newRecordId('msg', opts.from, opts.clock, opts.random ?? cryptoRandomHex);
  const archivedIds = new Set<string>();
  const soft = opts.inReplyTo === null && opts.implicitReplyTo !== undefined;
  const replyTo = opts.inReplyTo ?? opts.implicitReplyTo ?? null;
  if (replyTo !== null) {
    // A reply to an archived message is fine: archives only grow, so finding it once is enough.
    const snap = await loadMessages(opts.repoRoot, { fetch: true, now: opts.clock.now(), remote: spec });
    if (!findMessage(snap.messages, replyTo, '--reply-to') && snap.commit) {
      const archived = await readArchivedMessages(opts.repoRoot, snap.commit, opts.clock.now());
      const hit = findMessage(archived.messages, replyTo, '--reply-to');
      if (hit) archivedIds.add(hit.id);
    }
  }
  const mutate = planSend({
    id, from: opts.from, targets: opts.targets, type: opts.type, priority: opts.priority, subject, body: opts.body,
    ackRequired: opts.ackRequired, inReplyTo: replyTo === null ? null : ([...archivedIds][0] ?? replyTo), inReplyToSoft: soft,
    tags: [...opts.tags], auto: opts.auto, archivedIds,
  });
  if (opts.dryRun) {
    const decision = await dryRun(opts.repoRoot, spec, opts.clock, mutate, replyTo === null);
    if (decision.kind === 'refuse') throw refusalError(decision.refusal);
    return { ...decision.result, status: 'dry-run', commit: null };
  }
  const out = await runTransaction({ repoRoot: opts.repoRoot, actor: opts.from, action: 'message.send', paths: [MESSAGES_PATH], mutate, clock: opts.clock, remote: spec });
  if (out.status === 'refused') throw refusalError(out.refusal);
  if (out.status === 'noop') return { ...out.result, status: 'existing', commit: null };
  return { ...out.result, status: 'sent', commit: out.commit };
}

/** Runs a mutation on the state at the tracking ref (fetching first when asked) and returns its decision. */
async function dryRun<R>(repoRoot: string, spec: RemoteSpec, clock: Clock, mutate: (s: TxState, now: number) => TxDecision<R>, fetch: boolean): Promise<TxDecision<R>> {
  if (fetch) await loadMessages(repoRoot, { fetch: true, now: clock.now(), remote: spec });
  const state = await readTxState(repoRoot, await readableCommit(repoRoot, spec), [MESSAGES_PATH], clock.now());
  return mutate(state, clock.now());
}

/** Marks messages read (or acknowledged) by `who`, in one transaction. */
export interface MarkOptions {
  repoRoot: string;
  who: string;
  ids: readonly string[];
  ack: boolean;
  /** Every unread (or unacknowledged) message to `who`. */
  allUnread?: boolean;
  clock: Clock;
  remote?: RemoteSpec;
}

/**
 * @returns what changed, and the commit (null when nothing changed)
 * @throws CoordError E_NOT_FOUND (unknown id), E_USAGE (not a recipient, ambiguous id),
 *   E_INVALID, E_UNREACHABLE, E_CONTENTION
 */
export async function markMessages(opts: MarkOptions): Promise<MarkResult & { commit: string | null }> {
  const out = await runTransaction({
    repoRoot: opts.repoRoot, actor: opts.who, action: opts.ack ? 'message.ack' : 'message.read', paths: [MESSAGES_PATH],
    mutate: planMark({ ids: opts.ids, who: opts.who, ack: opts.ack, allUnread: opts.allUnread ?? false }),
    clock: opts.clock, ...(opts.remote ? { remote: opts.remote } : {}),
  });
  if (out.status === 'refused') throw refusalError(out.refusal);
  return { ...out.result, commit: out.status === 'committed' ? out.commit : null };
}

export type { Message };
