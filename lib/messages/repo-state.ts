/**
 * Reading messages from a clone: fetch the remote's `main` into its tracking ref (under
 * the clone's local lock, like a transaction), then read the files at that commit with
 * git plumbing. The working tree is not consulted: a person's uncommitted edit is not a
 * sent message (the watcher looks at it separately, see watch.ts).
 */
import type { Policy } from '../config/policy.js';
import { CoordError, isCoordError, type Issue } from '../errors.js';
import { classifyTransportFailure } from '../git/classify.js';
import { DEFAULT_REMOTE, fetchBranch, readFilesAt, resolveCommit, trackingRef, type RemoteSpec } from '../git/repo.js';
import { git } from '../git/run.js';
import type { ArchiveFile, BuildConfigFile } from '../schemas/types.gen.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { PATHS } from '../store/kinds.js';
import { withLocalLock } from '../tx/local-lock.js';
import { readStateAt, type TxState } from '../tx/transaction.js';
import { configuredBuilders, messagesOf, MESSAGES_PATH, type Message } from './model.js';

/** How a fetch went. */
export type FetchOutcome =
  | { ok: true }
  | { ok: false; reason: string; unreachable: boolean };

/**
 * Fetches the remote's branch into the tracking ref, holding the clone's local lock (a
 * transaction in another process moves the same ref).
 * @param waitMs how long to wait for the lock; a busy clone means a transaction is
 *   fetching anyway, so the caller reads what is there
 */
export async function fetchRemote(repoRoot: string, spec: RemoteSpec = DEFAULT_REMOTE, waitMs = 5000): Promise<FetchOutcome> {
  try {
    const fail = await withLocalLock(repoRoot, () => fetchBranch(repoRoot, spec), { waitMs });
    if (!fail) return { ok: true };
    const f = classifyTransportFailure(fail);
    return { ok: false, reason: `${spec.remote}: ${f.detail.split('\n')[0] ?? 'fetch failed'}`, unreachable: f.kind === 'unreachable' };
  } catch (err) {
    if (isCoordError(err, 'E_CONTENTION')) return { ok: false, reason: 'the clone is busy (local lock held); showing the last fetched state', unreachable: false };
    throw err;
  }
}

/** Messages and configuration as of one commit. */
export interface MessagesSnapshot {
  /** The commit read (null: nothing to read, e.g. an empty remote). */
  commit: string | null;
  messages: Message[];
  config: BuildConfigFile | null;
  builders: string[];
  policy: Policy;
  /** Problems of messages.json at that commit (then `messages` is empty). */
  issues: Issue[];
}

/** The commit to read: the tracking ref, else HEAD (a clone that never fetched). */
export async function readableCommit(repoRoot: string, spec: RemoteSpec = DEFAULT_REMOTE): Promise<string | null> {
  return (await resolveCommit(repoRoot, trackingRef(spec))) ?? (await resolveCommit(repoRoot, 'HEAD'));
}

/** Parses and checks the messages file and build config at `commit`. */
export async function readSnapshot(repoRoot: string, commit: string | null, now: number): Promise<MessagesSnapshot> {
  if (!commit) {
    const ctx = contextFromConfigBytes(null, now);
    return { commit, messages: [], config: null, builders: [], policy: ctx.policy, issues: [] };
  }
  const bytes = await readFilesAt(repoRoot, commit, [PATHS.buildConfig, MESSAGES_PATH]);
  const ctx = contextFromConfigBytes(bytes.get(PATHS.buildConfig) ?? null, now);
  const raw = bytes.get(MESSAGES_PATH) ?? null;
  let messages: Message[] = [];
  let issues: Issue[] = [];
  if (raw) {
    const r = checkCoordinationFile(MESSAGES_PATH, raw, ctx);
    issues = r.issues.filter((i) => i.severity === 'error');
    if (r.ok) messages = messagesOf(r.value);
  }
  return { commit, messages, config: ctx.config, builders: configuredBuilders(ctx.config), policy: ctx.policy, issues };
}

/**
 * Fetches (unless `fetch` is false) and reads the messages at the tracking ref.
 * @throws CoordError E_INVALID when messages.json on the remote is invalid (naming the problems)
 */
export async function loadMessages(repoRoot: string, opts: { fetch: boolean; now: number; remote?: RemoteSpec }): Promise<MessagesSnapshot & { fetch: FetchOutcome | null }> {
  const spec = opts.remote ?? DEFAULT_REMOTE;
  const fetch = opts.fetch ? await fetchRemote(repoRoot, spec) : null;
  const snap = await readSnapshot(repoRoot, await readableCommit(repoRoot, spec), opts.now);
  if (snap.issues.length) {
    throw new CoordError('E_INVALID', `${MESSAGES_PATH} on ${spec.remote}/${spec.branch} is invalid; fix it by hand (coord validate shows where)`, { issues: snap.issues });
  }
  return { ...snap, fetch };
}

/** The message archive files at `commit`, oldest month first. */
export async function messageArchiveFiles(repoRoot: string, commit: string): Promise<string[]> {
  const r = await git(repoRoot, ['ls-tree', '--name-only', '-z', commit, 'coordination/archive/']);
  return r.stdout.split('\0').filter((p) => /^coordination\/archive\/messages-[0-9]{4}-[0-9]{2}\.json$/.test(p)).sort();
}

/**
 * Every archived message at `commit`. An invalid archive file is reported in `issues`
 * and skipped, so one bad month does not hide the others.
 */
export async function readArchivedMessages(repoRoot: string, commit: string, now: number): Promise<{ messages: Message[]; issues: Issue[] }> {
  const files = await messageArchiveFiles(repoRoot, commit);
  if (!files.length) return { messages: [], issues: [] };
  const bytes = await readFilesAt(repoRoot, commit, [PATHS.buildConfig, ...files]);
  const ctx = contextFromConfigBytes(bytes.get(PATHS.buildConfig) ?? null, now);
  const messages: Message[] = [];
  const issues: Issue[] = [];
  for (const f of files) {
    const b = bytes.get(f);
    if (!b) continue;
    const r = checkCoordinationFile(f, b, ctx);
    if (!r.ok) { issues.push(...r.issues.filter((i) => i.severity === 'error')); continue; }
    messages.push(...((r.value as ArchiveFile).records as Message[]));
  }
  return { messages, issues };
}

/**
 * The state a transaction would see at `commit` (for `--dry-run`): each file parsed and
 * checked the way the transaction engine does.
 * @throws CoordError E_INVALID when a file is invalid at that commit
 */
export async function readTxState(repoRoot: string, commit: string | null, paths: readonly string[], now: number): Promise<TxState> {
  return (await readStateAt(repoRoot, commit, paths, now, 'send')).state;
}
