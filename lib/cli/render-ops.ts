/**
 * Human output of `coord status`, `history`, `builder list`, `queue status`. Everything
 * read from files or commit messages is shown through terminalSafe
 * (lib/util/terminal-text.ts) before colours are added.
 */
import type { FleetStatus, QueueTotals } from '../ops/fleet-status.js';
import type { HistoryEntry } from '../ops/history.js';
import { terminalSafe } from '../util/terminal-text.js';
import { colour } from './io.js';
import { dur, healthWord, renderTable } from './ops-edge.js';

const pct = (v: number | null) => (v === null ? null : `${Math.round(v)}%`);
const mb = (v: number | null) => (v === null ? null : v >= 10240 ? `${Math.round(v / 1024)} GB` : `${Math.round(v)} MB`);

/** `3 queued, 1 running, …` (zero counts left out). */
export function queueLine(raw: QueueTotals): string {
  const q = terminalSafe(raw);
  const parts = Object.entries(q.by_status).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`);
  return `${parts.join(', ') || 'empty'}${q.paused ? colour.yellow(` — ${pausedLine(q)}`) : ''}`;
}

/** `PAUSED by alice since T (reason)`, or '' when not paused. */
export function pausedLine(raw: QueueTotals): string {
  const q = terminalSafe(raw);
  return q.paused ? `PAUSED by ${q.paused.by} since ${q.paused.at}${q.paused.reason ? ` (${q.paused.reason})` : ''}` : '';
}

export function renderStatus(raw: FleetStatus & { warnings: string[] }, me: string | null): string[] {
  const s = terminalSafe(raw);
  const rows = s.builders.map((b) => [
    b.builder + (b.builder === me ? colour.dim(' (me)') : ''),
    healthWord(b.health),
    b.heartbeat.age_s === null ? null : `${dur(b.heartbeat.age_s)} ago (${b.heartbeat.source}${b.heartbeat.age_from === 'timestamp' ? ', by its clock' : ''})`,
    b.state,
    b.current_job ? `${b.current_job.id} (${b.current_job.type}) ${dur(b.current_job.elapsed_s)}${b.running_jobs > 1 ? ` +${b.running_jobs - 1}` : ''}` : null,
    pct(b.system.cpu_percent), pct(b.system.memory_percent), mb(b.system.disk_free_mb),
    `${b.jobs_today.completed} ok / ${b.jobs_today.failed} failed`,
  ]);
  const out = [renderTable(['BUILDER', 'HEALTH', 'HEARTBEAT', 'STATE', 'JOB', 'CPU', 'MEM', 'DISK FREE', 'TODAY'], rows)];
  for (const b of s.builders) if (b.reason) out.push(`  ${b.builder}: ${b.reason}`);
  out.push('', `${colour.bold('Queue:')} ${queueLine(s.queue)}`);
  const types = Object.entries(s.queue.by_type).map(([t, c]) => `${t} (${Object.entries(c).map(([st, n]) => `${n} ${st}`).join(', ')})`);
  if (types.length) out.push(`${colour.bold('By type:')} ${types.join('; ')}`);
  const held = s.locks.map((l) => `${l.name} by ${l.holder} (${l.expired ? colour.red(`expired ${dur(-l.expires_in_s)} ago`) : `expires in ${dur(l.expires_in_s)}`})`);
  out.push(`${colour.bold('Locks:')} ${held.join('; ') || 'none held'}`);
  if (s.unread_messages) {
    out.push(`${colour.bold('Unread messages:')} ${Object.entries(s.unread_messages).map(([b, n]) => `${b} ${n}`).join(', ') || 'none'}`);
  }
  return out;
}

export function renderHistory(raw: HistoryEntry[]): string {
  return renderTable(['TIME', 'ACTOR', 'ACTION', 'SUMMARY'], terminalSafe(raw).map((e) => [
    e.time, e.actor, e.coord ? e.action : colour.dim(e.action),
    e.summary + (e.trailers.reason && !e.summary.includes(e.trailers.reason) ? colour.dim(` — ${e.trailers.reason}`) : ''),
  ]));
}
