/**
 * `coord migrate [--dry-run]`: rewrites legacy shapes (DESIGN.md section 1) to the
 * canonical form. All or nothing: when any file is invalid, nothing is written. A dry run
 * shows the unified diff of each file it would rewrite. Running it twice changes nothing
 * the second time (normalization is deterministic).
 */
import { createTwoFilesPatch } from 'diff';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CoordError, type Issue } from '../errors.js';
import { git } from '../git/run.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { readRepoFile, writeFileAtomic } from '../store/files.js';
import { PATHS } from '../store/kinds.js';
import { listCoordinationFiles } from './validate.js';

export interface MigrateChange {
  file: string;
  /** Legacy shapes found in the file. */
  legacy: string[];
  /** Unified diff, old → canonical. */
  diff: string;
}

export interface MigrateResult {
  changes: MigrateChange[];
  /** Commit made (null for a dry run, nothing to change, or outside git). */
  commit: string | null;
  warnings: Issue[];
}

export interface MigrateOptions {
  repoRoot: string;
  dryRun: boolean;
  now: number;
  /** Who runs it, for the commit message. */
  actor: string | null;
}

/** @throws CoordError E_INVALID (with every issue) when a file cannot be migrated; nothing is written then */
export async function migrateRepository(opts: MigrateOptions): Promise<MigrateResult> {
  const { repoRoot } = opts;
  const files = await listCoordinationFiles(repoRoot);
  const cfgBytes = await readRepoFile(repoRoot, PATHS.buildConfig).catch(() => null);
  const ctx = contextFromConfigBytes(cfgBytes, opts.now);
  const changes: (MigrateChange & { text: string })[] = [];
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  for (const rel of files) {
    let bytes: Buffer | null;
    try {
      bytes = await readRepoFile(repoRoot, rel);
    } catch (err) {
      if (err instanceof CoordError) { errors.push(...err.issues); continue; }
      throw err;
    }
    if (!bytes) continue;
    const r = checkCoordinationFile(rel, bytes, ctx);
    errors.push(...r.issues.filter((i) => i.severity === 'error'));
    warnings.push(...r.issues.filter((i) => i.severity === 'warning'));
    if (!r.ok || r.canonical === undefined) continue;
    const old = bytes.toString('utf8');
    if (old !== r.canonical) {
      changes.push({ file: rel, legacy: r.legacy, text: r.canonical, diff: createTwoFilesPatch(`a/${rel}`, `b/${rel}`, old, r.canonical, '', '', { context: 2 }) });
    }
  }
  if (errors.length) {
    throw new CoordError('E_INVALID', `cannot migrate: ${errors.length} problem(s) must be fixed by hand first; nothing was written`, { issues: errors });
  }
  const result = (commit: string | null): MigrateResult => ({ changes: changes.map(({ text: _t, ...c }) => c), commit, warnings });
  if (opts.dryRun || !changes.length) return result(null);
  for (const c of changes) await writeFileAtomic(repoRoot, c.file, c.text);
  if (!existsSync(path.join(repoRoot, '.git'))) return result(null);
  const paths = changes.map((c) => c.file);
  await git(repoRoot, ['add', '--', ...paths]);
  const msg = `coord(${opts.actor ?? 'migrate'}): migrate ${paths.length} file(s) to the canonical form\n\n` +
    changes.map((c) => `- ${c.file}: ${c.legacy.join('; ') || 'formatting'}`).join('\n') + '\n\nCoord-Action: migrate\n';
  await git(repoRoot, ['commit', '--no-verify', '-q', '-m', msg, '--', ...paths]);
  const head = await git(repoRoot, ['rev-parse', 'HEAD']);
  return result(head.stdout.trim());
}
