/** Small statistics for benchmark samples (all in ms unless the caller says otherwise). */

/** The q-quantile (0..1) of `samples` by linear interpolation; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  if (!samples.length) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** `123.4` style, one decimal. */
export const fmt1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
/** Two decimals. */
export const fmt2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '–');
