/**
 * Pure core of the merge driver: table-driven cases, one or more per rule of
 * lib/merge/merge-records.ts (DESIGN.md sections 3, 4, 6, 7).
 */
import { mergeCoordinationFile } from '../../lib/merge/merge-records.js';
import type { CoordinationKind } from '../../lib/merge/merge-records.js';

type Obj = Record<string, unknown>;

/** `2026-03-01T10:MM:00Z` */
const at = (min: number): string => `2026-03-01T10:${String(min).padStart(2, '0')}:00Z`;

const jobsDoc = (jobs: Obj[], extra: Obj = {}): Obj => ({ $schema: '../schemas/jobs.schema.json', paused: null, jobs, ...extra });
const messagesDoc = (messages: Obj[]): Obj => ({ $schema: '../schemas/messages.schema.json', messages });
const locksDoc = (locks: Obj): Obj => ({ $schema: '../schemas/locks.schema.json', locks });
const schedulesDoc = (schedules: Obj[]): Obj => ({ $schema: '../schemas/schedules.schema.json', schedules });

const job = (id: string, over: Obj = {}): Obj => ({
  id, type: 'build', priority: 5, description: `job ${id}`, status: 'queued', assigned_to: null, attempt: 0,
  max_attempts: 3, lease_expires_at: null, cancel_requested: false, created_at: at(0), created_by: 'build1',
  started_at: null, completed_at: null, exit_code: null, error: null, failed_on: [], history: [], artifacts: [],
  ...over,
});
/** One history entry; `end` given → the attempt is over. */
const h = (attempt: number, builder: string, status: string, end?: number, over: Obj = {}): Obj => ({
  attempt, builder, claimed_at: at(attempt), ended_at: end === undefined ? null : at(end), status, ...over,
});
/** A job running attempt `n` on `builder`. */
const running = (id: string, builder: string, n: number, over: Obj = {}): Obj =>
  job(id, { status: 'running', assigned_to: builder, attempt: n, started_at: at(n), lease_expires_at: at(n + 5), history: [h(n, builder, 'running')], ...over });
/** Attempt 1 of `id` on build1 ended with `status` at minute 9. */
const ended = (id: string, status: string, over: Obj = {}): Obj => running(id, 'build1', 1, {
  status, lease_expires_at: null, completed_at: at(9), exit_code: status === 'completed' ? 0 : 1,
  error: status === 'failed' ? 'exit 1' : null, history: [h(1, 'build1', status, 9)], ...over,
});

const msg = (id: string, over: Obj = {}): Obj => ({
  id, from: 'build1', to: 'all', type: 'info', priority: 'normal', subject: `s ${id}`, body: `b ${id}`,
  timestamp: at(0), read_by: [], acked_by: [], ...over,
});
const lock = (by: string, token: string, expires: string, over: Obj = {}): Obj => ({
  locked_by: by, locked_at: at(0), expires_at: expires, token, reason: 'deploy', ...over,
});
const sched = (id: string, over: Obj = {}): Obj => ({
  id, cron: '0 2 * * *', enabled: true, job: { type: 'build', priority: 5, params: { A: '1' } }, last_slot: null, ...over,
});

interface Case {
  name: string;
  kind: CoordinationKind;
  base: unknown;
  ours: unknown;
  theirs: unknown;
  /** The whole merged document (compared with toEqual). */
  merged: unknown;
  /** Exact conflict pointers, in order. */
  conflicts?: string[];
  /** Each must match one conflict reason. */
  reasons?: RegExp[];
  /** Number of notes. */
  notes?: number;
  /** Record ids (or lock names) of the merged document, in order. */
  order?: string[];
}

const cases: Case[] = [
  // --- records added, deleted, reordered (DESIGN.md section 3: merge by id) ---
  {
    name: 'both sides add different jobs: both kept, ours first then theirs',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([job('a'), job('b')]), theirs: jobsDoc([job('a'), job('c')]),
    merged: jobsDoc([job('a'), job('b'), job('c')]), order: ['a', 'b', 'c'],
  },
  {
    name: 'order is ours, then records only in theirs in their order',
    kind: 'jobs', base: jobsDoc([job('a'), job('b')]), ours: jobsDoc([job('b'), job('a')]),
    theirs: jobsDoc([job('d'), job('a'), job('b'), job('c')]),
    merged: jobsDoc([job('b'), job('a'), job('d'), job('c')]), order: ['b', 'a', 'd', 'c'],
  },
  {
    name: 'both add the same job with identical content: kept once',
    kind: 'jobs', base: jobsDoc([]), ours: jobsDoc([job('a')]), theirs: jobsDoc([job('a')]), merged: jobsDoc([job('a')]),
  },
  {
    name: 'file added on both sides (base null), same id, different priority: conflict keeps ours',
    kind: 'jobs', base: null, ours: jobsDoc([job('x'), job('a', { priority: 1 })]), theirs: jobsDoc([job('a', { priority: 2 })]),
    merged: jobsDoc([job('x'), job('a', { priority: 1 })]),
    conflicts: ['/jobs/1/priority'], reasons: [/job "a": field "priority" changed differently on both sides \(ours 1, theirs 2\)/],
  },
  {
    name: 'deleted on ours, unchanged on theirs: deleted',
    kind: 'jobs', base: jobsDoc([job('a'), job('b')]), ours: jobsDoc([job('b')]), theirs: jobsDoc([job('a'), job('b'), job('c')]),
    merged: jobsDoc([job('b'), job('c')]),
  },
  {
    name: 'deleted on ours, changed on theirs: the changed job is kept, a note and no conflict',
    kind: 'jobs', base: jobsDoc([job('a'), job('b')]), ours: jobsDoc([job('b')]), theirs: jobsDoc([job('a', { priority: 1 }), job('b')]),
    merged: jobsDoc([job('b'), job('a', { priority: 1 })]), notes: 1,
  },
  {
    name: 'deleted on theirs, changed on ours: the changed message is kept',
    kind: 'messages', base: messagesDoc([msg('m1'), msg('m2')]), ours: messagesDoc([msg('m1', { read_by: ['build2'] }), msg('m2')]),
    theirs: messagesDoc([msg('m2')]), merged: messagesDoc([msg('m1', { read_by: ['build2'] }), msg('m2')]), notes: 1,
  },
  {
    name: 'deleted on both sides: gone',
    kind: 'jobs', base: jobsDoc([job('a'), job('b')]), ours: jobsDoc([job('b')]), theirs: jobsDoc([job('b'), job('c')]),
    merged: jobsDoc([job('b'), job('c')]),
  },
  // --- per-field three-way merge ---
  {
    name: 'identical edits on both sides: no conflict',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([job('a', { priority: 1, description: 'urgent' })]),
    theirs: jobsDoc([job('a', { priority: 1, description: 'urgent' }), job('b')]),
    merged: jobsDoc([job('a', { priority: 1, description: 'urgent' }), job('b')]),
  },
  {
    name: 'different fields changed on each side: both taken',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([job('a', { priority: 1 })]), theirs: jobsDoc([job('a', { description: 'new' })]),
    merged: jobsDoc([job('a', { priority: 1, description: 'new' })]),
  },
  {
    name: 'a field removed on one side and unchanged on the other: removed',
    kind: 'jobs', base: jobsDoc([job('a', { params: { A: '1' } })]), ours: jobsDoc([job('a', { priority: 1, params: { A: '1' } })]),
    theirs: jobsDoc([job('a')]), merged: jobsDoc([job('a', { priority: 1 })]),
  },
  {
    name: 'nested map (params) merges per key',
    kind: 'jobs', base: jobsDoc([job('a', { params: { A: '1' } })]), ours: jobsDoc([job('a', { params: { A: '2' } })]),
    theirs: jobsDoc([job('a', { params: { A: '1', B: '3' } })]), merged: jobsDoc([job('a', { params: { A: '2', B: '3' } })]),
  },
  {
    name: 'unknown extra fields are preserved (record field from theirs, top-level key from ours)',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([job('a', { priority: 1 })], { x_site: { owner: 'ops' } }),
    theirs: jobsDoc([job('a', { x_ticket: 'OPS-7' })]),
    merged: jobsDoc([job('a', { priority: 1, x_ticket: 'OPS-7' })], { x_site: { owner: 'ops' } }),
  },
  {
    name: 'unknown top-level key changed differently on both sides: conflict',
    kind: 'locks', base: locksDoc({}), ours: { ...locksDoc({}), x_note: 'a' }, theirs: { ...locksDoc({}), x_note: 'b' },
    merged: { ...locksDoc({}), x_note: 'a' }, conflicts: ['/x_note'], reasons: [/locks\.json: field "x_note"/],
  },
  // --- jobs: the state machine (DESIGN.md section 4) ---
  {
    name: 'running (lease renewed) vs completed: completed with its result fields, no conflict',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]), ours: jobsDoc([running('a', 'build1', 1, { lease_expires_at: at(11) })]),
    theirs: jobsDoc([ended('a', 'completed')]), merged: jobsDoc([ended('a', 'completed')]), notes: 1,
  },
  {
    name: 'one side requests cancel, the other completes: completed, cancel_requested kept',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]), ours: jobsDoc([running('a', 'build1', 1, { cancel_requested: true })]),
    theirs: jobsDoc([ended('a', 'completed')]), merged: jobsDoc([ended('a', 'completed', { cancel_requested: true })]),
  },
  {
    name: 'queued job cancelled on one side, claimed on the other: cancelled wins with its claim fields',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([job('a', { status: 'cancelled', completed_at: at(2) })]),
    theirs: jobsDoc([running('a', 'build2', 1)]),
    merged: jobsDoc([job('a', { status: 'cancelled', completed_at: at(2) })]), notes: 1,
  },
  {
    name: 'claimed on one side, priority edited on the other: both',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([running('a', 'build1', 1)]), theirs: jobsDoc([job('a', { priority: 1 })]),
    merged: jobsDoc([running('a', 'build1', 1, { priority: 1 })]),
  },
  {
    name: 'completed vs failed with the same attempt: one conflict on status, ours kept with its result fields',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]), ours: jobsDoc([ended('a', 'completed')]),
    theirs: jobsDoc([ended('a', 'failed', { completed_at: at(8) })]), merged: jobsDoc([ended('a', 'completed')]),
    conflicts: ['/jobs/0/status'],
    reasons: [/job "a": field "status" changed differently on both sides \(ours "completed", theirs "failed", attempts 1 and 1\)/],
  },
  {
    name: 'cancelled vs completed with the same attempt: conflict, ours kept whole (no mixed record)',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]), ours: jobsDoc([ended('a', 'cancelled', { exit_code: null, cancel_requested: true })]),
    theirs: jobsDoc([ended('a', 'completed')]), merged: jobsDoc([ended('a', 'cancelled', { exit_code: null, cancel_requested: true })]),
    conflicts: ['/jobs/0/status'], reasons: [/job "a": field "status"/],
  },
  {
    name: 'both terminal with different attempts: the later attempt wins the result fields',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]), ours: jobsDoc([ended('a', 'completed')]),
    theirs: jobsDoc([running('a', 'build2', 2, {
      status: 'failed', lease_expires_at: null, completed_at: at(12), exit_code: 2, error: 'exit 2', failed_on: ['build2'],
      history: [h(1, 'build1', 'lease_lost', 6), h(2, 'build2', 'failed', 12)],
    })]),
    merged: jobsDoc([running('a', 'build2', 2, {
      status: 'failed', lease_expires_at: null, completed_at: at(12), exit_code: 2, error: 'exit 2', failed_on: ['build2'],
      history: [h(1, 'build1', 'lease_lost', 6), h(2, 'build2', 'failed', 12)],
    })]),
    notes: 1,
  },
  {
    name: 'blocked beats failed',
    kind: 'jobs', base: jobsDoc([running('a', 'build2', 2, { failed_on: ['build1'] })]),
    ours: jobsDoc([running('a', 'build2', 2, { status: 'failed', lease_expires_at: null, error: 'e', failed_on: ['build1', 'build2'] })]),
    theirs: jobsDoc([running('a', 'build2', 2, { status: 'blocked', lease_expires_at: null, error: 'failed on build1, build2', failed_on: ['build1', 'build2'] })]),
    merged: jobsDoc([running('a', 'build2', 2, { status: 'blocked', lease_expires_at: null, error: 'failed on build1, build2', failed_on: ['build1', 'build2'] })]),
    notes: 1,
  },
  {
    name: 'running beats queued when both sides set the status (same attempt)',
    kind: 'jobs', base: null, ours: jobsDoc([job('a', { attempt: 1 })]), theirs: jobsDoc([running('a', 'build2', 1)]),
    merged: jobsDoc([running('a', 'build2', 1)]),
  },
  {
    name: 'requeue (lease lost) vs lease renewal: the requeue, the only status change, brings its claim fields',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]), ours: jobsDoc([running('a', 'build1', 1, { lease_expires_at: at(11) })]),
    theirs: jobsDoc([running('a', 'build1', 1, { status: 'queued', assigned_to: null, lease_expires_at: null, history: [h(1, 'build1', 'lease_lost', 7)] })]),
    merged: jobsDoc([running('a', 'build1', 1, { status: 'queued', assigned_to: null, lease_expires_at: null, history: [h(1, 'build1', 'lease_lost', 7)] })]),
    notes: 1,
  },
  {
    name: 'requeued on one side, re-claimed with a higher attempt on the other: the newer claim wins',
    kind: 'jobs', base: jobsDoc([running('a', 'build1', 1)]),
    ours: jobsDoc([running('a', 'build1', 1, { status: 'queued', assigned_to: null, lease_expires_at: null, history: [h(1, 'build1', 'lease_lost', 7)] })]),
    theirs: jobsDoc([running('a', 'build2', 2, { history: [h(1, 'build1', 'lease_lost', 7), h(2, 'build2', 'running')] })]),
    merged: jobsDoc([running('a', 'build2', 2, { history: [h(1, 'build1', 'lease_lost', 7), h(2, 'build2', 'running')] })]),
    notes: 1,
  },
  {
    name: 'both claimed, higher attempt wins the claim fields; history merged by attempt (the ended entry wins)',
    kind: 'jobs', base: jobsDoc([job('a')]), ours: jobsDoc([running('a', 'build1', 1)]),
    theirs: jobsDoc([running('a', 'build2', 2, { history: [h(1, 'build2', 'lease_lost', 4), h(2, 'build2', 'running')] })]),
    merged: jobsDoc([running('a', 'build2', 2, { history: [h(1, 'build2', 'lease_lost', 4), h(2, 'build2', 'running')] })]),
    notes: 1,
  },
  {
    name: 'history: union sorted by attempt when each side changed a different attempt',
    kind: 'jobs', base: jobsDoc([running('a', 'build2', 2, { history: [h(1, 'build1', 'failed', 1), h(2, 'build2', 'running')] })]),
    ours: jobsDoc([running('a', 'build2', 2, { status: 'queued', assigned_to: null, lease_expires_at: null, history: [h(1, 'build1', 'failed', 1), h(2, 'build2', 'lease_lost', 8)] })]),
    theirs: jobsDoc([running('a', 'build2', 2, { history: [h(1, 'build1', 'failed', 1, { error: 'disk full' }), h(2, 'build2', 'running')] })]),
    merged: jobsDoc([running('a', 'build2', 2, { status: 'queued', assigned_to: null, lease_expires_at: null, history: [h(1, 'build1', 'failed', 1, { error: 'disk full' }), h(2, 'build2', 'lease_lost', 8)] })]),
  },
  {
    name: 'history: the same ended attempt edited differently on both sides: conflict',
    kind: 'jobs', base: jobsDoc([ended('a', 'failed')]),
    ours: jobsDoc([ended('a', 'failed', { history: [h(1, 'build1', 'failed', 9, { error: 'x' })] })]),
    theirs: jobsDoc([ended('a', 'failed', { history: [h(1, 'build1', 'failed', 9, { error: 'y' })] })]),
    merged: jobsDoc([ended('a', 'failed', { history: [h(1, 'build1', 'failed', 9, { error: 'x' })] })]),
    conflicts: ['/jobs/0/history/0'], reasons: [/job "a": attempt 1 in "history"/],
  },
  {
    name: 'cancel_requested set differently on both sides (both added): true wins',
    kind: 'jobs', base: null, ours: jobsDoc([job('a', { cancel_requested: false })]), theirs: jobsDoc([job('a', { cancel_requested: true })]),
    merged: jobsDoc([job('a', { cancel_requested: true })]),
  },
  {
    name: 'failed_on is a set: union, ours first',
    kind: 'jobs', base: jobsDoc([job('a', { failed_on: ['build3'] })]), ours: jobsDoc([job('a', { failed_on: ['build3', 'build1'] })]),
    theirs: jobsDoc([job('a', { failed_on: ['build3', 'build2'] })]), merged: jobsDoc([job('a', { failed_on: ['build3', 'build1', 'build2'] })]),
  },
  {
    name: 'paused on one side, a job added on the other: both',
    kind: 'jobs', base: jobsDoc([]), ours: jobsDoc([], { paused: { by: 'build1', at: at(1) } }), theirs: jobsDoc([job('a')]),
    merged: jobsDoc([job('a')], { paused: { by: 'build1', at: at(1) } }),
  },
  {
    name: 'paused differently on both sides: conflict on /paused',
    kind: 'jobs', base: jobsDoc([]), ours: jobsDoc([], { paused: { by: 'build1', at: at(1) } }), theirs: jobsDoc([], { paused: { by: 'build2', at: at(2) } }),
    merged: jobsDoc([], { paused: { by: 'build1', at: at(1) } }), conflicts: ['/paused'], reasons: [/jobs\.json: field "paused"/],
  },
  // --- messages (DESIGN.md section 7: read and ack per recipient) ---
  {
    name: 'one message read by different builders on each side: read_by and acked_by are unions',
    kind: 'messages', base: messagesDoc([msg('m1', { read_by: ['build3'] })]),
    ours: messagesDoc([msg('m1', { read_by: ['build3', 'build1'], acked_by: ['build1'] })]),
    theirs: messagesDoc([msg('m1', { read_by: ['build3', 'build2'], acked_by: ['build2'] })]),
    merged: messagesDoc([msg('m1', { read_by: ['build3', 'build1', 'build2'], acked_by: ['build1', 'build2'] })]),
  },
  {
    name: 'tags: union of additions, a removal on one side stays removed',
    kind: 'messages', base: messagesDoc([msg('m1', { tags: ['ci', 'old'] })]), ours: messagesDoc([msg('m1', { tags: ['ci', 'old', 'deb'] })]),
    theirs: messagesDoc([msg('m1', { tags: ['ci'] })]), merged: messagesDoc([msg('m1', { tags: ['ci', 'deb'] })]),
  },
  {
    name: 'message body edited differently on both sides: conflict naming the message',
    kind: 'messages', base: messagesDoc([msg('m0'), msg('m1')]), ours: messagesDoc([msg('m0'), msg('m1', { body: 'x' })]),
    theirs: messagesDoc([msg('m0'), msg('m1', { body: 'y' })]), merged: messagesDoc([msg('m0'), msg('m1', { body: 'x' })]),
    conflicts: ['/messages/1/body'], reasons: [/message "m1": field "body"/],
  },
  // --- locks (DESIGN.md section 6) ---
  {
    name: 'lock acquired on both sides with different tokens: conflict, ours kept (name escaped in the pointer)',
    kind: 'locks', base: locksDoc({}), ours: locksDoc({ 'ci/deploy': lock('build1', 't1', at(5)) }),
    theirs: locksDoc({ 'ci/deploy': lock('build2', 't2', at(5)) }), merged: locksDoc({ 'ci/deploy': lock('build1', 't1', at(5)) }),
    conflicts: ['/locks/ci~1deploy'], reasons: [/lock "ci\/deploy": acquired on both sides with different tokens \(ours by "build1", theirs by "build2"\)/],
  },
  {
    name: 'same token renewed on both sides: the later expires_at wins (legacy timestamps parsed)',
    kind: 'locks', base: locksDoc({ deploy: lock('build1', 't1', at(5)) }),
    ours: locksDoc({ deploy: lock('build1', 't1', '2026-03-01 10:20', { renewed_at: at(15) }) }),
    theirs: locksDoc({ deploy: lock('build1', 't1', at(10), { renewed_at: at(5) }) }),
    merged: locksDoc({ deploy: lock('build1', 't1', '2026-03-01 10:20', { renewed_at: at(15) }) }),
  },
  {
    name: 'lock released on ours, renewed on theirs: conflict, ours (released) kept',
    kind: 'locks', base: locksDoc({ deploy: lock('build1', 't1', at(5)) }), ours: locksDoc({}),
    theirs: locksDoc({ deploy: lock('build1', 't1', at(10)) }), merged: locksDoc({}),
    conflicts: ['/locks/deploy'], reasons: [/lock "deploy": released on ours but renewed or re-acquired/],
  },
  {
    name: 'lock released on theirs, unchanged on ours: released',
    kind: 'locks', base: locksDoc({ deploy: lock('build1', 't1', at(5)), ci: lock('build2', 't2', at(5)) }),
    ours: locksDoc({ deploy: lock('build1', 't1', at(5)) }), theirs: locksDoc({ ci: lock('build2', 't2', at(5)) }), merged: locksDoc({}),
  },
  {
    name: 'different locks acquired on each side: both, ours key order then new names',
    kind: 'locks', base: locksDoc({ a: lock('build3', 't3', at(5)) }), ours: locksDoc({ b: lock('build1', 't1', at(5)), a: lock('build3', 't3', at(5)) }),
    theirs: locksDoc({ a: lock('build3', 't3', at(5)), c: lock('build2', 't2', at(5)) }),
    merged: locksDoc({ b: lock('build1', 't1', at(5)), a: lock('build3', 't3', at(5)), c: lock('build2', 't2', at(5)) }), order: ['b', 'a', 'c'],
  },
  // --- schedules ---
  {
    name: 'schedules: both add; last_slot advanced on both takes the later; nested job template merges per field',
    kind: 'schedules', base: schedulesDoc([sched('nightly', { last_slot: at(0) })]),
    ours: schedulesDoc([sched('nightly', { last_slot: at(2), job: { type: 'build', priority: 1, params: { A: '1' } } }), sched('weekly')]),
    theirs: schedulesDoc([sched('nightly', { last_slot: at(1), job: { type: 'build', priority: 5, params: { A: '2' } } }), sched('hourly')]),
    merged: schedulesDoc([sched('nightly', { last_slot: at(2), job: { type: 'build', priority: 1, params: { A: '2' } } }), sched('weekly'), sched('hourly')]),
    order: ['nightly', 'weekly', 'hourly'],
  },
  // --- documents that cannot be merged by record ---
  {
    name: 'a job without an id on ours: conflict on the list, ours kept whole',
    kind: 'jobs', base: jobsDoc([]), ours: jobsDoc([{ type: 'build' }]), theirs: jobsDoc([job('a')]),
    merged: jobsDoc([{ type: 'build' }]), conflicts: ['/jobs'],
  },
  {
    name: 'theirs is not a JSON object: conflict on the whole document, ours kept',
    kind: 'messages', base: messagesDoc([]), ours: messagesDoc([msg('m1')]), theirs: [],
    merged: messagesDoc([msg('m1')]), conflicts: [''],
  },
];

function idsOf(kind: CoordinationKind, doc: unknown): string[] {
  const container = (doc as Obj)[kind];
  return Array.isArray(container) ? container.map((r) => String((r as Obj).id)) : Object.keys(container as Obj);
}

describe('mergeCoordinationFile', () => {
  test.each(cases)('$name', (c) => {
    const inputs = JSON.stringify([c.base, c.ours, c.theirs]);
    const result = mergeCoordinationFile(c.kind, c.base, c.ours, c.theirs);
    expect(result.merged).toEqual(c.merged);
    expect(result.conflicts.map((x) => x.pointer)).toEqual(c.conflicts ?? []);
    for (const re of c.reasons ?? []) expect(result.conflicts.map((x) => x.reason)).toContainEqual(expect.stringMatching(re));
    if (c.notes !== undefined) expect(result.notes).toHaveLength(c.notes);
    if (c.order) expect(idsOf(c.kind, result.merged)).toEqual(c.order);
    // Pure: the inputs are never modified.
    expect(JSON.stringify([c.base, c.ours, c.theirs])).toBe(inputs);
  });

  test('a side unchanged from base yields the other side exactly (key order too)', () => {
    const base = jobsDoc([job('a')]);
    const theirs = jobsDoc([job('b'), running('a', 'build2', 1)], { x_extra: 1 });
    const result = mergeCoordinationFile('jobs', base, base, theirs);
    expect(JSON.stringify(result.merged)).toBe(JSON.stringify(theirs));
    expect(result.conflicts).toEqual([]);
  });

  test('a "__proto__" lock name stays data', () => {
    const theirs = JSON.parse('{"$schema":"x","locks":{"__proto__":{"locked_by":"build2","locked_at":"2026-03-01T10:00:00Z","expires_at":"2026-03-01T10:05:00Z","token":"t","reason":"r"}}}') as Obj;
    const ours = locksDoc({ a: lock('build1', 't1', at(5)) });
    const result = mergeCoordinationFile('locks', locksDoc({}), { ...ours, $schema: 'x' }, theirs);
    const locks = (result.merged as Obj).locks as Obj;
    expect(Object.keys(locks)).toEqual(['a', '__proto__']);
    expect(Object.getPrototypeOf(locks)).toBe(Object.prototype);
  });
});
