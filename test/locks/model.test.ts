/**
 * The lock model, pure and table-driven (DESIGN.md section 6): acquire/renew/release/break
 * with tokens, and expiry judged by the observer's own elapsed time since the entry last
 * changed — never by comparing another machine's timestamps with our clock, except for a
 * value never seen (then the writer's timestamp, with the clock-skew allowance).
 */
import type { SeenValue } from '../../lib/heartbeat/observe.js';
import {
  acquireLock, activeHolder, breakLock, judgeLock, lockObservationKey, lockTtlS, observeLocks, releaseLock, renewLock, viewLocks,
  type LockEntry, type LockJudge,
} from '../../lib/locks/model.js';
import type { LocksFile } from '../../lib/schemas/types.gen.js';

const T0 = Date.parse('2026-11-30T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const entry = (over: Partial<LockEntry> = {}): LockEntry => ({
  locked_by: 'build1', locked_at: iso(T0), expires_at: iso(T0 + 60_000), ttl_s: 60, token: 'tok-build1-aaaaaaaa', ...over,
});
const doc = (locks: Record<string, LockEntry> = {}): LocksFile => ({ $schema: '../schemas/locks.schema.json', locks });
const never: LockJudge = () => ({ expired: false, remainingMs: 30_000, ttlS: 60, source: 'observed', lastChange: T0, graceS: 0 });
const always: LockJudge = () => ({ expired: true, remainingMs: -1000, ttlS: 60, source: 'observed', lastChange: T0, graceS: 0 });

describe('lockTtlS', () => {
  test.each([
    { name: 'ttl_s given', e: entry({ ttl_s: 90 }), ttl: 90 },
    { name: 'from expires_at - locked_at', e: entry({ ttl_s: undefined, expires_at: iso(T0 + 300_000) }), ttl: 300 },
    { name: 'from expires_at - renewed_at', e: entry({ ttl_s: undefined, renewed_at: iso(T0 + 100_000), expires_at: iso(T0 + 160_000) }), ttl: 60 },
    { name: 'legacy timestamps', e: entry({ ttl_s: undefined, locked_at: '2026-11-30 12:00', expires_at: '2026-11-30 12:05' }), ttl: 300 },
    { name: 'unparseable', e: entry({ ttl_s: undefined, expires_at: 'soon' }), ttl: 0 },
  ])('$name → $ttl s', ({ e, ttl }) => expect(lockTtlS(e)).toBe(ttl));
});

describe('judgeLock: the observer\'s elapsed time since the last change', () => {
  const seen = (first_seen: number, source: SeenValue['source'] = 'observed'): SeenValue => ({ value: 'v', first_seen, source });
  test.each([
    { name: 'seen change 30 s ago, ttl 60', s: seen(T0), now: T0 + 30_000, skew: 30, expired: false, remaining: 30_000 },
    { name: 'seen change 61 s ago, ttl 60', s: seen(T0), now: T0 + 61_000, skew: 30, expired: true, remaining: -1_000 },
    { name: 'exactly at the ttl: not yet', s: seen(T0), now: T0 + 60_000, skew: 30, expired: false, remaining: 0 },
    { name: 'estimated from the writer\'s clock: skew allowance added', s: seen(T0, 'timestamp'), now: T0 + 61_000, skew: 30, expired: false, remaining: 29_000 },
    { name: 'estimated, beyond ttl + skew', s: seen(T0, 'timestamp'), now: T0 + 91_000, skew: 30, expired: true, remaining: -1_000 },
  ])('$name', ({ s, now, skew, expired, remaining }) => {
    const j = judgeLock(entry(), s, now, skew);
    expect(j.expired).toBe(expired);
    expect(j.remainingMs).toBe(remaining);
  });

  test('a holder whose clock runs 10 minutes slow cannot lose a lock it keeps renewing', () => {
    // Each renewal writes timestamps 10 minutes in the past; the observer sees the value change.
    const table: Record<string, SeenValue> = {};
    const slow = -600_000;
    let d = doc({ deploy: entry({ locked_at: iso(T0 + slow), expires_at: iso(T0 + slow + 60_000) }) });
    let judge = observeLocks(table, d, T0, 0);
    // First sighting is estimated from the (slow) writer clock: it looks expired…
    expect(judge('deploy', d.locks.deploy).expired).toBe(true);
    // …but once the observer has seen it change, only the observer's own elapsed time counts.
    for (let i = 1; i <= 5; i++) {
      const now = T0 + i * 20_000;
      d = doc({ deploy: entry({ locked_at: iso(T0 + slow), renewed_at: iso(now + slow), expires_at: iso(now + slow + 60_000) }) });
      judge = observeLocks(table, d, now, 0);
      expect(judge('deploy', d.locks.deploy).expired).toBe(false);
    }
  });

  test('a holder whose clock runs 10 minutes fast cannot keep a dead lock: it expires a ttl after it stopped changing', () => {
    const table: Record<string, SeenValue> = {};
    const fast = 600_000;
    const d = doc({ deploy: entry({ locked_at: iso(T0 + fast), expires_at: iso(T0 + fast + 60_000) }) });
    expect(observeLocks(table, d, T0, 30)('deploy', d.locks.deploy).expired).toBe(false);
    // The writer's future timestamp is clamped to the observer's now at first sight.
    expect(table[lockObservationKey('deploy')]).toMatchObject({ first_seen: T0, source: 'timestamp' });
    expect(observeLocks(table, d, T0 + 60_000 + 30_000, 30)('deploy', d.locks.deploy).expired).toBe(false);
    expect(observeLocks(table, d, T0 + 91_000, 30)('deploy', d.locks.deploy).expired).toBe(true);
  });

  test('observeLocks forgets locks no longer held', () => {
    const table: Record<string, SeenValue> = { 'lock:gone': { value: 'x', first_seen: T0, source: 'observed' }, other: { value: 'y', first_seen: T0, source: 'observed' } };
    observeLocks(table, doc({ deploy: entry() }), T0, 0);
    expect(Object.keys(table).sort()).toEqual(['lock:deploy', 'other']);
  });
});

describe('acquireLock', () => {
  const req = { actor: 'build2', token: 'tok-build2-bbbbbbbb', ttlS: 120, now: T0 + 5000, reason: 'deploy 2.3' };
  test('a free lock is taken: entry with token, ttl and expiry', () => {
    const t = acquireLock(doc(), 'deploy', req, never);
    expect(t).toMatchObject({ ok: true, previous: null, entry: { locked_by: 'build2', token: req.token, ttl_s: 120, locked_at: iso(T0 + 5000), expires_at: iso(T0 + 125_000), reason: 'deploy 2.3' } });
  });
  test('a live lock is refused with E_LOCK_HELD naming holder and expiry', () => {
    const t = acquireLock(doc({ deploy: entry({ reason: 'release' }) }), 'deploy', req, never);
    expect(t.ok).toBe(false);
    if (t.ok) return;
    expect(t.refusal.code).toBe('E_LOCK_HELD');
    expect(t.refusal.message).toMatch(/lock deploy is held by build1 since 2026-11-30T12:00:00Z \(reason: release\); it expires at 2026-11-30T12:01:00Z \(in about 30s/);
    expect(t.refusal.details).toMatchObject({ holder: 'build1', expires_in_s: 30, reason: 'release' });
  });
  test('held by the same actor (another process or clone) is refused too: a lock is not re-entrant', () => {
    const t = acquireLock(doc({ deploy: entry({ locked_by: 'build2' }) }), 'deploy', req, never);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.refusal.message).toMatch(/held by build2 \(you/);
  });
  test('an expired lock is taken over; previous names the old holder', () => {
    const t = acquireLock(doc({ deploy: entry() }), 'deploy', req, always);
    expect(t).toMatchObject({ ok: true, previous: { locked_by: 'build1' }, entry: { locked_by: 'build2' } });
  });
  test('other locks are untouched', () => {
    const t = acquireLock(doc({ other: entry() }), 'deploy', req, never);
    expect(t.ok && Object.keys(t.doc.locks).sort()).toEqual(['deploy', 'other']);
  });
});

describe('renew / release / break', () => {
  const held = doc({ deploy: entry() });
  test.each([
    { name: 'renew with the token', fn: () => renewLock(held, 'deploy', 'tok-build1-aaaaaaaa', T0 + 30_000), ok: true },
    { name: 'renew with another token', fn: () => renewLock(held, 'deploy', 'tok-other-cccccccc', T0 + 30_000), ok: false, code: 'E_NOT_HOLDER' },
    { name: 'renew without a token', fn: () => renewLock(held, 'deploy', null, T0 + 30_000), ok: false, code: 'E_NOT_HOLDER' },
    { name: 'renew of a lock nobody holds', fn: () => renewLock(doc(), 'deploy', 'tok-build1-aaaaaaaa', T0), ok: false, code: 'E_NOT_HOLDER' },
    { name: 'release with the token', fn: () => releaseLock(held, 'deploy', 'tok-build1-aaaaaaaa'), ok: true },
    { name: 'release with another token', fn: () => releaseLock(held, 'deploy', 'tok-other-cccccccc'), ok: false, code: 'E_NOT_HOLDER' },
    { name: 'release without a token', fn: () => releaseLock(held, 'deploy', null), ok: false, code: 'E_NOT_HOLDER' },
    { name: 'release of a free lock (idempotent)', fn: () => releaseLock(doc(), 'deploy', null), ok: true },
    { name: 'break of a held lock', fn: () => breakLock(held, 'deploy'), ok: true },
    { name: 'break of a free lock', fn: () => breakLock(doc(), 'deploy'), ok: false, code: 'E_NOT_FOUND' },
  ])('$name', ({ fn, ok, code }) => {
    const t = fn();
    expect(t.ok).toBe(ok);
    if (!t.ok) expect(t.refusal.code).toBe(code);
  });

  test('renew moves expires_at from now by the lock\'s own ttl (or a new one) and stamps renewed_at', () => {
    const t = renewLock(held, 'deploy', 'tok-build1-aaaaaaaa', T0 + 30_000);
    expect(t.ok && t.entry).toMatchObject({ renewed_at: iso(T0 + 30_000), expires_at: iso(T0 + 90_000), ttl_s: 60, locked_at: iso(T0) });
    const longer = renewLock(held, 'deploy', 'tok-build1-aaaaaaaa', T0 + 30_000, 600);
    expect(longer.ok && longer.entry).toMatchObject({ expires_at: iso(T0 + 630_000), ttl_s: 600 });
  });
  test('release of a free lock returns the same document (nothing to write)', () => {
    const d = doc();
    const t = releaseLock(d, 'deploy', null);
    expect(t.ok && t.doc).toBe(d);
  });
  test('a refusal names the holder and says what to do', () => {
    const t = releaseLock(held, 'deploy', null);
    expect(!t.ok && t.refusal.message).toMatch(/held by build1 .* only the holder may release it \(a person may coord lock break deploy/);
  });
});

test('viewLocks and activeHolder judge every lock', () => {
  const d = doc({ b: entry({ locked_by: 'build2' }), a: entry({ reason: 'r' }) });
  const judge: LockJudge = (name) => (name === 'a' ? { expired: false, remainingMs: 12_400, ttlS: 60, source: 'observed', lastChange: T0, graceS: 0 } : { expired: true, remainingMs: -5000, ttlS: 60, source: 'timestamp', lastChange: T0, graceS: 30 });
  expect(viewLocks(d, judge)).toEqual([
    expect.objectContaining({ name: 'a', holder: 'build1', expired: false, expires_in_s: 12, reason: 'r', judged_by: 'observed' }),
    expect.objectContaining({ name: 'b', holder: 'build2', expired: true, expires_in_s: -5, reason: null, judged_by: 'timestamp' }),
  ]);
  expect(activeHolder(d, 'a', judge)).toBe('build1');
  expect(activeHolder(d, 'b', judge)).toBeNull();
  expect(activeHolder(d, 'c', judge)).toBeNull();
});
