/**
 * Bug (user trial): after a remote outage longer than the lease, peers requeued every
 * running job — the observer had not seen the leases change, but it had not been able to
 * look either, and the holder had not been able to renew. Observation time now counts only
 * while the observer could see the remote (METHODOLOGY.md section 5, "Blind time"). Pure:
 * noteLook / watchedElapsedMs / leaseExpired / judgeLock on a timeline of looks.
 */
import {
  blindMsBetween, FAILED_LOOK_SPAN_MS, leaseExpired, MAX_BLIND_SPANS, noteLook, watchedElapsedMs, type SeenValue, type Sight,
} from '../../lib/heartbeat/observe.js';
import { judgeLock, type LockEntry } from '../../lib/locks/model.js';

const T0 = Date.parse('2026-11-30T12:00:00Z');
const s = (n: number) => T0 + n * 1000;
const none = (): Sight => ({ last_ok: null, failed_since: null, blind: [] });

/** The sight record after looks at the given seconds: `+n` good, `-n` failed (in order). */
function looks(...at: number[]): Sight {
  return at.reduce((sight, n) => noteLook(sight, n >= 0 && !Object.is(n, -0), s(Math.abs(n))), none());
}
/** Good looks every 5 s from `from` to `to` seconds (a daemon polling). */
const every5 = (from: number, to: number): number[] => Array.from({ length: Math.floor((to - from) / 5) + 1 }, (_, i) => from + 5 * i);
/** Failed looks every 5 s from `from` to `to` seconds. */
const failing5 = (from: number, to: number): number[] => every5(from, to).map((n) => -n);
const seen = (atS: number, source: SeenValue['source'] = 'observed'): SeenValue => ({ value: 'v', first_seen: s(atS), source });

// lease_ttl_s 60, grace max(clock_skew_s 10, 60/5) = 12: expired after 72 s of watched time.
const TTL = 60;
const GRACE = 12;

describe('leaseExpired with blind time: the observation rule', () => {
  test.each([
    {
      name: 'the reported bug: holder alive, remote down 110 s for everyone; 4 s after it returns the lease is not expired',
      sight: looks(...every5(0, 15), ...failing5(20, 125), 130), lease: seen(0), hb: seen(14), now: 134, expired: false,
    },
    {
      name: 'the same without blind time (old rule) would have expired it',
      sight: looks(...every5(0, 15), 130), lease: seen(0), hb: seen(14), now: 134, expired: true,
    },
    {
      name: 'holder dead 50 s before the outage: watched 50 s before, 22 s after → 72 s, not yet',
      sight: looks(...every5(0, 50), ...failing5(55, 155), 160), lease: seen(0), hb: seen(0), now: 182, expired: false,
    },
    {
      name: 'holder dead 50 s before the outage: 23 s after sight returns it has expired (ttl + grace − 50 s)',
      sight: looks(...every5(0, 50), ...failing5(55, 155), 160), lease: seen(0), hb: seen(0), now: 183, expired: true,
    },
    {
      name: 'holder dead just before the outage: expired at the latest ttl + grace (+ one poll) after sight returns',
      sight: looks(...every5(0, 5), ...failing5(10, 300), 305), lease: seen(5), hb: seen(5), now: 305 + 73, expired: true,
    },
    {
      name: 'observer sees the remote but the holder cannot push: time counts, the lease expires',
      sight: looks(...every5(0, 80)), lease: seen(0), hb: seen(0), now: 80, expired: true,
    },
    {
      name: 'observer not running (no failed look recorded): the gap counts, as for a new observer',
      sight: looks(0, 100), lease: seen(0), hb: seen(0), now: 100, expired: true,
    },
    {
      name: 'still blind (open span): the time since the failure does not count',
      sight: looks(...every5(0, 10), ...failing5(15, 200)), lease: seen(0), hb: seen(0), now: 200, expired: false,
    },
    {
      name: 'a value first seen after the outage, dated by the writer before it: the blind span does not count either',
      sight: looks(...every5(0, 10), ...failing5(15, 120), 125), lease: seen(0, 'timestamp'), hb: undefined, now: 130, expired: false,
    },
    {
      name: 'two outages: both spans left out',
      sight: looks(0, -5, 100, -105, 200), lease: seen(0), hb: seen(0), now: 260, expired: false,
    },
    {
      name: 'two outages, each blind from the good look before it: watched only from 200 s → expired at 273 s',
      sight: looks(0, -5, 100, -105, 200), lease: seen(0), hb: seen(0), now: 273, expired: true,
    },
  ])('$name', ({ sight, lease, hb, now, expired }) => {
    expect(leaseExpired(lease, hb, s(now), TTL, GRACE, sight)).toBe(expired);
  });

  test('the holder\'s heartbeat changing keeps the lease alive as before (the later of the two counts)', () => {
    const sight = looks(...every5(0, 100));
    expect(leaseExpired(seen(0), seen(90), s(100), TTL, GRACE, sight)).toBe(false);
  });
});

describe('noteLook: recording looks', () => {
  test('a failed look right after a good one is blind from the good one', () => {
    expect(looks(0, 5, -10)).toEqual({ last_ok: s(5), failed_since: s(5), blind: [] });
  });

  test('a failed look long after the last good one is blind only FAILED_LOOK_SPAN_MS before it', () => {
    const sight = looks(0, -600);
    expect(sight.failed_since).toBe(s(600) - FAILED_LOOK_SPAN_MS);
    expect(noteLook(sight, true, s(610)).blind).toEqual([[s(600) - FAILED_LOOK_SPAN_MS, s(610)]]);
  });

  test('further failures keep the span\'s start; the next good look closes it', () => {
    const sight = looks(0, -5, -10, -15, 20);
    expect(sight).toEqual({ last_ok: s(20), failed_since: null, blind: [[s(0), s(20)]] });
  });

  test('a good look older than a failure noted by another process does not close the span', () => {
    const failed = looks(0, -10);
    expect(noteLook(failed, true, s(-1))).toMatchObject({ failed_since: s(0) });
  });

  test('overlapping spans (two processes of one clone) merge', () => {
    const a: Sight = { last_ok: s(50), failed_since: s(40), blind: [[s(0), s(45)]] };
    expect(noteLook(a, true, s(50)).blind).toEqual([[s(0), s(50)]]);
  });

  test(`at most ${MAX_BLIND_SPANS} spans are kept, the newest`, () => {
    // Each outage: failed look at 10i (blind from the good look at 10i − 3), good looks at 10i + 5 and 10i + 7.
    let sight = none();
    for (let i = 0; i < MAX_BLIND_SPANS + 5; i++) sight = noteLook(noteLook(noteLook(sight, false, s(10 * i)), true, s(10 * i + 5)), true, s(10 * i + 7));
    expect(sight.blind).toHaveLength(MAX_BLIND_SPANS);
    const last = 10 * (MAX_BLIND_SPANS + 4);
    expect(sight.blind.at(-1)).toEqual([s(last - 3), s(last + 5)]);
  });

  test('blindMsBetween counts the open span up to now', () => {
    expect(blindMsBetween(s(0), s(100), { blind: [[s(10), s(20)]], failed_since: s(90) })).toBe(20_000);
  });

  test.each([
    { name: 'span inside', since: 0, now: 100, blind: [[10, 30]], watched: 80 },
    { name: 'span before `since`', since: 50, now: 100, blind: [[10, 30]], watched: 50 },
    { name: 'span across `since`', since: 20, now: 100, blind: [[10, 30]], watched: 70 },
    { name: 'span after `now`', since: 0, now: 20, blind: [[30, 40]], watched: 20 },
    { name: 'never negative', since: 50, now: 40, blind: [], watched: 0 },
  ])('watchedElapsedMs: $name', ({ since, now, blind, watched }) => {
    expect(watchedElapsedMs(s(since), s(now), { blind: blind.map(([a, b]) => [s(a), s(b)] as [number, number]) })).toBe(watched * 1000);
  });
});

describe('judgeLock with blind time (lock acquire "took it over")', () => {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const entry: LockEntry = { locked_by: 'build1', locked_at: iso(T0), expires_at: iso(T0 + 20_000), ttl_s: 20, token: 'tok-build1-aaaaaaaa' };

  test('the reported bug: 50 s outage, ttl 20: 1 s after the remote returned the lock is not expired, and the message says why', () => {
    const sight = looks(0, 5, -10, -30, -55, 60);
    const j = judgeLock(entry, seen(0), s(61), 0, sight);
    expect(j.expired).toBe(false);
    expect(j.unseenMs).toBe(55_000);
    expect(j.remainingMs).toBe(14_000);
  });

  test('a dead holder\'s lock expires once the observer has watched the TTL', () => {
    const sight = looks(0, 5, -10, 60);
    expect(judgeLock(entry, seen(0), s(75), 0, sight).expired).toBe(false);
    expect(judgeLock(entry, seen(0), s(76), 0, sight).expired).toBe(true);
  });

  test('without blind spans the judgement is unchanged', () => {
    expect(judgeLock(entry, seen(0), s(21), 0).expired).toBe(true);
    expect(judgeLock(entry, seen(0), s(21), 0).unseenMs).toBeUndefined();
  });
});
