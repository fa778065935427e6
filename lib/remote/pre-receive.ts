/**
 * The server side of `coord remote setup`: checks every commit pushed to the coordination
 * branch — each changed coordination file must be valid (schema + semantics), no record may
 * vanish without being archived, and job changes must follow the state machine — and
 * checks heartbeat refs hold a valid heartbeat. Output goes to stderr (git shows it to the
 * pusher as `remote: …`).
 */
import { type Issue, formatIssue } from '../errors.js';
import { git } from '../git/run.js';
import { readFilesAt } from '../git/repo.js';
import { jobFileTransitionIssues } from '../jobs/transitions.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { kindOfPath, PATHS } from '../store/kinds.js';
import { lostRecords } from '../store/record-loss.js';

const ZERO = /^0+$/;

export interface RefUpdate { old: string; new: string; ref: string }

/** Parses pre-receive standard input: `<old> <new> <ref>` per line. */
export function parseRefUpdates(text: string): RefUpdate[] {
  return text.split('\n').filter(Boolean).map((l) => {
    const [old = '', nu = '', ref = ''] = l.trim().split(/\s+/);
    return { old, new: nu, ref };
  });
}

async function changedFiles(repo: string, parent: string | null, commit: string): Promise<string[]> {
  const args = parent ? ['diff-tree', '-r', '-z', '--name-only', '--no-renames', parent, commit] : ['ls-tree', '-r', '-z', '--name-only', commit];
  const r = await git(repo, args);
  return r.stdout.split('\0').filter((f) => f && kindOfPath(f));
}

/** Issues of one commit against its first parent. */
export async function commitIssues(repo: string, commit: string, now: number): Promise<Issue[]> {
  const parents = (await git(repo, ['rev-list', '--parents', '-n', '1', commit])).stdout.trim().split(' ').slice(1);
  const parent = parents[0] ?? null;
  const files = await changedFiles(repo, parent, commit);
  if (!files.length) return [];
  const after = await readFilesAt(repo, commit, [PATHS.buildConfig, ...files]);
  const before = parent ? await readFilesAt(repo, parent, files) : new Map<string, Buffer | null>();
  const ctx = contextFromConfigBytes(after.get(PATHS.buildConfig) ?? null, now);
  const issues: Issue[] = [];
  const archived = new Set<string>();
  const values = new Map<string, unknown>();
  for (const f of files) {
    const b = after.get(f) ?? null;
    if (b === null) continue;
    const r = checkCoordinationFile(f, b, ctx);
    issues.push(...r.issues.filter((i) => i.severity === 'error'));
    values.set(f, r.value);
    if (r.kind === 'archive') for (const rec of ((r.value as { records?: { id?: unknown }[] })?.records ?? [])) archived.add(String(rec.id));
  }
  if (issues.length) return issues;
  // Ids archived in this commit's whole tree (a move may have happened in an earlier commit).
  const allArchives = (await git(repo, ['ls-tree', '-r', '-z', '--name-only', commit, 'coordination/archive/'])).stdout.split('\0').filter((f) => kindOfPath(f) === 'archive');
  const archiveBytes = await readFilesAt(repo, commit, allArchives);
  for (const [f, b] of archiveBytes) {
    if (!b) continue;
    const r = checkCoordinationFile(f, b, ctx);
    for (const rec of ((r.value as { records?: { id?: unknown }[] })?.records ?? [])) archived.add(String(rec.id));
  }
  for (const f of files) {
    const kind = kindOfPath(f);
    if (kind !== 'jobs' && kind !== 'messages') continue;
    const prevBytes = before.get(f) ?? null;
    const prev = prevBytes ? checkCoordinationFile(f, prevBytes, ctx).value ?? null : null;
    const next = values.has(f) ? values.get(f) : null;
    issues.push(...lostRecords(kind, f, prev, next, archived));
    if (kind === 'jobs') {
      // A merge commit (git pull) takes each job from either side: judged against every parent.
      const others: unknown[] = [];
      for (const p of parents.slice(1)) {
        const b = (await readFilesAt(repo, p, [f])).get(f) ?? null;
        others.push(b ? checkCoordinationFile(f, b, ctx).value ?? null : null);
      }
      issues.push(...jobFileTransitionIssues(f, [prev, ...others], next));
    }
  }
  return issues;
}

/**
 * The closing lines of a refused push. `coord validate` alone judges files one at a time,
 * so it cannot show record loss or a broken job transition; `coord validate --staged`
 * compares the index with HEAD and shows every one of these problems (as the pre-commit
 * hook and `coord sync --commit` do before anything is pushed).
 */
export function pushRefusedAdvice(branch: string, commitsRefused: boolean): string[] {
  const out = ['coord: push refused; the remote is unchanged (each line above names what to do)'];
  if (commitsRefused) {
    out.push(`coord: to fix your commits: git reset --soft origin/${branch} (your changes stay, staged), correct the files until coord validate --staged passes, then commit and push again`);
  }
  return out;
}

/**
 * Checks a push. @returns the lines to print; empty when the push may proceed
 *
 * Not checked here: who writes `build<N>/`. A push carries no builder identity (commit
 * authors and `Coord-Actor` trailers are free text), so that rule is kept on the client,
 * by `coord sync --commit` (METHODOLOGY.md section 3).
 */
export async function checkPush(repo: string, updates: RefUpdate[], branch: string, now: number): Promise<string[]> {
  const out: string[] = [];
  let commitsRefused = false;
  for (const u of updates) {
    if (ZERO.test(u.new)) {
      if (u.ref === `refs/heads/${branch}`) out.push(`coord: deleting ${u.ref} is not allowed`);
      continue;
    }
    if (u.ref === `refs/heads/${branch}`) {
      const range = ZERO.test(u.old) ? [u.new] : [`${u.old}..${u.new}`];
      const commits = (await git(repo, ['rev-list', '--reverse', '--first-parent', ...range])).stdout.split('\n').filter(Boolean);
      for (const c of commits) {
        for (const i of await commitIssues(repo, c, now)) {
          out.push(`coord: ${c.slice(0, 12)}: ${formatIssue(i)}`);
          commitsRefused = true;
        }
      }
    } else if (u.ref.startsWith('refs/coord/heartbeats/')) {
      const builder = u.ref.split('/').pop() ?? '';
      const f = `${builder}/heartbeat.json`;
      const b = (await readFilesAt(repo, u.new, [f])).get(f) ?? null;
      if (!b || kindOfPath(f) !== 'heartbeat') { out.push(`coord: ${u.ref}: must hold ${f}`); continue; }
      const r = checkCoordinationFile(f, b, { builders: null, policy: contextFromConfigBytes(null, now).policy, now });
      for (const i of r.issues.filter((x) => x.severity === 'error')) out.push(`coord: ${u.ref}: ${formatIssue(i)}`);
    }
  }
  if (out.length) out.push(...pushRefusedAdvice(branch, commitsRefused));
  return out;
}
