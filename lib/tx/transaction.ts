/**
 * Transactions: the only way shared state changes (DESIGN.md section 3).
 *
 * One attempt: fetch the remote's `main`; read the needed files at that commit; run the
 * pure `mutate(state, now)`; validate every changed file; build a commit on a temporary
 * index on top of that `main` (the working tree and index are never touched); push it as a
 * fast-forward. The push is the compare-and-swap: on a non-fast-forward rejection the
 * attempt is thrown away and the mutation runs again on a fresh fetch after a jittered
 * exponential back-off — never "rebase and push again", which would re-apply a decision
 * to a state nobody checked.
 */
import { CoordError, type ErrorCode, type Issue } from '../errors.js';
import type { Policy } from '../config/policy.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { classifyPushFailure, classifyTransportFailure, type GitFailure } from '../git/classify.js';
import {
  commitIdentity, commitTree, DEFAULT_REMOTE, fetchBranch, pushFastForward, readFilesAt, resolveCommit,
  trackingRef, updateRef, writeTreeWithChanges, type RemoteSpec,
} from '../git/repo.js';
import { deleteRef } from '../git/repo.js';
import { fastForwardWorkTree, type WorkTreeOutcome } from '../git/worktree.js';
import { checkCoordinationFile, checkCoordinationValue } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { kindOfPath, ownerOfPath, PATHS } from '../store/kinds.js';
import { lostRecords } from '../store/record-loss.js';
import { systemClock, type Clock } from '../util/time.js';
import { backoffDelay, sleep as realSleep } from './backoff.js';
import { withLocalLock } from './local-lock.js';
import { PENDING_REF, pendingCommits, replayOnto } from './pending.js';

/** What a mutation sees: the files at the remote's `main`, parsed and canonical. */
export interface TxState {
  /** path → canonical value, or null when the file does not exist. */
  files: ReadonlyMap<string, unknown>;
  /** The build config at that commit (null when absent). */
  config: BuildConfigFile | null;
  policy: Policy;
  /** The commit the state was read from (null for an empty remote). */
  base: string | null;
}

/** An expected "no" (lock held, job not claimable): a value, not an exception. */
export interface Refusal {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type TxDecision<R> =
  | {
      kind: 'commit';
      /** Coordination files: path → new canonical value, or null to delete. */
      writes: ReadonlyMap<string, unknown>;
      /** Other builder-owned files (logs): path → bytes, or null to delete. */
      rawWrites?: ReadonlyMap<string, string | Buffer | null>;
      /** Commit subject after `coord(<actor>): <action> `; never message text. */
      summary: string;
      /** Extra `Coord-*` trailers for `coord history`. */
      trailers?: Record<string, string>;
      result: R;
    }
  | { kind: 'refuse'; refusal: Refusal }
  | { kind: 'noop'; result: R };

export interface TxRequest<R> {
  repoRoot: string;
  /** Who acts: a builder id or a person's name. */
  actor: string;
  /** Dotted action name, e.g. `job.claim`, `message.send` (trailer `Coord-Action`). */
  action: string;
  /** Files the mutation reads (the build config is always read too). */
  paths: readonly string[];
  /** Pure: `(state, now) → decision`. May run several times (once per attempt). */
  mutate: (state: TxState, now: number) => TxDecision<R>;
  /**
   * True when every write is a file of the actor's own builder folder: then an
   * unreachable remote queues the commit locally instead of failing.
   */
  builderOwned?: boolean;
  /** Allow jobs/messages to vanish without being archived. Default false. */
  allowRemoval?: boolean;
  remote?: RemoteSpec;
  /** Attempts before E_CONTENTION. Default: policy.transaction_attempts. */
  maxAttempts?: number;
  clock?: Clock;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Skip the local lock (the caller already holds it). */
  lockHeld?: boolean;
  /** Fast-forward the working tree afterwards when safe. Default true. */
  updateWorkTree?: boolean;
}

export type TxOutcome<R> =
  | { status: 'committed'; commit: string; result: R; attempts: number; queued: false; worktree: WorkTreeOutcome }
  | { status: 'queued'; commit: string; result: R; attempts: number; queued: true; reason: string }
  | { status: 'refused'; refusal: Refusal; attempts: number }
  | { status: 'noop'; result: R; attempts: number };

type Obj = Record<string, unknown>;

function transportError(f: GitFailure, remote: string): CoordError {
  if (f.kind === 'auth') return new CoordError('E_AUTH', `remote ${remote} refused our credentials: ${f.detail}`);
  if (f.kind === 'unreachable') return new CoordError('E_UNREACHABLE', `remote ${remote} unreachable; shared state cannot change until it returns (${f.detail.split('\n')[0]})`);
  return new CoordError('E_GIT', `git failed talking to ${remote}: ${f.detail}`);
}

/** The commit message: a fixed, parseable form (`coord history` reads it). */
export function commitMessage(actor: string, action: string, summary: string, files: string[], trailers: Record<string, string> = {}): string {
  const lines = [`coord(${actor}): ${action} ${summary}`.trim(), '', `Coord-Action: ${action}`, `Coord-Actor: ${actor}`];
  for (const [k, v] of Object.entries(trailers)) lines.push(`Coord-${k}: ${v.replace(/\n/g, ' ')}`);
  lines.push(`Coord-Files: ${files.join(' ')}`);
  return lines.join('\n') + '\n';
}

interface Prepared<R> {
  decision: TxDecision<R>;
  changes: Map<string, Buffer | string | null>;
}

/**
 * The files at `base`, parsed and checked as every transaction reads them (the build
 * config always included).
 * @param what the action named in the error
 * @throws CoordError E_INVALID when a file is invalid at that commit (never overwritten silently)
 */
export async function readStateAt(repoRoot: string, base: string | null, paths: readonly string[], now: number, what: string): Promise<{ state: TxState; bytes: Map<string, Buffer | null> }> {
  const all = [...new Set([PATHS.buildConfig, ...paths])];
  const bytes = base ? await readFilesAt(repoRoot, base, all) : new Map<string, Buffer | null>();
  const ctx = contextFromConfigBytes(bytes.get(PATHS.buildConfig) ?? null, now);
  const files = new Map<string, unknown>();
  const invalid: Issue[] = [];
  for (const p of all) {
    const b = bytes.get(p) ?? null;
    if (b === null) { files.set(p, null); continue; }
    const r = checkCoordinationFile(p, b, ctx);
    if (!r.ok) invalid.push(...r.issues.filter((i) => i.severity === 'error'));
    files.set(p, r.value ?? null);
  }
  if (invalid.length) {
    throw new CoordError('E_INVALID', `refusing to ${what}: ${[...new Set(invalid.map((i) => i.file))].join(', ')} on the remote is invalid; fix it by hand (it is never overwritten silently)`, { issues: invalid });
  }
  return { state: { files, config: ctx.config, policy: ctx.policy, base }, bytes };
}

/** Reads state at `base`, runs the mutation, validates and serialises the writes. */
async function prepare<R>(req: TxRequest<R>, base: string | null, now: number): Promise<Prepared<R> & { state: TxState }> {
  const { state, bytes } = await readStateAt(req.repoRoot, base, req.paths, now, req.action);
  const { files } = state;
  const ctx = contextFromConfigBytes(bytes.get(PATHS.buildConfig) ?? null, now);
  const decision = req.mutate(state, now);
  const changes = new Map<string, Buffer | string | null>();
  if (decision.kind !== 'commit') return { state, decision, changes };

  // Validate every write against the (possibly new) build config.
  const newConfig = decision.writes.get(PATHS.buildConfig);
  const vctx = newConfig !== undefined
    ? contextFromConfigBytes(newConfig === null ? null : Buffer.from(JSON.stringify(newConfig)), now)
    : ctx;
  const problems: Issue[] = [];
  const archived = new Set<string>();
  for (const [p, v] of decision.writes) {
    if (kindOfPath(p) === 'archive' && v && typeof v === 'object') {
      for (const r of ((v as Obj).records as Obj[] | undefined) ?? []) archived.add(String(r.id));
    }
  }
  for (const [p, v] of decision.writes) {
    const kind = kindOfPath(p);
    if (!kind) throw new Error(`transaction ${req.action} writes ${p}, which is not a coordination file`);
    if (v === null) { changes.set(p, null); continue; }
    const r = checkCoordinationValue(p, v, vctx);
    if (!r.ok) { problems.push(...r.issues.filter((i) => i.severity === 'error')); continue; }
    if ((kind === 'jobs' || kind === 'messages') && !req.allowRemoval) {
      problems.push(...lostRecords(kind, p, files.get(p) ?? null, v, archived));
    }
    const old = bytes.get(p);
    if (old && old.toString('utf8') === r.canonical) continue;
    changes.set(p, r.canonical!);
  }
  // A new build config must not make a file it does not write invalid (a builder removed
  // while a job still runs on it would stop every transaction of the fleet).
  if (newConfig !== undefined && base && !problems.length) {
    const dependents = [PATHS.jobs, PATHS.schedules, PATHS.locks].filter((p) => !decision.writes.has(p));
    const current = await readFilesAt(req.repoRoot, base, dependents);
    for (const p of dependents) {
      const b = current.get(p);
      if (!b || !checkCoordinationFile(p, b, ctx).ok) continue; // already invalid: not this change's doing
      const r = checkCoordinationFile(p, b, vctx);
      if (!r.ok) {
        problems.push(...r.issues.filter((i) => i.severity === 'error').map((i) => ({
          ...i, reason: `${i.reason} (made invalid by this change to ${PATHS.buildConfig})`,
        })));
      }
    }
  }
  if (problems.length) {
    throw new CoordError('E_INVALID', `${req.action} would write invalid data; nothing was written`, { issues: problems });
  }
  for (const [p, v] of decision.rawWrites ?? []) {
    if (ownerOfPath(p) === null) throw new Error(`transaction ${req.action} writes raw file ${p} outside a builder folder`);
    changes.set(p, v);
  }
  return { state, decision, changes };
}

/**
 * Runs a transaction.
 * @returns committed / queued (remote unreachable, builder-owned writes) / refused / noop
 * @throws CoordError E_CONTENTION after `maxAttempts` lost compare-and-swaps; E_UNREACHABLE
 *   or E_AUTH (exit 6) when the remote cannot be used for a shared-state change; E_INVALID
 *   when a file read is invalid on the remote or a write would be invalid; E_HOOK_DECLINED
 *   when the remote's hook refuses the push
 */
export async function runTransaction<R>(req: TxRequest<R>): Promise<TxOutcome<R>> {
  const body = () => attemptLoop(req);
  if (!txObserver) return req.lockHeld ? body() : withLocalLock(req.repoRoot, body);
  const t0 = performance.now();
  const notify = txObserver;
  try {
    const out = await (req.lockHeld ? body() : withLocalLock(req.repoRoot, body));
    notify({ action: req.action, actor: req.actor, status: out.status, attempts: out.attempts, ms: performance.now() - t0 });
    return out;
  } catch (err) {
    const attempts = err instanceof CoordError && typeof err.details.attempts === 'number' ? err.details.attempts : 0;
    notify({ action: req.action, actor: req.actor, status: 'error', attempts, ms: performance.now() - t0 });
    throw err;
  }
}

/** One finished transaction, as {@link observeTransactions} reports it. */
export interface TxEvent {
  action: string;
  actor: string;
  status: TxOutcome<unknown>['status'] | 'error';
  /** Attempts used (0 when an error came before any attempt was counted). */
  attempts: number;
  /** Wall time including the wait for the local lock (ms). */
  ms: number;
}

let txObserver: ((e: TxEvent) => void) | null = null;

/**
 * Calls `fn` after every transaction of this process ends (null: stop). For benchmarks
 * and metrics (`npm run bench -- claim` counts attempts per transaction with it); the
 * engine's behaviour does not change.
 */
export function observeTransactions(fn: ((e: TxEvent) => void) | null): void {
  txObserver = fn;
}

async function attemptLoop<R>(req: TxRequest<R>): Promise<TxOutcome<R>> {
  const spec = req.remote ?? DEFAULT_REMOTE;
  const clock = req.clock ?? systemClock;
  const sleep = req.sleep ?? realSleep;
  const who = await commitIdentity(req.repoRoot, req.actor);
  let maxAttempts = req.maxAttempts ?? 0;
  for (let attempt = 1; ; attempt++) {
    const fetchFail = await fetchBranch(req.repoRoot, spec);
    if (fetchFail) {
      const f = classifyTransportFailure(fetchFail);
      if (f.kind === 'unreachable' && req.builderOwned) return queueLocally(req, spec, who, clock, attempt, f.detail);
      throw transportError(f, spec.remote);
    }
    const base = await resolveCommit(req.repoRoot, trackingRef(spec));
    // Builder-owned commits queued while offline go first, in order. The mutation reads the
    // state they leave, not bare `base`: a status or heartbeat computed from the older file
    // would silently overwrite what was queued.
    const pending = await pendingCommits(req.repoRoot, base ? trackingRef(spec) : null);
    const parent = pending.length ? await replayOnto(req.repoRoot, base, pending) : base;
    const now = clock.now();
    const prep = await prepare(req, parent, now);
    if (!maxAttempts) maxAttempts = prep.state.policy.transaction_attempts;
    const { decision, changes } = prep;
    if (decision.kind === 'refuse') return { status: 'refused', refusal: decision.refusal, attempts: attempt };
    if (decision.kind === 'noop' || changes.size === 0) {
      return { status: 'noop', result: decision.kind === 'noop' ? decision.result : decision.result, attempts: attempt };
    }
    const tree = await writeTreeWithChanges(req.repoRoot, parent, changes);
    const msg = commitMessage(req.actor, req.action, decision.summary, [...changes.keys()], decision.trailers);
    const commit = await commitTree(req.repoRoot, tree, parent ? [parent] : [], msg, who, now);
    const pushFail = await pushFastForward(req.repoRoot, spec, commit);
    if (!pushFail) {
      await updateRef(req.repoRoot, trackingRef(spec), commit);
      if (pending.length) await deleteRef(req.repoRoot, PENDING_REF);
      const worktree = req.updateWorkTree === false
        ? { moved: false as const, reason: 'not requested' }
        : await fastForwardWorkTree(req.repoRoot, spec, commit);
      return { status: 'committed', commit, result: decision.result, attempts: attempt, queued: false, worktree };
    }
    const f = classifyPushFailure(pushFail);
    if (f.kind === 'non-fast-forward') {
      if (attempt >= maxAttempts) {
        throw new CoordError('E_CONTENTION', `${req.action}: lost the race for ${spec.remote}/${spec.branch} ${attempt} times in a row; try again (${f.detail})`, { details: { attempts: attempt } });
      }
      await sleep(backoffDelay(attempt, { ...(req.random ? { random: req.random } : {}) }));
      continue;
    }
    if (f.kind === 'hook-declined') {
      throw new CoordError('E_HOOK_DECLINED', `the remote's hook refused ${req.action}: ${f.detail}`);
    }
    if (f.kind === 'unreachable' && req.builderOwned) return queueLocally(req, spec, who, clock, attempt, f.detail);
    throw transportError(f, spec.remote);
  }
}

/** Offline path for builder-owned writes: commit on top of the pending chain, push later. */
async function queueLocally<R>(req: TxRequest<R>, spec: RemoteSpec, who: { name: string; email: string }, clock: Clock, attempt: number, detail: string): Promise<TxOutcome<R>> {
  const tip = (await resolveCommit(req.repoRoot, PENDING_REF)) ?? (await resolveCommit(req.repoRoot, trackingRef(spec)));
  const now = clock.now();
  const prep = await prepare(req, tip, now);
  const { decision, changes } = prep;
  if (decision.kind === 'refuse') return { status: 'refused', refusal: decision.refusal, attempts: attempt };
  if (decision.kind === 'noop' || changes.size === 0) return { status: 'noop', result: decision.kind === 'noop' ? decision.result : decision.result, attempts: attempt };
  for (const p of changes.keys()) {
    if (ownerOfPath(p) !== req.actor) throw new Error(`${req.action} declared builderOwned but writes ${p}`);
  }
  const tree = await writeTreeWithChanges(req.repoRoot, tip, changes);
  const msg = commitMessage(req.actor, req.action, decision.summary, [...changes.keys()], decision.trailers);
  const commit = await commitTree(req.repoRoot, tree, tip ? [tip] : [], msg, who, now);
  await updateRef(req.repoRoot, PENDING_REF, commit);
  return { status: 'queued', commit, result: decision.result, attempts: attempt, queued: true, reason: detail.split('\n')[0] ?? 'remote unreachable' };
}
