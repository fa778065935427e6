/**
 * `coord init [--builders N]`: the coordination tree for N builders in any folder (a git
 * repository in practice), valid from the first commit. Existing files are kept; missing
 * ones are created; builders missing from an existing build config are added.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { SCHEMA_DIR, schemaFileOf } from '../schemas/registry.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import { checkCoordinationFile } from '../store/check.js';
import { serializeDocument } from '../store/canonical.js';
import { readRepoFile, writeFileAtomic } from '../store/files.js';
import { heartbeatPath, kindOfPath, PATHS, schemaRefFor, statusPath } from '../store/kinds.js';
import { formatTimestamp } from '../util/time.js';
import { GITHUB_WORKFLOW_PATH, githubWorkflow, type CiKind } from './ci-workflow.js';

export interface InitOptions {
  root: string;
  builders: number;
  now: number;
  /** Also add a CI workflow running `coord validate` (lib/commands/ci-workflow.ts); kept when present. */
  ci?: CiKind | null;
}

export interface InitResult {
  created: string[];
  kept: string[];
  updated: string[];
}

/** The `.gitignore` line `coord init` ensures: the machine-local builder identity file. */
export const GITIGNORE_LINE = '.build_server_id';

/** `.gitattributes` lines that route coordination JSON through the merge driver. */
export const GITATTRIBUTES_LINES = [
  'coordination/*.json merge=coord-json',
  'coordination/archive/*.json merge=coord-json',
];

/** Machine architecture in the names build farms use (x86_64, aarch64). */
export function machineArch(): string {
  const a = os.arch();
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a;
}

function doc(rel: string, body: Record<string, unknown>): string {
  const kind = kindOfPath(rel)!;
  return serializeDocument(kind, { $schema: schemaRefFor(rel, schemaFileOf(kind)), ...body });
}

function builderConfig(): NonNullable<BuildConfigFile['builders']>[string] {
  return { arch: machineArch(), labels: [], max_concurrent_jobs: 1, max_cpu_percent: 90, max_memory_percent: 90 };
}

/** Creates what is missing. @throws CoordError E_USAGE for N outside 1..999, E_INVALID when an existing build config is invalid */
export async function initRepository(opts: InitOptions): Promise<InitResult> {
  if (!Number.isInteger(opts.builders) || opts.builders < 1 || opts.builders > 999) {
    throw new CoordError('E_USAGE', `--builders ${opts.builders}: give a whole number from 1 to 999`);
  }
  const { root } = opts;
  const res: InitResult = { created: [], kept: [], updated: [] };
  const ts = formatTimestamp(opts.now);
  const names = Array.from({ length: opts.builders }, (_, i) => `build${i + 1}`);
  const write = async (rel: string, text: string) => {
    if (existsSync(path.join(root, rel))) { res.kept.push(rel); return; }
    await writeFileAtomic(root, rel, text);
    res.created.push(rel);
  };

  // shared/build_config.json: create, or add missing builders to a valid existing one.
  const existing = await readRepoFile(root, PATHS.buildConfig).catch(() => null);
  if (existing) {
    const r = checkCoordinationFile(PATHS.buildConfig, existing, { builders: null, policy: { ...DEFAULT_POLICY }, now: opts.now });
    if (!r.ok) throw new CoordError('E_INVALID', `${PATHS.buildConfig} is invalid; fix it first (coord validate)`, { issues: r.issues });
    const cfg = r.value as BuildConfigFile;
    const missing = names.filter((n) => !(n in cfg.builders));
    if (missing.length) {
      for (const n of missing) cfg.builders[n] = builderConfig();
      await writeFileAtomic(root, PATHS.buildConfig, serializeDocument('build_config', cfg));
      res.updated.push(PATHS.buildConfig);
    } else res.kept.push(PATHS.buildConfig);
  } else {
    const cfg: BuildConfigFile = {
      $schema: schemaRefFor(PATHS.buildConfig, 'build_config.schema.json'),
      builders: Object.fromEntries(names.map((n) => [n, builderConfig()])),
      job_types: {
        noop: { command: ['true'], timeout_s: 60, description: 'does nothing; for smoke tests' },
      },
      policy: { ...DEFAULT_POLICY },
      trust: { senders: [] },
    };
    await writeFileAtomic(root, PATHS.buildConfig, serializeDocument('build_config', cfg));
    res.created.push(PATHS.buildConfig);
  }

  await write(PATHS.jobs, doc(PATHS.jobs, { paused: null, grounded: {}, jobs: [] }));
  await write(PATHS.locks, doc(PATHS.locks, { locks: {} }));
  await write(PATHS.messages, doc(PATHS.messages, { messages: [] }));
  await write(PATHS.schedules, doc(PATHS.schedules, { schedules: [] }));
  await write(PATHS.artifacts, doc(PATHS.artifacts, { artifacts: [] }));
  await write(PATHS.healthDashboard, doc(PATHS.healthDashboard, { generated_at: ts, builders: {}, queue: {}, locks_held: 0, unread_messages: 0 }));
  await write('coordination/archive/.gitkeep', '');
  for (const b of names) {
    await write(statusPath(b), doc(statusPath(b), {
      builder: b, state: 'offline', updated_at: ts, current_job: null, running_jobs: [], last_build: null,
      grounded: null, degraded: null, consecutive_failures: 0,
      capabilities: { arch: machineArch(), labels: [] }, daemon: null,
    }));
    await write(heartbeatPath(b), doc(heartbeatPath(b), { builder: b, timestamp: ts, sequence: 0, state: 'offline', current_job: null, interval_s: DEFAULT_POLICY.heartbeat_interval_s }));
    await write(`${b}/logs/.gitkeep`, '');
  }

  // Schemas beside the data, so editors validate hand edits through "$schema".
  mkdirSync(path.join(root, 'schemas'), { recursive: true });
  for (const f of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.schema.json'))) {
    const dest = path.join(root, 'schemas', f);
    if (path.resolve(dest) === path.resolve(SCHEMA_DIR, f)) { res.kept.push(`schemas/${f}`); continue; }
    if (existsSync(dest)) { res.kept.push(`schemas/${f}`); continue; }
    copyFileSync(path.join(SCHEMA_DIR, f), dest);
    res.created.push(`schemas/${f}`);
  }

  // .gitattributes: add our merge-driver lines if missing.
  const gaPath = path.join(root, '.gitattributes');
  const current = existsSync(gaPath) ? await readFile(gaPath, 'utf8') : '';
  const missingLines = GITATTRIBUTES_LINES.filter((l) => !current.split('\n').includes(l));
  if (missingLines.length) {
    const text = (current && !current.endsWith('\n') ? current + '\n' : current) + missingLines.join('\n') + '\n';
    await writeFileAtomic(root, '.gitattributes', text);
    (current ? res.updated : res.created).push('.gitattributes');
  } else res.kept.push('.gitattributes');
  // .gitignore: a builder's identity file is machine-local (written by hand or by setup).
  const giPath = path.join(root, '.gitignore');
  const gi = existsSync(giPath) ? await readFile(giPath, 'utf8') : '';
  if (!gi.split('\n').some((l) => l.trim() === GITIGNORE_LINE || l.trim() === `/${GITIGNORE_LINE}`)) {
    await writeFileAtomic(root, '.gitignore', (gi && !gi.endsWith('\n') ? gi + '\n' : gi) + GITIGNORE_LINE + '\n');
    (gi ? res.updated : res.created).push('.gitignore');
  } else res.kept.push('.gitignore');
  if (opts.ci === 'github') await write(GITHUB_WORKFLOW_PATH, githubWorkflow());
  return res;
}
