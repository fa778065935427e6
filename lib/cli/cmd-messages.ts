/**
 * `coord messages …` (DESIGN.md section 7): the inbox (`list`, the default), `read`,
 * `ack`, `reply`, `thread`, `watch` (cmd-messages-watch.ts) and `archive`.
 */
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { fullMessage, listLine, threadLines } from '../messages/format.js';
import { INBOX_ORDERS, inboxCounts, parseSince, selectMessages, type InboxFilter, type InboxOrder } from '../messages/inbox.js';
import { findMessage, threadOf } from '../messages/lookup.js';
import { MESSAGE_TYPES, type Message, type MessageType, type Priority } from '../messages/model.js';
import { loadMessages, readArchivedMessages, type FetchOutcome } from '../messages/repo-state.js';
import { archiveOldMessages } from '../messages/retention.js';
import { markMessages, sendMessage } from '../messages/send.js';
import { bodyLines, decodeStdinBody } from '../messages/subject.js';
import type { Run } from './cmd-files.js';
import { watchCommand } from './cmd-messages-watch.js';
import type { CommandContext } from './context.js';
import { safeForTerminal } from '../util/terminal-text.js';
import { printJson, printLines } from './io.js';
import { envFlag, messageOptions, printSendOutcome, processStdin } from './sm.js';

function warnFetch(ctx: CommandContext, fetch: FetchOutcome | null): void {
  if (fetch && !fetch.ok) ctx.io.stderr(`warning: ${safeForTerminal(fetch.reason)}; showing the last fetched state\n`);
}

/** A string option's value (yargs hands strings for `type: 'string'`). */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function positiveInt(v: unknown, option: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CoordError('E_USAGE', `${option} ${text(v)}: give a whole number ≥ 0`, { details: { argument: option } });
  return n;
}

async function listCommand(ctx: CommandContext, a: Record<string, unknown>): Promise<void> {
  const now = ctx.clock.now();
  const snap = await loadMessages(ctx.repoRoot(), { fetch: a.fetch !== false, now });
  warnFetch(ctx, snap.fetch);
  const toAny = a.to === 'any';
  if (a.to !== undefined && !toAny && !snap.builders.includes(text(a.to))) {
    throw new CoordError('E_USAGE', `--to ${text(a.to)}: not a configured builder (configured: ${snap.builders.join(', ') || 'none'}; or any)`, { details: { argument: '--to' } });
  }
  const who = toAny ? null : a.to !== undefined ? text(a.to) : ctx.identity().builder;
  const exitIfUnread = Boolean(a['exit-code-if-unread']);
  if (exitIfUnread && (who === null || a.archived || a.sent)) {
    throw new CoordError('E_USAGE', '--exit-code-if-unread needs one inbox: this builder or --to buildN (not --to any, --sent or --archived)', { details: { argument: '--exit-code-if-unread' } });
  }
  let pool: Message[] = snap.messages;
  if (a.archived) {
    const arch = snap.commit ? await readArchivedMessages(ctx.repoRoot(), snap.commit, now) : { messages: [], issues: [] };
    for (const i of arch.issues) ctx.io.stderr(safeForTerminal(`warning: skipping ${i.file}: ${i.pointer || '/'}: ${i.reason}`) + '\n');
    pool = arch.messages;
  }
  const filter: InboxFilter = {
    who, includeRead: Boolean(a.all) || Boolean(a.archived), sent: Boolean(a.sent),
    ...(a.from !== undefined ? { from: text(a.from) } : {}),
    ...(a.type !== undefined ? { type: a.type as MessageType } : {}),
    ...(a.since !== undefined ? { since: parseSince(text(a.since), now) } : {}),
    ...(a.grep !== undefined ? { grep: text(a.grep) } : {}),
    ...(a.limit !== undefined ? { limit: positiveInt(a.limit, '--limit')! } : {}),
    ...(a.order !== undefined ? { order: a.order as InboxOrder } : {}),
  };
  const list = selectMessages(pool, snap.builders, filter);
  const counts = who !== null ? inboxCounts(snap.messages, snap.builders, who) : null;
  // Like `git diff --exit-code`: 1 means "there is something", for scripts that use the
  // listing as a boolean (the upstream check_unread_messages.sh). Nothing is written.
  if (exitIfUnread && who !== null && list.some((m) => !m.read_by.includes(who))) process.exitCode = 1;
  if (ctx.json) {
    printJson(ctx.io, { ok: true, builder: who, archived: Boolean(a.archived), fetched: snap.fetch?.ok ?? null, count: list.length, ...(counts ? { unread: counts.unread, awaiting_ack: counts.awaitingAck } : {}), messages: list });
    return;
  }
  const lines: string[] = [];
  for (const m of list) {
    lines.push(listLine(m, who));
    if (a.long) lines.push(...bodyLines(safeForTerminal(m.body)).map((l) => `    ${l}`), '');
  }
  printLines(ctx.io, lines);
  const what = a.archived ? 'archived message(s)' : filter.includeRead || filter.sent || who === null ? 'message(s)' : 'unread message(s)';
  const tail = counts && !a.archived ? ` (${counts.unread} unread${counts.awaitingAck ? `, ${counts.awaitingAck} awaiting your ack` : ''} for ${who})` : '';
  ctx.io.stderr(`${list.length} ${what}${tail}${list.length && !a.archived ? '; coord messages read ID shows one and marks it read' : ''}\n`);
}

async function markCommand(ctx: CommandContext, a: Record<string, unknown>, ack: boolean): Promise<void> {
  const ids = ((a.ids as string[] | undefined) ?? []).map(String);
  const allUnread = Boolean(a['all-unread']);
  if (!ids.length && !allUnread) throw new CoordError('E_USAGE', `give the id(s) of the message(s) to ${ack ? 'acknowledge' : 'read'} (coord messages lists them), or --all-unread`, { details: { argument: 'ID' } });
  const who = ctx.identity().builder;
  const r = await markMessages({ repoRoot: ctx.repoRoot(), who, ids, ack, allUnread, clock: ctx.clock });
  if (ctx.json) {
    printJson(ctx.io, { ok: true, builder: who, [ack ? 'acked' : 'marked']: r.changed, already: r.unchanged, commit: r.commit, messages: r.messages });
    return;
  }
  if (!ack) {
    const lines: string[] = [];
    r.messages.forEach((m, i) => lines.push(...(i ? ['', '─'.repeat(40)] : []), ...fullMessage(m, r.builders)));
    printLines(ctx.io, lines);
  }
  const verb = ack ? 'acknowledged' : 'marked read';
  ctx.io.stderr(`${r.changed.length} ${verb}${r.unchanged.length ? `, ${r.unchanged.length} already ${ack ? 'acknowledged' : 'read'}` : ''}${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ''}\n`);
}

async function replyCommand(ctx: CommandContext, a: Record<string, unknown>): Promise<void> {
  // Words after `--` are text like any other (as for sm): `reply ID -- --starts-with-dash`.
  const words = [...((a.body as string[] | undefined) ?? []), ...((a['--'] as string[] | undefined) ?? [])].map(String);
  let body = words.join(' ');
  let source = 'BODY';
  // `-` (which yargs hands over as nothing), or no words with text piped in: standard input.
  if (!words.length && !process.stdin.isTTY) {
    body = decodeStdinBody(await processStdin());
    source = 'standard input';
  }
  const auto = Boolean(a.auto) || envFlag(ctx.io.env.COORD_AUTO);
  const from = (a.from as string | undefined) ?? ctx.identity().builder;
  const out = await sendMessage({
    repoRoot: ctx.repoRoot(), from, targets: { kind: 'reply', all: Boolean(a.all) }, body, bodySource: source,
    subject: a.subject as string | undefined, type: a.type as MessageType, priority: a.priority as Priority,
    ackRequired: Boolean(a['require-ack']), tags: (a.tag as string[] | undefined) ?? [], auto,
    inReplyTo: String(a.id), allowSecret: Boolean(a['allow-secret']), dryRun: Boolean(a['dry-run']), clock: ctx.clock,
  });
  printSendOutcome(ctx.io, ctx.json, out, out.recipients);
}

async function threadCommand(ctx: CommandContext, a: Record<string, unknown>): Promise<void> {
  const now = ctx.clock.now();
  const snap = await loadMessages(ctx.repoRoot(), { fetch: a.fetch !== false, now });
  warnFetch(ctx, snap.fetch);
  const archived = snap.commit ? await readArchivedMessages(ctx.repoRoot(), snap.commit, now) : { messages: [], issues: [] };
  const hot = new Set(snap.messages.map((m) => m.id));
  const all = [...snap.messages, ...archived.messages.filter((m) => !hot.has(m.id))];
  const m = findMessage(snap.messages, String(a.id)) ?? findMessage(all, String(a.id));
  if (!m) throw new CoordError('E_NOT_FOUND', `message ${String(a.id)} not found (in coordination/messages.json or its archive)`, { details: { argument: 'ID' } });
  const entries = threadOf(m, all);
  const who = ctx.maybeIdentity()?.builder ?? null;
  if (ctx.json) {
    printJson(ctx.io, { ok: true, thread: entries[0]?.message.id ?? m.id, count: entries.length, messages: entries.map((e) => ({ depth: e.depth, ...e.message })) });
    return;
  }
  printLines(ctx.io, threadLines(entries, who));
}

async function archiveCommand(ctx: CommandContext, a: Record<string, unknown>): Promise<void> {
  const actor = ctx.actor();
  const r = await archiveOldMessages({ repoRoot: ctx.repoRoot(), actor, retentionDays: positiveInt(a['older-than'], '--older-than'), dryRun: Boolean(a['dry-run']), clock: ctx.clock });
  if (ctx.json) {
    printJson(ctx.io, { ok: true, dry_run: Boolean(a['dry-run']), retention_days: r.retention_days, moved: r.moved, files: r.files, deferred: r.deferred, remaining: r.remaining, commit: r.commit });
    return;
  }
  if (!r.moved.length) {
    printLines(ctx.io, `nothing to archive: no message older than ${r.retention_days} day(s) read by all its recipients`);
    return;
  }
  printLines(ctx.io, `${a['dry-run'] ? 'would archive' : 'archived'} ${r.moved.length} message(s) into ${r.files.join(', ')}; ${r.remaining} remain in coordination/messages.json${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ''}`);
}

const listOptions = <T>(c: Argv<T>) => c
  .option('all', { type: 'boolean', default: false, describe: 'read messages too' })
  .option('from', { type: 'string', describe: 'only from this sender' })
  .option('type', { choices: MESSAGE_TYPES, describe: 'only of this type' })
  .option('since', { type: 'string', describe: 'only since a time (2026-11-30, ISO) or an age (2h, 7d)' })
  .option('to', { type: 'string', describe: 'whose inbox (default: this builder); any: every message' })
  .option('sent', { type: 'boolean', default: false, describe: 'messages this builder sent' })
  .option('grep', { type: 'string', describe: 'only messages whose subject or body contains this text (any case)' })
  .option('limit', { type: 'number', describe: 'only the newest N' })
  .option('archived', { type: 'boolean', default: false, describe: 'search the archive (coordination/archive/messages-*.json) instead' })
  .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'show bodies too' })
  .option('order', { choices: INBOX_ORDERS, describe: 'time (default): oldest first; severity: errors, warnings, requests, then info (oldest first within each)' })
  .option('exit-code-if-unread', { type: 'boolean', default: false, describe: 'exit 1 when the listing holds a message unread by this builder (or --to buildN), like git diff --exit-code; writes nothing' })
  .option('fetch', { type: 'boolean', default: true, describe: 'fetch the remote first (--no-fetch: use the last fetched state)' });

/**
 * Registers `coord messages` and its subcommands.
 * @param run wraps a handler with the command context (see cmd-files.ts)
 */
export function messageCommands(y: Argv, run: Run): Argv {
  return y.command('messages', 'messages between builders: list, read, ack, reply, thread, watch, archive (sm sends)', (m) => m
    .command(['list', '$0'], "this builder's unread messages, newest last", (c) => listOptions(c)
      .example('coord messages', 'unread messages for this builder')
      .example('coord messages --all --from build3 --since 2d', 'everything build3 sent in two days')
      .example('coord messages --archived --grep deploy', 'search the archive')
      .example('coord messages --to build2 --exit-code-if-unread >/dev/null || echo unread', 'a boolean for scripts'),
    run(listCommand))
    .command('read [ids..]', 'show messages and mark them read by this builder', (c) => c
      .positional('ids', { type: 'string', array: true, describe: 'message ids (or a unique part, e.g. the last 8 characters)' })
      .option('all-unread', { type: 'boolean', default: false, describe: 'every unread message for this builder' })
      .example('coord messages read 4f9a2c1d', 'show and mark one message'),
    run((ctx, a) => markCommand(ctx, a, false)))
    .command('ack [ids..]', 'acknowledge messages (implies read)', (c) => c
      .positional('ids', { type: 'string', array: true, describe: 'message ids' })
      .option('all-unread', { type: 'boolean', default: false, describe: 'every message awaiting this builder\'s acknowledgement' })
      .example('coord messages ack 4f9a2c1d', 'acknowledge one message'),
    run((ctx, a) => markCommand(ctx, a, true)))
    .command('reply <id> [body..]', 'answer a message (to its sender; --all: also its other recipients)', (c) => messageOptions(c.parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false }))
      .positional('id', { type: 'string', describe: 'the message answered' })
      .positional('body', { type: 'string', array: true, describe: 'the text; -, or no words with text piped in, reads standard input' })
      .option('all', { type: 'boolean', default: false, describe: 'reply to every recipient too' })
      .example('coord messages reply 4f9a2c1d done, deployed', 'answer the sender'),
    run(replyCommand))
    .command('thread <id>', 'a message with everything it replies to and every reply', (c) => c
      .positional('id', { type: 'string', describe: 'any message of the thread' })
      .option('fetch', { type: 'boolean', default: true, describe: 'fetch the remote first' }),
    run(threadCommand))
    .command(watchCommand(run))
    .command('archive', 'move old messages every recipient has read into coordination/archive/messages-YYYY-MM.json', (c) => c
      .option('older-than', { type: 'number', describe: 'days (default: policy.message_retention_days)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'show what would move' }),
    run(archiveCommand)));
}
