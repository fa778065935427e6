/**
 * Fleet-level operator commands (issue 6): `coord status [--watch]`, `history`,
 * `queue pause|resume|status`, `builder ground|unground|list`, `completion`; schedules are
 * in cmd-schedule.ts (registered from here).
 */
import type { Argv } from 'yargs';
import { normalizeBuilderId } from '../config/identity.js';
import { CoordError } from '../errors.js';
import { DEFAULT_REMOTE, fetchBranch, trackingRef } from '../git/repo.js';
import { collectFleetStatus, readFleet } from '../ops/fleet-read.js';
import { readHistory } from '../ops/history.js';
import { parseDurationFlag, parseSince, parseText, parseTimeInput, parseWholeNumber } from '../ops/input.js';
import { groundBuilderTx, pauseQueueTx, resumeQueueTx, ungroundBuilderTx } from '../ops/job-tx.js';
import { fleetStatus, queueTotals } from '../ops/fleet-status.js';
import { jobsDoc, readSnapshot, requireValid } from '../ops/snapshot.js';
import { PATHS } from '../store/kinds.js';
import type { Run } from './cmd-files.js';
import { scheduleCommands } from './cmd-schedule.js';
import { completionScript, shellOf, type Shell } from './completion.js';
import type { CommandContext } from './context.js';
import { safeForTerminal, terminalSafe } from '../util/terminal-text.js';
import { colour, printJson, printLines } from './io.js';
import { argText, dur, operatorActor, renderTable, settle, warn } from './ops-edge.js';
import { pausedLine, renderHistory, renderStatus } from './render-ops.js';
import { directExitCode, renderDirectViews, statusDirectViews } from './direct-reads.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function builderArg(raw: unknown): string {
  const b = normalizeBuilderId(argText(raw));
  if (!b) throw new CoordError('E_USAGE', `${JSON.stringify(argText(raw))} is not a builder id (build<N> or N)`);
  return b;
}

async function showStatus(ctx: CommandContext, direct = false): Promise<void> {
  const s = await collectFleetStatus(ctx.repoRoot(), { now: ctx.clock.now() });
  // Direct reads over ssh (lib/cli/direct-reads.ts): with --direct, or when git is behind.
  const views = await statusDirectViews(ctx, s, direct);
  directExitCode(views, direct);
  if (ctx.json) return printJson(ctx.io, { ok: true, ...s, ...(views.length ? { direct: views } : {}) });
  warn(ctx, s.warnings);
  let me: string | null;
  try { me = ctx.maybeIdentity()?.builder ?? null; } catch { me = null; }
  printLines(ctx.io, renderStatus(s, me));
  const safeBuilders = terminalSafe(s.builders);
  printLines(ctx.io, renderDirectViews(terminalSafe(views), (b) => safeBuilders.find((x) => x.builder === b)));
}

export function opsCommands(y: Argv, run: Run): Argv {
  y.command(
    'status',
    'the fleet at a glance: health, heartbeat age, job, load per builder; queue, locks, unread messages',
    (c) => c
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'redraw every --interval seconds until interrupted' })
      .option('interval', { type: 'string', default: '5', describe: 'with --watch: seconds between redraws' })
      .option('count', { type: 'string', describe: 'with --watch: stop after N redraws' })
      .option('direct', { type: 'boolean', default: false, describe: 'also read every builder with ssh settings directly over ssh (DESIGN.md section 8); exit 6 when a read fails' })
      .example('coord status', 'one look')
      .example('coord status --watch --interval 10', 'keep it on screen'),
    run(async (ctx, a) => {
      if (!a.watch) return showStatus(ctx, Boolean(a.direct));
      if (ctx.json) throw new CoordError('E_USAGE', '--watch redraws a screen; with --json run coord status once per poll instead');
      const intervalMs = parseDurationFlag(a.interval, '--interval', 1, 3600) * 1000;
      const count = a.count === undefined ? Infinity : parseWholeNumber(a.count, '--count', 1, 1_000_000);
      for (let i = 0; i < count; i++) {
        if (ctx.io.isTTY) ctx.io.stdout('\x1b[H\x1b[2J');
        else if (i > 0) ctx.io.stdout('\n');
        ctx.io.stdout(colour.dim(`coord status — ${new Date(ctx.clock.now()).toISOString().slice(0, 19)}Z (every ${intervalMs / 1000}s; Ctrl-C stops)\n`));
        await showStatus(ctx, Boolean(a.direct));
        if (i + 1 < count) await sleep(intervalMs);
      }
    }),
  );

  y.command(
    'history',
    'who did what when, from the git history of the coordination files',
    (c) => c
      .option('job', { type: 'string', describe: 'only commits about this job' })
      .option('about', { type: 'string', describe: 'only commits by or about this builder (build2 or 2)' })
      .option('since', { type: 'string', describe: 'only after: a time (2026-11-30T12:00:00Z, 2026-11-30, today) or how long ago (2h, 3d)' })
      .option('action', { type: 'string', describe: 'only this action or family (job.claim, lock)' })
      .option('limit', { type: 'string', default: '50', describe: 'at most N entries, newest first' })
      .example('coord history --job job-20261130-193728-build1-4f9a2c1d', 'the life of one job')
      .example('coord history --about build2 --since 1d', 'what build2 did today'),
    run(async (ctx, a) => {
      const now = ctx.clock.now();
      const limit = parseWholeNumber(a.limit, '--limit', 1, 100_000);
      const filter = {
        ...(a.job ? { job: argText(a.job) } : {}),
        ...(a.about ? { builder: normalizeBuilderId(argText(a.about)) ?? argText(a.about) } : {}),
        ...(a.action ? { action: argText(a.action) } : {}),
        ...(a.since !== undefined ? { since: parseSince(a.since, now) } : {}),
      };
      const fail = await fetchBranch(ctx.repoRoot(), DEFAULT_REMOTE);
      const warnings = fail ? [`remote ${DEFAULT_REMOTE.remote} not reachable; history as of the last fetch`] : [];
      const h = await readHistory(ctx.repoRoot(), trackingRef(DEFAULT_REMOTE), filter, limit);
      if (ctx.json) return printJson(ctx.io, { ok: true, warnings, more: h.more, entries: h.entries });
      warn(ctx, warnings);
      if (!h.entries.length) return printLines(ctx.io, 'no matching history');
      printLines(ctx.io, renderHistory(h.entries));
      if (h.more) ctx.io.stderr(`… more entries (--limit, --since)\n`);
    }),
  );

  y.command('queue', 'stop or start claiming fleet-wide', (qy) => qy
    .command(
      'pause',
      'stop every builder from claiming new jobs (running jobs go on)',
      (c) => c.option('reason', { type: 'string', describe: 'why (shown in status and show)' }).example('coord queue pause --reason "mirror down"', 'hold the queue'),
      run(async (ctx, a) => {
        const reason = a.reason === undefined ? null : parseText(a.reason, '--reason', 500) || null;
        const { result, commit } = settle(await pauseQueueTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, reason));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, ...result });
        printLines(ctx.io, result.changed ? 'queue paused: no new claims until coord queue resume' : safeForTerminal(`queue already paused by ${result.by} since ${result.at}`));
      }),
    )
    .command(
      'resume',
      'let builders claim jobs again',
      (c) => c.example('coord queue resume', 'claiming starts again'),
      run(async (ctx) => {
        const { result, commit } = settle(await resumeQueueTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, ...result });
        printLines(ctx.io, result.changed ? 'queue resumed' : 'queue was not paused');
      }),
    )
    .command(
      'status',
      'paused or not, and the queue totals',
      (c) => c.example('coord queue status', 'is the queue paused?'),
      run(async (ctx) => {
        const s = await readSnapshot(ctx.repoRoot(), [PATHS.jobs], { now: ctx.clock.now() });
        requireValid(s, [PATHS.jobs]);
        const q = queueTotals(jobsDoc(s));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: s.commit, warnings: s.warnings, ...q });
        warn(ctx, s.warnings);
        const counts = Object.entries(q.by_status).filter(([, n]) => n > 0).map(([st, n]) => `${n} ${st}`).join(', ') || 'empty';
        printLines(ctx.io, `queue: ${q.paused ? pausedLine(q) : 'claiming'}; ${counts}`);
      }),
    )
    .demandCommand(1, 'name a queue command: pause, resume, status'));

  y.command('builder', 'builders: ground/unground by hand (circuit breaker), list', (by) => by
    .command(
      'ground <id>',
      'stop a builder from claiming jobs until ungrounded (or --until / --for)',
      (c) => c.positional('id', { type: 'string', demandOption: true, describe: 'builder (build2 or 2)' })
        .option('reason', { type: 'string', describe: 'why (shown in status)' })
        .option('until', { type: 'string', describe: 'lift automatically at this time' })
        .option('for', { type: 'string', describe: 'lift automatically after this long (30m, 2h)' })
        .conflicts('until', 'for')
        .example('coord builder ground build2 --reason "disk failing" --for 4h', 'keep build2 out for four hours'),
      run(async (ctx, a) => {
        const b = builderArg(a.id);
        const now = ctx.clock.now();
        const until = a.until !== undefined ? parseTimeInput(a.until, '--until', now) : a.for !== undefined ? now + parseDurationFlag(a.for, '--for', 1, 365 * 86400) * 1000 : null;
        const actor = operatorActor(ctx);
        const reason = (a.reason === undefined ? '' : parseText(a.reason, '--reason', 500).trim()) || `grounded by hand by ${actor}`;
        const { result, commit } = settle(await groundBuilderTx({ repoRoot: ctx.repoRoot(), actor, clock: ctx.clock }, b, reason, until));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, ...result });
        printLines(ctx.io, safeForTerminal(`${b} grounded: ${reason}${result.entry?.until ? ` (until ${result.entry.until})` : ' (until coord builder unground)'}`));
      }),
    )
    .command(
      'unground <id>',
      'let a grounded builder claim jobs again',
      (c) => c.positional('id', { type: 'string', demandOption: true, describe: 'builder (build2 or 2)' })
        .option('reason', { type: 'string', describe: 'why (recorded in the commit)' })
        .example('coord builder unground build2', 'build2 claims again'),
      run(async (ctx, a) => {
        const b = builderArg(a.id);
        const reason = a.reason === undefined ? null : parseText(a.reason, '--reason', 500) || null;
        const { result, commit } = settle(await ungroundBuilderTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, b, reason));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, ...result });
        printLines(ctx.io, result.changed ? `${b} ungrounded` : `${b} was not grounded`);
      }),
    )
    .command(
      'list',
      'configured builders: arch, labels, capacity, health, grounding',
      (c) => c.example('coord builder list', 'the builders'),
      run(async (ctx) => {
        const fleet = await readFleet(ctx.repoRoot(), { now: ctx.clock.now() });
        const s = { ...fleetStatus(fleet.input), commit: fleet.snapshot.commit, warnings: fleet.snapshot.warnings };
        const rows = s.builders.map((b) => {
          const c = fleet.input.config?.builders?.[b.builder];
          return {
            builder: b.builder, configured: b.configured, arch: c?.arch ?? null, labels: c?.labels ?? [], max_concurrent_jobs: c?.max_concurrent_jobs ?? 1,
            health: b.health, state: b.state, running_jobs: b.running_jobs, grounded: b.grounded, heartbeat_age_s: b.heartbeat.age_s,
          };
        });
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: s.commit, builders: rows });
        warn(ctx, s.warnings);
        printLines(ctx.io, renderTable(['BUILDER', 'ARCH', 'LABELS', 'JOBS', 'HEALTH', 'GROUNDED'], terminalSafe(rows).map((r) => [
          r.builder + (r.configured ? '' : ' (not configured)'), r.arch, r.labels.join(',') || null, `${r.running_jobs}/${r.max_concurrent_jobs}`,
          `${r.health}${r.heartbeat_age_s !== null ? ` (${dur(r.heartbeat_age_s)})` : ''}`,
          r.grounded ? `${r.grounded.reason}${r.grounded.until ? ` until ${r.grounded.until}` : ''}` : null,
        ])));
      }),
    )
    .demandCommand(1, 'name a builder command: ground, unground, list'));

  scheduleCommands(y, run);

  // yargs answers `--get-yargs-completions` (what the script calls); our own command prints the script.
  y.completion('__yargs-completion', false);
  return y.command(
    'completion',
    'print the shell completion script (bash by default; add it to ~/.bashrc)',
    (c) => c.option('shell', { choices: ['bash', 'zsh', 'fish'] as const, describe: 'default: from $SHELL' })
      .example('coord completion >> ~/.bashrc', 'tab completion in bash')
      .example('coord completion --shell zsh >> ~/.zshrc', 'tab completion in zsh'),
    run(async (ctx, a) => {
      const shell = (a.shell as Shell | undefined) ?? shellOf(ctx.io.env);
      const script = completionScript(shell);
      if (ctx.json) return printJson(ctx.io, { ok: true, shell, script });
      ctx.io.stdout(script);
      return Promise.resolve();
    }),
  );
}
