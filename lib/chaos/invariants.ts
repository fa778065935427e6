/**
 * The chaos run's invariants (issue 9, "npm run chaos"), checked after the run on the
 * origin's history and final state:
 *
 * 1. every job is terminal (completed, failed, cancelled, or blocked — failed on two
 *    builders, waiting for an explicit retry; counted apart in the figures);
 * 2. no job is completed twice within one attempt;
 * 3. no completion is accepted from a lost lease: a job becomes completed only from
 *    `running` held by the same builder and attempt, and never for an attempt an observer
 *    already marked `lease_lost`; every change of jobs.json obeys the job state machine
 *    (lib/jobs/transitions.ts, what the remote's hook enforces);
 *    A cancel, once requested, is never lost: the job is not claimed again afterwards
 *    (DESIGN.md section 4, "Cancel");
 * 4. `coord validate` holds at every commit of main: each coordination file a commit wrote
 *    passes the same check (`checkCoordinationFile`) against that commit's build config;
 * 5. every message sent is present exactly once;
 * 6. no process of any job is left running (checked by the harness on /proc).
 *
 * {@link HistoryChecker} is fed one commit at a time; it knows nothing about git.
 */
import type { Issue } from '../errors.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import { jobTransitionIssues } from '../jobs/transitions.js';
import { checkCoordinationFile, type CheckContext } from '../store/check.js';
import { contextFromConfigBytes } from '../store/context.js';
import { PATHS } from '../store/kinds.js';

/** The fields of a job record the checks read (canonical records have them all). */
export interface JobLike { id: string; status: string; attempt?: number; assigned_to?: string | null; cancel_requested?: boolean; history?: HistoryEntry[] }
/** The fields of a message the checks read. */
export interface MessageLike { id: string; body?: string }

interface HistoryEntry { attempt?: number; builder?: string; status?: string }

export interface Violation {
  invariant: 'terminal' | 'completed-twice' | 'lost-lease' | 'state-machine' | 'cancel' | 'validate' | 'messages' | 'processes';
  detail: string;
}


/** Feeds on commits in order; collects violations of invariants 2–4. */
export class HistoryChecker {
  readonly violations: Violation[] = [];
  commits = 0;
  jobVersions = 0;
  private ctx: CheckContext = { builders: null, policy: { ...DEFAULT_POLICY }, now: Date.now() };
  private prevJobs: JobLike[] = [];
  private readonly completions = new Map<string, number>();
  private readonly lost = new Set<string>();
  /** job → attempt during which a cancel was requested. */
  private readonly cancelAt = new Map<string, number>();

  /**
   * One commit: `files` are the coordination files it changed (bytes; null when deleted),
   * `all` gives any file at this commit (for a build config change).
   */
  add(sha: string, action: string | null, actor: string | null, files: ReadonlyMap<string, Buffer | null>): void {
    this.commits++;
    const short = sha.slice(0, 10);
    const cfg = files.get(PATHS.buildConfig);
    if (cfg !== undefined) this.ctx = contextFromConfigBytes(cfg, Date.now());
    for (const [p, bytes] of files) {
      if (bytes === null) continue;
      const r = checkCoordinationFile(p, bytes, this.ctx);
      for (const i of r.issues.filter((x: Issue) => x.severity === 'error')) {
        this.violations.push({ invariant: 'validate', detail: `${short} (${action ?? 'plain git'} by ${actor ?? '?'}): ${i.file}: ${i.pointer || '/'}: ${i.reason}` });
      }
      if (p === PATHS.jobs && r.ok) this.onJobs(short, action, actor, (r.value as { jobs: JobLike[] }).jobs);
    }
  }

  private onJobs(short: string, action: string | null, actor: string | null, jobs: JobLike[]): void {
    this.jobVersions++;
    for (const i of jobTransitionIssues(PATHS.jobs, this.prevJobs as unknown as Record<string, unknown>[], jobs as unknown as Record<string, unknown>[])) {
      this.violations.push({ invariant: 'state-machine', detail: `${short} (${action ?? 'plain git'} by ${actor ?? '?'}): ${i.pointer}: ${i.reason}` });
    }
    const prev = new Map(this.prevJobs.map((j) => [j.id, j]));
    for (const j of jobs) {
      const id = j.id;
      const hist = j.history ?? [];
      for (const h of hist) if (h.status === 'lease_lost') this.lost.add(`${id}#${h.attempt}`);
      const p = prev.get(id);
      if (j.cancel_requested === true && !this.cancelAt.has(id)) this.cancelAt.set(id, j.attempt ?? 0);
      const asked = this.cancelAt.get(id);
      if (asked !== undefined && j.status === 'running' && (j.attempt ?? 0) > asked && p?.status !== 'running') {
        this.violations.push({ invariant: 'cancel', detail: `${short} (${action ?? 'plain git'} by ${actor ?? '?'}): ${id} claimed again (attempt ${j.attempt ?? 0}) after a cancel was requested in attempt ${asked}` });
      }
      if (j.status !== 'completed' || p?.status === 'completed') continue;
      const attempt = j.attempt ?? 0;
      const builder = j.assigned_to ?? hist.at(-1)?.builder ?? '?';
      const key = `${id}#${attempt}`;
      this.completions.set(key, (this.completions.get(key) ?? 0) + 1);
      if ((this.completions.get(key) ?? 0) > 1) this.violations.push({ invariant: 'completed-twice', detail: `${short}: ${id} completed again in attempt ${attempt}` });
      if (!p || p.status !== 'running' || p.assigned_to !== builder || (p.attempt ?? 0) !== attempt) {
        this.violations.push({ invariant: 'lost-lease', detail: `${short} (${action ?? 'plain git'} by ${actor ?? '?'}): ${id} completed by ${builder} attempt ${attempt}, but before it was ${p?.status ?? 'absent'} on ${p?.assigned_to ?? 'nobody'} attempt ${p?.attempt ?? '?'}` });
      }
      if (this.lost.has(key)) this.violations.push({ invariant: 'lost-lease', detail: `${short}: ${id} attempt ${attempt} completed after its lease was marked lost` });
      if (action === 'job.complete' && actor !== builder) this.violations.push({ invariant: 'lost-lease', detail: `${short}: ${id} completion for ${builder} committed by ${actor ?? '?'}` });
    }
    this.prevJobs = jobs;
  }
}

/** Invariant 1 (+2 on the final records): every job terminal, at most one completed attempt each. */
export function checkFinalJobs(jobs: readonly JobLike[], expectedIds: readonly string[]): Violation[] {
  const out: Violation[] = [];
  const byId = new Map(jobs.map((j) => [j.id, j]));
  for (const id of expectedIds) if (!byId.has(id)) out.push({ invariant: 'terminal', detail: `${id} is missing from jobs.json` });
  for (const j of jobs) {
    if (!['completed', 'failed', 'cancelled', 'blocked'].includes(j.status)) out.push({ invariant: 'terminal', detail: `${j.id} is ${j.status} (attempt ${j.attempt ?? 0} on ${j.assigned_to ?? 'nobody'})` });
    const done = (j.history ?? []).filter((h) => h.status === 'completed');
    if (done.length > 1) out.push({ invariant: 'completed-twice', detail: `${j.id} has ${done.length} completed attempts: ${done.map((h) => `${h.builder}#${h.attempt}`).join(', ')}` });
  }
  return out;
}

export interface SentMessage { token: string; from: string; ok: boolean; id: string | null }

/** Invariant 5: each message sent successfully is present exactly once (by id and by its token). */
export function checkMessages(messages: readonly MessageLike[], sent: readonly SentMessage[]): { violations: Violation[]; landedDespiteFailure: number } {
  const out: Violation[] = [];
  let landed = 0;
  for (const s of sent) {
    const byToken = messages.filter((m) => (m.body ?? '').includes(s.token)).length;
    const byId = s.id ? messages.filter((m) => m.id === s.id).length : 0;
    if (s.ok && (byToken !== 1 || byId !== 1)) out.push({ invariant: 'messages', detail: `message ${s.id ?? '?'} from ${s.from} (${s.token}) is present ${byToken} time(s) by text, ${byId} by id` });
    if (!s.ok && byToken > 1) out.push({ invariant: 'messages', detail: `failed send ${s.token} from ${s.from} is present ${byToken} times` });
    if (!s.ok && byToken === 1) landed++;
  }
  return { violations: out, landedDespiteFailure: landed };
}
