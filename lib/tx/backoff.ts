/**
 * Jittered exponential back-off between transaction attempts ("full jitter": a uniform
 * delay in [0, min(cap, base·2^n)]), so racing writers spread out instead of colliding
 * again in lock step.
 */

export interface BackoffOptions {
  /** First window (ms). Default 20. */
  baseMs?: number;
  /** Largest window (ms). Default 1000. */
  capMs?: number;
  /** Uniform random in [0, 1); the one door to randomness for tests. */
  random?: () => number;
}

/** Delay (ms) before attempt `n + 1`, after `n` (≥ 1) failed attempts. */
export function backoffDelay(n: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 20;
  const cap = opts.capMs ?? 1000;
  const window = Math.min(cap, base * 2 ** Math.max(0, n - 1));
  return Math.floor((opts.random ?? Math.random)() * window);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
