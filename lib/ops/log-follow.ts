/**
 * Following a job's committed log tail (`coord jobs logs ID --follow`). The committed log is
 * a bounded tail (policy.log_tail_bytes), so a newer version is not always the older one
 * plus more: its start may have been cut off. Pure.
 */

/** The overlap must be at least this long (or half the old text) to count as a continuation. */
const MIN_OVERLAP = 32;

/** Length of the longest start of `next` that is an end of `prev` (KMP, linear time). */
export function overlapLength(prev: string, next: string): number {
  if (!next) return 0;
  const pi = new Int32Array(next.length);
  for (let i = 1, k = 0; i < next.length; i++) {
    while (k > 0 && next[i] !== next[k]) k = pi[k - 1]!;
    if (next[i] === next[k]) k++;
    pi[i] = k;
  }
  let q = 0;
  for (let i = 0; i < prev.length; i++) {
    while (q > 0 && (q === next.length || prev[i] !== next[q])) q = pi[q - 1]!;
    if (prev[i] === next[q]) q++;
  }
  return q;
}

export interface LogDelta {
  /** Text to print now. */
  text: string;
  /** True when the new tail does not continue the old one (output was lost in between). */
  gap: boolean;
}

/**
 * What is new in `next` compared with `prev` (what was printed already).
 * - `next` extends `prev`: the extension.
 * - The tail moved on (`next` = the end of `prev` + more): what follows the longest end of
 *   `prev` that `next` starts with.
 * - No overlap (a large burst between two polls): all of `next`, flagged as a gap.
 */
export function newLogOutput(prev: string, next: string): LogDelta {
  if (next === prev) return { text: '', gap: false };
  if (next.startsWith(prev)) return { text: next.slice(prev.length), gap: false };
  const l = overlapLength(prev, next);
  if (l > 0 && l >= Math.min(MIN_OVERLAP, Math.floor(prev.length / 2))) return { text: next.slice(l), gap: false };
  return { text: next, gap: true };
}
