/**
 * `coord jobs add|list|show|cancel|retry|logs|wait` (issue 6): the queue from the command
 * line. Reads come from the remote's main as just fetched; writes are transactions.
 */
import type { Argv } from 'yargs';
import { normalizeBuilderId } from '../config/identity.js';
import { CoordError } from '../errors.js';
import { readFleet } from '../ops/fleet-read.js';
import { checkBuilderFilter, onlyOnce, parseDurationFlag, parseStatuses, parseWholeNumber } from '../ops/input.js';
import { explainQueued } from '../ops/job-explain.js';
import { findJobs, readJobLog, resolveJobIds } from '../ops/job-find.js';
import { addJobTx, cancelJobsTx, retryJobsTx } from '../ops/job-tx.js';
import { ENDED, waitForJobs } from '../ops/job-wait.js';
import { newLogOutput } from '../ops/log-follow.js';
import { jobDurationS, listingOrder, matchesFilter, queuePlaces } from '../ops/queue-stats.js';
import { jobRecords, jobsDoc, readArchivedJobs, readSnapshot, requireValid } from '../ops/snapshot.js';
import { PATHS } from '../store/kinds.js';
import { newRecordId } from '../util/ids.js';
import { parseTimestamp } from '../util/time.js';
import type { Run } from './cmd-files.js';
import type { CommandContext } from './context.js';
import { safeForTerminal } from '../util/terminal-text.js';
import { printJson, printLines } from './io.js';
import { jobInputFromArgs, jobTemplateOptions } from './job-options.js';
import { refuseCredentialArgs } from './arg-secrets.js';
import { argText, operatorActor, settle, stringList, warn } from './ops-edge.js';
import { describeJob, jobListTable, waitLine, waitSummary } from './render-jobs.js';
import { directJobLogs } from './direct-reads.js';
import { claimNextJobTx, completeClaimedJobTx, MANUAL_OUTCOMES, type ManualOutcome } from '../jobs/manual.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A whole job id (lib/util/ids.ts); anything else is resolved as a fragment first. */
const WHOLE_JOB_ID = /^job-\d{8}-\d{6}-[A-Za-z0-9_-]+-[0-9a-f]{12}$/;

/**
 * The full ids of what was typed: whole ids as they are, fragments (any unique part of at
 * least 4 characters) resolved against the queue and archive on the remote's main.
 * @throws CoordError E_USAGE (too short, ambiguous) or E_NOT_FOUND (no such job)
 */
async function fullJobIds(ctx: CommandContext, typed: string[]): Promise<string[]> {
  if (typed.every((t) => WHOLE_JOB_ID.test(t))) return typed;
  const now = ctx.clock.now();
  const s = await readSnapshot(ctx.repoRoot(), [PATHS.jobs], { now });
  requireValid(s, [PATHS.jobs]);
  return [...new Set(await resolveJobIds(ctx.repoRoot(), s, typed, now))];
}

/** Follows `ids` to the end; exit 0 only when all completed. */
async function waitAndReport(ctx: CommandContext, ids: string[], a: Record<string, unknown>): Promise<void> {
  const timeoutRaw = onlyOnce(a.timeout, '--timeout');
  const timeoutS = timeoutRaw === undefined ? null : parseDurationFlag(timeoutRaw, '--timeout', 1, 31 * 86400);
  const intervalMs = parseDurationFlag(onlyOnce(a.interval, '--interval') ?? '2', '--interval', 1, 3600) * 1000;
  const progress = ctx.io.isTTY && !ctx.json;
  const r = await waitForJobs(ctx.repoRoot(), ids, {
    timeoutS, intervalMs, clock: ctx.clock,
    onPoll: (jobs, elapsed) => { if (progress) ctx.io.stderr(`\r\x1b[K${waitLine(jobs, elapsed, ctx.clock.now())}`); },
  });
  if (progress) ctx.io.stderr('\r\x1b[K');
  if (r.timedOut && !r.reachedRemote) {
    throw new CoordError('E_UNREACHABLE', `gave up waiting after ${Math.round(r.elapsedMs / 1000)}s: the remote could not be fetched at any poll, so the jobs' state is unknown (check the network and coord doctor; the jobs go on)`, { details: { jobs: r.jobs.map((j) => j.id) } });
  }
  if (r.stale && !ctx.json) ctx.io.stderr('warning: the remote could not be fetched at the last poll; the state shown is the last fetched one\n');
  const summary = r.jobs.map((j) => ({ id: j.id, status: j.status, builder: j.assigned_to ?? j.history.at(-1)?.builder ?? null, exit_code: j.exit_code, error: j.error, duration_s: jobDurationS(j, ctx.clock.now()) }));
  if (r.timedOut) {
    const open = r.jobs.filter((j) => !ENDED.has(j.status)).map((j) => `${j.id} (${j.status})`);
    if (!ctx.json) printLines(ctx.io, waitSummary(r.jobs, ctx.clock.now()));
    throw new CoordError('E_TIMEOUT', `gave up waiting after ${Math.round(r.elapsedMs / 1000)}s: ${open.join(', ')} not finished (the jobs go on; wait again or coord jobs cancel)`, { details: { jobs: summary } });
  }
  const bad = r.jobs.filter((j) => j.status !== 'completed');
  if (ctx.json && !bad.length) return printJson(ctx.io, { ok: true, jobs: summary });
  if (!ctx.json) printLines(ctx.io, waitSummary(r.jobs, ctx.clock.now()));
  if (bad.length) {
    throw new CoordError('E_JOB_FAILED', `${bad.map((j) => `${j.id} ${j.status}${j.exit_code !== null ? ` (exit ${j.exit_code})` : ''}`).join(', ')}; coord jobs show ID tells more`, { details: { jobs: summary } });
  }
}

/**
 * The builder of `jobs list --assigned-to`: `build2` or `2`.
 * @throws CoordError E_USAGE (exit 2) for an empty value or one that names no builder
 */
function assignedToFilter(raw: string): string {
  const id = normalizeBuilderId(raw);
  if (!id) throw new CoordError('E_USAGE', `--assigned-to ${JSON.stringify(raw)}: not a builder name (build2, or 2)`, { details: { argument: '--assigned-to' } });
  return id;
}

export function jobCommands(y: Argv, run: Run): Argv {
  return y.command('jobs', 'the job queue: add, list, show, cancel, retry, logs, wait; claim, complete (by hand)', (jy) => jy
    .command(
      'add',
      'queue a job; prints its id',
      (c) => jobTemplateOptions(c)
        .option('not-before', { type: 'string', describe: 'do not start before: 2026-11-30T19:00:00Z, 2026-11-30, now, +30m, in 2h' })
        .option('wait', { type: 'boolean', default: false, describe: 'follow the job to its end (exit 0 only if it completed)' })
        .option('timeout', { type: 'string', describe: 'with --wait: give up after this long (90, 5m, 2h)' })
        .option('interval', { type: 'string', hidden: true })
        .example('coord jobs add --type build --branch main --priority 2', 'queue a build; prints the job id')
        .example('coord jobs add --type deb --param TARGET=bookworm --label deb --wait', 'queue and wait for the end')
        .example('coord jobs add --type nightly --not-before +2h', 'not before two hours from now'),
      run(async (ctx, a) => {
        if (a.timeout !== undefined && !a.wait) throw new CoordError('E_USAGE', '--timeout needs --wait (it bounds the wait for the job to end); drop it, or add --wait', { details: { argument: '--timeout' } });
        const input = jobInputFromArgs(a, ctx.clock.now());
        await refuseCredentialArgs({ '--description': input.description, ...Object.fromEntries(Object.entries(input.params ?? {}).map(([k, v]) => [`--param ${k}`, v])) }, ctx.io.env);
        const actor = operatorActor(ctx);
        const id = newRecordId('job', actor, ctx.clock);
        const { result: { job, warnings }, commit } = settle(await addJobTx({ repoRoot: ctx.repoRoot(), actor, clock: ctx.clock }, id, input));
        warn(ctx, warnings);
        if (a.wait) {
          // The id first on stdout, so `id=$(coord jobs add … --wait | head -1)` works;
          // progress goes to stderr.
          if (!ctx.json) {
            printLines(ctx.io, job.id);
            ctx.io.stderr(`queued ${job.id} (${job.type}, priority ${job.priority}); waiting for it\n`);
          }
          return waitAndReport(ctx, [job.id], a);
        }
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, warnings, job });
        printLines(ctx.io, job.id);
        ctx.io.stderr(`queued ${job.id} (${job.type}, priority ${job.priority})${job.not_before ? `, not before ${job.not_before}` : ''}\n`);
      }),
    )
    .command(
      'list',
      'jobs as a table: id, type, priority, status, builder, age, duration, queue position and estimated wait',
      (c) => c
        .option('status', { type: 'string', array: true, describe: 'only these statuses (repeatable or comma-separated): queued, running, completed, failed, cancelled, blocked' })
        .option('assigned-to', { type: 'string', describe: 'only jobs this builder ran or runs (build2 or 2)' })
        .option('type', { type: 'string', describe: 'only this job type' })
        .option('limit', { type: 'string', default: '50', describe: 'show at most N jobs (1-10000)' })
        .option('archived', { type: 'boolean', default: false, describe: 'include archived (old finished) jobs' })
        .example('coord jobs list --status queued,running', 'what is waiting and what runs')
        .example('coord jobs list --assigned-to build2 --status failed --archived', 'everything that failed on build2'),
      run(async (ctx, a) => {
        const statuses = parseStatuses(stringList(a.status));
        const limit = parseWholeNumber(onlyOnce(a.limit, '--limit'), '--limit', 1, 10_000);
        const assignedRaw = onlyOnce(a['assigned-to'], '--assigned-to'), typeRaw = onlyOnce(a.type, '--type');
        const assignedTo = assignedRaw === undefined ? null : assignedToFilter(argText(assignedRaw));
        const now = ctx.clock.now();
        const s = await readSnapshot(ctx.repoRoot(), [PATHS.jobs], { now });
        requireValid(s, [PATHS.jobs]);
        const hot = jobRecords(jobsDoc(s));
        const configured = Object.keys(s.config?.builders ?? {});
        const unconfigured = assignedTo !== null && configured.length > 0 && !configured.includes(assignedTo);
        // An unconfigured builder is looked up in the archive too: a typo (build9) is exit 5,
        // a builder removed from the config still lists what it ran.
        const archived = a.archived || unconfigured ? await readArchivedJobs(ctx.repoRoot(), s.commit, now) : [];
        const warnings = [...s.warnings];
        if (assignedTo) {
          const named = [...hot, ...archived].some((j) => matchesFilter(j, { builder: assignedTo }));
          const w = checkBuilderFilter(assignedTo, '--assigned-to', configured, named, 'no job in the queue or the archive');
          if (w) warnings.push(w);
        }
        warn(ctx, warnings);
        const shownArchived = a.archived ? archived : [];
        const filter = { statuses, ...(assignedTo ? { builder: assignedTo } : {}), ...(typeRaw ? { type: argText(typeRaw) } : {}) };
        const all = [...hot.map((j) => ({ j, archived: false })), ...shownArchived.map((j) => ({ j, archived: true }))]
          .filter((x) => matchesFilter(x.j, filter)).sort((x, y) => listingOrder(x.j, y.j));
        const places = queuePlaces(hot, s.config, now, [...hot, ...archived], jobsDoc(s));
        const shown = all.slice(0, limit);
        const rows = shown.map(({ j, archived: arch }) => ({
          id: j.id, type: j.type, priority: j.priority, status: j.status, builder: j.assigned_to ?? j.history.at(-1)?.builder ?? null,
          attempt: j.attempt, created_at: j.created_at, age_s: Math.max(0, Math.round((now - (parseTimestamp(j.created_at) ?? now)) / 1000)),
          duration_s: jobDurationS(j, now), queue_position: places.get(j.id)?.position ?? null,
          estimated_wait_s: places.get(j.id)?.estimated_wait_s ?? null, wait_reason: places.get(j.id)?.wait_reason ?? null, archived: arch,
        }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: s.commit, fresh: s.fresh, warnings, total: all.length, shown: rows.length, paused: jobsDoc(s).paused ?? null, jobs: rows });
        if (!rows.length) return printLines(ctx.io, 'no jobs match');
        printLines(ctx.io, jobListTable(rows));
        if (all.length > rows.length) ctx.io.stderr(`… ${all.length - rows.length} more (--limit ${all.length} shows all)\n`);
        if (jobsDoc(s).paused) ctx.io.stderr(`the queue is paused by ${safeForTerminal(jobsDoc(s).paused!.by)}: nothing is claimed (coord queue resume)\n`);
      }),
    )
    .command(
      'show <id>',
      'everything about a job, why it is still queued, and its attempts',
      (c) => c.positional('id', { type: 'string', demandOption: true, describe: 'job id, or a unique part of it (at least 4 characters)' })
        .example('coord jobs show job-20261130-193728-build1-4f9a2c1d', 'details and "why still queued"'),
      run(async (ctx, a) => {
        const now = ctx.clock.now();
        const typed = argText(a.id);
        const fleet = await readFleet(ctx.repoRoot(), { now });
        warn(ctx, fleet.snapshot.warnings);
        const { job, archived } = (await findJobs(ctx.repoRoot(), fleet.snapshot, [typed], now)).get(typed)!;
        const hot = jobRecords(fleet.input.jobs);
        const place = queuePlaces(hot, fleet.input.config, now, hot, fleet.input.jobs).get(job.id) ?? null;
        const why = job.status === 'queued' ? explainQueued(job, fleet.input, (place?.position ?? 1) - 1) : null;
        const log = await readJobLog(ctx.repoRoot(), fleet.snapshot, job);
        const doc = {
          ok: true, commit: fleet.snapshot.commit, archived, job,
          queue: place, why_queued: why, log: { path: log.path, committed: log.text !== null, bytes: log.text?.length ?? 0 },
        };
        if (ctx.json) return printJson(ctx.io, doc);
        printLines(ctx.io, describeJob(job, { archived, place, why, logPath: log.text !== null ? log.path : null, now }));
      }),
    )
    .command(
      'cancel <ids..>',
      'cancel jobs: queued ones at once, running ones by their builder (all or nothing)',
      (c) => c.positional('ids', { type: 'string', array: true, demandOption: true, describe: 'job ids, or unique parts of them (at least 4 characters each)' })
        .example('coord jobs cancel job-20261130-193728-build1-4f9a2c1d', 'cancel one job'),
      run(async (ctx, a) => {
        const ids = await fullJobIds(ctx, [...new Set(stringList(a.ids))]);
        const { result, commit } = settle(await cancelJobsTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, ids));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, jobs: result });
        printLines(ctx.io, result.map((r) => (r.result === 'cancelled' ? `cancelled ${r.id}` : `cancel requested for ${r.id} (running: its builder stops it and records it cancelled)`)));
      }),
    )
    .command(
      'retry [ids..]',
      'requeue failed, blocked or cancelled jobs with failed_on cleared (all or nothing)',
      (c) => c.positional('ids', { type: 'string', array: true, describe: 'job ids, or unique parts of them (at least 4 characters each)' })
        .option('failed', { type: 'boolean', default: false, describe: 'every failed job' })
        .option('blocked', { type: 'boolean', default: false, describe: 'every blocked job' })
        .example('coord jobs retry job-20261130-193728-build1-4f9a2c1d', 'retry one job')
        .example('coord jobs retry --blocked', 'retry every blocked job'),
      run(async (ctx, a) => {
        const typed = [...new Set(stringList(a.ids))];
        if (!typed.length && !a.failed && !a.blocked) throw new CoordError('E_USAGE', 'name job ids, or --failed / --blocked');
        const ids = typed.length ? await fullJobIds(ctx, typed) : [];
        const { result, commit } = settle(await retryJobsTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, { ids, failed: Boolean(a.failed), blocked: Boolean(a.blocked) }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, jobs: result.map((j) => ({ id: j.id, status: j.status, attempt: j.attempt, max_attempts: j.max_attempts })) });
        printLines(ctx.io, result.length ? result.map((j) => `requeued ${j.id} (attempts ${j.attempt} of ${j.max_attempts} used)`) : 'nothing to retry');
      }),
    )
    .command(
      'logs <id>',
      'the committed log tail of a job; --follow polls and prints new output until the job ends',
      (c) => c.positional('id', { type: 'string', demandOption: true, describe: 'job id, or a unique part of it (at least 4 characters)' })
        .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'keep printing new output until the job ends' })
        .option('interval', { type: 'string', default: '2', describe: 'with --follow: seconds between polls' })
        .option('direct', { type: 'boolean', describe: 'read the live log on the job\'s builder over ssh (done by itself for --follow of a running job, or when the remote cannot be fetched, if the builder has ssh settings; --no-direct: git only)' })
        .example('coord jobs logs job-20261130-193728-build1-4f9a2c1d --follow', 'follow a running job'),
      run(async (ctx, a) => {
        const intervalMs = parseDurationFlag(a.interval, '--interval', 1, 3600) * 1000;
        const [id] = await fullJobIds(ctx, [argText(a.id)]);
        // Direct read over ssh (lib/cli/direct-reads.ts); false: show the committed log from git.
        if (a.direct !== false && await directJobLogs(ctx, id, { follow: Boolean(a.follow), intervalMs, explicit: a.direct === true })) return;
        let printed = '';
        let gaps = 0;
        for (;;) {
          const now = ctx.clock.now();
          const s = await readSnapshot(ctx.repoRoot(), [PATHS.jobs], { now });
          requireValid(s, [PATHS.jobs]);
          const { job } = (await findJobs(ctx.repoRoot(), s, [id], now)).get(id)!;
          const log = await readJobLog(ctx.repoRoot(), s, job);
          const ended = ENDED.has(job.status);
          if (ctx.json) {
            if (a.follow && !ended) { await sleep(intervalMs); continue; }
            return printJson(ctx.io, { ok: true, commit: s.commit, job_id: id, status: job.status, builder: job.assigned_to ?? job.history.at(-1)?.builder ?? null, path: log.path, log: log.text });
          }
          if (log.text !== null) {
            const d = newLogOutput(printed, log.text);
            if (d.gap) { gaps++; ctx.io.stderr('[… output between two polls was cut from the committed tail …]\n'); }
            if (d.text) ctx.io.stdout(d.text);
            printed = log.text;
          }
          if (!a.follow || ended) {
            if (log.text === null) ctx.io.stderr(`no log committed for ${id} (${job.status}${job.status === 'queued' ? ': it has not run yet' : ''})\n`);
            else if (a.follow) ctx.io.stderr(`${id} ${job.status}${gaps ? ` (${gaps} gap(s) in the output)` : ''}\n`);
            return;
          }
          await sleep(intervalMs);
        }
      }),
    )
    .command(
      'wait <ids..>',
      'wait until jobs end; exit 0 only if all completed (3 if one failed/cancelled/blocked, 4 on --timeout)',
      (c) => c.positional('ids', { type: 'string', array: true, demandOption: true, describe: 'job ids, or unique parts of them (at least 4 characters each)' })
        .option('timeout', { type: 'string', describe: 'give up after this long (90, 5m, 2h); default: wait for ever' })
        .option('interval', { type: 'string', default: '2', describe: 'seconds between polls' })
        .example('coord jobs wait job-A job-B --timeout 30m', 'wait for two jobs, at most 30 minutes'),
      run(async (ctx, a) => waitAndReport(ctx, [...new Set(stringList(a.ids))], a)),
    )
    .command(
      'claim',
      'claim the next job this builder may run, for a script that runs it itself (then: coord jobs complete)',
      (c) => c
        .example('JOB=$(coord jobs claim) && ./run.sh "$JOB" && coord jobs complete "$JOB" --status completed', 'run one job by hand')
        .epilogue('The claim is the daemon\'s: highest priority, then oldest, that this builder may run (type allowed, requirements met, queue not paused, job_assignment lock free, not grounded, under max_concurrent_jobs). Exit 5 when there is nothing to claim (the reason on stderr).'),
      run(async (ctx) => {
        const builder = (await ctx.builderIdentity()).builder;
        const { result, commit } = settle(await claimNextJobTx({ repoRoot: ctx.repoRoot(), builder, clock: ctx.clock }));
        if (result.job === null) {
          throw new CoordError('E_NOT_FOUND', `nothing for ${builder} to claim: ${result.reason}`, { details: { builder, reason: result.reason } });
        }
        const job = result.job;
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, builder, job });
        printLines(ctx.io, job.id);
        ctx.io.stderr(`claimed ${job.id} (${job.type}, priority ${job.priority}, attempt ${job.attempt}) for ${builder}; end it with coord jobs complete ${job.id} --status completed|failed\n`);
      }),
    )
    .command(
      'complete <id>',
      'record the end of a job this builder claimed with coord jobs claim',
      (c) => c.positional('id', { type: 'string', demandOption: true, describe: 'job id, or a unique part of it (at least 4 characters)' })
        .option('status', { choices: MANUAL_OUTCOMES, demandOption: true, describe: 'how it ended' })
        .option('duration', { type: 'string', describe: 'run time in whole seconds (default: since the claim)' })
        .option('exit-code', { type: 'string', describe: 'the job\'s exit code, 0-255 (default: 0 when completed, none otherwise)' })
        .example('coord jobs complete job-20261130-193728-build1-4f9a2c1d --status failed --duration 93', 'a failed run of 93 s'),
      run(async (ctx, a) => {
        const builder = (await ctx.builderIdentity()).builder;
        const [id] = await fullJobIds(ctx, [argText(a.id)]);
        const durationS = a.duration === undefined ? undefined : parseWholeNumber(a.duration, '--duration', 0, 31 * 86400);
        const exitCode = a['exit-code'] === undefined ? undefined : parseWholeNumber(a['exit-code'], '--exit-code', 0, 255);
        const { result: job, commit } = settle(await completeClaimedJobTx({ repoRoot: ctx.repoRoot(), builder, clock: ctx.clock }, { id, outcome: a.status as ManualOutcome, durationS, exitCode }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, builder, job });
        const requeued = job.status === 'queued' ? ` (requeued: attempt ${job.attempt} of ${job.max_attempts} used)` : '';
        printLines(ctx.io, `${job.id} ${job.status}${requeued}`);
      }),
    )
    .demandCommand(1, 'name a jobs command: add, list, show, cancel, retry, logs, wait, claim, complete'));
}
