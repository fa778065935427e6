/**
 * One coordination document changed by one transaction — the shape of every operator
 * write (jobs, queue, builders, schedules). The decision is pure and re-runs on fresh
 * state after a lost compare-and-swap (DESIGN.md section 3).
 */
import type { ErrorCode } from '../errors.js';
import type { RemoteSpec } from '../git/repo.js';
import { runTransaction, type TxOutcome, type TxState } from '../tx/transaction.js';
import type { Clock } from '../util/time.js';

export type DocDecision<D, R> =
  | { kind: 'write'; doc: D; summary: string; trailers?: Record<string, string>; result: R }
  | { kind: 'noop'; result: R }
  | { kind: 'refuse'; code: ErrorCode; message: string; details?: Record<string, unknown> };

export interface DocTxOptions<D> {
  repoRoot: string;
  actor: string;
  /** `Coord-Action`, e.g. `job.add`. */
  action: string;
  path: string;
  /** The document when the file is missing on main. */
  empty: () => D;
  remote?: RemoteSpec;
  clock?: Clock;
}

/** Runs `decide` on the document at `path` in one transaction. */
export async function updateDoc<D, R>(o: DocTxOptions<D>, decide: (doc: D, state: TxState, now: number) => DocDecision<D, R>): Promise<TxOutcome<R>> {
  return runTransaction<R>({
    repoRoot: o.repoRoot, actor: o.actor, action: o.action, paths: [o.path],
    ...(o.remote ? { remote: o.remote } : {}), ...(o.clock ? { clock: o.clock } : {}),
    mutate: (s, now) => {
      const doc = (s.files.get(o.path) as D | null) ?? o.empty();
      const d = decide(doc, s, now);
      if (d.kind === 'refuse') return { kind: 'refuse', refusal: { code: d.code, message: d.message, ...(d.details ? { details: d.details } : {}) } };
      if (d.kind === 'noop') return { kind: 'noop', result: d.result };
      return { kind: 'commit', writes: new Map([[o.path, d.doc]]), summary: d.summary, ...(d.trailers ? { trailers: d.trailers } : {}), result: d.result };
    },
  });
}
