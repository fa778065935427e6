/**
 * The job state machine as a checker of two versions of a queue (DESIGN.md section 4):
 * used by the remote's pre-receive hook to refuse pushes that break claim invariants,
 * whatever tool or hand made them.
 *
 * Allowed: queued → running | cancelled; running → completed | failed | cancelled |
 * queued (lease lost) | blocked | running (lease renewal, same claim); failed | blocked →
 * queued (retry); failed → blocked. A claim (→ running) increments `attempt` by exactly
 * one; `attempt` never decreases; a running job never changes holder within one attempt.
 */
import type { Issue } from '../errors.js';

type Obj = Record<string, unknown>;

const ALLOWED: Record<string, readonly string[]> = {
  queued: ['queued', 'running', 'cancelled'],
  running: ['running', 'completed', 'failed', 'cancelled', 'queued', 'blocked'],
  failed: ['failed', 'queued', 'blocked'],
  blocked: ['blocked', 'queued'],
  completed: ['completed'],
  cancelled: ['cancelled'],
};

/** Issues for jobs present in both versions whose change breaks the state machine. */
export function jobTransitionIssues(file: string, before: readonly Obj[], after: readonly Obj[]): Issue[] {
  const old = new Map(before.map((j) => [String(j.id), j]));
  const issues: Issue[] = [];
  after.forEach((j, i) => {
    const prev = old.get(String(j.id));
    if (!prev) return;
    const from = String(prev.status), to = String(j.status);
    const pa = Number(prev.attempt ?? 0), na = Number(j.attempt ?? 0);
    const at = (field: string, reason: string) => issues.push({ file, pointer: `/jobs/${i}/${field}`, reason: `job ${String(j.id)}: ${reason}`, severity: 'error' });
    if (!(ALLOWED[from] ?? []).includes(to)) at('status', `status may not change from ${from} to ${to}`);
    if (na < pa) at('attempt', `attempt went back from ${pa} to ${na}`);
    if (to === 'running' && from !== 'running' && na !== pa + 1) at('attempt', `a claim must raise attempt by one (${pa} → ${na})`);
    if (from === 'running' && to === 'running' && na === pa && prev.assigned_to !== j.assigned_to) {
      at('assigned_to', `running job changed holder from ${String(prev.assigned_to)} to ${String(j.assigned_to)} within attempt ${na}`);
    }
  });
  return issues;
}
