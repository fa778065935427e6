/**
 * Human output of the jobs commands: the listing table, `show`, the `wait` progress line.
 * Job records are file data anyone with push access writes: every renderer here shows
 * them through terminalSafe (lib/util/terminal-text.ts) before adding its own colours.
 */
import type { JobRecord } from '../jobs/model.js';
import type { QueuedExplanation } from '../ops/job-explain.js';
import { jobDurationS, type QueuePlace, type WaitReason } from '../ops/queue-stats.js';
import { parseTimestamp } from '../util/time.js';
import { terminalSafe } from '../util/terminal-text.js';
import { colour } from './io.js';
import { dur, renderTable, statusWord } from './ops-edge.js';

export interface JobRow {
  id: string;
  type: string;
  priority: number;
  status: string;
  builder: string | null;
  attempt: number;
  age_s: number;
  duration_s: number | null;
  queue_position: number | null;
  estimated_wait_s: number | null;
  wait_reason: WaitReason | null;
  archived: boolean;
}

/** The QUEUE cell / `queue` line of a queued job: `#2 ~5m`, `#2 paused`, `never (…)`. */
export function queueCell(place: Pick<QueuePlace, 'position' | 'estimated_wait_s' | 'wait_reason'>, long = false): string {
  if (place.wait_reason === 'no_builder') return long ? 'never: no configured builder can run it (see below)' : 'never (no builder can run it)';
  if (place.wait_reason === 'grounded') return long ? 'held: every builder that may run it is grounded' : 'held (builders grounded)';
  if (place.position === null) return '-';
  const pos = `#${place.position}`;
  if (place.wait_reason === 'paused') return long ? `${pos}; no estimate while the queue is paused` : `${pos} paused`;
  if (place.estimated_wait_s === null) return long ? `${pos}; no estimate (a job type ahead never completed)` : pos;
  return long ? `${pos}, estimated wait ~${dur(place.estimated_wait_s)}` : `${pos} ~${dur(place.estimated_wait_s)}`;
}

export function jobListTable(raw: JobRow[]): string {
  const rows = terminalSafe(raw);
  return renderTable(['ID', 'TYPE', 'PRI', 'STATUS', 'BUILDER', 'AGE', 'DURATION', 'QUEUE'], rows.map((r) => [
    r.id, r.type, r.priority, statusWord(r.status) + (r.archived ? colour.dim(' (archived)') : ''), r.builder, dur(r.age_s), dur(r.duration_s),
    r.status === 'queued' && !r.archived ? queueCell({ position: r.queue_position, estimated_wait_s: r.estimated_wait_s, wait_reason: r.wait_reason }) : null,
  ]));
}

export interface DescribeOptions {
  archived: boolean;
  place: QueuePlace | null;
  why: QueuedExplanation | null;
  logPath: string | null;
  now: number;
}

const line = (k: string, v: string | number | null | undefined) => `${colour.bold(k.padEnd(14))} ${v === null || v === undefined || v === '' ? '-' : String(v)}`;

export function describeJob(raw: JobRecord, rawOptions: DescribeOptions): string[] {
  const j = terminalSafe(raw);
  const o = terminalSafe(rawOptions);
  const out = [
    line('id', j.id + (o.archived ? colour.dim(' (archived)') : '')),
    line('type', j.type),
    line('status', statusWord(j.status) + (j.cancel_requested ? colour.yellow(' (cancel requested)') : '')),
    line('priority', j.priority),
    line('description', j.description),
    line('branch', j.branch), line('commit', j.commit),
    line('params', Object.entries(j.params ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')),
    line('requires', [j.requires?.arch ? `arch=${j.requires.arch}` : '', ...(j.requires?.labels ?? []).map((l) => `label=${l}`)].filter(Boolean).join(' ')),
    line('assigned to', j.assigned_to),
    line('attempt', `${j.attempt} of ${j.max_attempts}`),
    line('lease until', j.lease_expires_at),
    line('not before', j.not_before),
    line('created', `${j.created_at} by ${j.created_by}`),
    line('started', j.started_at), line('completed', j.completed_at),
    line('duration', dur(jobDurationS(j, o.now))),
    line('exit code', j.exit_code), line('error', j.error),
    line('failed on', (j.failed_on ?? []).join(', ')),
    line('artifacts', (j.artifacts ?? []).map((a) => `${a.name} (${a.size} B)`).join(', ')),
    line('log', o.logPath ?? 'none committed'),
  ];
  if (j.schedule_id) out.push(line('schedule', j.schedule_id));
  if (o.place) out.push(line('queue', queueCell(o.place, true)));
  if (o.why) {
    out.push('', colour.bold('Why is it still queued?'), `  ${o.why.summary}`);
    for (const b of o.why.builders) out.push(`  ${b.builder.padEnd(8)} ${b.would_claim ? colour.green('would claim it') : b.reason ?? ''}`);
  }
  if (j.history?.length) {
    out.push('', colour.bold('Attempts'));
    out.push(renderTable(['#', 'BUILDER', 'CLAIMED', 'ENDED', 'STATUS', 'EXIT', 'DURATION', 'ERROR'], j.history.map((h) => [
      h.attempt, h.builder, h.claimed_at, h.ended_at ?? null, statusWord(h.status), h.exit_code ?? null, dur(h.duration_seconds ?? null), h.error ?? null,
    ])));
  }
  return out;
}

/** The one-line progress of `jobs wait` (terminal only). */
export function waitLine(raw: JobRecord[], elapsedMs: number, now: number): string {
  const jobs = terminalSafe(raw);
  const head = `waiting ${dur(Math.round(elapsedMs / 1000))}: `;
  if (jobs.length === 1) {
    const j = jobs[0];
    const started = parseTimestamp(j.started_at ?? '');
    return `${head}${j.id} ${j.status}${j.assigned_to ? ` on ${j.assigned_to}` : ''}${j.status === 'running' && started !== null ? ` for ${dur(Math.round((now - started) / 1000))}` : ''}`;
  }
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
  return head + [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

/** One line per job at the end of `jobs wait`. */
export function waitSummary(raw: JobRecord[], now: number): string[] {
  return terminalSafe(raw).map((j) => {
    const b = j.assigned_to ?? j.history?.at(-1)?.builder ?? null;
    const extra = j.status === 'completed' ? '' : `${j.exit_code !== null ? ` exit ${j.exit_code}` : ''}${j.error ? `: ${j.error}` : ''}`;
    return `${j.id} ${statusWord(j.status)}${b ? ` on ${b}` : ''}${jobDurationS(j, now) !== null ? ` in ${dur(jobDurationS(j, now))}` : ''}${extra}`;
  });
}
