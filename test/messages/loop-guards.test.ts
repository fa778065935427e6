/**
 * Loop guards of `coord messages watch` (lib/messages/loop-guards.ts), named after the
 * upstream incident: responders on three hosts answered each other's canned replies until
 * 2,225 messages and 3,561 commits piled up in one day.
 */
import { DEFAULT_GUARDS, judgeMessage, pruneLedger, type GuardSettings, type Handoff, type JudgeContext } from '../../lib/messages/loop-guards.js';
import { indexById } from '../../lib/messages/lookup.js';
import type { Message } from '../../lib/messages/model.js';
import { formatTimestamp } from '../../lib/util/time.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const BUILDERS = ['build1', 'build2', 'build3'];

function msg(id: string, fields: Partial<Message> = {}): Message {
  return {
    id, from: 'build1', to: 'build2', type: 'info', priority: 'normal', subject: id, body: id,
    timestamp: formatTimestamp(NOW - 1000), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [], ...fields,
  };
}

function ctx(all: Message[], over: Partial<GuardSettings> = {}, ledger: Handoff[] = []): JudgeContext {
  return {
    byId: indexById(all), builders: BUILDERS, since: NOW - 60_000, now: NOW, ledger,
    settings: { ...DEFAULT_GUARDS, self: 'build2', exec: true, ...over },
  };
}

test('never its own messages, nor messages for others, nor the backlog', () => {
  const own = msg('own', { from: 'build2', to: 'all' });
  const other = msg('other', { to: 'build3' });
  const old = msg('old', { timestamp: formatTimestamp(NOW - 3_600_000) });
  for (const exec of [true, false]) {
    expect(judgeMessage(own, ctx([own], { exec }))).toEqual({ action: 'ignore', reason: 'own' });
    expect(judgeMessage(other, ctx([other], { exec }))).toEqual({ action: 'ignore', reason: 'not-addressed' });
    expect(judgeMessage(old, ctx([old], { exec }))).toEqual({ action: 'ignore', reason: 'backlog' });
  }
});

test('auto messages are not handed to --exec unless --include-auto; printing shows them', () => {
  const auto = msg('auto', { auto: true });
  expect(judgeMessage(auto, ctx([auto]))).toMatchObject({ action: 'skip', reason: 'auto' });
  expect(judgeMessage(auto, ctx([auto], { includeAuto: true }))).toMatchObject({ action: 'deliver' });
  expect(judgeMessage(auto, ctx([auto], { exec: false }))).toMatchObject({ action: 'deliver' });
});

test('reply chains stop at --max-depth (default 5)', () => {
  const chain: Message[] = [msg('r0', { from: 'build3' })];
  for (let i = 1; i <= 6; i++) chain.push(msg(`r${i}`, { from: i % 2 ? 'build1' : 'build3', in_reply_to: `r${i - 1}` }));
  const verdicts = chain.map((m) => judgeMessage(m, ctx(chain)).action);
  expect(verdicts).toEqual(['deliver', 'deliver', 'deliver', 'deliver', 'deliver', 'skip', 'skip']);
  expect(judgeMessage(chain[3], ctx(chain, { maxDepth: 3 }))).toMatchObject({ action: 'skip', reason: 'depth', detail: expect.stringMatching(/3 deep \(limit --max-depth 3\)/) });
});

test('per-thread rate: at most --thread-rate hand-offs of one thread per window', () => {
  const root = msg('root');
  const reply = msg('reply', { in_reply_to: 'root' });
  const ledger: Handoff[] = Array.from({ length: 5 }, (_, i) => ({ id: `h${i}`, thread: 'root', peer: 'build3', at: NOW - 10_000 }));
  expect(judgeMessage(reply, ctx([root, reply], {}, ledger))).toMatchObject({ action: 'skip', reason: 'thread-rate' });
  // Outside the window they no longer count.
  const stale = ledger.map((h) => ({ ...h, at: NOW - DEFAULT_GUARDS.windowMs - 1 }));
  expect(judgeMessage(reply, ctx([root, reply], {}, stale))).toMatchObject({ action: 'deliver', thread: 'root' });
  expect(pruneLedger(stale, NOW, DEFAULT_GUARDS.windowMs)).toEqual([]);
});

test('per-peer rate: at most --peer-rate hand-offs from one sender per window', () => {
  const m = msg('m');
  const ledger: Handoff[] = Array.from({ length: 3 }, (_, i) => ({ id: `h${i}`, thread: `t${i}`, peer: 'build1', at: NOW - 1000 }));
  expect(judgeMessage(m, ctx([m], { peerLimit: 3 }, ledger))).toMatchObject({ action: 'skip', reason: 'peer-rate' });
  expect(judgeMessage(m, ctx([m], { peerLimit: 4 }, ledger))).toMatchObject({ action: 'deliver' });
});

test('bug upstream-2225: canned replies between three responders die out', () => {
  // Three responders each answer everything they get with an auto reply to all.
  const builders = ['build1', 'build2', 'build3'];
  const all: Message[] = [msg('seed', { from: 'build1', to: 'all', timestamp: formatTimestamp(NOW) })];
  const ledgers = new Map<string, Handoff[]>(builders.map((b) => [b, []]));
  const seen = new Map<string, Set<string>>(builders.map((b) => [b, new Set()]));
  for (let round = 0; round < 50; round++) {
    const fresh: Message[] = [];
    for (const b of builders) {
      for (const m of [...all]) {
        if (seen.get(b)!.has(m.id)) continue;
        seen.get(b)!.add(m.id);
        const v = judgeMessage(m, { byId: indexById(all), builders, since: NOW - 60_000, now: NOW, ledger: ledgers.get(b)!, settings: { ...DEFAULT_GUARDS, self: b, exec: true, includeAuto: true } });
        if (v.action !== 'deliver') continue;
        ledgers.get(b)!.push({ id: m.id, thread: v.thread, peer: m.from, at: NOW });
        fresh.push(msg(`${m.id}>${b}`, { from: b, to: 'all', auto: true, in_reply_to: m.id, timestamp: formatTimestamp(NOW) }));
      }
    }
    if (!fresh.length) break;
    all.push(...fresh);
  }
  // Even with --include-auto, depth and rate limits end the storm after a bounded number.
  expect(all.length).toBeLessThan(100);
  // And by default (auto messages not handed over) nobody answers an answer.
  const defaults = judgeMessage(all[1], { byId: indexById(all), builders, since: NOW - 60_000, now: NOW, ledger: [], settings: { ...DEFAULT_GUARDS, self: 'build3', exec: true } });
  expect(defaults).toMatchObject({ action: 'skip', reason: 'auto' });
});
