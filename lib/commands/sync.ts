/**
 * `coord sync [--commit]` (DESIGN.md section 9): fetch; push the builder-owned commits
 * queued while the remote was unreachable; push the person's own local commits after
 * validating them; fast-forward the working tree when clean. With `--commit`, the
 * person's uncommitted edits to coordination files are validated and committed through
 * the transaction engine, merged record by record with whatever reached the remote since
 * (never a blind overwrite). A file that is invalid on the remote (pushed past the hooks)
 * can be repaired the same way: fast-forward to the broken version, fix the file until
 * `coord validate` passes, then `coord sync --commit` (see {@link commitRepairs}).
 * The edits are checked first (./sync-edits.ts: ownership of `build<N>/`, validity, job
 * transitions, credentials, edits that change nothing); a refused edit pushes nothing.
 */
import { CoordError, type Issue } from '../errors.js';
import { classifyPushFailure, classifyTransportFailure } from '../git/classify.js';
import {
  commitIdentity, commitTree, DEFAULT_REMOTE, fetchBranch, pushFastForward, readFilesAt, resolveCommit, trackingRef, updateRef, deleteRef,
  writeTreeWithChanges, type RemoteSpec,
} from '../git/repo.js';
import { git } from '../git/run.js';
import { fastForwardWorkTree, recordLastLeft, type WorkTreeOutcome } from '../git/worktree.js';
import { jobFileTransitionIssues } from '../jobs/transitions.js';
import { mergeCoordinationFile } from '../merge/merge-records.js';
import { checkCoordinationFile, type CheckContext } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { writeFileAtomic } from '../store/files.js';
import { kindOfPath, PATHS } from '../store/kinds.js';
import { lostRecords, recordsOf } from '../store/record-loss.js';
import { backoffDelay, sleep } from '../tx/backoff.js';
import { withLocalLock } from '../tx/local-lock.js';
import { PENDING_REF, pendingCommits, replayOnto } from '../tx/pending.js';
import { commitMessage, runTransaction } from '../tx/transaction.js';
import {
  conflictError, conflictIssues, loadSeenConflicts, planEdits, refuseUnfinishedMerge, saveSeenConflicts, wasShown,
  type EditPlan, type SyncConflict,
} from './sync-edits.js';

export interface SyncOptions {
  repoRoot: string;
  /** Commit the person's edits to coordination files (`--commit`). */
  commit: boolean;
  actor: string | null;
  /**
   * This clone's builder identity (`build<N>`), null on a person's machine. With `commit`,
   * edits under another builder's folder are refused (only builder N writes `build<N>/`).
   */
  builder?: string | null;
  /**
   * With `commit`: skip the credential scan of the edits (COORD_ALLOW_SECRET=1, as for the
   * pre-commit hook). Default false: a finding refuses the edit (E_INVALID), nothing changes.
   */
  allowSecret?: boolean;
  now: () => number;
  remote?: RemoteSpec;
  /**
   * With `commit`: allow jobs/messages to disappear without being archived (a deliberate
   * clean-up; `--allow-removal` or COORD_ALLOW_REMOVAL=1, as for the pre-commit hook).
   * Default false: such an edit is refused (E_INVALID) and nothing changes.
   */
  allowRemoval?: boolean;
}

export interface SyncReport {
  /** Queued builder-owned commits pushed. */
  pushed_pending: number;
  /** The person's local commits pushed. */
  pushed_local: number;
  /** Files committed from the working tree with --commit. */
  committed_files: string[];
  commit: string | null;
  worktree: WorkTreeOutcome;
  remote_head: string | null;
  /** Files that were invalid on the remote and were replaced by the working tree's version. */
  repaired_files: string[];
  /** Things the person should know (e.g. record loss not checkable for a repaired file). */
  warnings: string[];
}

const MERGEABLE = new Set(['jobs', 'messages', 'locks', 'schedules']);

async function pushLoop(repoRoot: string, spec: RemoteSpec, build: (base: string | null) => Promise<string | null>): Promise<string | null> {
  for (let attempt = 1; ; attempt++) {
    const base = await resolveCommit(repoRoot, trackingRef(spec));
    const tip = await build(base);
    if (tip === null || tip === base) return base;
    const fail = await pushFastForward(repoRoot, spec, tip);
    if (!fail) {
      await updateRef(repoRoot, trackingRef(spec), tip);
      return tip;
    }
    const f = classifyPushFailure(fail);
    if (f.kind !== 'non-fast-forward') {
      const code = f.kind === 'unreachable' ? 'E_UNREACHABLE' : f.kind === 'auth' ? 'E_AUTH' : f.kind === 'hook-declined' ? 'E_HOOK_DECLINED' : 'E_GIT';
      throw new CoordError(code, `push to ${spec.remote} failed: ${f.detail}`);
    }
    if (attempt >= 8) throw new CoordError('E_CONTENTION', `sync: lost the race for ${spec.remote}/${spec.branch} ${attempt} times; try again`);
    await sleep(backoffDelay(attempt));
    const ff = await fetchBranch(repoRoot, spec);
    if (ff) throw new CoordError('E_UNREACHABLE', `remote ${spec.remote} unreachable: ${classifyTransportFailure(ff).detail}`);
  }
}

/** Validates the person's local commits (coordination files at HEAD; record loss and job transitions vs the remote). */
async function validateLocalCommits(repoRoot: string, spec: RemoteSpec, upstream: string, head: string, now: number): Promise<void> {
  const diff = await git(repoRoot, ['diff', '--name-only', '-z', '--no-renames', upstream, head]);
  const files = diff.stdout.split('\0').filter((f) => f && kindOfPath(f));
  if (!files.length) return;
  const atHead = await readFilesAt(repoRoot, head, [PATHS.buildConfig, ...files]);
  const before = await readFilesAt(repoRoot, upstream, files);
  const ctx = contextFromConfigBytes(atHead.get(PATHS.buildConfig) ?? null, now);
  const issues: Issue[] = [];
  for (const f of files) {
    const b = atHead.get(f) ?? null;
    const kind = kindOfPath(f)!;
    const prev = before.get(f) ?? null;
    const prevValue = prev ? checkCoordinationFile(f, prev, ctx).value ?? null : null;
    if (b === null) {
      if (kind === 'jobs' || kind === 'messages') issues.push(...lostRecords(kind, f, prevValue, null, new Set()));
      continue;
    }
    const r = checkCoordinationFile(f, b, ctx);
    issues.push(...r.issues.filter((i) => i.severity === 'error'));
    if (r.ok && (kind === 'jobs' || kind === 'messages')) issues.push(...lostRecords(kind, f, prevValue, r.value, new Set()));
    // What the push changes on the remote (a git pull merge included) must follow the state machine.
    if (r.ok && kind === 'jobs') issues.push(...jobFileTransitionIssues(f, [prevValue], r.value));
  }
  if (issues.length) {
    throw new CoordError('E_INVALID', `your local commits contain invalid coordination files or job changes; nothing was pushed: git reset --soft ${spec.remote}/${spec.branch} ` +
      '(your changes stay, staged), correct them until coord validate --staged passes, commit, then coord sync', { issues });
  }
}

/** Runs a sync. @throws CoordError E_UNREACHABLE (exit 6), E_INVALID, E_CONTENTION */
export async function syncRepository(opts: SyncOptions): Promise<SyncReport> {
  const spec = opts.remote ?? DEFAULT_REMOTE;
  const { repoRoot } = opts;
  const report: SyncReport = { pushed_pending: 0, pushed_local: 0, committed_files: [], commit: null, worktree: { moved: false, reason: 'not attempted' }, remote_head: null, repaired_files: [], warnings: [] };
  await refuseUnfinishedMerge(repoRoot);
  // Edits are judged before anything is pushed: a refused edit leaves the remote as it was.
  const plan = opts.commit
    ? await planEdits({ repoRoot, builder: opts.builder ?? null, allowSecret: opts.allowSecret ?? false, now: opts.now() })
    : null;
  if (plan) report.warnings.push(...plan.warnings);
  await withLocalLock(repoRoot, async () => {
    const ff = await fetchBranch(repoRoot, spec);
    if (ff) {
      const f = classifyTransportFailure(ff);
      const pending = await pendingCommits(repoRoot, trackingRef(spec)).catch(() => []);
      throw new CoordError(f.kind === 'auth' ? 'E_AUTH' : 'E_UNREACHABLE', `remote ${spec.remote} unreachable${pending.length ? `; ${pending.length} builder-owned commit(s) stay queued` : ''}: ${f.detail.split('\n')[0]}`);
    }
    // 1. Builder-owned commits queued while offline.
    const pending = await pendingCommits(repoRoot, trackingRef(spec));
    if (pending.length) {
      await pushLoop(repoRoot, spec, async (base) => replayOnto(repoRoot, base, await pendingCommits(repoRoot, trackingRef(spec))));
      await deleteRef(repoRoot, PENDING_REF);
      report.pushed_pending = pending.length;
    }
    // 2. The person's own local commits on the branch.
    const head = await resolveCommit(repoRoot, 'HEAD');
    const upstream = await resolveCommit(repoRoot, trackingRef(spec));
    if (head && upstream && head !== upstream) {
      const headOnUpstream = (await git(repoRoot, ['merge-base', '--is-ancestor', head, upstream], { allowFailure: true })).exitCode === 0;
      if (!headOnUpstream) {
        const upstreamOnHead = (await git(repoRoot, ['merge-base', '--is-ancestor', upstream, head], { allowFailure: true })).exitCode === 0;
        if (!upstreamOnHead) {
          throw new CoordError('E_CONTENTION', `local ${spec.branch} and ${spec.remote}/${spec.branch} have diverged; run git pull (the coord merge driver keeps the JSON valid), then coord sync`);
        }
        await validateLocalCommits(repoRoot, spec, upstream, head, opts.now());
        const count = (await git(repoRoot, ['rev-list', '--count', `${upstream}..${head}`])).stdout.trim();
        const fail = await pushFastForward(repoRoot, spec, head);
        if (fail) {
          const f = classifyPushFailure(fail);
          throw new CoordError(f.kind === 'non-fast-forward' ? 'E_CONTENTION' : f.kind === 'hook-declined' ? 'E_HOOK_DECLINED' : 'E_UNREACHABLE', `pushing your local commits failed: ${f.detail}`);
        }
        await updateRef(repoRoot, trackingRef(spec), head);
        report.pushed_local = Number(count);
      }
    }
  });
  // 3. The person's uncommitted edits (--commit), through the transaction engine.
  if (plan?.files.length) await commitEdits(opts, spec, report, plan);
  const target = await resolveCommit(repoRoot, trackingRef(spec));
  report.remote_head = target;
  if (target) report.worktree = await fastForwardWorkTree(repoRoot, spec, target, true);
  return report;
}

async function commitEdits(opts: SyncOptions, spec: RemoteSpec, report: SyncReport, plan: EditPlan): Promise<void> {
  const { repoRoot } = opts;
  const { files, head, mineBytes, mine, base, ctx } = plan;
  // Files broken on the remote are replaced as a whole first (no record merge is possible
  // with an unparsable version); the other edits then go through the transaction engine.
  const repair = await commitRepairs(opts, spec, files, mineBytes, ctx, head);
  if (repair) {
    report.repaired_files = repair.files;
    report.warnings.push(...repair.warnings);
    report.commit = repair.commit;
    report.committed_files = [...repair.files];
  }
  const rest = files.filter((f) => !repair?.files.includes(f));
  if (!rest.length) {
    if (repair) await adoptCommit(repoRoot, spec, head, repair.commit, files);
    return;
  }
  let removedIds: string[] = [];
  // Conflicts shown by an earlier run with the same remote value are decided: the file
  // holds the value the person wants (the merge kept it).
  const seen = await loadSeenConflicts(repoRoot);
  let shown: SyncConflict[] = [];
  let broken: Issue[] = [];
  let notes: string[] = [];
  const out = await runTransaction({
    repoRoot, actor: opts.actor ?? 'operator', action: 'edit.commit', paths: rest, remote: spec, updateWorkTree: false,
    ...(opts.allowRemoval ? { allowRemoval: true } : {}),
    mutate: (state) => {
      const writes = new Map<string, unknown>();
      const conflicts: SyncConflict[] = [];
      const stale: string[] = [];
      shown = [];
      broken = [];
      notes = [];
      for (const f of rest) {
        const kind = kindOfPath(f)!;
        const theirs = state.files.get(f) ?? null;
        const b = base.get(f) ?? null;
        const m = mine.get(f);
        if (MERGEABLE.has(kind) && theirs !== null) {
          const res = mergeCoordinationFile(kind as 'jobs' | 'messages' | 'locks' | 'schedules', b, m, theirs);
          conflicts.push(...conflictIssues(f, res.merged, theirs, res.conflicts));
          // Decisions of the merge worth knowing (a value of yours the state machine overrode).
          notes.push(...res.notes.map((n) => `merged with the remote (ours: your edit, theirs: the remote): ${f}: ${n.pointer || '/'}: ${n.reason}`));
          writes.set(f, res.merged);
        } else if (theirs === null || JSON.stringify(theirs) === JSON.stringify(b) || JSON.stringify(theirs) === JSON.stringify(m)) {
          writes.set(f, m);
        } else {
          stale.push(`${f}: changed on the remote since your checkout; run coord sync (without --commit) first, then redo the edit`);
        }
      }
      if (stale.length) return { kind: 'refuse', refusal: { code: 'E_CONTENTION', message: `your edits conflict with the remote; nothing was committed:\n  ${stale.join('\n  ')}` } };
      if (conflicts.some((c) => !wasShown(seen, c))) {
        shown = conflicts;
        return { kind: 'refuse', refusal: { code: 'E_CONTENTION', message: 'your edits conflict with the remote; nothing was committed' } };
      }
      // The state machine against the remote's version, as its pre-receive hook will judge
      // the commit: a job may have moved on the remote since the edit's checkout.
      for (const [f, v] of writes) if (kindOfPath(f) === 'jobs') broken.push(...jobFileTransitionIssues(f, [state.files.get(f) ?? null], v));
      if (broken.length) return { kind: 'refuse', refusal: { code: 'E_INVALID', message: 'merged with the remote, your edits would break the job state machine; nothing was committed' } };
      // A deliberate removal (--allow-removal) names what went, in the commit and the report,
      // so `coord history` and `git log` show which records a clean-up dropped.
      const removed: string[] = [];
      for (const [f, v] of writes) {
        const kind = kindOfPath(f);
        if (kind !== 'jobs' && kind !== 'messages') continue;
        const kept = new Set(recordsOf(kind, v).map((r) => String(r.id)));
        removed.push(...recordsOf(kind, state.files.get(f) ?? null).map((r) => String(r.id)).filter((id) => !kept.has(id)));
      }
      removedIds = removed;
      const trailers = removed.length ? { Removed: removed.slice(0, 50).join(' ') + (removed.length > 50 ? ` and ${removed.length - 50} more` : '') } : undefined;
      return { kind: 'commit', writes, summary: rest.join(' '), result: [...writes.keys()], ...(trailers ? { trailers } : {}) };
    },
  });
  if (out.status === 'refused') {
    if (shown.length) {
      await saveSeenConflicts(repoRoot, shown);
      throw conflictError(shown);
    }
    if (broken.length) {
      throw new CoordError('E_INVALID',
        'merged with the remote, your edits would break the job state machine: these jobs changed on the remote since your checkout (below: file: /json/pointer: reason); ' +
        `nothing was committed: drop the edit (git checkout -- ${rest.join(' ')}), run coord sync, then redo it on the current version`,
        { issues: broken });
    }
    throw new CoordError(out.refusal.code, out.refusal.message);
  }
  await saveSeenConflicts(repoRoot, []);
  report.warnings.push(...notes);
  if (out.status === 'noop') {
    // Merged with the remote the edit changes nothing there. The file is left as it is: the
    // remote may hold the edit already, or its newer state may have won (the notes say).
    report.warnings.push(`${rest.join(', ')}: merged with the remote, your edit changes nothing there; nothing to commit ` +
      `(git checkout -- ${rest.join(' ')}, then coord sync, to catch up)`);
  }
  if (out.status !== 'committed') {
    if (repair) await adoptCommit(repoRoot, spec, head, repair.commit, files);
    return;
  }
  report.commit = out.commit;
  report.committed_files = files;
  if (removedIds.length) report.warnings.push(`removed without archiving (--allow-removal): ${removedIds.slice(0, 20).join(', ')}${removedIds.length > 20 ? ` and ${removedIds.length - 20} more` : ''}`);
  await adoptCommit(repoRoot, spec, head, out.commit, files);
}

/**
 * The edits are on the remote now: bring the working tree to `commit`, keeping the edited
 * files (whose committed content may include records merged from the remote).
 */
async function adoptCommit(repoRoot: string, spec: RemoteSpec, head: string | null, commit: string, files: readonly string[]): Promise<void> {
  const committed = await readFilesAt(repoRoot, commit, files);
  for (const f of files) {
    const b = committed.get(f);
    if (b) await writeFileAtomic(repoRoot, f, b.toString('utf8'));
  }
  await git(repoRoot, ['update-index', '--add', '--', ...files], { allowFailure: true });
  if (head) {
    const rt = await git(repoRoot, ['read-tree', '-m', '-u', head, commit], { allowFailure: true });
    if (rt.exitCode === 0) {
      const upd = await git(repoRoot, ['update-ref', `refs/heads/${spec.branch}`, commit, head], { allowFailure: true });
      if (upd.exitCode === 0) await recordLastLeft(repoRoot, commit);
    }
  }
}

/** How many commits back {@link lastValidVersion} looks. */
const REPAIR_HISTORY_DEPTH = 50;

/**
 * The newest version of `file` on `ref` (within {@link REPAIR_HISTORY_DEPTH} commits that
 * touch it) that passes validation: its value, or undefined when none was found.
 */
async function lastValidVersion(repoRoot: string, ref: string, file: string, ctx: CheckContext): Promise<{ value: unknown; commit: string } | undefined> {
  const log = await git(repoRoot, ['log', '--format=%H', `-n${REPAIR_HISTORY_DEPTH}`, ref, '--', file], { allowFailure: true });
  for (const c of log.stdout.split('\n').filter(Boolean)) {
    const b = (await readFilesAt(repoRoot, c, [file])).get(file) ?? null;
    if (b === null) return { value: null, commit: c };
    const r = checkCoordinationFile(file, b, ctx);
    if (r.ok) return { value: r.value, commit: c };
  }
  return undefined;
}

/**
 * Repairs coordination files that are invalid on the remote (someone pushed a syntax error
 * past the hooks) with the working tree's valid version. Allowed only when the person
 * edited on top of that very broken version (HEAD holds the same bytes as the remote), so
 * nothing pushed since can be overwritten unseen; the commit is still a compare-and-swap
 * push (retried only while the remote still holds the broken bytes). Records of the newest
 * valid earlier version that the repair drops are refused like any record loss, unless
 * `allowRemoval`; when no valid earlier version is found a warning says so.
 * @returns null when no edited file is invalid on the remote
 * @throws CoordError E_INVALID when HEAD is not at the broken version (with the steps to
 *   follow) or records would be lost; E_CONTENTION when the remote changed the file meanwhile
 */
async function commitRepairs(
  opts: SyncOptions, spec: RemoteSpec, files: readonly string[], mineBytes: ReadonlyMap<string, Buffer | null>, ctx: CheckContext, head: string | null,
): Promise<{ files: string[]; commit: string; warnings: string[] } | null> {
  const { repoRoot } = opts;
  const upstream = await resolveCommit(repoRoot, trackingRef(spec));
  if (!upstream) return null;
  const remoteBytes = await readFilesAt(repoRoot, upstream, [PATHS.buildConfig, ...files]);
  const remoteCtx = contextFromConfigBytes(remoteBytes.get(PATHS.buildConfig) ?? null, opts.now());
  const broken = files.filter((f) => {
    const b = remoteBytes.get(f) ?? null;
    return b !== null && !checkCoordinationFile(f, b, remoteCtx).ok;
  });
  if (!broken.length) return null;
  const atHead = head ? await readFilesAt(repoRoot, head, broken) : new Map<string, Buffer | null>();
  const behind = broken.filter((f) => !(atHead.get(f) ?? null)?.equals(remoteBytes.get(f)!));
  if (behind.length) {
    throw new CoordError('E_INVALID',
      `${behind.join(', ')} is invalid on ${spec.remote}/${spec.branch}, and your clone is not at that broken version, so your edit cannot be checked against it. ` +
      'To repair it: run coord sync (fast-forward to the broken version), fix the file until coord validate passes, then coord sync --commit. Nothing was committed.',
      { details: { files: behind } });
  }
  const warnings: string[] = [];
  const issues: Issue[] = [];
  const changes = new Map<string, string>();
  for (const f of broken) {
    const r = checkCoordinationFile(f, mineBytes.get(f)!, ctx);
    changes.set(f, r.canonical!);
    const kind = kindOfPath(f);
    if (kind !== 'jobs' && kind !== 'messages') continue;
    const prev = await lastValidVersion(repoRoot, upstream, f, remoteCtx);
    if (prev === undefined) {
      warnings.push(`${f}: no valid earlier version in its last ${REPAIR_HISTORY_DEPTH} commits; could not check that the repair keeps every record`);
    } else if (!opts.allowRemoval) {
      issues.push(...lostRecords(kind, f, prev.value, r.value, new Set()).map((i) => ({ ...i, reason: `${i.reason} (compared with the last valid version, ${prev.commit.slice(0, 12)})` })));
    }
  }
  if (issues.length) throw new CoordError('E_INVALID', 'your repair would lose records; nothing was committed', { issues });
  const actor = opts.actor ?? 'operator';
  const who = await commitIdentity(repoRoot, actor);
  const brokenBytes = new Map(broken.map((f) => [f, remoteBytes.get(f)!]));
  const commit = await pushLoop(repoRoot, spec, async (base) => {
    if (!base) throw new CoordError('E_CONTENTION', `${spec.remote}/${spec.branch} is gone; run coord sync`);
    if (base !== upstream) {
      // Someone pushed meanwhile: repair only while the remote still holds the bytes we fixed.
      const now = await readFilesAt(repoRoot, base, broken);
      const changed = broken.filter((f) => !(now.get(f) ?? null)?.equals(brokenBytes.get(f)!));
      if (changed.length) {
        throw new CoordError('E_CONTENTION', `${changed.join(', ')} changed on ${spec.remote}/${spec.branch} while repairing; run coord sync, check the file, then coord sync --commit again. Nothing was committed.`);
      }
    }
    const tree = await writeTreeWithChanges(repoRoot, base, changes);
    const msg = commitMessage(actor, 'edit.repair', broken.join(' '), broken, { Reason: 'replaces a version that is invalid on the remote' });
    return commitTree(repoRoot, tree, [base], msg, who, opts.now());
  });
  if (!commit || commit === upstream) throw new CoordError('E_INTERNAL', 'repair commit was not made');
  return { files: broken, commit, warnings };
}
