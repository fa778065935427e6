/**
 * `coord messages archive` (and the daemon's retention pass): moves old messages that every
 * recipient has read into the monthly archive files, in one transaction. The pure rule is
 * in archive.ts.
 */
import { DEFAULT_REMOTE, type RemoteSpec } from '../git/repo.js';
import { runTransaction } from '../tx/transaction.js';
import type { Clock } from '../util/time.js';
import { messageArchivePaths, planMessageArchive, type ArchiveResult } from './archive.js';
import { MESSAGES_PATH } from './model.js';
import { loadMessages, readableCommit, readTxState } from './repo-state.js';

export interface ArchiveOptions {
  repoRoot: string;
  /** Who runs it (commit author): a builder id or a trusted name. */
  actor: string;
  /** Overrides `policy.message_retention_days`. */
  retentionDays?: number | undefined;
  /** Show what would move; write nothing. */
  dryRun?: boolean;
  clock: Clock;
  remote?: RemoteSpec;
}

/**
 * Archives old read messages.
 * @returns what moved (or would move), the retention applied, and the commit (null when
 *   nothing moved or on a dry run)
 * @throws CoordError E_INVALID when messages.json or an archive file it must extend is
 *   invalid on the remote; E_UNREACHABLE; E_CONTENTION
 */
export async function archiveOldMessages(opts: ArchiveOptions): Promise<ArchiveResult & { commit: string | null; retention_days: number }> {
  const spec = opts.remote ?? DEFAULT_REMOTE;
  const now = opts.clock.now();
  const snap = await loadMessages(opts.repoRoot, { fetch: true, now, remote: spec });
  const days = opts.retentionDays ?? snap.policy.message_retention_days;
  const paths = messageArchivePaths({ messages: snap.messages }, snap.config, now, days);
  const empty: ArchiveResult = { moved: [], files: [], deferred: [], remaining: snap.messages.length };
  if (!paths.length) return { ...empty, commit: null, retention_days: days };
  const mutate = planMessageArchive({ retentionDays: days });
  if (opts.dryRun) {
    const state = await readTxState(opts.repoRoot, await readableCommit(opts.repoRoot, spec), [MESSAGES_PATH, ...paths], now);
    const d = mutate(state, now);
    return { ...(d.kind === 'refuse' ? empty : d.result), commit: null, retention_days: days };
  }
  const out = await runTransaction({
    repoRoot: opts.repoRoot, actor: opts.actor, action: 'message.archive', paths: [MESSAGES_PATH, ...paths], mutate, clock: opts.clock, remote: spec,
  });
  if (out.status === 'refused') return { ...empty, commit: null, retention_days: days };
  return { ...out.result, commit: out.status === 'committed' ? out.commit : null, retention_days: days };
}
