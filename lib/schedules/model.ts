/**
 * Recurring jobs (DESIGN.md section 4, "Schedules"): `coordination/schedules.json` entries
 * hold a five-field cron expression, evaluated in UTC with the cron-parser package, and a
 * job template. Pure functions shared by the command line and the daemon:
 *
 * - {@link dueSlot}: the slot to enqueue now — the latest slot ≤ now after the last one
 *   enqueued; only the latest missed slot, never a backlog (a builder fleet that was down
 *   all weekend runs the nightly build once, not three times).
 * - {@link scheduledJobId}: the job id of a slot, derived from schedule id + slot time, so
 *   a slot is enqueued once however many daemons race (the second sees the id and stops).
 * - {@link enqueueScheduledJob}: the transition that adds the slot's job and advances
 *   `last_slot` in one commit.
 */
import { CronExpressionParser } from 'cron-parser';
import { CoordError, type ErrorCode } from '../errors.js';
import type { Policy } from '../config/policy.js';
import { addJob, makeJob, type JobRecord, type NewJobInput } from '../jobs/model.js';
import type { JobsFile, SchedulesFile } from '../schemas/types.gen.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';

export type Schedule = SchedulesFile['schedules'][number];
export type JobTemplate = Schedule['job'];

/** Schedule ids (schema `schedules.json`). */
export const SCHEDULE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Macros accepted besides five fields, with what they mean. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
  '@weekdays': '0 0 * * 1-5', '@weekends': '0 0 * * 0,6',
};

export type CronCheck = { ok: true; fields: string } | { ok: false; message: string };

/**
 * Checks a cron expression: five fields (minute hour day-of-month month day-of-week) or a
 * macro (@hourly, @daily, @weekly, @monthly, @yearly, @weekdays, @weekends), evaluated in
 * UTC. Seconds fields and `H` (random) are refused: every daemon must compute the same slots.
 * @returns the five fields the expression means, or the reason it is refused
 */
export function checkCron(expr: string): CronCheck {
  const t = expr.trim().replace(/\s+/g, ' ');
  if (!t) return { ok: false, message: 'empty cron expression' };
  if (t.length > 128) return { ok: false, message: 'cron expression over 128 characters' };
  const fields = t.startsWith('@') ? MACROS[t.toLowerCase()] : t;
  if (!fields) return { ok: false, message: `unknown macro "${t}" (known: ${Object.keys(MACROS).join(', ')})` };
  const n = fields.split(' ').length;
  if (n !== 5) return { ok: false, message: `"${t}" has ${n} field(s); write five: minute hour day-of-month month day-of-week (UTC), e.g. "0 3 * * *"` };
  const withoutNames = fields.replace(/\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)\b/gi, '');
  if (/h/i.test(withoutNames)) {
    return { ok: false, message: `"${t}": H (random slot) is not allowed; every daemon must compute the same slots` };
  }
  try {
    const e = CronExpressionParser.parse(fields, { tz: 'UTC', currentDate: new Date(0) });
    e.next();
  } catch (err) {
    return { ok: false, message: `"${t}": ${(err as Error).message}` };
  }
  return { ok: true, fields };
}

function fieldsOf(cron: string): string {
  const c = checkCron(cron);
  if (!c.ok) throw new CoordError('E_INVALID', `cron expression ${c.message}`);
  return c.fields;
}

const asMs = (t: string | number | null | undefined): number | null =>
  t === null || t === undefined ? null : typeof t === 'number' ? t : parseTimestamp(t);

/**
 * The latest slot at or before `now` (epoch ms), or null when there is none.
 * @throws CoordError E_INVALID for an invalid expression
 */
export function latestSlot(cron: string, now: number): number | null {
  // prev() is strictly before its start: start 1 ms after now so a slot at `now` counts.
  const e = CronExpressionParser.parse(fieldsOf(cron), { tz: 'UTC', currentDate: new Date(now + 1) });
  try {
    return e.prev().getTime();
  } catch {
    return null;
  }
}

/**
 * The next `count` slots strictly after `after` (epoch ms), as canonical timestamps.
 * @throws CoordError E_INVALID for an invalid expression
 */
export function nextSlots(cron: string, after: number, count: number): string[] {
  const e = CronExpressionParser.parse(fieldsOf(cron), { tz: 'UTC', currentDate: new Date(after) });
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push(formatTimestamp(e.next().getTime()));
    } catch {
      break;
    }
  }
  return out;
}

/**
 * The slot due now: the latest slot ≤ `now` that is after `lastSlot` — only the latest
 * missed slot, never the ones before it. With `lastSlot` null every past slot counts as
 * missed, so the latest one is due (callers pass `last_slot ?? created_at`, see
 * {@link scheduleDueSlot}).
 * @param lastSlot the last slot enqueued (timestamp or epoch ms), or null
 * @param now epoch ms
 * @returns the slot as a canonical timestamp, or null when nothing is due
 * @throws CoordError E_INVALID for an invalid expression
 */
export function dueSlot(cron: string, lastSlot: string | number | null, now: number): string | null {
  const slot = latestSlot(cron, now);
  if (slot === null) return null;
  const last = asMs(lastSlot);
  if (last !== null && slot <= last) return null;
  return formatTimestamp(slot);
}

/**
 * The slot a schedule entry has due now: none when disabled; slots count from `last_slot`,
 * else from `created_at` (a new entry does not fire for slots before it existed).
 * @throws CoordError E_INVALID for an invalid expression
 */
export function scheduleDueSlot(s: Schedule, now: number): string | null {
  if (s.enabled === false) return null;
  return dueSlot(s.cron, s.last_slot ?? s.created_at ?? null, now);
}

/**
 * The job id of a schedule's slot: `job-YYYYMMDD-HHMMSS-sched-<schedule id>`, the shape of
 * other job ids (sortable by time) with `sched-<id>` in place of `<actor>-<random>`.
 * Deterministic: the same schedule and slot give the same id on every daemon.
 * @throws CoordError E_INVALID when `slotIso` is not a timestamp or `scheduleId` not a schedule id
 */
export function scheduledJobId(scheduleId: string, slotIso: string): string {
  const t = parseTimestamp(slotIso);
  if (t === null) throw new CoordError('E_INVALID', `slot ${JSON.stringify(slotIso)} is not a timestamp`);
  if (!SCHEDULE_ID_RE.test(scheduleId)) throw new CoordError('E_INVALID', `schedule id ${JSON.stringify(scheduleId)} is invalid`);
  const iso = formatTimestamp(t);
  return `job-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-sched-${scheduleId}`;
}

export interface ScheduleRefusal {
  code: ErrorCode;
  message: string;
}

export type ScheduleTransition = { ok: true; doc: SchedulesFile; schedule: Schedule | null } | { ok: false; refusal: ScheduleRefusal };

const notFound = (id: string): ScheduleRefusal => ({ code: 'E_NOT_FOUND', message: `no schedule ${id} in coordination/schedules.json (coord schedule list shows them)` });

/** What `schedule add` gives. */
export interface NewSchedule {
  id: string;
  cron: string;
  job: JobTemplate;
  enabled: boolean;
}

/**
 * Adds a schedule; `last_slot` starts at the latest slot ≤ now, so nothing fires for the past.
 * @returns refusal E_USAGE for a bad id or cron, E_INVALID_STATE when the id exists
 */
export function addSchedule(doc: SchedulesFile, input: NewSchedule, actor: string, now: number): ScheduleTransition {
  if (!SCHEDULE_ID_RE.test(input.id)) return { ok: false, refusal: { code: 'E_USAGE', message: `schedule id ${JSON.stringify(input.id)}: letters, digits, '.', '_', '-', at most 64, starting with a letter or digit` } };
  const c = checkCron(input.cron);
  if (!c.ok) return { ok: false, refusal: { code: 'E_USAGE', message: `--cron ${c.message}` } };
  if (doc.schedules.some((s) => s.id === input.id)) return { ok: false, refusal: { code: 'E_INVALID_STATE', message: `schedule ${input.id} exists already; remove it first (coord schedule remove ${input.id}) or choose another id` } };
  const last = latestSlot(input.cron, now);
  const schedule: Schedule = {
    id: input.id, cron: input.cron.trim().replace(/\s+/g, ' '), enabled: input.enabled, job: input.job,
    created_at: formatTimestamp(now), created_by: actor, last_slot: last === null ? null : formatTimestamp(last),
  };
  return { ok: true, doc: { ...doc, schedules: [...doc.schedules, schedule] }, schedule };
}

/** Removes a schedule. @returns refusal E_NOT_FOUND */
export function removeSchedule(doc: SchedulesFile, id: string): ScheduleTransition {
  const s = doc.schedules.find((x) => x.id === id);
  if (!s) return { ok: false, refusal: notFound(id) };
  return { ok: true, doc: { ...doc, schedules: doc.schedules.filter((x) => x.id !== id) }, schedule: s };
}

/**
 * Enables or disables a schedule (same document back when nothing changes). Enabling moves
 * `last_slot` up to the latest slot ≤ now: slots missed while disabled are not run.
 * @returns refusal E_NOT_FOUND
 */
export function setScheduleEnabled(doc: SchedulesFile, id: string, enabled: boolean, now: number): ScheduleTransition {
  const s = doc.schedules.find((x) => x.id === id);
  if (!s) return { ok: false, refusal: notFound(id) };
  if ((s.enabled !== false) === enabled) return { ok: true, doc, schedule: s };
  let next: Schedule = { ...s, enabled };
  if (enabled) {
    const slot = checkCron(s.cron).ok ? latestSlot(s.cron, now) : null;
    const last = asMs(s.last_slot);
    if (slot !== null && (last === null || slot > last)) next = { ...next, last_slot: formatTimestamp(slot) };
  }
  return { ok: true, doc: { ...doc, schedules: doc.schedules.map((x) => (x.id === id ? next : x)) }, schedule: next };
}

/** The job input a schedule's template makes for one slot. */
export function jobInputOf(s: Schedule, slotIso: string): NewJobInput {
  const j = s.job;
  return {
    type: j.type, schedule_id: s.id,
    description: j.description ?? `scheduled by ${s.id} for ${slotIso}`,
    ...(j.priority !== undefined ? { priority: j.priority } : {}),
    ...(j.branch !== undefined ? { branch: j.branch } : {}),
    ...(j.commit !== undefined ? { commit: j.commit } : {}),
    ...(j.params ? { params: j.params } : {}),
    ...(j.requires ? { requires: j.requires } : {}),
    ...(j.max_attempts !== undefined ? { max_attempts: j.max_attempts } : {}),
  };
}

export type EnqueueResult =
  | { ok: true; schedules: SchedulesFile; jobs: JobsFile; job: JobRecord | null; slot: string }
  | { ok: false; refusal: ScheduleRefusal };

/**
 * Enqueues the job of schedule `id` for `slotIso` and sets `last_slot`, for one commit of
 * both files. Idempotent: when the slot's job id is already in the queue (another daemon won
 * the race) or `last_slot` is at or past the slot, nothing is added (`job` null) and
 * `last_slot` is only moved forward.
 * @returns refusal E_NOT_FOUND when the schedule is gone
 */
export function enqueueScheduledJob(schedules: SchedulesFile, jobs: JobsFile, id: string, slotIso: string, actor: string, now: number, policy: Policy): EnqueueResult {
  const s = schedules.schedules.find((x) => x.id === id);
  if (!s) return { ok: false, refusal: notFound(id) };
  const slot = parseTimestamp(slotIso);
  if (slot === null) return { ok: false, refusal: { code: 'E_INVALID', message: `slot ${slotIso} is not a timestamp` } };
  const last = asMs(s.last_slot);
  const advanced: SchedulesFile = last !== null && last >= slot
    ? schedules
    : { ...schedules, schedules: schedules.schedules.map((x) => (x.id === id ? { ...x, last_slot: formatTimestamp(slot) } : x)) };
  const jobId = scheduledJobId(id, slotIso);
  if ((last !== null && last >= slot) || jobs.jobs.some((j) => j.id === jobId)) return { ok: true, schedules: advanced, jobs, job: null, slot: formatTimestamp(slot) };
  const job = makeJob(jobInputOf(s, formatTimestamp(slot)), jobId, actor, now, policy);
  const t = addJob(jobs, job);
  if (!t.ok) return { ok: false, refusal: t.refusal };
  return { ok: true, schedules: advanced, jobs: t.doc, job, slot: formatTimestamp(slot) };
}
