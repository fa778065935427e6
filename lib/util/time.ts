/**
 * Time: the injectable clock and the timestamp formats.
 *
 * Written timestamps are ISO-8601 UTC with seconds precision and `Z`
 * (`2026-11-30T19:37:28Z`). Readers accept the legacy forms the upstream tooling wrote
 * (METHODOLOGY.md "Timestamps"): `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS`, with `T`,
 * with 1–6 fraction digits, with `Z` or a `±HH:MM` offset, or with none (read as UTC).
 * Times are compared parsed, never as strings.
 */

/** The one door to the current time; tests pass a fixed or stepping clock. */
export interface Clock {
  /** Milliseconds since the epoch (wall clock, for timestamps people read). */
  now(): number;
  /** Monotonic milliseconds (for elapsed time; never goes back). */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock fixed at `ms` that tests move with `advance`. */
export function manualClock(ms: number): Clock & { advance(deltaMs: number): void; set(ms: number): void } {
  let t = ms;
  let mono = 0;
  return {
    now: () => t,
    monotonic: () => mono,
    advance(deltaMs: number) { t += deltaMs; mono += deltaMs; },
    set(v: number) { t = v; },
  };
}

const LEGACY =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses any timestamp form build-coord or the upstream tooling wrote.
 * @returns epoch milliseconds, or `null` when `text` is not such a timestamp or names an
 *   impossible date (2025-02-30).
 */
export function parseTimestamp(text: string): number | null {
  const m = LEGACY.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  let t = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms);
  const check = new Date(t);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2)), offM = Number(digits.slice(2));
    // An offset like +25:00 or +02:75 names no real zone: refuse it rather than guess.
    if (offH > 23 || offM > 59) return null;
    t -= sign * (offH * 60 + offM) * 60_000;
  }
  return t;
}

/** Formats epoch milliseconds as the canonical `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The canonical form of a timestamp string, or `null` when it does not parse. */
export function canonicalTimestamp(text: string): string | null {
  const t = parseTimestamp(text);
  if (t === null) return null;
  // Keep sub-second precision out: the canonical form is seconds (fixed precision).
  return formatTimestamp(t);
}

/** Human duration: `45s`, `12m`, `3h 5m`, `2d 4h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? ` ${h % 24}h` : ''}`;
}
