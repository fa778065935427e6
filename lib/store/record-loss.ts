/**
 * Record loss: jobs or messages that vanished from a hot file without being archived
 * (upstream lost its whole message history twice: an agent rewrote messages.json with only
 * its own message, and a crash left it empty). Used by `coord validate --staged`, the
 * transaction engine and the remote's pre-receive hook.
 */
import type { Issue } from '../errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The record list of a hot file (`jobs` or `messages`), else []. */
export function recordsOf(kind: 'jobs' | 'messages', doc: unknown): Obj[] {
  const list = isObj(doc) ? doc[kind] : undefined;
  return Array.isArray(list) ? list.filter(isObj) : [];
}

/**
 * Ids present in `before` and absent from `after` that `archivedIds` does not hold.
 * @param before the previous version (null when the file is new)
 * @param after the new version (null when the file was deleted)
 * @param archivedIds ids found in the archive files of the new tree
 */
export function lostRecords(kind: 'jobs' | 'messages', file: string, before: unknown, after: unknown, archivedIds: ReadonlySet<string>): Issue[] {
  if (before === null || before === undefined) return [];
  const now = new Set(recordsOf(kind, after).map((r) => String(r.id)));
  const lost = recordsOf(kind, before).filter((r) => !now.has(String(r.id)) && !archivedIds.has(String(r.id)));
  if (!lost.length) return [];
  const running = lost.filter((r) => r.status === 'running').map((r) => String(r.id));
  const ids = lost.map((r) => String(r.id));
  const shown = ids.slice(0, 10).join(', ') + (ids.length > 10 ? ` and ${ids.length - 10} more` : '');
  const what = kind === 'jobs' ? 'job' : 'message';
  const reason =
    `${after === null ? 'file deleted: ' : ''}${ids.length} ${what}${ids.length === 1 ? '' : 's'} removed without being archived: ${shown}` +
    (running.length ? ` (running: ${running.join(', ')})` : '') +
    '; restore them, or pass --allow-removal for a deliberate clean-up';
  return [{ file, pointer: `/${kind}`, reason, severity: 'error' }];
}
