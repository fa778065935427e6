/**
 * `coord validate [FILE…] [--staged] [--allow-removal]`: every coordination file (or the
 * given ones, or those staged in git), one issue per problem (DESIGN.md section 9).
 * Without `--staged` each file is judged alone; `--staged` also compares with HEAD (record
 * loss, job transitions), since those rules are about a change, not a file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CoordError, type Issue } from '../errors.js';
import { git, gitBytes } from '../git/run.js';
import { checkCoordinationFile, type CheckContext } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { readRepoFile, repoRelative } from '../store/files.js';
import { BUILDER_DIR_RE, kindOfPath, PATHS } from '../store/kinds.js';
import { lostRecords, recordsOf } from '../store/record-loss.js';
import { closestKey } from '../store/semantics.js';
import { jobFileTransitionIssues } from '../jobs/transitions.js';
import { notAGitClone } from '../config/repo.js';

export interface FileReport {
  file: string;
  ok: boolean;
  legacy: string[];
  issues: Issue[];
}

export interface ValidateReport {
  ok: boolean;
  files: FileReport[];
}

export interface ValidateOptions {
  repoRoot: string;
  /** Paths as the user typed them (relative to `cwd`). Empty: every coordination file. */
  files: string[];
  staged: boolean;
  allowRemoval: boolean;
  cwd: string;
  now: number;
}

/** Every coordination file present in the working tree, sorted. */
export async function listCoordinationFiles(repoRoot: string): Promise<string[]> {
  const out: string[] = [];
  const add = async (rel: string) => {
    const st = await fs.lstat(path.join(repoRoot, rel)).catch(() => null);
    if (st) out.push(rel);
  };
  for (const p of Object.values(PATHS)) await add(p);
  for (const e of await fs.readdir(repoRoot, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && BUILDER_DIR_RE.test(e.name)) {
      await add(`${e.name}/status.json`);
      await add(`${e.name}/heartbeat.json`);
    }
  }
  for (const name of await fs.readdir(path.join(repoRoot, 'coordination/archive')).catch(() => [] as string[])) {
    const rel = `coordination/archive/${name}`;
    if (kindOfPath(rel)) out.push(rel);
  }
  return out.sort();
}

const COORDINATION_FILES = 'coordination/*.json, build<N>/status.json, build<N>/heartbeat.json, shared/*.json, coordination/archive/*.json';

function report(file: string, issues: Issue[], legacy: string[] = []): FileReport {
  return { file, ok: !issues.some((i) => i.severity === 'error'), legacy, issues };
}

async function checkWorkingTree(opts: ValidateOptions): Promise<FileReport[]> {
  let files: string[];
  if (opts.files.length) {
    files = opts.files.map((f) => repoRelative(opts.repoRoot, f, opts.cwd));
    for (const [i, rel] of files.entries()) {
      if (kindOfPath(rel)) continue;
      // A name that is no coordination file: a typo (nothing there, exit 5) or the wrong file (exit 2).
      if (!(await fs.lstat(path.join(opts.repoRoot, rel)).then(() => true, () => false))) {
        const near = closestKey(rel, await listCoordinationFiles(opts.repoRoot), 2);
        throw new CoordError('E_NOT_FOUND', `${opts.files[i]}: no such file${near ? ` (did you mean ${near}?)` : ''}; coord validate with no FILE checks every coordination file`);
      }
      throw new CoordError('E_USAGE', `${opts.files[i]}: not a coordination file (${COORDINATION_FILES})`);
    }
  } else {
    files = await listCoordinationFiles(opts.repoRoot);
    if (!files.includes(PATHS.buildConfig) && !files.length) {
      throw new CoordError('E_NOT_FOUND', `${opts.repoRoot} holds no coordination files; run coord init`);
    }
  }
  // An unreadable build config is reported with the other files; here it only means
  // "no cross-file checks".
  const configBytes = await readRepoFile(opts.repoRoot, PATHS.buildConfig).catch(() => null);
  const ctx: CheckContext = contextFromConfigBytes(configBytes, opts.now);
  const reports: FileReport[] = [];
  for (const rel of files) {
    let bytes: Buffer | null;
    try {
      bytes = await readRepoFile(opts.repoRoot, rel);
    } catch (err) {
      if (err instanceof CoordError) { reports.push(report(rel, err.issues)); continue; }
      throw err;
    }
    if (bytes === null) {
      reports.push(report(rel, [{ file: rel, pointer: '', reason: 'file does not exist', severity: 'error' }]));
      continue;
    }
    const r = checkCoordinationFile(rel, bytes, ctx);
    reports.push(report(rel, r.issues, r.legacy));
  }
  return reports;
}

async function showBytes(repoRoot: string, spec: string): Promise<Buffer | null> {
  return gitBytes(repoRoot, ['cat-file', 'blob', spec], { allowFailure: true });
}

/**
 * Staged mode: judge the index, and compare with HEAD for record loss and for the job
 * state machine (the checks the remote's pre-receive hook makes, so a hosted remote
 * without that hook is protected by the pre-commit hook and CI too).
 */
async function checkStaged(opts: ValidateOptions): Promise<FileReport[]> {
  const { repoRoot } = opts;
  const diff = await git(repoRoot, ['diff', '--cached', '--name-status', '--no-renames', '-z'], { allowFailure: true });
  // No index to judge: say so (a silent "0 files checked" would pass anything).
  if (diff.exitCode !== 0) {
    throw notAGitClone(repoRoot, process.env) ?? new CoordError('E_GIT', `--staged: cannot read the git index of ${repoRoot}: ${diff.stderr.trim()}`);
  }
  const parts = diff.stdout.split('\0').filter(Boolean);
  const changed: { status: string; file: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) changed.push({ status: parts[i], file: parts[i + 1] });
  const coord = changed.filter((c) => kindOfPath(c.file));
  if (!coord.length) return [];
  const ctx = contextFromConfigBytes(await showBytes(repoRoot, `:${PATHS.buildConfig}`), opts.now);
  const merging = await git(repoRoot, ['rev-parse', '-q', '--verify', 'MERGE_HEAD^{commit}'], { allowFailure: true });
  const mergeHead = merging.exitCode === 0 ? merging.stdout.trim() : null;
  const reports: FileReport[] = [];
  let archived: Set<string> | null = null;
  const archivedIds = async (): Promise<Set<string>> => {
    if (archived) return archived;
    archived = new Set();
    const ls = await git(repoRoot, ['ls-files', '-z', '--', 'coordination/archive'], { allowFailure: true });
    for (const f of ls.stdout.split('\0').filter((x) => kindOfPath(x) === 'archive')) {
      const b = await showBytes(repoRoot, `:${f}`);
      if (!b) continue;
      const r = checkCoordinationFile(f, b, ctx);
      const recs = (r.value as { records?: { id?: unknown }[] } | undefined)?.records ?? [];
      for (const rec of recs) if (typeof rec.id === 'string') archived.add(rec.id);
    }
    return archived;
  };
  for (const { status, file } of coord) {
    const kind = kindOfPath(file)!;
    const before = await showBytes(repoRoot, `HEAD:${file}`);
    const beforeValue = before ? checkCoordinationFile(file, before, ctx).value ?? null : null;
    if (status === 'D') {
      const issues: Issue[] = [];
      if (!opts.allowRemoval && (kind === 'jobs' || kind === 'messages')) {
        const lost = recordsOf(kind, beforeValue);
        if (lost.length) issues.push(...lostRecords(kind, file, beforeValue, null, await archivedIds()));
      }
      if (!opts.allowRemoval && kind !== 'jobs' && kind !== 'messages' && kind !== 'heartbeat' && kind !== 'status') {
        issues.push({ file, pointer: '', reason: 'coordination file deleted; restore it, or pass --allow-removal', severity: 'error' });
      }
      reports.push(report(file, issues));
      continue;
    }
    const staged = await showBytes(repoRoot, `:${file}`);
    if (staged === null) continue;
    const r = checkCoordinationFile(file, staged, ctx);
    const issues = [...r.issues];
    if (r.ok && !opts.allowRemoval && (kind === 'jobs' || kind === 'messages')) {
      const lost = lostRecords(kind, file, beforeValue, r.value, new Set());
      if (lost.length) issues.push(...lostRecords(kind, file, beforeValue, r.value, await archivedIds()));
    }
    // The job state machine, as the remote's pre-receive hook checks it (lib/jobs/transitions.ts).
    // While a merge is being concluded each job may come from either side.
    if (r.ok && kind === 'jobs') {
      const parents: unknown[] = [beforeValue];
      if (mergeHead) {
        const theirs = await showBytes(repoRoot, `${mergeHead}:${file}`);
        parents.push(theirs ? checkCoordinationFile(file, theirs, ctx).value ?? null : null);
      }
      issues.push(...jobFileTransitionIssues(file, parents, r.value));
    }
    reports.push(report(file, issues, r.legacy));
  }
  return reports;
}

/** Runs the validation; never writes anything. */
export async function validateRepository(opts: ValidateOptions): Promise<ValidateReport> {
  const files = opts.staged ? await checkStaged(opts) : await checkWorkingTree(opts);
  return { ok: files.every((f) => f.ok), files };
}
