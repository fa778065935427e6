/**
 * Schedule commands as transactions on `coordination/schedules.json` (DESIGN.md section 4),
 * and the daemon's "enqueue a due slot" on schedules.json + jobs.json in one commit.
 */
import type { RemoteSpec } from '../git/repo.js';
import type { JobRecord } from '../jobs/model.js';
import type { JobsFile, SchedulesFile } from '../schemas/types.gen.js';
import { PATHS, schemaRefFor } from '../store/kinds.js';
import { runTransaction, type TxOutcome } from '../tx/transaction.js';
import type { Clock } from '../util/time.js';
import { addSchedule, enqueueScheduledJob, removeSchedule, setScheduleEnabled, type NewSchedule, type Schedule, type ScheduleTransition } from './model.js';

export interface ScheduleOpOptions {
  repoRoot: string;
  actor: string;
  remote?: RemoteSpec;
  clock?: Clock;
}

export const emptySchedules = (): SchedulesFile => ({ $schema: schemaRefFor(PATHS.schedules, 'schedules.schema.json'), schedules: [] });

function schedulesTx(o: ScheduleOpOptions, action: string, id: string, decide: (doc: SchedulesFile, now: number) => ScheduleTransition): Promise<TxOutcome<Schedule | null>> {
  return runTransaction<Schedule | null>({
    repoRoot: o.repoRoot, actor: o.actor, action, paths: [PATHS.schedules],
    ...(o.remote ? { remote: o.remote } : {}), ...(o.clock ? { clock: o.clock } : {}),
    mutate: (s, now) => {
      const doc = (s.files.get(PATHS.schedules) as SchedulesFile | null) ?? emptySchedules();
      const t = decide(doc, now);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      if (t.doc === doc) return { kind: 'noop', result: t.schedule };
      return { kind: 'commit', writes: new Map([[PATHS.schedules, t.doc]]), summary: id, trailers: { Schedule: id }, result: t.schedule };
    },
  });
}

/**
 * Adds a schedule after checking its job type against shared/build_config.json.
 * @returns refused E_USAGE (bad id, cron or type), E_INVALID_STATE (id exists)
 */
export function addScheduleTx(o: ScheduleOpOptions, input: NewSchedule): Promise<TxOutcome<Schedule | null>> {
  return runTransaction<Schedule | null>({
    repoRoot: o.repoRoot, actor: o.actor, action: 'schedule.add', paths: [PATHS.schedules],
    ...(o.remote ? { remote: o.remote } : {}), ...(o.clock ? { clock: o.clock } : {}),
    mutate: (s, now) => {
      const types = Object.keys(s.config?.job_types ?? {});
      if (!types.includes(input.job.type)) {
        return { kind: 'refuse', refusal: { code: 'E_USAGE', message: `unknown job type "${input.job.type}"; shared/build_config.json defines: ${types.join(', ') || 'none'}`, details: { known_types: types } } };
      }
      const doc = (s.files.get(PATHS.schedules) as SchedulesFile | null) ?? emptySchedules();
      const t = addSchedule(doc, input, o.actor, now);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      return { kind: 'commit', writes: new Map([[PATHS.schedules, t.doc]]), summary: `${input.id} "${input.cron}" ${input.job.type}`, trailers: { Schedule: input.id }, result: t.schedule };
    },
  });
}

/** Removes a schedule. @returns refused E_NOT_FOUND */
export function removeScheduleTx(o: ScheduleOpOptions, id: string): Promise<TxOutcome<Schedule | null>> {
  return schedulesTx(o, 'schedule.remove', id, (doc) => removeSchedule(doc, id));
}

/** Enables or disables a schedule (noop when already so). @returns refused E_NOT_FOUND */
export function setScheduleEnabledTx(o: ScheduleOpOptions, id: string, enabled: boolean): Promise<TxOutcome<Schedule | null>> {
  return schedulesTx(o, enabled ? 'schedule.enable' : 'schedule.disable', id, (doc, now) => setScheduleEnabled(doc, id, enabled, now));
}

/**
 * For the daemon: enqueues schedule `id`'s job for `slot` and advances `last_slot`, in one
 * commit of both files. Racing daemons agree: the job id is derived from schedule + slot,
 * so the loser of the compare-and-swap re-runs, sees the job or the moved `last_slot`, and
 * writes nothing.
 * @returns the job added (null when another daemon did it first)
 */
export async function enqueueDueSlotTx(o: ScheduleOpOptions, id: string, slot: string): Promise<JobRecord | null> {
  const out = await runTransaction<JobRecord | null>({
    repoRoot: o.repoRoot, actor: o.actor, action: 'schedule.enqueue', paths: [PATHS.schedules, PATHS.jobs],
    ...(o.remote ? { remote: o.remote } : {}), ...(o.clock ? { clock: o.clock } : {}),
    mutate: (s, now) => {
      const sched = (s.files.get(PATHS.schedules) as SchedulesFile | null) ?? emptySchedules();
      const jobs = (s.files.get(PATHS.jobs) as JobsFile | null) ?? { $schema: schemaRefFor(PATHS.jobs, 'jobs.schema.json'), paused: null, grounded: {}, jobs: [] };
      const r = enqueueScheduledJob(sched, jobs, id, slot, o.actor, now, s.policy);
      if (!r.ok) return { kind: 'noop', result: null };
      const writes = new Map<string, unknown>();
      if (r.schedules !== sched) writes.set(PATHS.schedules, r.schedules);
      if (r.jobs !== jobs) writes.set(PATHS.jobs, r.jobs);
      if (!writes.size) return { kind: 'noop', result: null };
      return { kind: 'commit', writes, summary: `${id} slot ${r.slot}${r.job ? ` as ${r.job.id}` : ''}`, trailers: { Schedule: id, ...(r.job ? { Job: r.job.id } : {}) }, result: r.job };
    },
  });
  return out.status === 'committed' ? out.result : null;
}
