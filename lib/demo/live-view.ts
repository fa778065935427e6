/**
 * The live fleet view: which builder runs what, for how long, and the queue. On a terminal
 * the block is redrawn in place; otherwise one progress line is printed whenever the
 * picture changes (logs and CI stay readable). Rendering is pure; {@link LiveView} writes.
 */
import type { JobRecord } from '../jobs/model.js';
import { parseTimestamp } from '../util/time.js';
import type { FleetView } from './fleet-reader.js';

const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'blocked'] as const;

/** Seconds with one decimal: `12.4s`. */
export function secs(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

/** Counts per status, in lifecycle order, zeros left out. */
export function queueLine(jobs: readonly JobRecord[]): string {
  const parts = STATUSES.map((s) => [s, jobs.filter((j) => j.status === s).length] as const).filter(([, n]) => n > 0);
  return parts.map(([s, n]) => `${n} ${s}`).join(' · ') || 'empty';
}

function elapsedOf(j: JobRecord | undefined, now: number): string {
  const t = j?.started_at ? parseTimestamp(j.started_at) : null;
  return t === null ? '' : secs(now - t);
}

/**
 * The view as lines.
 * @param labels job id → what people call it (`build @ 9a6ec09`)
 * @param startedAt when the run began (for the clock in the first line)
 */
export function renderFleet(v: FleetView, labels: ReadonlyMap<string, string>, startedAt: number, width = 100): string[] {
  const byId = new Map(v.jobs.map((j) => [j.id, j]));
  const label = (id: string | null) => (id ? `${labels.get(id) ?? id}` : '–');
  const lines: string[] = [];
  lines.push(`${secs(v.at - startedAt)}  main: ${v.mainCommits} commits${v.fresh ? '' : `  (remote unreachable: ${v.warning ?? 'last fetched state'})`}`);
  lines.push(`  ${pad('builder', 8)} ${pad('beat', 6)} ${pad('seq', 5)} ${pad('state', 9)} ${pad('job', 34)} elapsed`);
  for (const b of v.beats) {
    // The queue on main is newer than a heartbeat (one every few seconds): it decides.
    const running = v.jobs.find((j) => j.status === 'running' && j.assigned_to === b.builder);
    const jobId = running?.id ?? null;
    const state = running ? 'building' : b.state === 'building' ? 'idle' : b.state;
    lines.push(`  ${pad(b.builder, 8)} ${pad(secs(b.ageMs), 6)} ${pad(String(b.sequence), 5)} ${pad(state, 9)} ${pad(label(jobId), 34)} ${elapsedOf(jobId ? byId.get(jobId) : undefined, v.at)}`);
  }
  lines.push(`  queue: ${queueLine(v.jobs)}`);
  for (const r of v.recent) lines.push(`  · ${r}`);
  return lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
}

/** One line for logs: changes only (see {@link LiveView}). */
export function progressLine(v: FleetView, labels: ReadonlyMap<string, string>, startedAt: number): string {
  const running = v.jobs.filter((j) => j.status === 'running').map((j) => `${j.assigned_to}: ${labels.get(j.id) ?? j.id}`);
  return `[${secs(v.at - startedAt)}] ${queueLine(v.jobs)}${running.length ? ` — ${running.join(', ')}` : ''}${v.fresh ? '' : ' (remote unreachable)'}`;
}

/** Writes the view: redrawn in place on a terminal, change lines otherwise. */
export class LiveView {
  private drawn = 0;
  private lastLine = '';

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly labels: ReadonlyMap<string, string>,
    private readonly startedAt: number,
    private readonly width: () => number = () => 100,
  ) {}

  update(v: FleetView): void {
    if (this.tty) {
      const lines = renderFleet(v, this.labels, this.startedAt, this.width());
      // Cursor to the start of our block, clear to the end of the screen, draw again.
      const up = this.drawn ? `\x1b[${this.drawn}F\x1b[J` : '';
      this.write(up + lines.join('\n') + '\n');
      this.drawn = lines.length;
      return;
    }
    const key = progressLine({ ...v, at: 0 }, this.labels, 0).replace(/^\[[^\]]*\] /, '');
    if (key === this.lastLine) return;
    this.lastLine = key;
    this.write(progressLine(v, this.labels, this.startedAt) + '\n');
  }

  /** Leaves the last picture on screen; later output starts below it. */
  finish(): void {
    this.drawn = 0;
  }
}
