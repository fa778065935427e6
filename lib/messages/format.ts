/**
 * Human renderings of messages (the command line prints them; `--json` prints records).
 * Pure: strings in, strings out. Times are shown in UTC, as stored. Every text taken from
 * a message is made terminal-safe (control and bidi characters shown as escapes;
 * lib/util/terminal-text.ts): these lines go to a person's terminal.
 */
import { formatTo, recipientsOf, type Message } from './model.js';
import type { ThreadEntry } from './lookup.js';
import { bodyLines } from './subject.js';
import { terminalSafe } from '../util/terminal-text.js';

/** `2026-11-30 19:37` from a stored timestamp. */
export function shortTime(ts: string): string {
  return ts.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, '');
}

/** Is `who` a recipient? (`all`: anyone but the sender.) */
function forWho(m: Message, who: string | null): who is string {
  if (who === null) return false;
  return m.to === 'all' ? m.from !== who : typeof m.to === 'string' ? m.to === who : m.to.includes(who);
}

function tags(m: Message, who: string | null): string {
  const t: string[] = [];
  if (m.type !== 'info') t.push(m.type);
  if (m.priority !== 'normal') t.push(m.priority);
  if (m.ack_required) t.push(forWho(m, who) && !m.acked_by.includes(who) ? 'ack needed' : 'ack requested');
  if (m.auto) t.push('auto');
  if (m.in_reply_to) t.push('reply');
  return t.length ? `[${t.join(', ')}] ` : '';
}

/**
 * One line per message: unread mark (`*`), id, time, sender → recipients, flags, subject.
 * @param who whose read state the mark shows (null: no mark)
 */
export function listLine(raw: Message, who: string | null): string {
  const m = terminalSafe(raw);
  who = who === null ? null : terminalSafe(who);
  const mark = who === null ? '' : forWho(m, who) && !m.read_by.includes(who) ? '* ' : '  ';
  return `${mark}${m.id}  ${shortTime(m.timestamp)}  ${m.from} → ${formatTo(m.to)}  ${tags(m, who)}${m.subject}`;
}

/**
 * A whole message: header lines, a blank line, the body (indented by `indent`). A body
 * without real newlines but with literal `\n` sequences is shown on several lines, as its
 * subject was derived (the stored text is unchanged).
 */
export function fullMessage(raw: Message, rawBuilders: readonly string[], indent = ''): string[] {
  const m = terminalSafe(raw);
  const builders = terminalSafe(rawBuilders);
  const recipients = recipientsOf(m, builders);
  const unread = recipients.filter((r) => !m.read_by.includes(r));
  const lines = [
    `id:       ${m.id}`,
    `from:     ${m.from}`,
    `to:       ${formatTo(m.to)}${m.to === 'all' ? ` (${recipients.join(', ') || 'nobody'})` : ''}`,
    `date:     ${m.timestamp}`,
    `type:     ${m.type}, priority ${m.priority}${m.auto ? ', sent automatically' : ''}`,
    ...(m.in_reply_to ? [`reply to: ${m.in_reply_to}`] : []),
    ...(m.tags?.length ? [`tags:     ${m.tags.join(', ')}`] : []),
    `read by:  ${m.read_by.join(', ') || 'nobody'}${unread.length ? ` (unread: ${unread.join(', ')})` : ''}`,
    ...(m.ack_required ? [`acked by: ${m.acked_by.join(', ') || 'nobody'} (acknowledgement requested)`] : []),
    `subject:  ${m.subject}`,
    '',
    ...bodyLines(m.body),
  ];
  return lines.map((l) => (l === '' ? l : indent + l));
}

/** A thread: each message's list line, indented by depth, with its body below. */
export function threadLines(entries: readonly ThreadEntry[], who: string | null): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const pad = '  '.repeat(e.depth);
    out.push(pad + listLine(e.message, who));
    for (const l of bodyLines(terminalSafe(e.message.body))) out.push(`${pad}    ${l}`);
  }
  return out;
}
