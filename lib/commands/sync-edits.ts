/**
 * What `coord sync --commit` checks before it pushes anything (METHODOLOGY.md section 3):
 * the person's uncommitted edits to coordination files, judged against HEAD (the remote's
 * version they are based on) by the same rules as every other door —
 *
 * - only builder N writes `build<N>/` (exit 2, E_USAGE);
 * - each edited file is valid (exit 3, as `coord validate`);
 * - job changes follow the state machine (exit 3; lib/jobs/transitions.ts, the rules of the
 *   remote's pre-receive hook and `coord validate --staged`);
 * - what the edit adds carries no credential (exit 3, like the pre-commit hook; the scanner
 *   of lib/hooks/staged-secrets.ts; `COORD_ALLOW_SECRET=1` is the way past it);
 * - an edit that changes no record (reformatting, `locks: []` for `{}`) is left out with a
 *   warning rather than kept pending forever.
 *
 * Every refusal happens before the local lock is taken, so nothing is pushed — not even
 * queued or local commits — when the edit is refused. Also here: the record of merge
 * conflicts the person was shown ({@link conflictIssues}), so that running
 * `coord sync --commit` again after choosing a value commits that value.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { getLocation } from 'jsonc-parser';
import { CoordError, type Issue } from '../errors.js';
import { coordStateDir, readFilesAt, resolveCommit } from '../git/repo.js';
import { git } from '../git/run.js';
import { scanEditedSecrets, type StagedSecret } from '../hooks/staged-secrets.js';
import { jobFileTransitionIssues } from '../jobs/transitions.js';
import type { MergeConflict } from '../merge/merge-records.js';
import { checkCoordinationFile, type CheckContext } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { readRepoFile } from '../store/files.js';
import { kindOfPath, ownerOfPath, PATHS } from '../store/kinds.js';

/** One changed path of `git status --porcelain=v1` (`XY`, e.g. ` M`, `??`, `UU`). */
export interface WorkTreeChange { status: string; file: string }

/** Edits that passed every check, ready for the transaction. */
export interface EditPlan {
  /** Files to commit (edits that change no record left out). */
  files: string[];
  head: string | null;
  /** The working tree's bytes of each edited coordination file (null: deleted). */
  mineBytes: Map<string, Buffer | null>;
  /** Parsed canonical values of the edits. */
  mine: Map<string, unknown>;
  /** Parsed values at HEAD (null when absent or invalid there). */
  base: Map<string, unknown>;
  ctx: CheckContext;
  warnings: string[];
}

export interface PlanOptions {
  repoRoot: string;
  /** This clone's builder identity (`build<N>`), or null on a person's machine. */
  builder: string | null;
  /** Skip the credential scan (`COORD_ALLOW_SECRET=1`). */
  allowSecret: boolean;
  now: number;
}

/** Changed paths in the working tree relative to HEAD (tracked or new), with git's status. */
export async function workTreeChanges(repoRoot: string): Promise<WorkTreeChange[]> {
  const r = await git(repoRoot, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
  return r.stdout.split('\0').filter(Boolean).map((e) => ({ status: e.slice(0, 2), file: e.slice(3) }));
}

/**
 * Refuses `coord sync` while a `git pull` (merge) or a rebase waits for the person:
 * "diverged; run git pull" would send them back to what they just did.
 * @throws CoordError E_CONTENTION (exit 4, like the divergence it replaces) naming the
 *   unmerged files and the git commands that conclude the merge
 */
export async function refuseUnfinishedMerge(repoRoot: string): Promise<void> {
  const gitPath = async (name: string) => path.resolve(repoRoot, (await git(repoRoot, ['rev-parse', '--git-path', name])).stdout.trim());
  const exists = async (name: string) => fs.stat(await gitPath(name)).then(() => true, () => false);
  const merging = await exists('MERGE_HEAD');
  const rebasing = !merging && ((await exists('rebase-merge')) || (await exists('rebase-apply')));
  if (!merging && !rebasing) return;
  const unmerged = (await git(repoRoot, ['diff', '--name-only', '-z', '--diff-filter=U'], { allowFailure: true })).stdout.split('\0').filter(Boolean);
  const files = unmerged.join(', ');
  const what = merging ? 'a merge' : 'a rebase';
  const finish = merging ? 'git commit' : 'git rebase --continue';
  const message = unmerged.length
    ? `${what} is in progress: check ${files}, git add them and ${finish}, then coord sync` +
      (unmerged.some((f) => kindOfPath(f)) ? ' (coord validate checks the coordination files first)' : '')
    : `${what} is in progress and every file is resolved: ${finish}, then coord sync`;
  throw new CoordError('E_CONTENTION', message, { details: { merge_in_progress: merging, rebase_in_progress: rebasing, unmerged } });
}

/** The JSON pointer of the value at 1-based `line`/`column` of JSON `text` ('' when none). */
export function pointerAt(text: string, line: number, column: number): string {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) break;
    offset = nl + 1;
  }
  const loc = getLocation(text, offset + column - 1);
  return loc.path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function ownershipError(foreign: readonly WorkTreeChange[]): CoordError {
  const parts = foreign.map(({ status, file }) => {
    const owner = ownerOfPath(file)!;
    const drop = status === '??' ? `remove it (rm ${file})` : `drop the edit with git checkout -- ${file}`;
    return `${file} belongs to ${owner}'s daemon; ${drop}`;
  });
  return new CoordError('E_USAGE', `${parts.join('; ')}. Only builder N writes build<N>/ (METHODOLOGY.md section 1); nothing was committed`, {
    details: { files: foreign.map((f) => f.file) },
  });
}

function secretIssue(s: StagedSecret, text: string): Issue {
  return {
    file: s.file, pointer: pointerAt(text, s.line, s.column), line: s.line, severity: 'error',
    reason: `looks like a credential (${s.kind}, column ${s.column})`,
  };
}

/**
 * Checks the working tree's edits to coordination files (see the module comment).
 * @returns null when no coordination file is edited
 * @throws CoordError E_USAGE (another builder's files), E_INVALID (invalid file, broken job
 *   transition, credential)
 */
export async function planEdits(o: PlanOptions): Promise<EditPlan | null> {
  const { repoRoot } = o;
  const changes = (await workTreeChanges(repoRoot)).filter((c) => kindOfPath(c.file));
  if (!changes.length) return null;
  const foreign = changes.filter((c) => {
    const owner = ownerOfPath(c.file);
    return owner !== null && owner !== o.builder;
  });
  if (foreign.length) throw ownershipError(foreign);

  const files = changes.map((c) => c.file);
  const head = await resolveCommit(repoRoot, 'HEAD');
  const baseBytes = head ? await readFilesAt(repoRoot, head, [PATHS.buildConfig, ...files]) : new Map<string, Buffer | null>();
  const mineBytes = new Map<string, Buffer | null>();
  for (const f of files) mineBytes.set(f, await readRepoFile(repoRoot, f));
  const cfg = mineBytes.get(PATHS.buildConfig) ?? baseBytes.get(PATHS.buildConfig) ?? null;
  const ctx = contextFromConfigBytes(cfg, o.now);
  const issues: Issue[] = [];
  const mine = new Map<string, unknown>();
  const base = new Map<string, unknown>();
  const warnings: string[] = [];
  const kept: string[] = [];
  for (const f of files) {
    const b = mineBytes.get(f) ?? null;
    if (b === null) { issues.push({ file: f, pointer: '', reason: 'deleting coordination files with coord sync --commit is not supported; use git rm and a commit', severity: 'error' }); continue; }
    const r = checkCoordinationFile(f, b, ctx);
    issues.push(...r.issues.filter((i) => i.severity === 'error'));
    mine.set(f, r.value);
    const bb = baseBytes.get(f) ?? null;
    const atHead = bb ? checkCoordinationFile(f, bb, ctx) : null;
    base.set(f, atHead?.value ?? null);
    // Same records, other bytes (one line, key order, a legacy shape): nothing to commit.
    if (r.ok && atHead?.ok && r.canonical === atHead.canonical) {
      warnings.push(`${f}: your edit changes no record; nothing to commit (git checkout -- ${f} to drop it)`);
      continue;
    }
    kept.push(f);
  }
  if (issues.length) throw new CoordError('E_INVALID', 'your edits are invalid (below: file: /json/pointer: reason); nothing was committed', { issues });

  const broken: Issue[] = [];
  for (const f of kept) {
    if (kindOfPath(f) === 'jobs') broken.push(...jobFileTransitionIssues(f, [base.get(f)], mine.get(f)));
  }
  if (broken.length) {
    throw new CoordError('E_INVALID', 'your edits break the job state machine (below: file: /json/pointer: reason and what to do instead); nothing was committed', { issues: broken });
  }

  if (!o.allowSecret && kept.length) {
    const edits = new Map(kept.map((f) => [f, mineBytes.get(f)!]));
    const scan = await scanEditedSecrets(repoRoot, head, edits);
    if (scan.findings.length) {
      throw new CoordError('E_INVALID',
        'your edits look like they carry credentials (below: file: /json/pointer: kind; never the secret itself); nothing was committed: ' +
        'take them out of the file (keep secrets outside the repository), or run COORD_ALLOW_SECRET=1 coord sync --commit if they are not credentials',
        { issues: scan.findings.map((s) => secretIssue(s, edits.get(s.file)!.toString('utf8'))) });
    }
  }
  return { files: kept, head, mineBytes, mine, base, ctx, warnings };
}

// --- Merge conflicts the person was shown -----------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A conflict of the record merge, located stably (record ids, not positions). */
export interface SyncConflict {
  file: string;
  /** Pointer into the merged document (positions), for people. */
  pointer: string;
  /** The same place with each record named by its id, stable while records move. */
  key: string;
  /** The remote's value there (undefined: absent). */
  theirs: unknown;
  reason: string;
}

/**
 * Follows `pointer` through the merged document and the remote's version side by side,
 * matching list elements by `id` (a merged list may order records differently).
 */
function followPointer(merged: unknown, theirs: unknown, pointer: string): { key: string; theirs: unknown } {
  let m = merged, t = theirs;
  const key: string[] = [];
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(m)) {
      const el: unknown = m[Number(seg)];
      const id = isObj(el) && typeof el.id === 'string' ? el.id : null;
      key.push(id !== null ? `[id=${id}]` : seg);
      t = Array.isArray(t) ? (id !== null ? t.find((x) => isObj(x) && x.id === id) : t[Number(seg)]) : undefined;
      m = el;
    } else if (isObj(m)) {
      key.push(seg);
      m = Object.hasOwn(m, seg) ? m[seg] : undefined;
      t = isObj(t) && Object.hasOwn(t, seg) ? t[seg] : undefined;
    } else {
      break;
    }
  }
  return { key: key.join('/'), theirs: t };
}

const show = (v: unknown) => (v === undefined ? 'nothing (the key is absent)' : JSON.stringify(v));

/**
 * The merge's conflicts for `coord sync --commit`: where they are, and the remote's value.
 * The merge itself (lib/merge) keeps ours and says so, which is true for the merge driver
 * but not here, where a conflict commits nothing.
 */
export function conflictIssues(file: string, merged: unknown, theirs: unknown, conflicts: readonly MergeConflict[]): SyncConflict[] {
  return conflicts.map((c) => {
    const at = followPointer(merged, theirs, c.pointer);
    const what = c.reason.replace(/; kept ours.*$/, '');
    return { file, pointer: c.pointer, key: at.key, theirs: at.theirs, reason: `${what}; the remote has ${show(at.theirs)}` };
  });
}

/** The refusal for conflicts nobody has seen yet: exit 4, each with file, pointer and the remote's value. */
export function conflictError(conflicts: readonly SyncConflict[]): CoordError {
  const remote = conflicts.length === 1 ? `the remote has ${show(conflicts[0].theirs)}` : 'each line below names the remote\'s value';
  return new CoordError('E_CONTENTION',
    `your edits conflict with the remote (below: file: /json/pointer: reason); nothing was committed: set these fields to the value you want (${remote}), ` +
    'then run coord sync --commit again (the value in your file is then committed)',
    { issues: conflicts.map((c) => ({ file: c.file, pointer: c.pointer, reason: c.reason, severity: 'error' as const })) });
}

async function seenConflictsFile(repoRoot: string): Promise<string> {
  return path.join(await coordStateDir(repoRoot), 'sync-conflicts.json');
}

const seenKey = (c: { file: string; key: string; theirs: unknown }) => `${c.file}\0${c.key}\0${JSON.stringify(c.theirs) ?? 'absent'}`;

/**
 * The conflicts the last refused `coord sync --commit` showed (file, place, the remote's
 * value). A conflict shown with the same remote value has been decided by the person: their
 * file holds the value they want.
 */
export async function loadSeenConflicts(repoRoot: string): Promise<Set<string>> {
  const text = await fs.readFile(await seenConflictsFile(repoRoot), 'utf8').catch(() => null);
  if (text === null) return new Set();
  try {
    const list = JSON.parse(text) as { file: string; key: string; theirs?: unknown; absent?: boolean }[];
    return new Set(Array.isArray(list) ? list.map((e) => seenKey({ file: e.file, key: e.key, theirs: e.absent ? undefined : e.theirs })) : []);
  } catch {
    return new Set();
  }
}

/** True when the person was shown this conflict with this remote value. */
export function wasShown(seen: ReadonlySet<string>, c: SyncConflict): boolean {
  return seen.has(seenKey(c));
}

/** Records the conflicts shown (replacing earlier ones); an empty list forgets them. */
export async function saveSeenConflicts(repoRoot: string, conflicts: readonly SyncConflict[]): Promise<void> {
  const file = await seenConflictsFile(repoRoot);
  if (!conflicts.length) { await fs.rm(file, { force: true }); return; }
  const entries = conflicts.map((c) => (c.theirs === undefined ? { file: c.file, key: c.key, absent: true } : { file: c.file, key: c.key, theirs: c.theirs }));
  await fs.writeFile(file, JSON.stringify(entries, null, 2) + '\n');
}
