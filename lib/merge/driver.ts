/**
 * The git merge driver for coordination JSON (`.gitattributes`: `merge=coord-json`):
 * git calls `coord merge-driver run %O %A %B %P` with the ancestor, ours (result goes
 * here) and theirs. The result is always valid canonical JSON — never conflict markers;
 * on undecidable conflicts ours is kept for those values, they are listed on stderr and
 * the exit code is 1, so git marks the file conflicted (DESIGN.md section 3).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_POLICY } from '../config/policy.js';
import { git } from '../git/run.js';
import { checkCoordinationFile } from '../store/check.js';
import { serializeDocument } from '../store/canonical.js';
import { writeFileAtomic } from '../store/files.js';
import { kindOfPath } from '../store/kinds.js';
import { mergeCoordinationFile, type CoordinationKind } from './merge-records.js';

export interface DriverResult {
  /** Lines for stderr: conflicts and notes. */
  messages: string[];
  /** 0 clean, 1 conflicts or unparseable input. */
  exitCode: number;
}

type Obj = Record<string, unknown>;

async function parseSide(file: string, p: string, allowEmpty: boolean): Promise<{ value: unknown; error?: string }> {
  const bytes = await readFile(p).catch(() => null);
  if (bytes === null || (allowEmpty && bytes.length === 0)) return { value: null };
  const r = checkCoordinationFile(file, bytes, { builders: null, policy: { ...DEFAULT_POLICY }, now: Date.now() });
  if (r.value === undefined) return { value: null, error: r.issues.map((i) => `${i.pointer || '/'}: ${i.reason}`).join('; ') };
  return { value: r.value };
}

function mergeArchive(ours: Obj, theirs: Obj): Obj {
  const records = [...((ours.records as Obj[] | undefined) ?? [])];
  const ids = new Set(records.map((r) => String(r.id)));
  for (const r of (theirs.records as Obj[] | undefined) ?? []) if (!ids.has(String(r.id))) records.push(r);
  return { ...ours, records };
}

/**
 * Merges the three versions and writes the result over `oursPath`.
 * @param file the repository path (%P), which decides the kind
 */
export async function runMergeDriver(basePath: string, oursPath: string, theirsPath: string, file: string): Promise<DriverResult> {
  const kind = kindOfPath(file);
  if (!kind) return { messages: [`coord merge-driver: ${file} is not a coordination file; leaving it to git`], exitCode: 1 };
  const base = await parseSide(file, basePath, true);
  const ours = await parseSide(file, oursPath, false);
  const theirs = await parseSide(file, theirsPath, false);
  const bad = [['ours', ours], ['theirs', theirs]].filter(([, s]) => (s as { error?: string }).error || (s as { value: unknown }).value === null);
  if (bad.length) {
    return { messages: bad.map(([n, s]) => `coord merge-driver: ${file} (${n as string}) cannot be read: ${(s as { error?: string }).error ?? 'missing'}; resolve by hand, then coord validate`), exitCode: 1 };
  }
  let merged: unknown;
  const messages: string[] = [];
  let exitCode = 0;
  if (kind === 'archive') {
    merged = mergeArchive(ours.value as Obj, theirs.value as Obj);
  } else if (['jobs', 'messages', 'locks', 'schedules'].includes(kind)) {
    const r = mergeCoordinationFile(kind as CoordinationKind, base.value, ours.value, theirs.value);
    merged = r.merged;
    for (const n of r.notes) messages.push(`coord merge-driver: ${file}: note: ${n.pointer}: ${n.reason}`);
    for (const c of r.conflicts) messages.push(`coord merge-driver: ${file}: conflict: ${c.pointer}: ${c.reason}`);
    if (r.conflicts.length) exitCode = 1;
  } else {
    return { messages: [`coord merge-driver: ${file}: no record merge for ${kind} files; resolve by hand`], exitCode: 1 };
  }
  await writeFileAtomic(path.dirname(oursPath), path.basename(oursPath), serializeDocument(kind, merged));
  return { messages, exitCode };
}

/** Registers the driver in the clone's local git config (`merge.coord-json.*`). */
export async function installMergeDriver(repoRoot: string, coordBinPath: string): Promise<string> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const driver = `${q(process.execPath)} ${q(coordBinPath)} merge-driver run %O %A %B %P`;
  await git(repoRoot, ['config', 'merge.coord-json.name', 'build-coord record merge of coordination JSON']);
  await git(repoRoot, ['config', 'merge.coord-json.driver', driver]);
  return driver;
}
