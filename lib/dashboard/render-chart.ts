/**
 * The per-builder chart of job durations and results (issue 10): inline SVG, no chart
 * library. One scatter per builder over the model's window (default 7 days): x is the end
 * time of an attempt, y its duration; completed attempts are circles, failed and timed-out
 * ones squares, cancelled/lost/requeued ones triangles (shape and colour both tell the
 * result). Each chart carries a text summary for screen readers. Pure string building.
 */
import { formatDuration } from '../util/time.js';
import { escapeHtml } from './escape.js';
import type { BuilderChart, ChartView } from './model.js';

const W = 600, H = 150, L = 56, R = 10, T = 10, B = 22;
const PLOT_W = W - L - R, PLOT_H = H - T - B;

/** The result classes of the chart: `ok` (completed), `bad` (failed, timed out), `other`. */
export function resultClass(result: string): 'ok' | 'bad' | 'other' {
  if (result === 'completed') return 'ok';
  if (result === 'failed' || result === 'timed_out' || result === 'blocked') return 'bad';
  return 'other';
}

/** A round upper bound for the y axis (seconds): 1, 2, 5 × 10^k, at least `max`. */
export function niceCeil(max: number): number {
  if (!(max > 0)) return 60;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const f1 = (n: number) => (Math.round(n * 10) / 10).toString();

function marker(cls: 'ok' | 'bad' | 'other', x: number, y: number, title: string): string {
  const t = `<title>${title}</title>`;
  if (cls === 'ok') return `<circle class="pt ok" cx="${f1(x)}" cy="${f1(y)}" r="3.5">${t}</circle>`;
  if (cls === 'bad') return `<rect class="pt bad" x="${f1(x - 3.5)}" y="${f1(y - 3.5)}" width="7" height="7">${t}</rect>`;
  return `<path class="pt other" d="M${f1(x)} ${f1(y - 4.5)}L${f1(x + 4)} ${f1(y + 3)}L${f1(x - 4)} ${f1(y + 3)}Z">${t}</path>`;
}

function summaryText(c: BuilderChart, days: number): string {
  if (!c.total) return `${c.builder}: no finished attempts in the last ${days} days`;
  const parts = Object.entries(c.counts).sort(([a], [b]) => (a < b ? -1 : 1)).map(([r, n]) => `${n} ${r.replace('_', ' ')}`);
  const med = c.median_completed_s === null ? '' : `; median completed duration ${formatDuration(c.median_completed_s * 1000)}`;
  const shown = c.points.length < c.total ? ` (the latest ${c.points.length} drawn)` : '';
  return `${c.builder}: ${c.total} attempts in the last ${days} days${shown}: ${parts.join(', ')}${med}`;
}

/** The SVG of one builder's chart, with its text summary as the accessible name. */
export function renderBuilderChart(c: BuilderChart, view: Pick<ChartView, 'from' | 'to' | 'days'>): string {
  const span = Math.max(1, view.to - view.from);
  const ymax = niceCeil(c.points.reduce((m, p) => Math.max(m, p.duration_s), 0));
  const x = (t: number) => L + ((t - view.from) / span) * PLOT_W;
  const y = (d: number) => T + (1 - Math.min(d, ymax) / ymax) * PLOT_H;
  const summary = summaryText(c, view.days);
  const out: string[] = [];
  out.push(`<figure class="chart"><figcaption>${escapeHtml(summary)}</figcaption>`);
  out.push(`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(`Job durations and results: ${summary}`)}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<rect class="plot" x="${L}" y="${T}" width="${PLOT_W}" height="${PLOT_H}"/>`);
  // One tick per UTC midnight in the window.
  const day = 86_400_000;
  for (let d = Math.ceil(view.from / day) * day; d <= view.to; d += day) {
    const xx = f1(x(d));
    const label = new Date(d).toISOString().slice(5, 10);
    out.push(`<line class="grid" x1="${xx}" y1="${T}" x2="${xx}" y2="${T + PLOT_H}"/><text class="tick" x="${xx}" y="${H - 6}" text-anchor="middle">${label}</text>`);
  }
  out.push(`<line class="grid" x1="${L}" y1="${f1(y(ymax / 2))}" x2="${L + PLOT_W}" y2="${f1(y(ymax / 2))}"/>`);
  out.push(`<text class="tick" x="${L - 4}" y="${T + 8}" text-anchor="end">${escapeHtml(formatDuration(ymax * 1000))}</text>`);
  out.push(`<text class="tick" x="${L - 4}" y="${f1(y(ymax / 2) + 4)}" text-anchor="end">${escapeHtml(formatDuration((ymax / 2) * 1000))}</text>`);
  out.push(`<text class="tick" x="${L - 4}" y="${T + PLOT_H}" text-anchor="end">0</text>`);
  for (const p of c.points) {
    const title = `${escapeHtml(p.job)} ${escapeHtml(p.result)} ${formatDuration(p.duration_s * 1000)}, ended ${new Date(p.t).toISOString().slice(0, 16).replace('T', ' ')}Z`;
    out.push(marker(resultClass(p.result), x(p.t), y(p.duration_s), title));
  }
  if (!c.total) out.push(`<text class="empty" x="${L + PLOT_W / 2}" y="${T + PLOT_H / 2}" text-anchor="middle">no finished attempts</text>`);
  out.push('</svg></figure>');
  return out.join('');
}

/** The chart legend (shapes and colours of the results). */
export function renderChartLegend(): string {
  const item = (cls: 'ok' | 'bad' | 'other', label: string) =>
    `<li><svg class="legend-icon" viewBox="0 0 12 12" aria-hidden="true">${marker(cls, 6, 6, '').replace('<title></title>', '')}</svg>${label}</li>`;
  return `<ul class="legend">${item('ok', 'completed')}${item('bad', 'failed or timed out')}${item('other', 'cancelled, lease lost or requeued')}</ul>`;
}
