/**
 * Schedules, pure and table-driven (DESIGN.md section 4): cron checking, the due slot
 * (only the latest missed one), the deterministic job id of a slot, and the enqueue
 * transition racing daemons agree on.
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import {
  addSchedule, checkCron, dueSlot, enqueueScheduledJob, latestSlot, nextSlots, removeSchedule, scheduledJobId, scheduleDueSlot,
  setScheduleEnabled, type Schedule,
} from '../../lib/schedules/model.js';
import type { JobsFile, SchedulesFile } from '../../lib/schemas/types.gen.js';

const t = (s: string) => Date.parse(s);

describe('checkCron', () => {
  test.each([
    { expr: '0 3 * * *', ok: true },
    { expr: '*/15 * * * *', ok: true },
    { expr: '0 9 * * MON-FRI', ok: true },
    { expr: '0 0 1 JAN *', ok: true },
    { expr: '30 4 * * thu', ok: true },
    { expr: '  0   3 * * *  ', ok: true },
    { expr: '@daily', ok: true },
    { expr: '@HOURLY', ok: true },
    { expr: '@weekdays', ok: true },
    { expr: '', ok: false, msg: /empty/ },
    { expr: '0 3 * *', ok: false, msg: /4 field/ },
    { expr: '0 0 3 * * *', ok: false, msg: /6 field/ },
    { expr: '61 * * * *', ok: false, msg: /61/ },
    { expr: '0 25 * * *', ok: false, msg: /25/ },
    { expr: 'H * * * *', ok: false, msg: /H \(random slot\)/ },
    { expr: '@secondly', ok: false, msg: /unknown macro/ },
    { expr: '0 0 31 2 *', ok: false, msg: /day of month/ },
    { expr: 'every day', ok: false, msg: /2 field/ },
  ])('$expr → ok $ok', ({ expr, ok, msg }) => {
    const c = checkCron(expr);
    expect(c.ok).toBe(ok);
    if (!c.ok && msg) expect(c.message).toMatch(msg);
  });
});

describe('dueSlot: the latest slot ≤ now after the last one, only the latest missed', () => {
  test.each([
    { name: 'nothing due since the last slot', cron: '0 3 * * *', last: '2026-11-30T03:00:00Z', now: '2026-11-30T12:00:00Z', due: null },
    { name: 'the next slot has come', cron: '0 3 * * *', last: '2026-11-30T03:00:00Z', now: '2026-12-01T03:00:10Z', due: '2026-12-01T03:00:00Z' },
    { name: 'a slot exactly at now counts', cron: '0 3 * * *', last: '2026-11-30T03:00:00Z', now: '2026-12-01T03:00:00Z', due: '2026-12-01T03:00:00Z' },
    { name: 'one second before the slot: not yet', cron: '0 3 * * *', last: '2026-11-30T03:00:00Z', now: '2026-12-01T02:59:59Z', due: null },
    { name: 'three missed nights: only the latest', cron: '0 3 * * *', last: '2026-11-27T03:00:00Z', now: '2026-11-30T12:00:00Z', due: '2026-11-30T03:00:00Z' },
    { name: 'never run: the latest past slot', cron: '*/15 * * * *', last: null, now: '2026-11-30T12:07:00Z', due: '2026-11-30T12:00:00Z' },
    { name: 'last slot as epoch ms', cron: '0 * * * *', last: t('2026-11-30T11:00:00Z'), now: '2026-11-30T12:30:00Z', due: '2026-11-30T12:00:00Z' },
    { name: 'a legacy-form last slot', cron: '0 * * * *', last: '2026-11-30 12:00', now: '2026-11-30T12:30:00Z', due: null },
    { name: 'macro', cron: '@weekly', last: '2026-11-22T00:00:00Z', now: '2026-11-30T12:00:00Z', due: '2026-11-29T00:00:00Z' },
    { name: 'evaluated in UTC whatever the zone', cron: '0 0 * * *', last: '2026-11-29T00:00:00Z', now: '2026-11-30T00:30:00Z', due: '2026-11-30T00:00:00Z' },
  ])('$name', ({ cron, last, now, due }) => {
    expect(dueSlot(cron, last, t(now))).toBe(due);
  });

  test('an invalid expression throws E_INVALID (the daemon reports it, never crashes silently)', () => {
    expect(() => dueSlot('61 * * * *', null, t('2026-11-30T12:00:00Z'))).toThrow(expect.objectContaining({ code: 'E_INVALID' }));
  });

  test('scheduleDueSlot: disabled never, else counted from last_slot or created_at', () => {
    const s: Schedule = { id: 'n', cron: '0 3 * * *', job: { type: 'build' }, created_at: '2026-11-30T10:00:00Z' };
    expect(scheduleDueSlot(s, t('2026-11-30T12:00:00Z'))).toBeNull(); // created after today's 03:00
    expect(scheduleDueSlot(s, t('2026-12-01T03:00:00Z'))).toBe('2026-12-01T03:00:00Z');
    expect(scheduleDueSlot({ ...s, enabled: false }, t('2026-12-01T03:00:00Z'))).toBeNull();
    expect(scheduleDueSlot({ ...s, last_slot: '2026-12-01T03:00:00Z' }, t('2026-12-01T04:00:00Z'))).toBeNull();
  });
});

test('latestSlot / nextSlots in UTC', () => {
  expect(latestSlot('30 4 * * *', t('2026-11-30T04:29:59Z'))).toBe(t('2026-11-29T04:30:00Z'));
  expect(nextSlots('0 */6 * * *', t('2026-11-30T05:00:00Z'), 5)).toEqual([
    '2026-11-30T06:00:00Z', '2026-11-30T12:00:00Z', '2026-11-30T18:00:00Z', '2026-12-01T00:00:00Z', '2026-12-01T06:00:00Z',
  ]);
  expect(nextSlots('0 0 29 2 *', t('2026-11-30T00:00:00Z'), 1)).toEqual(['2028-02-29T00:00:00Z']);
});

describe('scheduledJobId', () => {
  test.each([
    { id: 'nightly', slot: '2026-12-01T03:00:00Z', job: 'job-20261201-030000-sched-nightly' },
    { id: 'deb.arm64_v2', slot: '2026-12-01T03:00:00Z', job: 'job-20261201-030000-sched-deb.arm64_v2' },
    { id: 'nightly', slot: '2026-12-01 03:00', job: 'job-20261201-030000-sched-nightly' },
  ])('$id @ $slot → $job', ({ id, slot, job }) => {
    expect(scheduledJobId(id, slot)).toBe(job);
    expect(job).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/); // a valid record id
  });
  test('same schedule and slot → same id; another slot or schedule → another id', () => {
    const a = scheduledJobId('n', '2026-12-01T03:00:00Z');
    expect(scheduledJobId('n', '2026-12-01T03:00:00.000Z')).toBe(a);
    expect(scheduledJobId('n', '2026-12-02T03:00:00Z')).not.toBe(a);
    expect(scheduledJobId('m', '2026-12-01T03:00:00Z')).not.toBe(a);
  });
  test('a bad slot or schedule id throws E_INVALID', () => {
    expect(() => scheduledJobId('n', 'tomorrow')).toThrow(expect.objectContaining({ code: 'E_INVALID' }));
    expect(() => scheduledJobId('bad id', '2026-12-01T03:00:00Z')).toThrow(expect.objectContaining({ code: 'E_INVALID' }));
  });
});

describe('transitions', () => {
  const empty: SchedulesFile = { $schema: '../schemas/schedules.schema.json', schedules: [] };
  const now = t('2026-11-30T12:00:00Z');
  const added = addSchedule(empty, { id: 'nightly', cron: '0 3 * * *', job: { type: 'build', priority: 2 }, enabled: true }, 'alice', now);

  test('add starts from the latest past slot, so nothing fires for the past', () => {
    expect(added).toMatchObject({ ok: true, schedule: { id: 'nightly', created_by: 'alice', created_at: '2026-11-30T12:00:00Z', last_slot: '2026-11-30T03:00:00Z', enabled: true } });
    const s = added.ok ? added.schedule! : null;
    expect(scheduleDueSlot(s!, now)).toBeNull();
  });
  test.each([
    { name: 'duplicate id', fn: (d: SchedulesFile) => addSchedule(d, { id: 'nightly', cron: '@daily', job: { type: 'build' }, enabled: true }, 'a', now), code: 'E_INVALID_STATE' },
    { name: 'bad id', fn: (d: SchedulesFile) => addSchedule(d, { id: '-x', cron: '@daily', job: { type: 'build' }, enabled: true }, 'a', now), code: 'E_USAGE' },
    { name: 'bad cron', fn: (d: SchedulesFile) => addSchedule(d, { id: 'x', cron: '* *', job: { type: 'build' }, enabled: true }, 'a', now), code: 'E_USAGE' },
    { name: 'remove unknown', fn: (d: SchedulesFile) => removeSchedule(d, 'nope'), code: 'E_NOT_FOUND' },
    { name: 'enable unknown', fn: (d: SchedulesFile) => setScheduleEnabled(d, 'nope', true, now), code: 'E_NOT_FOUND' },
  ])('refused: $name → $code', ({ fn, code }) => {
    const r = fn(added.ok ? added.doc : empty);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal.code).toBe(code);
  });
  test('disable, then enable later: slots missed while disabled are skipped', () => {
    const d0 = added.ok ? added.doc : empty;
    const off = setScheduleEnabled(d0, 'nightly', false, now);
    expect(off.ok && off.schedule).toMatchObject({ enabled: false });
    const again = setScheduleEnabled(off.ok ? off.doc : d0, 'nightly', false, now);
    expect(again.ok && again.doc).toBe(off.ok && off.doc); // already disabled: same document
    const later = t('2026-12-03T12:00:00Z');
    const on = setScheduleEnabled(off.ok ? off.doc : d0, 'nightly', true, later);
    expect(on.ok && on.schedule).toMatchObject({ enabled: true, last_slot: '2026-12-03T03:00:00Z' });
    expect(scheduleDueSlot(on.ok ? on.schedule! : ({} as Schedule), later)).toBeNull();
  });
  test('remove', () => {
    const r = removeSchedule(added.ok ? added.doc : empty, 'nightly');
    expect(r.ok && r.doc.schedules).toEqual([]);
  });

  test('enqueueScheduledJob adds the slot\'s job and moves last_slot; a second daemon adds nothing', () => {
    const sched = added.ok ? added.doc : empty;
    const jobs: JobsFile = { $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [] };
    const slot = '2026-12-01T03:00:00Z';
    const at = t('2026-12-01T03:00:05Z');
    const first = enqueueScheduledJob(sched, jobs, 'nightly', slot, 'build1', at, DEFAULT_POLICY);
    expect(first).toMatchObject({ ok: true, slot, job: { id: 'job-20261201-030000-sched-nightly', type: 'build', priority: 2, schedule_id: 'nightly', created_by: 'build1', status: 'queued' } });
    if (!first.ok) return;
    expect(first.schedules.schedules[0].last_slot).toBe(slot);
    expect(first.jobs.jobs).toHaveLength(1);
    // build2 lost the race and re-runs on the fresh state: nothing to add, nothing to move.
    const second = enqueueScheduledJob(first.schedules, first.jobs, 'nightly', slot, 'build2', at, DEFAULT_POLICY);
    expect(second).toMatchObject({ ok: true, job: null });
    if (second.ok) {
      expect(second.jobs).toBe(first.jobs);
      expect(second.schedules).toBe(first.schedules);
    }
    // A daemon that saw the job (but an old last_slot) only moves last_slot.
    const third = enqueueScheduledJob(sched, first.jobs, 'nightly', slot, 'build2', at, DEFAULT_POLICY);
    expect(third.ok && third.job).toBeNull();
    expect(third.ok && third.schedules.schedules[0].last_slot).toBe(slot);
    expect(enqueueScheduledJob(sched, jobs, 'gone', slot, 'build1', at, DEFAULT_POLICY)).toMatchObject({ ok: false, refusal: { code: 'E_NOT_FOUND' } });
  });
});
