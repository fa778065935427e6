/**
 * `coord sync [--commit]` (DESIGN.md section 9): fetch; push the builder-owned commits
 * queued while the remote was unreachable; push the person's own local commits after
 * validating them; fast-forward the working tree when clean. With `--commit`, the
 * person's uncommitted edits to coordination files are validated and committed through
 * the transaction engine, merged record by record with whatever reached the remote since
 * (never a blind overwrite).
 */
import { CoordError, type Issue } from '../errors.js';
import { classifyPushFailure, classifyTransportFailure } from '../git/classify.js';
import { DEFAULT_REMOTE, fetchBranch, pushFastForward, readFilesAt, resolveCommit, trackingRef, updateRef, deleteRef, type RemoteSpec } from '../git/repo.js';
import { git } from '../git/run.js';
import { fastForwardWorkTree, recordLastLeft, type WorkTreeOutcome } from '../git/worktree.js';
import { mergeCoordinationFile } from '../merge/merge-records.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { readRepoFile, writeFileAtomic } from '../store/files.js';
import { kindOfPath, PATHS } from '../store/kinds.js';
import { lostRecords } from '../store/record-loss.js';
import { backoffDelay, sleep } from '../tx/backoff.js';
import { withLocalLock } from '../tx/local-lock.js';
import { PENDING_REF, pendingCommits, replayOnto } from '../tx/pending.js';
import { runTransaction } from '../tx/transaction.js';

export interface SyncOptions {
  repoRoot: string;
  /** Commit the person's edits to coordination files (`--commit`). */
  commit: boolean;
  actor: string | null;
  now: () => number;
  remote?: RemoteSpec;
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
}

const MERGEABLE = new Set(['jobs', 'messages', 'locks', 'schedules']);

/** Coordination files changed in the working tree relative to HEAD (tracked or new). */
async function editedCoordinationFiles(repoRoot: string): Promise<string[]> {
  const r = await git(repoRoot, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']);
  const out: string[] = [];
  for (const entry of r.stdout.split('\0').filter(Boolean)) {
    const file = entry.slice(3);
    if (kindOfPath(file)) out.push(file);
  }
  return out;
}

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

/** Validates the person's local commits (coordination files at HEAD, record loss vs the remote). */
async function validateLocalCommits(repoRoot: string, upstream: string, head: string, now: number): Promise<void> {
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
  }
  if (issues.length) throw new CoordError('E_INVALID', 'your local commits contain invalid coordination files; fix them (git commit --amend) before coord sync pushes them', { issues });
}

/** Runs a sync. @throws CoordError E_UNREACHABLE (exit 6), E_INVALID, E_CONTENTION */
export async function syncRepository(opts: SyncOptions): Promise<SyncReport> {
  const spec = opts.remote ?? DEFAULT_REMOTE;
  const { repoRoot } = opts;
  const report: SyncReport = { pushed_pending: 0, pushed_local: 0, committed_files: [], commit: null, worktree: { moved: false, reason: 'not attempted' }, remote_head: null };
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
        await validateLocalCommits(repoRoot, upstream, head, opts.now());
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
  if (opts.commit) await commitEdits(opts, spec, report);
  const target = await resolveCommit(repoRoot, trackingRef(spec));
  report.remote_head = target;
  if (target) report.worktree = await fastForwardWorkTree(repoRoot, spec, target, true);
  return report;
}

async function commitEdits(opts: SyncOptions, spec: RemoteSpec, report: SyncReport): Promise<void> {
  const { repoRoot } = opts;
  const files = await editedCoordinationFiles(repoRoot);
  if (!files.length) return;
  const head = await resolveCommit(repoRoot, 'HEAD');
  const baseBytes = head ? await readFilesAt(repoRoot, head, [PATHS.buildConfig, ...files]) : new Map<string, Buffer | null>();
  const mineBytes = new Map<string, Buffer | null>();
  for (const f of files) mineBytes.set(f, await readRepoFile(repoRoot, f));
  const cfg = mineBytes.get(PATHS.buildConfig) ?? baseBytes.get(PATHS.buildConfig) ?? null;
  const ctx = contextFromConfigBytes(cfg, opts.now());
  const issues: Issue[] = [];
  const mine = new Map<string, unknown>();
  const base = new Map<string, unknown>();
  for (const f of files) {
    const b = mineBytes.get(f) ?? null;
    if (b === null) { issues.push({ file: f, pointer: '', reason: 'deleting coordination files with coord sync --commit is not supported; use git rm and a commit', severity: 'error' }); continue; }
    const r = checkCoordinationFile(f, b, ctx);
    issues.push(...r.issues.filter((i) => i.severity === 'error'));
    mine.set(f, r.value);
    const bb = baseBytes.get(f) ?? null;
    base.set(f, bb ? checkCoordinationFile(f, bb, ctx).value ?? null : null);
  }
  if (issues.length) throw new CoordError('E_INVALID', 'your edits are invalid; nothing was committed', { issues });
  const out = await runTransaction({
    repoRoot, actor: opts.actor ?? 'operator', action: 'edit.commit', paths: files, remote: spec, updateWorkTree: false,
    mutate: (state) => {
      const writes = new Map<string, unknown>();
      const conflicts: string[] = [];
      for (const f of files) {
        const kind = kindOfPath(f)!;
        const theirs = state.files.get(f) ?? null;
        const b = base.get(f) ?? null;
        const m = mine.get(f);
        if (MERGEABLE.has(kind) && theirs !== null) {
          const res = mergeCoordinationFile(kind as 'jobs' | 'messages' | 'locks' | 'schedules', b, m, theirs);
          if (res.conflicts.length) conflicts.push(...res.conflicts.map((c) => `${f}: ${c.pointer}: ${c.reason}`));
          writes.set(f, res.merged);
        } else if (theirs === null || JSON.stringify(theirs) === JSON.stringify(b) || JSON.stringify(theirs) === JSON.stringify(m)) {
          writes.set(f, m);
        } else {
          conflicts.push(`${f}: changed on the remote since your checkout; run coord sync (without --commit) first, then redo the edit`);
        }
      }
      if (conflicts.length) return { kind: 'refuse', refusal: { code: 'E_CONTENTION', message: `your edits conflict with the remote:\n  ${conflicts.join('\n  ')}` } };
      return { kind: 'commit', writes, summary: files.join(' '), result: [...writes.keys()] };
    },
  });
  if (out.status === 'refused') throw new CoordError(out.refusal.code, out.refusal.message);
  if (out.status !== 'committed') return;
  report.commit = out.commit;
  report.committed_files = files;
  // The edits are on the remote now: bring the working tree to that commit, keeping the
  // edited files (whose committed content may include records merged from the remote).
  const committed = await readFilesAt(repoRoot, out.commit, files);
  for (const f of files) {
    const b = committed.get(f);
    if (b) await writeFileAtomic(repoRoot, f, b.toString('utf8'));
  }
  await git(repoRoot, ['update-index', '--add', '--', ...files], { allowFailure: true });
  if (head) {
    const rt = await git(repoRoot, ['read-tree', '-m', '-u', head, out.commit], { allowFailure: true });
    if (rt.exitCode === 0) {
      const upd = await git(repoRoot, ['update-ref', `refs/heads/${spec.branch}`, out.commit, head], { allowFailure: true });
      if (upd.exitCode === 0) await recordLastLeft(repoRoot, out.commit);
    }
  }
}
