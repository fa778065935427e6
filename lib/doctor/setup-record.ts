/**
 * What `scripts/setup_build.sh` installed, recorded in the clone's `.git/coord/setup.json`
 * (never committed: it describes this machine), so `coord doctor` looks where setup wrote —
 * under `--prefix`, in `--bin-dir` — and does not call a deliberately skipped part
 * (`--no-cron`, `--no-systemd`) a problem. Setup rewrites the file only when its content
 * changes. Unknown fields are ignored; a missing or unreadable file means "no record".
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { git } from '../git/run.js';

export interface SetupRecord {
  /** `build<N>`. */
  builder: string;
  /** The build-coord installation (holds bin/coord.js). */
  package_dir: string;
  /** The coordination clone. */
  repo: string;
  /** `--prefix`, or '' when system files went to `/`. */
  prefix: string;
  bin_dir: string;
  /** The user cron and the unit run as. */
  user: string;
  /** Absolute node the cron entry, the unit and the hooks call. */
  node: string;
  /** null: setup ran with `--no-cron`. */
  cron_file: string | null;
  /** null: setup ran with `--no-systemd`. */
  unit_file: string | null;
}

export const SETUP_RECORD_FILE = 'setup.json';

/** The clone's `.git/coord` folder, without creating it (doctor writes nothing there). */
export async function gitStateDir(repoRoot: string): Promise<string | null> {
  const r = await git(repoRoot, ['rev-parse', '--git-dir'], { allowFailure: true });
  return r.exitCode === 0 ? path.resolve(repoRoot, r.stdout.trim(), 'coord') : null;
}

/** @returns the record, or null when setup never ran on this clone (or the file is unreadable) */
export async function readSetupRecord(repoRoot: string): Promise<SetupRecord | null> {
  const dir = await gitStateDir(repoRoot);
  if (!dir) return null;
  try {
    const v = JSON.parse(await fs.readFile(path.join(dir, SETUP_RECORD_FILE), 'utf8')) as Partial<SetupRecord>;
    if (typeof v.builder !== 'string' || typeof v.prefix !== 'string') return null;
    const str = (x: unknown) => (typeof x === 'string' ? x : null);
    return {
      builder: v.builder, prefix: v.prefix, package_dir: str(v.package_dir) ?? '', repo: str(v.repo) ?? repoRoot,
      bin_dir: str(v.bin_dir) ?? path.join(v.prefix || '/', 'usr/local/bin'), user: str(v.user) ?? '', node: str(v.node) ?? '',
      cron_file: str(v.cron_file), unit_file: str(v.unit_file),
    };
  } catch {
    return null;
  }
}
