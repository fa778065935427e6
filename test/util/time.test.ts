/**
 * Timestamps (lib/util/time.ts): the legacy forms readers accept (issue 2: six were found
 * upstream, from `2025-11-04 20:45` to six fraction digits), impossible dates, offsets, the
 * canonical written form, and human durations.
 */
import { canonicalTimestamp, formatDuration, formatTimestamp, manualClock, parseTimestamp } from '../../lib/util/time.js';

const AT = (iso: string) => Date.parse(iso);

describe('parseTimestamp', () => {
  test.each([
    // the six legacy forms found upstream
    ['2025-11-04 20:45', '2025-11-04T20:45:00.000Z'],
    ['2025-11-04 20:45:12', '2025-11-04T20:45:12.000Z'],
    ['2025-11-04T20:45:12', '2025-11-04T20:45:12.000Z'],
    ['2025-11-04T20:45:12.123', '2025-11-04T20:45:12.123Z'],
    ['2025-11-04T20:45:12.123456', '2025-11-04T20:45:12.123Z'],
    ['2025-11-04T20:45:12Z', '2025-11-04T20:45:12.000Z'],
    // the canonical form and neighbours
    ['2026-11-30T19:37:28Z', '2026-11-30T19:37:28.000Z'],
    ['2025-11-04T20:45:12.5Z', '2025-11-04T20:45:12.500Z'],
    ['2025-11-04T20:45:12,25Z', '2025-11-04T20:45:12.250Z'],
    ['2025-11-04T20:45:12z', '2025-11-04T20:45:12.000Z'],
    ['2025-11-04 20:45 UTC', '2025-11-04T20:45:00.000Z'],
    ['  2025-11-04T20:45:12Z  ', '2025-11-04T20:45:12.000Z'],
    // offsets: the instant is converted to UTC
    ['2025-11-04T20:45:12+02:00', '2025-11-04T18:45:12.000Z'],
    ['2025-11-04T20:45:12-05:30', '2025-11-05T02:15:12.000Z'],
    ['2025-11-04T20:45:12+0200', '2025-11-04T18:45:12.000Z'],
    ['2025-11-04T00:30:00+01:00', '2025-11-03T23:30:00.000Z'],
    ['2025-12-31T23:30:00-01:00', '2026-01-01T00:30:00.000Z'],
    // leap day in a leap year
    ['2024-02-29 12:00', '2024-02-29T12:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(parseTimestamp(text)).toBe(AT(iso));
  });

  test.each([
    ['yesterday'],
    [''],
    ['2025-11-04'],
    ['20:45'],
    ['2025/11/04 20:45'],
    ['04.11.2025 20:45'],
    ['1762289100'],
    ['2025-11-04T20:45:12ZZ'],
    ['2025-11-04T20:45:12 +02:00 extra'],
    // impossible dates and times
    ['2025-02-30 10:00'],
    ['2025-02-29 10:00'],
    ['2025-04-31 10:00'],
    ['2025-13-01 10:00'],
    ['2025-00-10 10:00'],
    ['2025-11-00 10:00'],
    ['2025-11-04 24:00'],
    ['2025-11-04 20:60'],
    ['2025-11-04 20:45:61'],
    // impossible offsets (bug fixed: +25:00 used to be read as a 25-hour shift)
    ['2025-11-04T20:45:12+25:00'],
    ['2025-11-04T20:45:12+02:75'],
  ])('%j is not a timestamp', (text) => {
    expect(parseTimestamp(text)).toBeNull();
  });

  test('times compare parsed, not as strings', () => {
    // As strings the offset form sorts after the space form ("T" > " "), yet 20:45+02:00 is
    // 18:45Z, a quarter of an hour before 19:00Z.
    expect(parseTimestamp('2025-11-04T20:45:00+02:00')!).toBeLessThan(parseTimestamp('2025-11-04 19:00')!);
    expect('2025-11-04T20:45:00+02:00' > '2025-11-04 19:00').toBe(true);
  });
});

describe('formatTimestamp', () => {
  test.each([
    [AT('2026-11-30T19:37:28.000Z'), '2026-11-30T19:37:28Z'],
    [AT('2026-11-30T19:37:28.999Z'), '2026-11-30T19:37:28Z'],
    [AT('1970-01-01T00:00:00.000Z'), '1970-01-01T00:00:00Z'],
    [AT('2024-02-29T23:59:59.500Z'), '2024-02-29T23:59:59Z'],
  ])('%d → %s (seconds precision, Z)', (ms, text) => {
    expect(formatTimestamp(ms)).toBe(text);
  });

  test('round-trips through parseTimestamp at second precision', () => {
    for (const ms of [0, 1_762_289_112_000, 4_102_444_799_000]) {
      expect(parseTimestamp(formatTimestamp(ms))).toBe(ms);
    }
  });
});

describe('canonicalTimestamp', () => {
  test.each([
    ['2025-11-04 20:45', '2025-11-04T20:45:00Z'],
    ['2025-11-04T20:45:12.123456', '2025-11-04T20:45:12Z'],
    ['2025-11-04T20:45:12+02:00', '2025-11-04T18:45:12Z'],
    ['2025-11-04T20:45:12Z', '2025-11-04T20:45:12Z'],
    ['not a date', null],
    ['2025-02-30 10:00', null],
  ])('%s → %s', (text, canonical) => {
    expect(canonicalTimestamp(text)).toBe(canonical);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [-5_000, '0s'],
    [499, '0s'],
    [1_000, '1s'],
    [45_000, '45s'],
    [59_499, '59s'],
    [60_000, '1m'],
    [90_000, '1m 30s'],
    [12 * 60_000, '12m'],
    [3_600_000, '1h'],
    [(3 * 60 + 5) * 60_000, '3h 5m'],
    [47 * 3_600_000, '47h'],
    [48 * 3_600_000, '2d'],
    [(2 * 24 + 4) * 3_600_000, '2d 4h'],
    [30 * 86_400_000, '30d'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('manualClock', () => {
  test('moves only when told; monotonic never goes back', () => {
    const clock = manualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect([clock.now(), clock.monotonic()]).toEqual([1_500, 500]);
    clock.set(0);
    expect([clock.now(), clock.monotonic()]).toEqual([0, 500]);
  });
});
