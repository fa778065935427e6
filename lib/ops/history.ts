/**
 * `coord history`: who did what when, read from the git history of the remote-tracking
 * `main`. Commits made by transactions have a fixed, parseable form (lib/tx/transaction.ts
 * commitMessage; README "Operator commands" documents it):
 *
 *     coord(<actor>): <action> <summary>
 *
 *     Coord-Action: <action>
 *     Coord-Actor: <actor>
 *     Coord-<Key>: <value>        (Job, Attempt, Result, Lock, Reason, Builder, …)
 *     Coord-Files: <path> <path>…
 *
 * Other commits touching coordination files (hand edits, `coord init`, `coord migrate`)
 * are listed too, with action `manual` (or their own `Coord-Action`) and the author as actor.
 */
import { git } from '../git/run.js';
import { kindOfPath, ownerOfPath } from '../store/kinds.js';
import { formatTimestamp } from '../util/time.js';

export interface HistoryEntry {
  commit: string;
  /** Commit time (the writer's clock; for people). */
  time: string;
  actor: string;
  action: string;
  summary: string;
  files: string[];
  /** `Coord-*` trailers other than Action/Actor/Files, keys lower-cased without the prefix (`job`, `reason`, …). */
  trailers: Record<string, string>;
  /** True when the commit carries `Coord-Action` (made by build-coord). */
  coord: boolean;
  author: string;
}

/** The `git log --format` the parser reads: records split by RS, fields by US. */
export const HISTORY_LOG_FORMAT = '%x1e%H%x1f%ct%x1f%an%x1f%B%x1f';

const SUBJECT_RE = /^coord\(([^)\s]+)\): (\S+)(?: (.*))?$/;
const TRAILER_RE = /^Coord-([A-Za-z][A-Za-z0-9-]*): ?(.*)$/;

/** Parses one commit (hash, epoch seconds, author, message, `--name-only` file list). */
export function parseCommit(hash: string, epochS: number, author: string, message: string, fileList: string[]): HistoryEntry {
  const lines = message.replace(/\r/g, '').split('\n');
  const subject = lines[0]?.trim() ?? '';
  const trailers: Record<string, string> = {};
  let action: string | null = null, actor: string | null = null, files: string[] | null = null;
  for (const line of lines.slice(1)) {
    const m = TRAILER_RE.exec(line.trim());
    if (!m) continue;
    const key = m[1].toLowerCase(), value = m[2].trim();
    if (key === 'action') action = value;
    else if (key === 'actor') actor = value;
    else if (key === 'files') files = value.split(/\s+/).filter(Boolean);
    else trailers[key] = value;
  }
  const s = SUBJECT_RE.exec(subject);
  const summary = s && (!action || s[2] === action) ? (s[3] ?? '').trim() : subject;
  return {
    commit: hash, time: formatTimestamp(epochS * 1000),
    actor: actor ?? s?.[1] ?? author, action: action ?? (s ? s[2] : 'manual'), summary,
    files: files ?? fileList, trailers, coord: action !== null, author,
  };
}

/** Parses `git log --format=HISTORY_LOG_FORMAT --name-only` output, newest first. */
export function parseHistoryLog(raw: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const rec of raw.split('\x1e')) {
    if (!rec.trim()) continue;
    const [hash = '', ct = '0', author = '', message = '', rest = ''] = rec.split('\x1f');
    out.push(parseCommit(hash.trim(), Number(ct), author, message, rest.split('\n').map((l) => l.trim()).filter(Boolean)));
  }
  return out;
}

/**
 * Every `Coord-Action` build-coord writes on `main` (README "Operator commands"), plus
 * `manual` for commits without one. `coord history --action` takes one of these or a family
 * (the part before the dot: `lock` for every `lock.*`).
 */
export const KNOWN_ACTIONS: readonly string[] = [
  'job.add', 'job.cancel', 'job.retry', 'job.claim', 'job.renew', 'job.complete', 'job.expire', 'job.requeue', 'jobs.archive',
  'lock.acquire', 'lock.renew', 'lock.release', 'lock.break',
  'queue.pause', 'queue.resume', 'builder.ground', 'builder.unground', 'builder.status',
  'schedule.add', 'schedule.remove', 'schedule.enable', 'schedule.disable', 'schedule.enqueue',
  'message.send', 'message.read', 'message.ack', 'message.archive',
  'edit.commit', 'edit.repair', 'migrate', 'manual',
];

/** The families of {@link KNOWN_ACTIONS} (`job`, `lock`, …), sorted. */
export const ACTION_FAMILIES: readonly string[] = [...new Set(KNOWN_ACTIONS.filter((a) => a.includes('.')).map((a) => a.split('.')[0]))].sort();

/** Is `action` a known action name or family (what `--action` takes)? */
export function isKnownAction(action: string): boolean {
  return KNOWN_ACTIONS.includes(action) || ACTION_FAMILIES.includes(action);
}

export interface HistoryFilter {
  job?: string;
  builder?: string;
  /** Action name or prefix (`lock` matches `lock.acquire`). */
  action?: string;
  /** Epoch ms lower bound (commit time). */
  since?: number;
}

/** Does `e` concern the job / builder / action asked for? */
export function matchesHistory(e: HistoryEntry, f: HistoryFilter): boolean {
  if (f.job) {
    // `Coord-Removed` (sync --commit --allow-removal) names records a clean-up dropped.
    const ids = `${e.trailers.job ?? ''} ${e.trailers.removed ?? ''}`.split(/[\s,]+/).filter(Boolean);
    if (!ids.includes(f.job) && !e.summary.split(/\s+/).includes(f.job)) return false;
  }
  if (f.builder && e.actor !== f.builder && e.trailers.builder !== f.builder && e.trailers.holder !== f.builder) return false;
  if (f.action && e.action !== f.action && !e.action.startsWith(`${f.action}.`)) return false;
  if (f.since !== undefined && Date.parse(e.time) < f.since) return false;
  return true;
}

/** True for commits worth showing: made by build-coord, or touching a coordination or builder file. */
export function isCoordinationCommit(e: HistoryEntry): boolean {
  return e.coord || e.files.some((f) => kindOfPath(f) !== null || ownerOfPath(f) !== null);
}

/**
 * Reads the history of `ref` (the remote-tracking main), newest first, filtered.
 * @param limit most entries returned
 */
export async function readHistory(repoRoot: string, ref: string, f: HistoryFilter, limit: number): Promise<{ entries: HistoryEntry[]; more: boolean }> {
  const args = ['log', `--format=${HISTORY_LOG_FORMAT}`, '--name-only', '--no-renames', '--no-color'];
  if (f.since !== undefined) args.push(`--since=@${Math.floor(f.since / 1000)}`);
  if (f.job) args.push('--fixed-strings', `--grep=${f.job}`);
  args.push(ref, '--');
  const r = await git(repoRoot, args, { allowFailure: true, timeoutMs: 120_000 });
  if (r.exitCode !== 0) return { entries: [], more: false };
  const all = parseHistoryLog(r.stdout).filter((e) => isCoordinationCommit(e) && matchesHistory(e, f));
  return { entries: all.slice(0, limit), more: all.length > limit };
}
