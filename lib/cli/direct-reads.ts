/**
 * The command-line edge of the direct reads over ssh (DESIGN.md section 8), kept apart from
 * the commands that call it: `coord status` shows the direct view beside the git view
 * (with `--direct`, or by itself when main could not be fetched or a builder's heartbeat
 * is stale), and `coord jobs logs ID --direct` / `--follow` reads the live log on the
 * builder that runs the job.
 */
import { CoordError, isCoordError } from '../errors.js';
import type { FleetStatus } from '../ops/fleet-status.js';
import { findJobs, logBuilderOf } from '../ops/job-find.js';
import { readSnapshot, requireValid } from '../ops/snapshot.js';
import { buildersWithSsh, describeDirectView, directViews, gitViewLabel, wantsDirectRead, type DirectView } from '../ssh/direct-views.js';
import { followPeerLog, readPeerLog } from '../ssh/peer-log.js';
import { readSharedFiles } from '../ssh/shared-files.js';
import { PATHS } from '../store/kinds.js';
import type { CommandContext } from './context.js';
import { colour, printJson } from './io.js';
import { warn } from './ops-edge.js';

/** A direct view with the git view's label beside it (what `coord status` shows). */
export type StatusDirectView = DirectView & { git_label: string };

/**
 * The direct views `coord status` shows: every builder with ssh settings under `--direct`,
 * else those whose git view is behind (main not fetched, heartbeat stale or offline).
 * Never throws for a peer: a failed read is a view with its error.
 * @returns [] when no builder needs (or can have) a direct read
 */
export async function statusDirectViews(ctx: CommandContext, s: Pick<FleetStatus, 'builders'> & { fresh: boolean }, direct: boolean): Promise<StatusDirectView[]> {
  let withSsh: string[];
  let config;
  try {
    config = (await readSharedFiles(ctx.repoRoot(), [], ctx.clock.now())).config;
    withSsh = buildersWithSsh(config);
  } catch (err) {
    if (direct) throw err;
    return [];
  }
  const git = new Map(s.builders.map((b) => [b.builder, b]));
  const names = withSsh.filter((b) => wantsDirectRead({ direct, fetchFresh: s.fresh, health: git.get(b)?.health ?? 'offline', hasSsh: true, cleanShutdown: git.get(b)?.state === 'offline' }));
  if (direct && !withSsh.length) throw new CoordError('E_USAGE', 'no builder has ssh settings in shared/build_config.json (builders.<id>.ssh: host, repo_path; DESIGN.md section 8)');
  const views = await directViews(ctx.repoRoot(), names, { env: ctx.io.env, clock: ctx.clock, config });
  return views.map((v) => ({ ...v, git_label: gitViewLabel(git.get(v.builder)?.heartbeat.age_s ?? null) }));
}

/** Human lines for the direct views, under the status table. */
export function renderDirectViews(views: readonly StatusDirectView[], gitOf: (builder: string) => { health: string; state: string | null; reason: string | null } | undefined): string[] {
  if (!views.length) return [];
  const out = ['', colour.bold('Direct reads over ssh:')];
  for (const v of views) {
    const g = gitOf(v.builder);
    out.push(`  ${v.builder}  ${v.git_label}: ${g ? `${g.health}${g.state && g.state !== g.health ? `, ${g.state}` : ''}${g.reason ? ` (${g.reason})` : ''}` : 'not in git'}`);
    const line = `  ${' '.repeat(v.builder.length)}  ${describeDirectView(v)}`;
    out.push(v.ok ? line : colour.red(line));
  }
  return out;
}

/**
 * Sets the exit code when `--direct` was asked for and a read failed (6 for ssh failures):
 * the status is still printed, git view first.
 */
export function directExitCode(views: readonly StatusDirectView[], direct: boolean): void {
  const failed = views.find((v) => !v.ok);
  if (direct && failed && !failed.ok) process.exitCode = failed.error.exit_code;
}

export interface DirectLogOptions {
  follow: boolean;
  intervalMs: number;
  /**
   * true: `--direct` given (ssh or fail). false: ssh only when the job's builder has ssh
   * settings and git is not enough — `--follow` of a running job, or main could not be
   * fetched — else the caller shows git's committed log.
   */
  explicit: boolean;
}

/**
 * `coord jobs logs ID` read from the builder over ssh.
 * @returns false when the caller should show the committed log from git instead (only when
 *   not `explicit`: git is enough, the builder has no ssh settings, or the first read
 *   failed — then a warning says why)
 */
export async function directJobLogs(ctx: CommandContext, id: string, o: DirectLogOptions): Promise<boolean> {
  const repoRoot = ctx.repoRoot();
  const s = await readSnapshot(repoRoot, [PATHS.jobs], { now: ctx.clock.now() });
  requireValid(s, [PATHS.jobs]);
  const { job } = (await findJobs(repoRoot, s, [id], ctx.clock.now())).get(id)!;
  const builder = logBuilderOf(job);
  const gitIsNotEnough = !s.fresh || (o.follow && job.status === 'running');
  if (!o.explicit && (!gitIsNotEnough || !builder || !s.config?.builders?.[builder]?.ssh)) return false;
  if (!builder) throw new CoordError('E_NOT_FOUND', `job ${id} has not run on any builder yet (${job.status}); there is no log to read`);
  warn(ctx, s.warnings);
  const base = { env: ctx.io.env, clock: ctx.clock, ...(s.config ? { config: s.config } : {}) };
  const fallBack = (err: unknown): false => {
    if (o.explicit || !isCoordError(err)) throw err;
    warn(ctx, [`live log of ${id} on ${builder} not readable over ssh (${err.message}); showing the committed log in git instead`]);
    return false;
  };
  if (!o.follow) {
    let log;
    try { log = await readPeerLog(repoRoot, builder, id, base); } catch (err) { return fallBack(err); }
    if (ctx.json) {
      printJson(ctx.io, { ok: true, job_id: id, status: job.status, builder, source: 'ssh', size: log.size, skipped: log.skipped, log: log.text });
      return true;
    }
    if (log.skipped) ctx.io.stderr(`[… ${log.skipped} earlier bytes on ${builder} not shown …]\n`);
    ctx.io.stdout(log.text);
    return true;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  let printed = 0;
  const collected: string[] = [];
  let lastGitCheck = ctx.clock.now();
  const attempt = job.attempt;
  try {
    const r = await followPeerLog(repoRoot, builder, id, (text) => {
      printed += text.length;
      if (ctx.json) collected.push(text); else ctx.io.stdout(text);
    }, async (st) => {
      if (st.endMarkerSeen) return true;
      // Now and then ask git whether the attempt is over (killed runners write no end line).
      if (ctx.clock.now() - lastGitCheck < Math.max(5000, o.intervalMs)) return false;
      lastGitCheck = ctx.clock.now();
      try {
        const s2 = await readSnapshot(repoRoot, [PATHS.jobs], { now: ctx.clock.now() });
        if (!s2.fresh) return false;
        const j = (await findJobs(repoRoot, s2, [id], ctx.clock.now())).get(id)!.job;
        return j.status !== 'running' || j.attempt !== attempt || j.assigned_to !== builder;
      } catch {
        return false;
      }
    }, { ...base, pollMs: o.intervalMs, signal: abort.signal, onNotice: (l) => ctx.io.stderr(`${l}\n`) });
    if (ctx.json) printJson(ctx.io, { ok: true, job_id: id, builder, source: 'ssh', bytes: r.bytes, ended: r.ended, log: collected.join('') });
    else ctx.io.stderr(`${id}: ${r.ended === 'aborted' ? 'stopped following' : r.endMarkerSeen ? 'attempt ended on ' + builder : 'no longer running on ' + builder} (live log via ssh)\n`);
    return true;
  } catch (err) {
    if (printed > 0) throw err;
    return fallBack(err);
  } finally {
    process.off('SIGINT', onSignal);
  }
}
