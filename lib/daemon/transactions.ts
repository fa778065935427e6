/**
 * The daemon's transactions: each one re-decides on fresh state (claim, renew, complete,
 * expire, requeue) through the engine, with fencing by (builder, attempt).
 */
import type { ArtifactsFile, BuildConfigFile, HeartbeatFile, JobsFile, MessagesFile, SchedulesFile, StatusFile } from '../schemas/types.gen.js';
import { scheduleDueSlot, scheduledJobId } from '../schedules/model.js';
import { resolveCommit, readFilesAt, trackingRef, type RemoteSpec } from '../git/repo.js';
import { heartbeatRef, publishHeartbeat, SEEN_PREFIX, type PublishResult } from '../heartbeat/refs.js';
import { claimJob, completeJob, makeJob, expireLease, renewLease, requeueJob, TERMINAL_STATUSES, type Claim, type JobRecord } from '../jobs/model.js';
import { archivePath, heartbeatPath, logPath, PATHS, statusPath } from '../store/kinds.js';
import { withLocalLock } from '../tx/local-lock.js';
import { runTransaction, type TxState } from '../tx/transaction.js';
import { newRecordId } from '../util/ids.js';
import { formatTimestamp, parseTimestamp, systemClock } from '../util/time.js';
import type { RunOutcome } from './runner.js';
import { statusNeedsWrite } from './status.js';

type Obj = Record<string, unknown>;
const jobsOf = (s: TxState) => s.files.get(PATHS.jobs) as JobsFile;

/**
 * The builder's status and heartbeat as they stand once a claim or completion commits, so
 * they ride in the same commit instead of a `builder.status` commit of their own (one
 * commit per state change rather than two, and one compare-and-swap less on `main`).
 * Called inside the transaction with its time (epoch ms).
 */
export type StatusAfter = (now: number) => { status: StatusFile; heartbeat: HeartbeatFile };

function withStatus(writes: Map<string, unknown>, paths: string[], after: StatusAfter | undefined, now: number): void {
  if (!after) return;
  const { status, heartbeat } = after(now);
  if (!paths.includes(statusPath(status.builder))) return;
  writes.set(statusPath(status.builder), status);
  writes.set(heartbeatPath(status.builder), heartbeat);
}

/**
 * Claims the job `pick` chooses on the transaction's fresh state; with `statusAfter`, the
 * builder's status (now running that job) goes in the same commit.
 */
export async function claimNext(
  repoRoot: string, remote: RemoteSpec, builder: string, pick: (jobs: JobsFile, now: number) => JobRecord | null,
  statusAfter?: (job: JobRecord) => StatusAfter,
): Promise<{ job: JobRecord; config: BuildConfigFile | null } | null> {
  const paths = [PATHS.jobs, ...(statusAfter ? [statusPath(builder)] : [])];
  const out = await runTransaction({
    repoRoot, remote, actor: builder, action: 'job.claim', paths,
    mutate: (s, now) => {
      const j = pick(jobsOf(s), now);
      if (!j) return { kind: 'noop', result: null };
      const t = claimJob(jobsOf(s), j.id, builder, now, s.policy.lease_ttl_s);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      const writes = new Map<string, unknown>([[PATHS.jobs, t.doc]]);
      withStatus(writes, paths, statusAfter?.(t.job), now);
      return { kind: 'commit', writes, summary: `${j.id} attempt ${t.job.attempt}`, trailers: { Job: j.id, Attempt: String(t.job.attempt) }, result: { job: t.job, config: s.config } };
    },
  });
  return out.status === 'committed' ? out.result : null;
}

/** Renews a held lease and commits the log tail. @returns false when the lease is lost */
export async function renew(repoRoot: string, remote: RemoteSpec, c: Claim, tail: string): Promise<boolean> {
  const out = await runTransaction({
    repoRoot, remote, actor: c.builder, action: 'job.renew', paths: [PATHS.jobs],
    mutate: (s, now) => {
      const t = renewLease(jobsOf(s), c, now, s.policy.lease_ttl_s);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      return { kind: 'commit', writes: new Map([[PATHS.jobs, { ...t.doc, jobs: t.doc.jobs.map((j) => (j.id === c.id ? { ...j, log: logPath(c.builder, c.id) } : j)) }]]), rawWrites: new Map([[logPath(c.builder, c.id), tail]]), summary: `${c.id} attempt ${c.attempt}`, trailers: { Job: c.id }, result: true };
    },
  });
  return out.status !== 'refused';
}

/**
 * Records the end of an attempt (fenced), its artifacts and log tail; grounds the builder
 * and warns everyone when `ground` is given (circuit breaker); with `statusAfter`, the
 * builder's status after the attempt goes in the same commit.
 * @returns 'lease_lost' when the claim no longer matches (the result is discarded)
 */
export async function complete(
  repoRoot: string, remote: RemoteSpec, c: Claim, r: RunOutcome, tail: string, ground: { reason: string; cooldownS: number } | null,
  statusAfter?: StatusAfter,
): Promise<'ok' | 'lease_lost'> {
  const paths = [PATHS.jobs, PATHS.artifacts, ...(ground ? [PATHS.messages] : []), ...(statusAfter ? [statusPath(c.builder)] : [])];
  const out = await runTransaction({
    repoRoot, remote, actor: c.builder, action: 'job.complete', paths,
    mutate: (s, now) => {
      const t = completeJob(jobsOf(s), c, { outcome: r.outcome, exitCode: r.exitCode, error: r.error, durationS: r.durationS, artifacts: r.artifacts.map(({ name, size, sha256 }) => ({ name, size, sha256 })), log: logPath(c.builder, c.id) }, now);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      const writes = new Map<string, unknown>();
      let jobs = t.doc;
      if (ground) {
        jobs = { ...jobs, grounded: { ...(jobs.grounded ?? {}), [c.builder]: { by: c.builder, at: formatTimestamp(now), reason: ground.reason, until: formatTimestamp(now + ground.cooldownS * 1000) } } };
        const msgs = (s.files.get(PATHS.messages) as MessagesFile | null) ?? { $schema: '../schemas/messages.schema.json', messages: [] };
        const id = newRecordId('msg', c.builder, { now: () => now, monotonic: () => 0 });
        writes.set(PATHS.messages, { ...msgs, messages: [...msgs.messages, {
          id, from: c.builder, to: 'all', type: 'warning', priority: 'high', subject: `${c.builder} grounded itself: ${ground.reason}`.slice(0, 100),
          body: `${c.builder} stopped claiming jobs after ${ground.reason}. It resumes after the cool-down or \`coord builder unground ${c.builder}\`.`,
          timestamp: formatTimestamp(now), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: ['circuit-breaker'], auto: true,
        }] });
      }
      writes.set(PATHS.jobs, jobs);
      if (r.artifacts.length) {
        const art = (s.files.get(PATHS.artifacts) as ArtifactsFile | null) ?? { $schema: '../schemas/artifacts.schema.json', artifacts: [] };
        writes.set(PATHS.artifacts, { ...art, artifacts: [...art.artifacts, ...r.artifacts.map((a) => ({ job_id: c.id, attempt: c.attempt, builder: c.builder, name: a.name, path: a.path, size: a.size, sha256: a.sha256, created_at: formatTimestamp(now) }))] });
      }
      withStatus(writes, paths, statusAfter, now);
      return { kind: 'commit', writes, rawWrites: new Map([[logPath(c.builder, c.id), tail]]), summary: `${c.id} attempt ${c.attempt} ${t.job.status}`, trailers: { Job: c.id, Attempt: String(c.attempt), Result: t.job.status }, result: 'ok' as const };
    },
  });
  if (out.status === 'refused') {
    if (out.refusal.details?.lease_lost) return 'lease_lost';
    throw new Error(out.refusal.message);
  }
  return 'ok';
}

/** Gives a job back (shutdown), fenced. */
export async function requeue(repoRoot: string, remote: RemoteSpec, c: Claim, reason: string, tail: string): Promise<void> {
  await runTransaction({
    repoRoot, remote, actor: c.builder, action: 'job.requeue', paths: [PATHS.jobs],
    mutate: (s, now) => {
      const t = requeueJob(jobsOf(s), c, now, reason);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      return { kind: 'commit', writes: new Map([[PATHS.jobs, t.doc]]), rawWrites: new Map([[logPath(c.builder, c.id), tail]]), summary: `${c.id} attempt ${c.attempt}`, trailers: { Job: c.id }, result: true };
    },
  });
}

/** Requeues (or fails) a peer's job whose lease expired. @returns true when committed */
export async function expire(repoRoot: string, remote: RemoteSpec, id: string, attempt: number, observer: string): Promise<boolean> {
  const out = await runTransaction({
    repoRoot, remote, actor: observer, action: 'job.expire', paths: [PATHS.jobs],
    mutate: (s, now) => {
      const t = expireLease(jobsOf(s), id, attempt, now, observer);
      if (!t.ok) return { kind: 'noop', result: false };
      return { kind: 'commit', writes: new Map([[PATHS.jobs, t.doc]]), summary: `${id} attempt ${attempt}`, trailers: { Job: id }, result: true };
    },
  });
  return out.status === 'committed';
}

/**
 * Ends attempt `attempt` of `id`, running on `builder`, that an earlier run of `builder`'s
 * daemon claimed and never reported (SIGKILL, crash, power loss): requeued while attempts
 * are left (else failed; cancelled when a cancel was requested), the attempt recorded as
 * `lease_lost` with "claimed by an earlier run of <builder>'s daemon that never reported it".
 * Fenced: a no-op unless the job is still running on `builder` at that attempt with the
 * same `lease_expires_at` (a renewal meanwhile proves a live owner).
 * @returns true when committed
 */
export async function recoverOrphan(repoRoot: string, remote: RemoteSpec, id: string, attempt: number, builder: string, leaseExpiresAt: string | null): Promise<boolean> {
  const why = `claimed by an earlier run of ${builder}'s daemon that never reported it`;
  const out = await runTransaction({
    repoRoot, remote, actor: builder, action: 'job.expire', paths: [PATHS.jobs],
    mutate: (s, now) => {
      const cur = jobsOf(s).jobs.find((j) => j.id === id);
      if (!cur || cur.status !== 'running' || cur.assigned_to !== builder || cur.attempt !== attempt || (cur.lease_expires_at ?? null) !== leaseExpiresAt) return { kind: 'noop', result: false };
      const t = expireLease(jobsOf(s), id, attempt, now, builder);
      if (!t.ok) return { kind: 'noop', result: false };
      const job = {
        ...t.job,
        history: t.job.history.map((h) => (h.attempt === attempt ? { ...h, error: why } : h)),
        error: t.job.error ? t.job.error.replace(`lease of ${builder} expired (attempt ${attempt})`, `attempt ${attempt} ${why}`) : t.job.error,
      };
      const doc = { ...t.doc, jobs: t.doc.jobs.map((j) => (j.id === id ? job : j)) };
      return { kind: 'commit', writes: new Map([[PATHS.jobs, doc]]), summary: `${id} attempt ${attempt} (orphaned by an earlier run)`, trailers: { Job: id }, result: true };
    },
  });
  return out.status === 'committed';
}

/**
 * Writes this builder's status.json and heartbeat.json on main (queued when offline) —
 * only when the content differs from main's (timestamps and figures aside) or
 * `mainEveryS` has passed, judged on the transaction's fresh state; `force` always writes.
 */
export async function writeStatus(repoRoot: string, remote: RemoteSpec, status: StatusFile, hb: HeartbeatFile, mainEveryS: number, force: boolean): Promise<boolean> {
  const out = await runTransaction({
    repoRoot, remote, actor: status.builder, action: 'builder.status', paths: [statusPath(status.builder)], builderOwned: true,
    mutate: (s, now) => {
      const current = (s.files.get(statusPath(status.builder)) as StatusFile | null) ?? null;
      if (!force && !statusNeedsWrite(current, status, mainEveryS, now)) return { kind: 'noop', result: false };
      return { kind: 'commit', writes: new Map<string, unknown>([[statusPath(status.builder), status], [heartbeatPath(status.builder), hb]]), summary: `${status.state}${status.degraded ? ` (degraded: ${status.degraded.reason.split(':')[0].slice(0, 60)})` : ''}`, result: true };
    },
  });
  return out.status === 'committed' || out.status === 'queued';
}

/** The next heartbeat sequence number: one more than the last one published or seen. */
export async function nextSequence(repoRoot: string, builder: string): Promise<number> {
  let best = 0;
  for (const ref of [heartbeatRef(builder), SEEN_PREFIX + builder]) {
    const c = await resolveCommit(repoRoot, ref);
    if (!c) continue;
    const b = (await readFilesAt(repoRoot, c, [heartbeatPath(builder)])).get(heartbeatPath(builder));
    if (!b) continue;
    try {
      best = Math.max(best, Number((JSON.parse(b.toString('utf8')) as Obj).sequence ?? 0));
    } catch { /* a broken old beat: start above zero anyway */ }
  }
  return best + 1;
}

/** Publishes a heartbeat under the clone's local lock (it uses a temp index and refs). */
export async function publishBeat(repoRoot: string, remote: RemoteSpec, hb: HeartbeatFile, now: number): Promise<PublishResult> {
  return withLocalLock(repoRoot, () => publishHeartbeat(repoRoot, remote, hb, now));
}

/**
 * Moves finished jobs older than `days` to coordination/archive/jobs-YYYY-MM.json.
 * The months are found first on the tracking branch; inside the transaction a job whose
 * archive file was not read is left for the next run (never an overwrite of an archive).
 * @returns how many jobs moved
 */
export async function archiveFinishedJobs(repoRoot: string, remote: RemoteSpec, actor: string, days: number, now0: number = systemClock.now()): Promise<number> {
  const cutoff = now0 - days * 86_400_000;
  const isOld = (j: JobRecord | JobsFile['jobs'][number]) => TERMINAL_STATUSES.has(j.status) && (parseTimestamp(j.completed_at ?? j.created_at) ?? Infinity) < cutoff;
  const monthOf = (j: JobsFile['jobs'][number]) => (j.completed_at ?? j.created_at).slice(0, 7);
  const head = await resolveCommit(repoRoot, trackingRef(remote));
  if (!head) return 0;
  const cur = (await readFilesAt(repoRoot, head, [PATHS.jobs])).get(PATHS.jobs);
  if (!cur) return 0;
  let parsed: JobsFile;
  try { parsed = JSON.parse(cur.toString('utf8')) as JobsFile; } catch { return 0; }
  const months = [...new Set((parsed.jobs ?? []).filter(isOld).map(monthOf))];
  if (!months.length) return 0;
  const out = await runTransaction({
    repoRoot, remote, actor, action: 'jobs.archive', paths: [PATHS.jobs, ...months.map((m) => archivePath('jobs', m))],
    mutate: (s) => {
      const jobs = jobsOf(s);
      const old = jobs.jobs.filter((j) => isOld(j) && s.files.has(archivePath('jobs', monthOf(j))));
      if (!old.length) return { kind: 'noop', result: 0 };
      const writes = new Map<string, unknown>();
      const byMonth = new Map<string, typeof old>();
      for (const j of old) byMonth.set(monthOf(j), [...(byMonth.get(monthOf(j)) ?? []), j]);
      for (const [m, list] of byMonth) {
        const p = archivePath('jobs', m);
        const prev = (s.files.get(p) as { records: unknown[] } | null) ?? { $schema: '../../schemas/archive.schema.json', kind: 'jobs', month: m, records: [] };
        writes.set(p, { ...prev, records: [...prev.records, ...list] });
      }
      const ids = new Set(old.map((j) => j.id));
      writes.set(PATHS.jobs, { ...jobs, jobs: jobs.jobs.filter((j) => !ids.has(j.id)) });
      return { kind: 'commit', writes, summary: `${old.length} job(s)`, result: old.length };
    },
  });
  return out.status === 'committed' ? out.result : 0;
}

/**
 * Enqueues the due slot of schedule `scheduleId`, re-deciding on fresh state: the job id
 * is derived from schedule id + slot, and `last_slot` moves in the same commit, so however
 * many daemons race, a slot is enqueued once (DESIGN.md section 4, "Schedules").
 * @returns the job id enqueued, or null when nothing was due any more
 */
export async function enqueueDueSlot(repoRoot: string, remote: RemoteSpec, actor: string, scheduleId: string): Promise<string | null> {
  const out = await runTransaction({
    repoRoot, remote, actor, action: 'schedule.enqueue', paths: [PATHS.jobs, PATHS.schedules],
    mutate: (s, now) => {
      const sched = s.files.get(PATHS.schedules) as SchedulesFile | null;
      const entry = sched?.schedules.find((x) => x.id === scheduleId);
      if (!sched || !entry) return { kind: 'noop', result: null };
      const slot = scheduleDueSlot(entry, now);
      if (!slot) return { kind: 'noop', result: null };
      const id = scheduledJobId(entry.id, slot);
      const jobs = jobsOf(s);
      const writes = new Map<string, unknown>();
      if (!jobs.jobs.some((j) => j.id === id)) {
        const { type, ...tpl } = entry.job;
        const job = makeJob({ ...tpl, type, schedule_id: entry.id, description: tpl.description ?? `schedule ${entry.id} slot ${slot}` }, id, actor, now, s.policy);
        writes.set(PATHS.jobs, { ...jobs, jobs: [...jobs.jobs, job] });
      }
      writes.set(PATHS.schedules, { ...sched, schedules: sched.schedules.map((x) => (x.id === entry.id ? { ...x, last_slot: slot } : x)) });
      return { kind: 'commit', writes, summary: `${entry.id} slot ${slot}`, trailers: { Job: id, Schedule: entry.id }, result: id };
    },
  });
  return out.status === 'committed' ? out.result : null;
}
