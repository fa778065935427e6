/**
 * `coord schedule add|list|remove|enable|disable` (DESIGN.md section 4, issue 6): recurring
 * jobs from cron expressions (five fields, UTC), enqueued by the daemons.
 */
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { readSnapshot, requireValid } from '../ops/snapshot.js';
import { checkCron, nextSlots, SCHEDULE_ID_RE, type JobTemplate, type Schedule } from '../schedules/model.js';
import { addScheduleTx, emptySchedules, removeScheduleTx, setScheduleEnabledTx } from '../schedules/transactions.js';
import type { SchedulesFile } from '../schemas/types.gen.js';
import { PATHS } from '../store/kinds.js';
import type { Run } from './cmd-files.js';
import { terminalSafe } from '../util/terminal-text.js';
import { printJson, printLines } from './io.js';
import { jobInputFromArgs, jobTemplateOptions } from './job-options.js';
import { refuseCredentialArgs } from './arg-secrets.js';
import { argText, operatorActor, renderTable, settle, warn } from './ops-edge.js';

function scheduleId(raw: unknown): string {
  const id = argText(raw);
  if (!SCHEDULE_ID_RE.test(id)) throw new CoordError('E_USAGE', `schedule id ${JSON.stringify(id)}: letters, digits, '.', '_', '-', at most 64, starting with a letter or digit`);
  return id;
}

/** A schedule as listed: the entry plus its next five slots (UTC). */
function listed(s: Schedule, now: number) {
  const c = checkCron(s.cron);
  return { ...s, enabled: s.enabled !== false, valid: c.ok, problem: c.ok ? null : c.message, next_slots: c.ok && s.enabled !== false ? nextSlots(s.cron, now, 5) : [] };
}

export function scheduleCommands(y: Argv, run: Run): Argv {
  return y.command('schedule', 'recurring jobs (cron expressions, UTC): add, list, remove, enable, disable', (sy) => sy
    .command(
      'add <id>',
      'add a recurring job: a cron expression (five fields, UTC) and the job options of coord jobs add',
      (c) => jobTemplateOptions(c.positional('id', { type: 'string', demandOption: true, describe: 'schedule id' }))
        .option('cron', { type: 'string', demandOption: true, describe: 'minute hour day-of-month month day-of-week (UTC), or @hourly/@daily/@weekly/@monthly' })
        .option('disabled', { type: 'boolean', default: false, describe: 'add it disabled' })
        .example('coord schedule add nightly --cron "0 3 * * *" --type build --branch main', 'a build every night at 03:00 UTC'),
      run(async (ctx, a) => {
        const id = scheduleId(a.id);
        const c = checkCron(argText(a.cron));
        if (!c.ok) throw new CoordError('E_USAGE', `--cron ${c.message}`);
        const { not_before: _nb, schedule_id: _sid, ...input } = jobInputFromArgs(a, ctx.clock.now());
        await refuseCredentialArgs({ '--description': input.description, ...Object.fromEntries(Object.entries(input.params ?? {}).map(([k, v]) => [`--param ${k}`, v])) }, ctx.io.env);
        const job = input as JobTemplate;
        const { result, commit } = settle(await addScheduleTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, { id, cron: argText(a.cron), job, enabled: !a.disabled }));
        const s = listed(result!, ctx.clock.now());
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, schedule: s });
        printLines(ctx.io, [`added schedule ${id} (${s.cron}, ${job.type})${s.enabled ? '' : ' disabled'}`, ...(s.next_slots.length ? [`next: ${s.next_slots.join(', ')}`] : [])]);
      }),
    )
    .command(
      'list',
      'schedules with their next five slots (UTC)',
      (c) => c.example('coord schedule list', 'what runs when'),
      run(async (ctx) => {
        const now = ctx.clock.now();
        const snap = await readSnapshot(ctx.repoRoot(), [PATHS.schedules], { now });
        requireValid(snap, [PATHS.schedules]);
        const doc = (snap.files.get(PATHS.schedules) as SchedulesFile | null) ?? emptySchedules();
        const rows = doc.schedules.map((s) => listed(s, now));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: snap.commit, warnings: snap.warnings, schedules: rows });
        warn(ctx, snap.warnings);
        if (!rows.length) return printLines(ctx.io, 'no schedules');
        printLines(ctx.io, renderTable(['ID', 'CRON (UTC)', 'TYPE', 'ENABLED', 'LAST SLOT', 'NEXT SLOTS'], terminalSafe(rows).map((r) => [
          r.id, r.cron, r.job.type, r.enabled ? 'yes' : 'no', r.last_slot ?? null, r.valid ? r.next_slots.join('\n') || null : `invalid: ${r.problem}`,
        ])));
      }),
    )
    .command(
      'remove <id>',
      'remove a schedule (jobs it queued stay)',
      (c) => c.positional('id', { type: 'string', demandOption: true }).example('coord schedule remove nightly', 'no more nightly builds'),
      run(async (ctx, a) => {
        const id = scheduleId(a.id);
        const { commit } = settle(await removeScheduleTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, id));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, removed: id });
        printLines(ctx.io, `removed schedule ${id}`);
      }),
    )
    .command(
      'enable <id>',
      'enable a schedule (slots missed while disabled are not run)',
      (c) => c.positional('id', { type: 'string', demandOption: true }).example('coord schedule enable nightly', 'resume it'),
      run(async (ctx, a) => {
        const id = scheduleId(a.id);
        const { result, commit } = settle(await setScheduleEnabledTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, id, true));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, schedule: listed(result!, ctx.clock.now()) });
        printLines(ctx.io, commit ? `enabled schedule ${id}` : `schedule ${id} was enabled already`);
      }),
    )
    .command(
      'disable <id>',
      'disable a schedule without removing it',
      (c) => c.positional('id', { type: 'string', demandOption: true }).example('coord schedule disable nightly', 'pause it'),
      run(async (ctx, a) => {
        const id = scheduleId(a.id);
        const { result, commit } = settle(await setScheduleEnabledTx({ repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock }, id, false));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit, schedule: listed(result!, ctx.clock.now()) });
        printLines(ctx.io, commit ? `disabled schedule ${id}` : `schedule ${id} was disabled already`);
      }),
    )
    .demandCommand(1, 'name a schedule command: add, list, remove, enable, disable'));
}
