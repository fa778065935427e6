/**
 * The job state machine as a checker of two versions of a queue (DESIGN.md section 4,
 * METHODOLOGY.md section 4): one set of rules for every door a hand edit can take — the
 * remote's pre-receive hook (each pushed commit against its parent), `coord validate
 * --staged` and the pre-commit hook (the index against HEAD), and `coord sync --commit`
 * (the edit against the version it is based on, and the merged result against the remote).
 *
 * Allowed: queued → running | cancelled; running → completed | failed | cancelled |
 * queued (lease lost) | blocked | running (lease renewal, same claim); failed | blocked |
 * cancelled → queued (`coord jobs retry`); failed → blocked. A claim (→ running) increments
 * `attempt` by exactly one; `attempt` never decreases; a running job never changes holder
 * within one attempt.
 *
 * Each issue says what is wrong and what to do instead (the command that makes the change
 * properly), so the same line helps whichever door refused it.
 */
import type { Issue } from '../errors.js';
import { recordsOf } from '../store/record-loss.js';

type Obj = Record<string, unknown>;

const ALLOWED: Record<string, readonly string[]> = {
  queued: ['queued', 'running', 'cancelled'],
  running: ['running', 'completed', 'failed', 'cancelled', 'queued', 'blocked'],
  failed: ['failed', 'queued', 'blocked'],
  blocked: ['blocked', 'queued'],
  completed: ['completed'],
  cancelled: ['cancelled', 'queued'],
};

/** What to do instead of a status change the state machine forbids (pure). */
function statusAdvice(id: string, from: string, to: string): string {
  const back = `put "status": "${from}" back`;
  if (from === 'completed') {
    return `a completed job is history and is never run again (coord jobs retry takes failed, blocked or cancelled jobs); queue a new job instead (coord jobs add); ${back}`;
  }
  if (to === 'running') return `a job runs only when a builder claims it${from === 'queued' ? '' : `; to run it again use coord jobs retry ${id}`}; ${back}`;
  if (from === 'queued') {
    return `only the builder running a job reports its end (coord jobs complete, as that builder); to drop a queued job use coord jobs cancel ${id}; ${back}`;
  }
  if (to === 'queued') return `to run it again use coord jobs retry ${id}; ${back}`;
  return `only the builder running a job reports its end; to run it again use coord jobs retry ${id}; ${back}`;
}

/** Issues for jobs present in both versions whose change breaks the state machine. */
export function jobTransitionIssues(file: string, before: readonly Obj[], after: readonly Obj[]): Issue[] {
  const old = new Map(before.map((j) => [String(j.id), j]));
  const issues: Issue[] = [];
  after.forEach((j, i) => {
    const id = String(j.id);
    const prev = old.get(id);
    if (!prev) return;
    const from = String(prev.status), to = String(j.status);
    const pa = Number(prev.attempt ?? 0), na = Number(j.attempt ?? 0);
    const at = (field: string, reason: string) => issues.push({ file, pointer: `/jobs/${i}/${field}`, reason: `job ${id}: ${reason}`, severity: 'error' });
    if (!(ALLOWED[from] ?? []).includes(to)) at('status', `status may not change from ${from} to ${to}: ${statusAdvice(id, from, to)}`);
    if (na < pa) at('attempt', `attempt went back from ${pa} to ${na}: attempt numbers are the fencing token and never go back; put ${pa} back`);
    if (to === 'running' && from !== 'running' && na !== pa + 1) {
      at('attempt', `a claim must raise attempt by one (${pa} → ${na}): a job runs only when a builder claims it (its daemon, or coord jobs claim as that builder); put the job back as it was`);
    }
    if (from === 'running' && to === 'running' && na === pa && prev.assigned_to !== j.assigned_to) {
      at('assigned_to', `running job changed holder from ${String(prev.assigned_to)} to ${String(j.assigned_to)} within attempt ${na}: ` +
        `a claim stays with the builder that made it; put ${JSON.stringify(prev.assigned_to ?? null)} back (to stop the run: coord jobs cancel ${id}; ` +
        'a job whose builder is gone is requeued when its lease runs out)');
    }
  });
  return issues;
}

/**
 * {@link jobTransitionIssues} for versions of a jobs file as parsed values (canonical, or
 * null when the file is absent on that side: nothing to compare).
 *
 * @param parents the version the change is based on; for a merge, one per parent (first
 *   parent first). A merge takes each job from one side or the other, so a job's state is
 *   judged against every parent and refused only when no parent leads to it: compared
 *   with the first parent alone, a job the other side ran meanwhile (queued → completed in
 *   two steps) would look like a forbidden jump.
 * @returns the issues against the first parent that every other parent shares
 */
export function jobFileTransitionIssues(file: string, parents: readonly unknown[], after: unknown): Issue[] {
  const known = parents.filter((p) => p !== null && p !== undefined);
  if (!known.length || after === null || after === undefined) return [];
  const next = recordsOf('jobs', after);
  const [first, ...others] = known.map((p) => jobTransitionIssues(file, recordsOf('jobs', p), next));
  // A job (its index in `after`) refused against every parent.
  const jobOf = (i: Issue) => i.pointer.split('/')[2];
  return first.filter((i) => others.every((o) => o.some((x) => jobOf(x) === jobOf(i))));
}
