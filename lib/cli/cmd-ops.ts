/**
 * Fleet-level operator commands (issue 6): `coord status [--watch]`, `history`,
 * `queue pause|resume|status`, `builder ground|unground|list`, `completion`; schedules are
 * in cmd-schedule.ts (registered from here).
 */
import { refuseCredentialArgs } from './arg-secrets.js';
import type { Argv } from 'yargs';
import { normalizeBuilderId } from '../config/identity.js';
import { describeGrounding } from '../jobs/model.js';
import { CoordError } from '../errors.js';
import { DEFAULT_REMOTE, fetchBranch, trackingRef } from '../git/repo.js';
import { collectFleetStatus, readFleet } from '../ops/fleet-read.js';
import { ACTION_FAMILIES, isKnownAction, KNOWN_ACTIONS, readHistory } from '../ops/history.js';
import { closestKey } from '../store/semantics.js';
import { checkBuilderFilter, onlyOnce, parseDurationFlag, parseSince, parseText, parseTimeInput, parseWholeNumber, timestampOf } from '../ops/input.js';
import { groundBuilderTx, pauseQueueTx, resumeQueueTx, ungroundBuilderTx } from '../ops/job-tx.js';
import { fleetStatus, queueTotals } from '../ops/fleet-status.js';
import { jobsDoc, readSnapshot, requireValid } from '../ops/snapshot.js';
import { PATHS } from '../store/kinds.js';
import type { Run } from './cmd-files.js';
import { scheduleCommands } from './cmd-schedule.js';
import { completionScript, shellOf, type Shell } from './completion.js';
import type { CommandContext } from './context.js';
import { safeForTerminal, terminalSafe } from '../util/terminal-text.js';
import { colour, printJson, printLines, stdoutGone } from './io.js';
import { argText, dur, operatorActor, renderTable, settle, warn } from './ops-edge.js';
import { pausedLine, renderHistory, renderStatus } from './render-ops.js';
import { directExitCode, renderDirectViews, statusDirectViews } from './direct-reads.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `builder ground --until`: a time still to come. A past one would write an entry that is
 * expired on arrival — accepted before, it left status showing the builder grounded while
 * it claimed jobs (third trial).
 * @returns epoch ms
 * @throws CoordError E_USAGE for a time that does not parse or has passed
 */
function futureTime(raw: unknown, now: number): number {
  const t = parseTimeInput(raw, '--until', now);
  if (t <= now) throw new CoordError('E_USAGE', `--until ${JSON.stringify(argText(raw))}: ${timestampOf(t)} has passed (now ${timestampOf(now)}); give a future time, or --for DURATION`, { details: { argument: '--until' } });
  return t;
}

function builderArg(raw: unknown): string {
  const b = normalizeBuilderId(argText(raw));
  if (!b) throw new CoordError('E_USAGE', `${JSON.stringify(argText(raw))} is not a builder id (build<N> or N)`);
  return b;
}

/** What `history --action` takes, for its usage errors. */
function actionChoices(): string {
  return `give a family (${ACTION_FAMILIES.join(', ')}) or an action (${KNOWN_ACTIONS.join(', ')})`;
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
      .option('interval', { type: 'string', describe: 'with --watch: seconds between redraws (default 5)' })
      .option('count', { type: 'string', describe: 'with --watch: stop after N redraws' })
      .option('direct', { type: 'boolean', default: false, describe: 'also read every builder with ssh settings directly over ssh (DESIGN.md section 8); exit 6 when a read fails' })
      .example('coord status', 'one look')
      .example('coord status --watch --interval 10', 'keep it on screen'),
    run(async (ctx, a) => {
      const intervalRaw = onlyOnce(a.interval, '--interval'), countRaw = onlyOnce(a.count, '--count');
      if (!a.watch) {
        // Without --watch these would be ignored: refused, like dashboard --port without --serve.
        const stray = intervalRaw !== undefined ? '--interval' : countRaw !== undefined ? '--count' : null;
        if (stray) throw new CoordError('E_USAGE', `${stray} needs --watch (it paces the redraws); add --watch, or drop ${stray}`, { details: { argument: stray } });
        return showStatus(ctx, Boolean(a.direct));
      }
      if (ctx.json) throw new CoordError('E_USAGE', '--watch redraws a screen; with --json run coord status once per poll instead');
      const intervalMs = parseDurationFlag(intervalRaw ?? '5', '--interval', 1, 3600) * 1000;
      const count = countRaw === undefined ? Infinity : parseWholeNumber(countRaw, '--count', 1, 1_000_000);
      // Ends when nobody reads any more (`coord status --watch | head -20`).
      for (let i = 0; i < count && !stdoutGone(); i++) {
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
      const limit = parseWholeNumber(onlyOnce(a.limit, '--limit'), '--limit', 1, 100_000);
      const [jobRaw, aboutRaw, actionRaw, sinceRaw] = [onlyOnce(a.job, '--job'), onlyOnce(a.about, '--about'), onlyOnce(a.action, '--action'), onlyOnce(a.since, '--since')];
      // build2 or 2; any other name is an actor (a person, `$USER`) and is not checked.
      const aboutText = aboutRaw === undefined ? null : argText(aboutRaw).trim();
      if (aboutText === '') throw new CoordError('E_USAGE', '--about needs a builder (build2 or 2) or an actor name', { details: { argument: '--about' } });
      const aboutBuilder = aboutText === null ? null : normalizeBuilderId(aboutText);
      const about = aboutBuilder ?? aboutText;
      const action = actionRaw === undefined ? null : argText(actionRaw).trim();
      if (action === '') throw new CoordError('E_USAGE', `--action needs a value: ${actionChoices()}`, { details: { argument: '--action' } });
      const filter = {
        ...(jobRaw ? { job: argText(jobRaw) } : {}),
        ...(about ? { builder: about } : {}),
        ...(action ? { action } : {}),
        ...(sinceRaw !== undefined ? { since: parseSince(sinceRaw, now) } : {}),
      };
      const fail = await fetchBranch(ctx.repoRoot(), DEFAULT_REMOTE);
      const warnings = fail ? [`remote ${DEFAULT_REMOTE.remote} not reachable; history as of the last fetch`] : [];
      const h = await readHistory(ctx.repoRoot(), trackingRef(DEFAULT_REMOTE), filter, limit);
      // An action nobody knows that matched nothing is a typo (`--action nosuch`), not an empty
      // history; one that matched commits (a newer tool's action) is shown as it is.
      if (action && !h.entries.length && !isKnownAction(action)) {
        const near = closestKey(action, [...ACTION_FAMILIES, ...KNOWN_ACTIONS]);
        throw new CoordError('E_USAGE', `--action ${JSON.stringify(action)}: no such action${near ? ` (did you mean ${near}?)` : ''}; ${actionChoices()}`, { details: { argument: '--action', families: ACTION_FAMILIES, actions: KNOWN_ACTIONS } });
      }
      if (aboutBuilder) {
        // Like builder ground build9: a builder neither configured nor named by any commit is a
        // typo (exit 5); a builder since removed from the config still has its history.
        const configured = Object.keys((await readSnapshot(ctx.repoRoot(), [], { now, noFetch: true })).config?.builders ?? {});
        // Named at all: by these entries, else by any commit (the other filters may hide it).
        const named = h.entries.length > 0 || (!configured.includes(aboutBuilder) && (await readHistory(ctx.repoRoot(), trackingRef(DEFAULT_REMOTE), { builder: aboutBuilder }, 1)).entries.length > 0);
        const w = checkBuilderFilter(aboutBuilder, '--about', configured, named, 'no commit in the history');
        if (w) warnings.push(w);
      }
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
        await refuseCredentialArgs({ '--reason': reason }, ctx.io.env);
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
        .option('until', { type: 'string', describe: 'lift automatically at this time (in the future)' })
        .option('for', { type: 'string', describe: 'lift automatically after this long (30m, 2h)' })
        .option('force', { type: 'boolean', default: false, describe: 'replace a grounding in force (otherwise refused, exit 3, naming it)' })
        .conflicts('until', 'for')
        .example('coord builder ground build2 --reason "disk failing" --for 4h', 'keep build2 out for four hours')
        .example('coord builder ground build2 --reason "new disk in" --for 1h --force', 'replace the grounding in force'),
      run(async (ctx, a) => {
        const b = builderArg(a.id);
        const now = ctx.clock.now();
        const untilRaw = onlyOnce(a.until, '--until'), forRaw = onlyOnce(a.for, '--for'), reasonRaw = onlyOnce(a.reason, '--reason');
        const until = untilRaw !== undefined ? futureTime(untilRaw, now) : forRaw !== undefined ? now + parseDurationFlag(forRaw, '--for', 1, 365 * 86400) * 1000 : null;
        const actor = operatorActor(ctx);
        const reason = (reasonRaw === undefined ? '' : parseText(reasonRaw, '--reason', 500).trim()) || `grounded by hand by ${actor}`;
        await refuseCredentialArgs({ '--reason': reasonRaw === undefined ? null : reason }, ctx.io.env);
        const newTerms = reasonRaw !== undefined || until !== null;
        const { result, commit } = settle(await groundBuilderTx({ repoRoot: ctx.repoRoot(), actor, clock: ctx.clock }, b, { reason, until, newTerms, force: Boolean(a.force) }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, ...result });
        const entry = result.entry!;
        const terms = `${entry.reason} (${entry.until ? `until ${entry.until}` : 'until coord builder unground'})`;
        if (!result.changed) return printLines(ctx.io, safeForTerminal(`${b} already grounded by ${describeGrounding(entry)}; nothing changed (--force with --reason/--until/--for replaces it)`));
        printLines(ctx.io, safeForTerminal(result.previous ? `${b} was grounded by ${describeGrounding(result.previous)}; now grounded by ${entry.by}: ${terms}` : `${b} grounded: ${terms}`));
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
        const reasonRaw = onlyOnce(a.reason, '--reason');
        const reason = reasonRaw === undefined ? null : parseText(reasonRaw, '--reason', 500) || null;
        await refuseCredentialArgs({ '--reason': reason }, ctx.io.env);
        const { result, commit } = settle(await ungroundBuilderTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, b, reason));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, ...result });
        printLines(ctx.io, !result.changed ? `${b} was not grounded` : result.previous ? safeForTerminal(`${b} ungrounded (was grounded by ${describeGrounding(result.previous)})`) : `${b} ungrounded (its grounding had expired already)`);
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
