/**
 * The pure state changes (lib/messages/mutations.ts, archive.ts), inbox selection and
 * threads (inbox.ts, lookup.ts): `(state, now) → decision`, no git.
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import { isArchivable, messageArchivePaths, monthOf, planMessageArchive } from '../../lib/messages/archive.js';
import { selectMessages, parseSince } from '../../lib/messages/inbox.js';
import { findMessage, replyDepth, threadId, threadOf, indexById } from '../../lib/messages/lookup.js';
import type { Message } from '../../lib/messages/model.js';
import { planMark, planSend, type SendInput } from '../../lib/messages/mutations.js';
import { parseTargets } from '../../lib/messages/targets.js';
import type { BuildConfigFile } from '../../lib/schemas/types.gen.js';
import { checkCoordinationValue } from '../../lib/store/check.js';
import type { TxState } from '../../lib/tx/transaction.js';
import { formatTimestamp } from '../../lib/util/time.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const DAY = 86_400_000;
const MSG = 'coordination/messages.json';
const BUILDERS = ['build1', 'build2', 'build3', 'build4'];
const config: BuildConfigFile = {
  $schema: '../schemas/build_config.schema.json',
  builders: Object.fromEntries(BUILDERS.map((b) => [b, {}])),
  trust: { senders: ['alice'] },
};

function msg(id: string, fields: Partial<Message> = {}): Message {
  return {
    id, from: 'build1', to: 'build2', type: 'info', priority: 'normal', subject: id, body: `body of ${id}`,
    timestamp: formatTimestamp(NOW - DAY), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [], ...fields,
  };
}

function state(messages: Message[], extra: [string, unknown][] = []): TxState {
  return {
    files: new Map<string, unknown>([[MSG, { $schema: '../schemas/messages.schema.json', messages }], ...extra]),
    config, policy: { ...DEFAULT_POLICY }, base: 'c0ffee',
  };
}

function send(raw: string, fields: Partial<SendInput> = {}): SendInput {
  return {
    id: 'msg-new', from: 'build1', targets: { kind: 'spec', spec: parseTargets(raw), raw }, type: 'info', priority: 'normal',
    subject: 'secret plans', body: 'the body text', ackRequired: false, inReplyTo: null, tags: [], auto: false, ...fields,
  };
}

describe('planSend', () => {
  test('appends one valid message; the commit names id and targets, never subject or body', () => {
    const d = planSend(send('23'))(state([msg('m1')]), NOW);
    if (d.kind !== 'commit') throw new Error(d.kind);
    const doc = d.writes.get(MSG) as { messages: Message[] };
    expect(doc.messages.map((m) => m.id)).toEqual(['m1', 'msg-new']);
    expect(doc.messages[1]).toMatchObject({ from: 'build1', to: ['build2', 'build3'], read_by: [], acked_by: [], timestamp: formatTimestamp(NOW) });
    expect(checkCoordinationValue(MSG, doc, { builders: BUILDERS, policy: { ...DEFAULT_POLICY }, now: NOW }).ok).toBe(true);
    const commitText = `${d.summary} ${JSON.stringify(d.trailers)}`;
    expect(commitText).toContain('msg-new');
    expect(commitText).toContain('build2,build3');
    expect(commitText).not.toMatch(/secret plans|the body text/);
  });

  test('auto: true only when sent automatically', () => {
    const plain = planSend(send('2'))(state([]), NOW);
    const auto = planSend(send('2', { auto: true }))(state([]), NOW);
    if (plain.kind !== 'commit' || auto.kind !== 'commit') throw new Error('expected commits');
    expect('auto' in plain.result.message).toBe(false);
    expect(auto.result.message.auto).toBe(true);
  });

  test.each<[string, Partial<SendInput>, string, RegExp]>([
    ['unknown target', {}, '9', /build9 is not a configured builder; configured builders: build1, build2, build3, build4/],
    ['untrusted --from', { from: 'mallory' }, '2', /--from mallory: not a configured builder and not listed in trust.senders/],
    ['reply to nothing', { inReplyTo: 'msg-nope' }, '2', /--reply-to msg-nope: no such message/],
  ])('refused: %s', (_n, fields, raw, re) => {
    const d = planSend(send(raw, fields))(state([msg('m1')]), NOW);
    if (d.kind !== 'refuse') throw new Error(d.kind);
    expect(d.refusal.message).toMatch(re);
  });

  test('--reply-to: not found is E_NOT_FOUND; an implied one that is unknown is dropped', () => {
    const d = planSend(send('2', { inReplyTo: 'msg-nope' }))(state([]), NOW);
    expect(d.kind === 'refuse' && d.refusal.code).toBe('E_NOT_FOUND');
    const soft = planSend(send('2', { inReplyTo: 'msg-nope', inReplyToSoft: true }))(state([]), NOW);
    expect(soft.kind === 'commit' && soft.result.message.in_reply_to).toBeNull();
  });

  test('a trusted person may send', () => {
    expect(planSend(send('all', { from: 'alice' }))(state([]), NOW).kind).toBe('commit');
  });

  test('the same id again (an attempt that landed) is a no-op', () => {
    expect(planSend(send('2'))(state([msg('msg-new')]), NOW).kind).toBe('noop');
  });

  test('reply: to the sender; --all: also the other recipients; the replier has read the original', () => {
    const orig = msg('m1', { from: 'build3', to: ['build1', 'build2'] });
    const r = planSend(send('2', { targets: { kind: 'reply', all: false }, inReplyTo: 'm1' }))(state([orig]), NOW);
    if (r.kind !== 'commit') throw new Error(r.kind);
    expect(r.result.message).toMatchObject({ to: 'build3', in_reply_to: 'm1' });
    expect((r.writes.get(MSG) as { messages: Message[] }).messages[0].read_by).toEqual(['build1']);
    const all = planSend(send('2', { targets: { kind: 'reply', all: true }, inReplyTo: 'm1' }))(state([orig]), NOW);
    expect(all.kind === 'commit' && all.result.message.to).toEqual(['build2', 'build3']);
  });
});

describe('planMark (read and ack are per recipient)', () => {
  test('a broadcast read by build2 stays unread for build3', () => {
    const d = planMark({ ids: ['m1'], who: 'build2', ack: false })(state([msg('m1', { to: 'all' })]));
    if (d.kind !== 'commit') throw new Error(d.kind);
    const m = (d.writes.get(MSG) as { messages: Message[] }).messages[0];
    expect(m.read_by).toEqual(['build2']);
    expect(selectMessages([m], BUILDERS, { who: 'build3', includeRead: false })).toHaveLength(1);
    expect(selectMessages([m], BUILDERS, { who: 'build2', includeRead: false })).toHaveLength(0);
  });
  test('ack implies read; marking again is a no-op', () => {
    const d = planMark({ ids: ['m1'], who: 'build2', ack: true })(state([msg('m1')]));
    expect(d.kind === 'commit' && d.result.messages[0]).toMatchObject({ read_by: ['build2'], acked_by: ['build2'] });
    expect(planMark({ ids: ['m1'], who: 'build2', ack: false })(state([msg('m1', { read_by: ['build2'] })])).kind).toBe('noop');
  });
  test('by unique suffix; unknown → E_NOT_FOUND; not a recipient → E_USAGE; ambiguous → E_USAGE', () => {
    const s = state([msg('msg-a-1234abcd'), msg('msg-b-9999ffff'), msg('msg-c-9999eeee')]);
    expect(planMark({ ids: ['1234abcd'], who: 'build2', ack: false })(s).kind).toBe('commit');
    const nf = planMark({ ids: ['zzzzzz'], who: 'build2', ack: false })(s);
    expect(nf.kind === 'refuse' && nf.refusal.code).toBe('E_NOT_FOUND');
    const other = planMark({ ids: ['1234abcd'], who: 'build3', ack: false })(s);
    expect(other.kind === 'refuse' && other.refusal).toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/addressed to build2, not to build3/) });
    const amb = planMark({ ids: ['msg-'], who: 'build2', ack: false })(s);
    expect(amb.kind === 'refuse' && amb.refusal.message).toMatch(/matches several messages/);
  });
  test('--all-unread marks every unread message to the builder', () => {
    const d = planMark({ ids: [], who: 'build2', ack: false, allUnread: true })(state([msg('m1'), msg('m2', { to: 'build3' }), msg('m3', { to: 'all' })]));
    expect(d.kind === 'commit' && d.result.changed).toEqual(['m1', 'm3']);
  });
});

describe('inbox', () => {
  const list = [
    msg('old', { timestamp: formatTimestamp(NOW - 3 * DAY), type: 'warning' }),
    msg('read', { read_by: ['build2'] }),
    msg('from3', { from: 'build3', to: 'all' }),
    msg('own', { from: 'build2', to: 'all' }),
    msg('legacy', { to: 'build2', read_by: ['build2'] }),
  ];
  test('default: unread for this builder, newest last; a builder never sees its own broadcast', () => {
    expect(selectMessages(list, BUILDERS, { who: 'build2', includeRead: false }).map((m) => m.id)).toEqual(['old', 'from3']);
  });
  test('filters: --all, --from, --type, --since, --grep, --sent, --limit', () => {
    const ids = (f: Parameters<typeof selectMessages>[2]) => selectMessages(list, BUILDERS, f).map((m) => m.id);
    expect(ids({ who: 'build2', includeRead: true })).toEqual(['old', 'read', 'from3', 'legacy']);
    expect(ids({ who: 'build2', includeRead: true, from: 'build3' })).toEqual(['from3']);
    expect(ids({ who: 'build2', includeRead: true, type: 'warning' })).toEqual(['old']);
    expect(ids({ who: 'build2', includeRead: true, since: NOW - 2 * DAY })).toEqual(['read', 'from3', 'legacy']);
    expect(ids({ who: 'build2', includeRead: true, grep: 'BODY OF FROM' })).toEqual(['from3']);
    expect(ids({ who: 'build2', includeRead: false, sent: true })).toEqual(['own']);
    expect(ids({ who: null, includeRead: false, limit: 2 })).toEqual(['own', 'legacy']);
  });
  test('--since accepts ages and dates, refuses the rest', () => {
    expect(parseSince('2h', NOW)).toBe(NOW - 2 * 3_600_000);
    expect(parseSince('2026-11-29', NOW)).toBe(Date.UTC(2026, 10, 29));
    expect(() => parseSince('yesterday', NOW)).toThrow(/--since "yesterday"/);
  });
});

describe('threads and reply depth', () => {
  const chain = [msg('a'), msg('b', { in_reply_to: 'a' }), msg('c', { in_reply_to: 'b' }), msg('d', { in_reply_to: 'a' }), msg('x')];
  const byId = indexById(chain);
  test('depth counts the in_reply_to chain; the thread is its root', () => {
    expect(chain.map((m) => replyDepth(m, byId))).toEqual([0, 1, 2, 1, 0]);
    expect(threadId(chain[2], byId)).toBe('a');
    expect(threadOf(chain[2], chain).map((e) => `${e.message.id}@${e.depth}`)).toEqual(['a@0', 'b@1', 'c@2', 'd@1']);
  });
  test('a missing parent counts as a level; a cycle (bad hand edit) ends the walk', () => {
    const orphan = msg('o', { in_reply_to: 'archived' });
    expect(replyDepth(orphan, indexById([orphan]))).toBe(1);
    const loop = [msg('p', { in_reply_to: 'q' }), msg('q', { in_reply_to: 'p' })];
    expect(replyDepth(loop[0], indexById(loop))).toBe(1);
  });
  test('findMessage: exact, or any unique part of ≥ 4 characters (lib/util/id-match.ts); shorter is a usage error', () => {
    expect(findMessage(chain, 'a')?.id).toBe('a');
    expect(findMessage([msg('msg-20261130-build1-4f9a2c1d')], '4f9a2c1d')?.id).toBe('msg-20261130-build1-4f9a2c1d');
    expect(findMessage([msg('msg-20261130-build1-4f9a2c1d')], '4f9a')?.id).toBe('msg-20261130-build1-4f9a2c1d');
    expect(findMessage([msg('msg-20261130-build1-4f9a2c1d')], 'ffff')).toBeNull();
    expect(() => findMessage([msg('msg-20261130-build1-4f9a2c1d')], '1d')).toThrow(/too short/);
  });
});

describe('retention (planMessageArchive)', () => {
  const old = formatTimestamp(NOW - 40 * DAY);
  const messages = [
    msg('done', { timestamp: old, read_by: ['build2'] }),
    msg('unread', { timestamp: old }),
    msg('bcast-part', { timestamp: old, to: 'all', read_by: ['build2', 'build3'] }),
    msg('bcast-all', { timestamp: old, to: 'all', read_by: ['build2', 'build3', 'build4'] }),
    msg('ack-missing', { timestamp: old, read_by: ['build2'], ack_required: true }),
    msg('recent', { read_by: ['build2'] }),
  ];
  test('old messages every recipient has read (and acked, when asked) move to their month', () => {
    expect(messages.filter((m) => isArchivable(m, BUILDERS, NOW - 30 * DAY)).map((m) => m.id)).toEqual(['done', 'bcast-all']);
    const paths = messageArchivePaths({ messages }, config, NOW, 30);
    expect(paths).toEqual([`coordination/archive/messages-${monthOf(messages[0])}.json`]);
    const d = planMessageArchive()(state(messages, paths.map((p) => [p, null])), NOW);
    if (d.kind !== 'commit') throw new Error(d.kind);
    expect((d.writes.get(MSG) as { messages: Message[] }).messages.map((m) => m.id)).toEqual(['unread', 'bcast-part', 'ack-missing', 'recent']);
    const archive = d.writes.get(paths[0]) as { kind: string; month: string; records: Message[] };
    expect(archive).toMatchObject({ kind: 'messages', month: monthOf(messages[0]) });
    expect(archive.records.map((m) => m.id)).toEqual(['done', 'bcast-all']);
    expect(checkCoordinationValue(paths[0], archive, { builders: BUILDERS, policy: { ...DEFAULT_POLICY }, now: NOW }).ok).toBe(true);
  });
  test('an archive month the transaction did not read waits for the next run', () => {
    const d = planMessageArchive()(state(messages), NOW);
    expect(d.kind).toBe('noop');
    expect(d.kind === 'noop' && d.result.deferred).toEqual(['done', 'bcast-all']);
  });
  test('existing archive records are kept; the hot file keeps the rest', () => {
    const p = messageArchivePaths({ messages }, config, NOW, 30)[0];
    const existing = { $schema: '../../schemas/archive.schema.json', kind: 'messages', month: monthOf(messages[0]), records: [msg('earlier', { timestamp: formatTimestamp(NOW - 45 * DAY) })] };
    const d = planMessageArchive()(state(messages, [[p, existing]]), NOW);
    expect(d.kind === 'commit' && (d.writes.get(p) as { records: Message[] }).records.map((m) => m.id)).toEqual(['earlier', 'done', 'bcast-all']);
  });
});
