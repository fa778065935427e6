/**
 * Record ids and tokens (lib/util/ids.ts): globally unique, time-sortable, never derived
 * from a count (issue 2: upstream produced the same id on two hosts in the same second).
 */
import { cryptoRandomHex, newRecordId, newToken, type RandomHex } from '../../lib/util/ids.js';
import { manualClock } from '../../lib/util/time.js';

const T = Date.UTC(2026, 10, 30, 19, 37, 28, 456);
const SHAPE = /^(?<prefix>[a-z]+)-(?<date>\d{8})-(?<time>\d{6})-(?<actor>[A-Za-z0-9_-]{1,32})-(?<rand>[0-9a-f]{12})$/;
const RECORD_ID_SCHEMA = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/; // schemas/common.schema.json recordId

/** A random source that returns the given hex strings in turn. */
function scripted(...values: string[]): RandomHex & { calls: number[] } {
  const calls: number[] = [];
  const fn = ((bytes: number) => {
    calls.push(bytes);
    return values.shift() ?? '0'.repeat(bytes * 2);
  }) as RandomHex & { calls: number[] };
  fn.calls = calls;
  return fn;
}

describe('newRecordId', () => {
  test('shape: prefix-YYYYMMDD-HHMMSS-actor-12hex, in UTC', () => {
    const id = newRecordId('job', 'build1', manualClock(T));
    const m = SHAPE.exec(id);
    expect(m?.groups).toMatchObject({ prefix: 'job', date: '20261130', time: '193728', actor: 'build1' });
    expect(id).toMatch(RECORD_ID_SCHEMA);
  });

  test('the random part comes from the injected source (6 bytes)', () => {
    const random = scripted('4f9a2c1d0b7e');
    expect(newRecordId('msg', 'build2', manualClock(T), random)).toBe('msg-20261130-193728-build2-4f9a2c1d0b7e');
    expect(random.calls).toEqual([6]);
  });

  test.each([
    ['build 1', 'build1'],
    ['ops/alice', 'opsalice'],
    ['a.b', 'ab'],
    ['x'.repeat(40), 'x'.repeat(32)],
    ['!!!', 'anon'],
    ['', 'anon'],
  ])('actor %j is sanitised to %j', (actor, shown) => {
    const id = newRecordId('job', actor, manualClock(T), scripted('00000000'));
    expect(id).toBe(`job-20261130-193728-${shown}-00000000`);
    expect(id).toMatch(RECORD_ID_SCHEMA);
  });

  test('two builders in the same second with the same random draw still differ (the builder is in the id)', () => {
    const clock = manualClock(T);
    expect(newRecordId('job', 'build1', clock, scripted('abcdef01'))).not.toBe(newRecordId('job', 'build2', clock, scripted('abcdef01')));
  });

  test('ids sort by creation time', () => {
    const clock = manualClock(T);
    const a = newRecordId('job', 'build1', clock, scripted('ffffffff'));
    clock.advance(1_000);
    const b = newRecordId('job', 'build1', clock, scripted('00000000'));
    expect([b, a].sort()).toEqual([a, b]);
  });

  test('10,000 ids from one builder are unique (real randomness, 10 ids a second)', () => {
    // 10 per second is far above what one builder creates; within one second the 32 random
    // bits are what keeps ids apart (see the report on id collision odds).
    const clock = manualClock(T);
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      ids.add(newRecordId('job', 'build1', clock));
      clock.advance(100);
    }
    expect(ids.size).toBe(10_000);
  });

  test('10,000 ids in the same second from distinct random draws are unique', () => {
    const clock = manualClock(T);
    let n = 0;
    const counter: RandomHex = (bytes) => (n++).toString(16).padStart(bytes * 2, '0');
    const ids = new Set(Array.from({ length: 10_000 }, () => newRecordId('job', 'build1', clock, counter)));
    expect(ids.size).toBe(10_000);
  });
});

describe('newToken', () => {
  test('128 random bits as 32 hex digits', () => {
    expect(newToken()).toMatch(/^[0-9a-f]{32}$/);
    const random = scripted('aa'.repeat(16));
    expect(newToken(random)).toBe('aa'.repeat(16));
    expect(random.calls).toEqual([16]);
  });

  test('10,000 tokens are unique', () => {
    expect(new Set(Array.from({ length: 10_000 }, () => newToken())).size).toBe(10_000);
  });
});

describe('cryptoRandomHex', () => {
  test.each([1, 4, 16])('%d bytes → %d×2 hex digits', (bytes) => {
    expect(cryptoRandomHex(bytes)).toMatch(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
  });
});
