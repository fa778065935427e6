/**
 * `coord migrate [--dry-run] [--remove-derived] [--add-builders] [--trust-senders]`:
 * rewrites legacy shapes (DESIGN.md section 1) to the canonical form, and recognises a
 * repository in the upstream toolkit's layout as a whole (issue 11, MIGRATION.md):
 *
 * - derived files the old scripts committed (`coordination/message_stats.json`,
 *   `coordination/unread_messages_status.json`, `MESSAGES_ALL.txt`, `MESSAGES_STATUS.md`)
 *   are reported, and removed in the same commit with `--remove-derived`;
 * - heartbeat branches on the remote (`heartbeat/build1`, …) are reported, and deleted on
 *   the remote with `--remove-derived` (the one change made outside the commit);
 * - builders the data mentions but `shared/build_config.json` does not (`build3/`, a job
 *   held by `build4`) are reported and added with `--add-builders`; non-builder senders
 *   (`architect`) are reported and added to `trust.senders` with `--trust-senders`;
 * - a builder's `status.json`/`heartbeat.json` in a shape that cannot be normalised (the
 *   old `server_id`/`status`/`last_update`) is obsolete: its builder's next heartbeat
 *   rewrites it; reported, and removed in the commit with `--remove-derived`;
 * - a committed `.build_server_id` (every new clone would be that builder) is reported, and
 *   untracked in the commit with `--remove-derived` (the file itself stays);
 * - in a git clone, missing `.gitattributes` merge-driver lines and the `.gitignore` line
 *   for `.build_server_id` (what `coord init` writes) are added in the commit;
 * - jobs left `running` are listed (a daemon requeues them once their holder's lease and
 *   heartbeat have stood still for the lease time).
 *
 * All or nothing: when any problem remains (judged against the build config as it will be
 * after the additions), nothing is written; each problem names the flag that fixes it, or
 * none when it must be fixed by hand. A dry run reports everything (problems included),
 * shows the diff of each file it would rewrite, and changes nothing. Running it twice changes nothing the
 * second time (normalization is deterministic).
 */
import { createTwoFilesPatch } from 'diff';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CoordError, type Issue } from '../errors.js';
import { git } from '../git/run.js';
import { fetchBranch, resolveCommit, trackingRef } from '../git/repo.js';
import {
  builderEntryFrom, DERIVED_FILES, extendBuildConfig, findNames, heartbeatBranches, type ObsoleteItem,
} from '../migration/legacy-layout.js';
import { deleteRemoteBranch, listRemoteBranches } from '../migration/heartbeat-branches.js';
import { checkCoordinationFile } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { readRepoFile, writeFileAtomic } from '../store/files.js';
import { kindOfPath, PATHS, statusPath } from '../store/kinds.js';
import { parseCoordinationBytes } from '../store/parse.js';
import { GITATTRIBUTES_LINES, GITIGNORE_LINE, machineArch } from './init.js';
import { listCoordinationFiles } from './validate.js';

export interface MigrateChange {
  file: string;
  /** Legacy shapes found in the file (and for the build config, what was added). */
  legacy: string[];
  /** Unified diff, old → canonical. */
  diff: string;
}

/** An old-layout file or branch, and what happened to it. */
export interface ObsoleteReport extends ObsoleteItem {
  /** `kept` (no --remove-derived), `removed`, `would remove` (dry run), `failed` (branch delete refused). */
  action: 'kept' | 'removed' | 'would remove' | 'failed';
  /** Why a branch delete failed. */
  error?: string;
}

/** Builders and other names the data mentions. */
export interface NamesReport {
  /** Builders in shared/build_config.json before the migration. */
  configured: string[];
  /** Builders the data mentions (folders, jobs, messages, locks). */
  found: string[];
  /** Found but not configured. */
  unknown: string[];
  /** Added to the build config (`--add-builders`; for a dry run: would be added). */
  added: string[];
  /** Message senders that are not builders (people, agents). */
  senders: string[];
  /** Of `senders`, those not in `trust.senders` before the migration. */
  untrusted: string[];
  /** Added to `trust.senders` (`--trust-senders`; for a dry run: would be added). */
  trusted_added: string[];
  /** Message recipients that are neither builders nor `all` (reported only). */
  recipients: string[];
}

/** A job found `running`. */
export interface RunningJobReport {
  id: string;
  assigned_to: string | null;
  started_at: string | null;
  lease_expires_at: string | null;
}

/** Something that stops the migration, and the flag that fixes it (null: fix it by hand). */
export interface MigrateProblem extends Issue {
  fix: '--add-builders' | '--trust-senders' | '--remove-derived' | null;
}

export interface MigrateResult {
  changes: MigrateChange[];
  /** Derived files and heartbeat branches of the old layout. */
  derived: ObsoleteReport[];
  /** Whether the remote's branches could be listed (null reason when they were). */
  heartbeat_branches_checked: boolean;
  heartbeat_branches_reason: string | null;
  names: NamesReport;
  running_jobs: RunningJobReport[];
  /** What stops the migration with the flags given (only a dry run returns any; a real run throws). */
  problems: MigrateProblem[];
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
  /** Remove the old derived files (in the commit) and heartbeat branches (on the remote). Default false. */
  removeDerived?: boolean;
  /** Add builders found in the data to shared/build_config.json. Default false. */
  addBuilders?: boolean;
  /** Add non-builder message senders to trust.senders. Default false. */
  trustSenders?: boolean;
  /** The remote whose heartbeat branches are checked. Default `origin`. */
  remote?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a coordination file leniently for the survey (null when absent or unparseable). */
async function surveyDoc(repoRoot: string, rel: string): Promise<unknown> {
  const bytes = await readRepoFile(repoRoot, rel).catch(() => null);
  if (!bytes) return null;
  const p = parseCoordinationBytes(rel, bytes);
  return p.ok ? p.value : null;
}

/** The build config bytes after `--add-builders`/`--trust-senders` (null: unchanged). */
async function extendedConfig(opts: MigrateOptions, cfgBytes: Buffer | null, unknown: string[], senders: string[]): Promise<{ bytes: Buffer; added: string[]; trusted: string[] } | null> {
  if (!cfgBytes || (!(opts.addBuilders && unknown.length) && !(opts.trustSenders && senders.length))) return null;
  const parsed = parseCoordinationBytes(PATHS.buildConfig, cfgBytes);
  if (!parsed.ok || !isObj(parsed.value)) return null;
  const config = parsed.value;
  const add = opts.addBuilders ? unknown : [];
  const statuses = new Map<string, unknown>();
  for (const b of add) statuses.set(b, await surveyDoc(opts.repoRoot, statusPath(b)));
  const next = extendBuildConfig(config, add, opts.trustSenders ? senders : [], (b) => builderEntryFrom(statuses.get(b), config, machineArch()));
  if (next === config) return null;
  const before = isObj(config.trust) && Array.isArray(config.trust.senders) ? config.trust.senders : [];
  const after = isObj(next.trust) && Array.isArray(next.trust.senders) ? (next.trust.senders as string[]) : [];
  return { bytes: Buffer.from(JSON.stringify(next, null, 2) + '\n'), added: add, trusted: after.filter((s) => !before.includes(s)) };
}

/** Which of `paths` git tracks in `repoRoot`. */
async function trackedPaths(repoRoot: string, paths: string[]): Promise<string[]> {
  if (!paths.length) return [];
  const r = await git(repoRoot, ['ls-files', '-z', '--', ...paths]);
  return r.stdout.split('\0').filter(Boolean);
}

/**
 * Fetches the remote's `main` and refuses when this clone lacks commits it has: the
 * migration (and its dry-run report) would judge a stale working tree, and the commit would
 * not fast-forward. A clone without that remote, or a remote that cannot be fetched, is
 * migrated as it is (returned as a warning).
 * @throws CoordError E_CONTENTION (exit 4) when HEAD is behind or has diverged; nothing changed
 */
async function requireUpToDate(repoRoot: string, remote: string): Promise<Issue[]> {
  if ((await git(repoRoot, ['remote', 'get-url', remote], { allowFailure: true })).exitCode !== 0) return [];
  const spec = { remote, branch: 'main' };
  const fail = await fetchBranch(repoRoot, spec);
  if (fail) return [{ file: `${remote}/main`, pointer: '', reason: `could not fetch (${fail.stderr.trim().split('\n')[0] ?? 'unreachable'}); migrated this clone as it is, which may be behind`, severity: 'warning' }];
  const upstream = await resolveCommit(repoRoot, trackingRef(spec));
  const head = await resolveCommit(repoRoot, 'HEAD');
  if (!upstream || !head || upstream === head) return [];
  if ((await git(repoRoot, ['merge-base', '--is-ancestor', upstream, head], { allowFailure: true })).exitCode === 0) return [];
  const behind = (await git(repoRoot, ['merge-base', '--is-ancestor', head, upstream], { allowFailure: true })).exitCode === 0;
  throw new CoordError('E_CONTENTION', behind
    ? `your clone is behind the remote's main (${remote}/main has commits HEAD lacks): run coord sync first, then coord migrate again; nothing was changed`
    : `your clone and ${remote}/main have diverged: run git pull (or coord sync), then coord migrate again; nothing was changed`, { details: { head, upstream } });
}

/** A builder-owned file of the old layout that its builder's next heartbeat rewrites. */
function obsoleteOwnFile(rel: string): ObsoleteItem {
  const b = rel.split('/')[0];
  return { path: rel, kind: 'file', status: 'obsolete', replaced_by: `${b}'s next heartbeat rewrites it (coord heartbeat / the daemon)` };
}

/** `.build_server_id` committed to the repository. */
const TRACKED_IDENTITY: ObsoleteItem = {
  path: '.build_server_id', kind: 'file', status: 'obsolete',
  replaced_by: 'a machine-local file, never committed (.gitignore lists it): scripts/setup_build.sh N writes it on each builder',
};

/** `current` with `lines` appended (those it lacks), or null when it has them all. */
function withLines(current: string, lines: readonly string[], has: (l: string) => boolean): string | null {
  const missing = lines.filter((l) => !has(l));
  if (!missing.length) return null;
  return (current && !current.endsWith('\n') ? current + '\n' : current) + missing.join('\n') + '\n';
}

/**
 * Plans and (unless a dry run) applies the migration, after checking the clone is not
 * behind the remote's main (a dry run too: it would show a stale diff).
 * @throws CoordError E_INVALID (with every problem, each naming the flag that fixes it) when something stops the migration; nothing is written then. A dry run returns the problems instead.
 * @throws CoordError E_CONTENTION when the clone is behind or has diverged from the remote's main
 */
export async function migrateRepository(opts: MigrateOptions): Promise<MigrateResult> {
  const { repoRoot } = opts;
  const remote = opts.remote ?? 'origin';
  const inGit = existsSync(path.join(repoRoot, '.git'));
  const fetchWarnings = inGit ? await requireUpToDate(repoRoot, remote) : [];
  const files = await listCoordinationFiles(repoRoot);
  const cfgBytes = await readRepoFile(repoRoot, PATHS.buildConfig).catch(() => null);
  const ctx0 = contextFromConfigBytes(cfgBytes, opts.now);

  // Survey: who the data mentions, before anything is judged against the configuration.
  const dirs = (await fs.readdir(repoRoot, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
  const names = findNames(dirs, {
    jobs: await surveyDoc(repoRoot, PATHS.jobs), messages: await surveyDoc(repoRoot, PATHS.messages), locks: await surveyDoc(repoRoot, PATHS.locks),
  });
  const configured = [...(ctx0.builders ?? [])];
  const unknown = names.builders.filter((b) => !configured.includes(b));
  const trustedNow = ctx0.config?.trust?.senders ?? [];
  const untrusted = names.senders.filter((s) => !trustedNow.includes(s));
  const ext = await extendedConfig(opts, cfgBytes, unknown, untrusted);
  const newCfgBytes = ext?.bytes ?? cfgBytes;
  const ctx = contextFromConfigBytes(newCfgBytes, opts.now);
  // The configuration with every flag given: a problem it does not have is fixed by a flag.
  const extAll = await extendedConfig({ ...opts, addBuilders: true, trustSenders: true }, cfgBytes, unknown, untrusted);
  const allCfgBytes = extAll?.bytes ?? newCfgBytes;
  const ctxAll = contextFromConfigBytes(allCfgBytes, opts.now);
  const missingBuilders = unknown.filter((b) => !(ext?.added ?? []).includes(b));
  const flagFix: MigrateProblem['fix'] = missingBuilders.length ? '--add-builders' : '--trust-senders';

  const remove = Boolean(opts.removeDerived);
  const act = (): ObsoleteReport['action'] => (!remove ? 'kept' : opts.dryRun ? 'would remove' : 'removed');
  const changes: (MigrateChange & { text: string })[] = [];
  const problems: MigrateProblem[] = [];
  const obsoleteOwn: ObsoleteReport[] = [];
  const warnings: Issue[] = [...fetchWarnings];
  let jobsValue: unknown = null;
  for (const rel of files) {
    let bytes: Buffer | null;
    try {
      bytes = rel === PATHS.buildConfig ? newCfgBytes : await readRepoFile(repoRoot, rel);
    } catch (err) {
      if (err instanceof CoordError) { problems.push(...err.issues.map((i) => ({ ...i, fix: null }))); continue; }
      throw err;
    }
    if (!bytes) continue;
    const r = checkCoordinationFile(rel, bytes, ctx);
    const errs = r.issues.filter((i) => i.severity === 'error');
    warnings.push(...r.issues.filter((i) => i.severity === 'warning'));
    if (!r.ok && (kindOfPath(rel) === 'status' || kindOfPath(rel) === 'heartbeat')) {
      // Derived from its builder's daemon: obsolete rather than a hand fix.
      obsoleteOwn.push({ ...obsoleteOwnFile(rel), action: act() });
      if (!remove) {
        problems.push({
          file: rel, pointer: '', severity: 'error', fix: '--remove-derived',
          reason: `obsolete shape that cannot be normalised (${errs.length} problem(s), first: ${errs[0] ? `${errs[0].pointer || '/'}: ${errs[0].reason}` : 'invalid'}); ${rel.split('/')[0]}'s next heartbeat rewrites it`,
        });
      }
      continue;
    }
    if (!r.ok) {
      const rAll = rel === PATHS.buildConfig || allCfgBytes === newCfgBytes ? null : checkCoordinationFile(rel, bytes, ctxAll);
      problems.push(...errs.map((i) => ({ ...i, fix: rAll?.ok ? flagFix : null })));
      // Running jobs are reported from the queue as it would be with the flag.
      if (rel === PATHS.jobs && rAll?.ok) jobsValue = rAll.value;
    }
    if (!r.ok || r.canonical === undefined) continue;
    if (rel === PATHS.jobs) jobsValue = r.value;
    const old = (await readRepoFile(repoRoot, rel))?.toString('utf8') ?? '';
    const legacy = [...r.legacy];
    if (rel === PATHS.buildConfig && ext) {
      if (ext.added.length) legacy.push(`builders added: ${ext.added.join(', ')}`);
      if (ext.trusted.length) legacy.push(`trusted senders added: ${ext.trusted.join(', ')}`);
    }
    if (old !== r.canonical) {
      changes.push({ file: rel, legacy, text: r.canonical, diff: createTwoFilesPatch(`a/${rel}`, `b/${rel}`, old, r.canonical, '', '', { context: 2 }) });
    }
  }

  // In a git clone: what `coord init` sets up and the old layout lacked.
  if (inGit) {
    const setupFiles: [string, string | null, string][] = [];
    const ga = (await fs.readFile(path.join(repoRoot, '.gitattributes'), 'utf8').catch(() => ''));
    setupFiles.push(['.gitattributes', ga, 'merge driver lines added (coordination JSON merges through coord)']);
    const gi = (await fs.readFile(path.join(repoRoot, '.gitignore'), 'utf8').catch(() => ''));
    setupFiles.push(['.gitignore', gi, '.build_server_id added (a machine-local identity, never committed)']);
    for (const [file, current, note] of setupFiles) {
      const cur = current ?? '';
      const lines = cur.split('\n').map((l) => l.trim());
      const next = file === '.gitattributes'
        ? withLines(cur, GITATTRIBUTES_LINES, (l) => lines.includes(l))
        : withLines(cur, [GITIGNORE_LINE], (l) => lines.includes(l) || lines.includes(`/${l}`));
      if (next !== null) changes.push({ file, legacy: [note], text: next, diff: createTwoFilesPatch(`a/${file}`, `b/${file}`, cur, next, '', '', { context: 2 }) });
    }
  }
  const identityTracked = inGit && (await trackedPaths(repoRoot, [TRACKED_IDENTITY.path])).length > 0;

  // Old derived files and heartbeat branches.
  const derived: ObsoleteReport[] = [];
  for (const d of DERIVED_FILES) if (existsSync(path.join(repoRoot, d.path))) derived.push({ ...d, action: act() });
  derived.push(...obsoleteOwn);
  if (identityTracked) derived.push({ ...TRACKED_IDENTITY, action: act() });
  const listing = inGit ? await listRemoteBranches(repoRoot, remote) : { ok: false as const, reason: 'not a git repository' };
  const branches = listing.ok ? heartbeatBranches(listing.branches).map((b): ObsoleteReport => ({ ...b, action: act() })) : [];

  const running = ((isObj(jobsValue) && Array.isArray(jobsValue.jobs) ? jobsValue.jobs : []) as Obj[])
    .filter((j) => j.status === 'running')
    .map((j) => ({ id: String(j.id), assigned_to: (j.assigned_to as string | null) ?? null, started_at: (j.started_at as string | null) ?? null, lease_expires_at: (j.lease_expires_at as string | null) ?? null }));

  const result = (commit: string | null): MigrateResult => ({
    changes: changes.map(({ text: _t, ...c }) => c),
    derived: [...derived, ...branches],
    heartbeat_branches_checked: listing.ok,
    heartbeat_branches_reason: listing.ok ? null : listing.reason,
    names: {
      configured, found: names.builders, unknown, added: ext?.added ?? [], senders: names.senders, untrusted,
      trusted_added: ext?.trusted ?? [], recipients: names.recipients,
    },
    running_jobs: running,
    problems,
    commit,
    warnings,
  });
  if (opts.dryRun) return result(null);
  if (problems.length) {
    const hand = problems.filter((p) => p.fix === null).length;
    const byFlag = (['--add-builders', '--trust-senders', '--remove-derived'] as const)
      .map((f) => [f, problems.filter((p) => p.fix === f).length] as const).filter(([, n]) => n > 0);
    const parts = [...byFlag.map(([f, n]) => `${n} fixed by coord migrate ${f}`), ...(hand ? [`${hand} must be fixed by hand first`] : [])];
    const hint = missingBuilders.length ? `; the data names builder(s) not in ${PATHS.buildConfig}: ${missingBuilders.join(', ')} (coord migrate --add-builders adds them)` : '';
    throw new CoordError('E_INVALID', `cannot migrate: ${problems.length} problem(s): ${parts.join(', ')}${hint}; nothing was written`, {
      issues: problems.map(({ fix, ...i }) => ({ ...i, reason: fix ? `${i.reason} (${fix} fixes it)` : i.reason })),
      details: { unknown_builders: missingBuilders, fixes: problems.map((p) => p.fix) },
    });
  }

  const removedFiles = remove ? [...derived.filter((d) => DERIVED_FILES.some((f) => f.path === d.path)).map((d) => d.path), ...obsoleteOwn.map((d) => d.path)] : [];
  const untrack = remove && identityTracked ? [TRACKED_IDENTITY.path] : [];
  let commit: string | null = null;
  if (changes.length || removedFiles.length || untrack.length) {
    for (const c of changes) await writeFileAtomic(repoRoot, c.file, c.text);
    const tracked = inGit ? await trackedPaths(repoRoot, removedFiles) : [];
    if (tracked.length) await git(repoRoot, ['rm', '-q', '--cached', '--', ...tracked]);
    for (const f of removedFiles) await fs.rm(path.join(repoRoot, f), { force: true });
    if (inGit) {
      const paths = changes.map((c) => c.file);
      if (paths.length) await git(repoRoot, ['add', '--', ...paths]);
      const lines = [
        ...changes.map((c) => `- ${c.file}: ${c.legacy.join('; ') || 'formatting'}`),
        ...tracked.map((f) => `- ${f}: removed (${kindOfPath(f) ? 'obsolete; its builder\'s next heartbeat rewrites it' : 'derived by coord on demand now'})`),
        ...untrack.map((f) => `- ${f}: no longer tracked (machine-local; each clone keeps its own)`),
      ];
      const removedCount = tracked.length + untrack.length;
      const msg = `coord(${opts.actor ?? 'migrate'}): migrate ${paths.length} file(s) to the canonical form${removedCount ? `, remove ${removedCount} obsolete file(s)` : ''}\n\n` +
        lines.join('\n') + '\n\nCoord-Action: migrate\n';
      if (paths.length || removedCount) {
        // A path given to `git commit --` is taken from the working tree: the machine-local
        // .build_server_id is moved aside so that the commit records its removal, then put back.
        const aside = untrack.length ? path.join(repoRoot, '.git', 'coord-migrate-build_server_id') : null;
        if (aside) await fs.rename(path.join(repoRoot, TRACKED_IDENTITY.path), aside).catch(() => undefined);
        try {
          await git(repoRoot, ['commit', '--no-verify', '-q', '-m', msg, '--', ...paths, ...tracked, ...untrack]);
        } finally {
          if (aside && existsSync(aside)) await fs.rename(aside, path.join(repoRoot, TRACKED_IDENTITY.path));
        }
        commit = (await git(repoRoot, ['rev-parse', 'HEAD'])).stdout.trim();
      }
    }
  }
  // Heartbeat branches live only on the remote: deleting them is the one change outside the commit.
  if (remove) {
    for (const b of branches) {
      const err = await deleteRemoteBranch(repoRoot, remote, b.path);
      if (err) { b.action = 'failed'; b.error = err; }
    }
  }
  return result(commit);
}
