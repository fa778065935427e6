/**
 * The sections of the fleet page as HTML fragments (issue 10). Each fragment is the inner
 * HTML of one `<section id=…>` of the page; the live page (lib/dashboard/server.ts) swaps
 * them in place without reloading. Every value from the repository goes through
 * {@link escapeHtml}. Semantic HTML: headings, tables with `<caption>` and `<th scope>`,
 * `<meter>` for load, health always as a text label with an icon shape besides the colour.
 * Pure string building.
 */
import type { Health } from '../heartbeat/observe.js';
import type { LockView } from '../locks/model.js';
import { formatDuration } from '../util/time.js';
import { escapeHtml as e } from './escape.js';
import type { BuilderCard, DashboardModel, MessageRow, QueueJob, RecentJob } from './model.js';
import { renderBuilderChart, renderChartLegend, resultClass } from './render-chart.js';

/** Section ids of the page, in page order (the `sections` of `/api/sections`). */
export const SECTION_IDS = ['status-bar', 'summary', 'builders', 'queue', 'recent', 'charts', 'locks', 'messages'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/** How the page is shown: a static file, or served live. */
export interface RenderContext {
  /** Served by `coord dashboard --serve` (ages tick, sections refresh). */
  live: boolean;
  /** Observer's now when this response is made (epoch ms); the model may be older. */
  now: number;
  /** The last refresh from git failed (live only): what went wrong; the data shown is older. */
  refreshError?: string | null;
}

const ICON: Record<Health, string> = {
  healthy: '<circle cx="5" cy="5" r="4.2"/>',
  degraded: '<path d="M5 0.6L9.6 9.2H0.4Z"/>',
  grounded: '<rect x="1" y="1" width="8" height="8"/>',
  stale: '<path d="M5 0.5L9.5 5L5 9.5L0.5 5Z"/>',
  offline: '<path d="M1.5 0.5L5 4L8.5 0.5L9.5 1.5L6 5L9.5 8.5L8.5 9.5L5 6L1.5 9.5L0.5 8.5L4 5L0.5 1.5Z"/>',
  unknown: '<circle cx="5" cy="5" r="4.2" fill="none" stroke-width="1.6"/>',
};

/** A health badge: icon shape + text label + colour (colour is never the only signal). */
export function healthBadge(h: Health): string {
  return `<span class="badge h-${h}"><svg class="icon" viewBox="0 0 10 10" aria-hidden="true">${ICON[h]}</svg><span class="label">${h}</span></span>`;
}

const dur = (s: number | null | undefined) => (s === null || s === undefined ? '–' : formatDuration(s * 1000));
/** An age that the live page keeps counting (seconds at model time). */
const age = (s: number | null, live: boolean) => (s === null ? '–' : live ? `<span data-age-s="${s}">${dur(s)}</span>` : dur(s));
const time = (iso: string | null | undefined) => (iso ? `<time datetime="${e(iso)}">${e(iso.replace('T', ' '))}</time>` : '–');
const pct = (n: number | null) => (n === null ? '–' : `${Math.round(n)}%`);

function mb(n: number | null): string {
  if (n === null) return '–';
  return n >= 1024 ? `${(n / 1024).toFixed(1)} GB` : `${Math.round(n)} MB`;
}

function meter(value: number | null, max: number, label: string, text: string, o: { low?: number; high?: number; optimum?: number } = {}): string {
  if (value === null) return `<span class="na">${e(text)}</span>`;
  const v = Math.max(0, Math.min(max, value));
  const attrs = `${o.low !== undefined ? ` low="${o.low}"` : ''}${o.high !== undefined ? ` high="${o.high}"` : ''}${o.optimum !== undefined ? ` optimum="${o.optimum}"` : ''}`;
  return `<meter min="0" max="${max}" value="${Math.round(v * 10) / 10}"${attrs} aria-label="${e(label)}">${e(text)}</meter> <span class="fig">${e(text)}</span>`;
}

/** The data-age bar: which commit, when committed, when fetched, whether the fetch failed. */
export function renderStatusBar(m: DashboardModel, ctx: RenderContext): string {
  const s = m.source;
  const fetchedAge = s.fetched_at === null ? null : Math.max(0, Math.round((ctx.now - Date.parse(s.fetched_at)) / 1000));
  const modelAge = Math.max(0, Math.round((ctx.now - Date.parse(m.generated_at)) / 1000));
  const parts: string[] = [];
  parts.push(`<p class="asof">Data as of ${s.commit ? `commit <code>${e(s.commit.slice(0, 12))}</code>` : 'no commit'}${s.commit_time ? `, committed ${time(s.commit_time)} UTC` : ''}`);
  if (ctx.live) {
    parts.push(fetchedAge === null ? '; never fetched.</p>' : `; fetched from the remote <span data-age-now-s="${fetchedAge}">${dur(fetchedAge)}</span> ago.</p>`);
  } else {
    parts.push(`; page generated ${time(m.generated_at)} UTC${s.fresh ? ' right after a fetch' : ''}. Ages below are as of that time.</p>`);
  }
  const alerts: string[] = [];
  if (!s.fresh) alerts.push(`The last fetch from the remote failed: the data is older than it should be${s.fetched_at ? ` (last successful fetch ${time(s.fetched_at)} UTC)` : ''}.`);
  if (ctx.refreshError) alerts.push(`Refreshing from git failed: ${e(ctx.refreshError)}. Showing the last good data.`);
  for (const w of s.warnings) alerts.push(e(w));
  if (alerts.length) parts.push(`<ul class="alerts" role="alert">${alerts.map((a) => `<li>${a}</li>`).join('')}</ul>`);
  return `<div class="statusbar${alerts.length ? ' warn' : ''}" data-model-age-s="${modelAge}">${parts.join('')}</div>`;
}

function renderSummary(m: DashboardModel): string {
  const h = m.summary.health;
  const healthItems = (Object.keys(h) as Health[]).filter((k) => h[k] > 0).map((k) => `<li>${healthBadge(k)} <strong>${h[k]}</strong></li>`).join('');
  const q = m.summary.queue;
  const qi = ['running', 'queued', 'failed', 'blocked', 'completed', 'cancelled'].map((st) => `<li><span class="st st-${st}">${st}</span> <strong>${q[st] ?? 0}</strong></li>`).join('');
  return `<h2 id="summary-h">At a glance</h2>
<div class="glance">
<div><h3>Builders (${m.summary.builders})</h3><ul class="counts">${healthItems || '<li>none configured</li>'}</ul></div>
<div><h3>Queue${m.summary.paused ? ' <span class="paused">paused</span>' : ''}</h3><ul class="counts">${qi}</ul></div>
<div><h3>Other</h3><ul class="counts"><li>locks held <strong>${m.summary.locks_held}</strong></li><li>unread messages <strong>${m.summary.unread_messages ?? '–'}</strong></li></ul></div>
</div>`;
}

function builderCard(b: BuilderCard, diskMax: number, live: boolean): string {
  const id = `b-${b.builder.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const hb = b.heartbeat;
  const hbText = hb.age_s === null ? 'never seen' : `${age(hb.age_s, live)} ago${hb.sequence !== null ? `, <span class="seq">beat #${e(hb.sequence)}</span>` : ''}${hb.source === 'main' ? ' (from main)' : ''}${hb.age_from === 'timestamp' ? ' (estimated from its clock)' : ''}`;
  const job = b.current_job
    ? `<code>${e(b.current_job.id)}</code> (${e(b.current_job.type)}, attempt ${e(b.current_job.attempt)}) for ${age(b.current_job.elapsed_s, live)}${b.running_jobs > 1 ? ` and ${b.running_jobs - 1} more` : ''}`
    : 'none';
  const s = b.system;
  const rows = [
    ['Heartbeat', hbText],
    ['State', e(b.state ?? 'unknown')],
    ['Job', job],
    ['CPU', meter(s.cpu_percent, 100, `CPU load of ${b.builder}`, pct(s.cpu_percent), { low: 70, high: 90, optimum: 0 })],
    ['Memory', meter(s.memory_percent, 100, `memory used on ${b.builder}`, `${pct(s.memory_percent)}${s.memory_total_mb ? ` of ${mb(s.memory_total_mb)}` : ''}`, { low: 75, high: 90, optimum: 0 })],
    ['Disk free', meter(s.disk_free_mb, diskMax, `free disk space of ${b.builder}, relative to the most free space in the fleet`, mb(s.disk_free_mb))],
    ['Today', `${b.jobs_today.completed} completed, ${b.jobs_today.failed} failed`],
    ['Unread', b.unread_messages === null ? '–' : String(b.unread_messages)],
  ];
  const extra: string[] = [];
  if (b.grounded) extra.push(`<p class="note grounded"><strong>Grounded</strong> by ${e(b.grounded.by)} at ${time(b.grounded.at)}: ${e(b.grounded.reason)}${b.grounded.until ? ` (until ${time(b.grounded.until)})` : ''}</p>`);
  if (b.degraded) extra.push(`<p class="note degraded"><strong>Degraded</strong> since ${time(b.degraded.since)}: ${e(b.degraded.reason)}</p>`);
  if (b.reason && !b.grounded && !(b.degraded && b.reason === b.degraded.reason)) extra.push(`<p class="note">${e(b.reason)}</p>`);
  const meta = [b.arch, b.labels.length ? b.labels.join(', ') : null, `${b.max_concurrent_jobs} slot${b.max_concurrent_jobs === 1 ? '' : 's'}`].filter(Boolean).join(' · ');
  return `<article class="card h-${b.health}" aria-labelledby="${id}" data-builder="${e(b.builder)}" data-health="${b.health}">
<h3 id="${id}">${e(b.builder)} ${healthBadge(b.health)}</h3>
<p class="meta">${e(meta)}${b.configured ? '' : ' · not configured'}</p>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${extra.join('')}</article>`;
}

function renderBuilders(m: DashboardModel, live: boolean): string {
  const diskMax = Math.max(1, ...m.builders.map((b) => b.system.disk_free_mb ?? 0));
  return `<h2 id="builders-h">Builders</h2>
<p class="hint">Health is judged by this observer's own clock: stale after 3 missed heartbeat intervals, offline after 10. Disk bars compare free space across the fleet (a full bar is the most free space of any builder).</p>
<div class="cards">${m.builders.map((b) => builderCard(b, diskMax, live)).join('\n') || '<p>No builders configured in shared/build_config.json.</p>'}</div>`;
}

function table(caption: string, head: string[], rows: string[][], empty: string, more = 0): string {
  if (!rows.length) return `<h3>${caption}</h3><p class="empty">${empty}</p>`;
  const th = head.map((h) => `<th scope="col">${h}</th>`).join('');
  const body = rows.map((r) => `<tr><th scope="row">${r[0]}</th>${r.slice(1).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  const note = more > 0 ? `<p class="more">… and ${more} more (coord jobs list shows them all)</p>` : '';
  return `<h3>${caption}</h3><div class="scroll"><table><caption class="sr">${caption}</caption><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>${note}`;
}

const jobCell = (j: { id: string }) => `<code>${e(j.id)}</code>`;
const statusCell = (st: string) => `<span class="st st-${e(st)}">${e(st)}</span>`;
const desc = (d: string) => (d ? `<span class="desc">${e(d)}</span>` : '<span class="na">–</span>');

function renderQueue(m: DashboardModel, live: boolean): string {
  const q = m.queue;
  const paused = q.paused ? `<p class="alert-inline" role="note"><strong>Queue paused</strong> by ${e(q.paused.by)} since ${time(q.paused.at)}${q.paused.reason ? `: ${e(q.paused.reason)}` : ''}. No builder claims new jobs until <code>coord queue resume</code>.</p>` : '';
  const running = table('Running', ['Job', 'Type', 'Builder', 'Attempt', 'Running for', 'Description'],
    q.running.map((j) => [jobCell(j), e(j.type), e(j.builder ?? '–'), `${j.attempt}/${j.max_attempts}`, age(j.elapsed_s, live), desc(j.description)]), 'Nothing is running.');
  const queued = table('Queued, and why each is waiting', ['Job', '#', 'Type', 'Priority', 'Estimated wait', 'Why waiting', 'Description'],
    q.queued.map((j) => [jobCell(j), String(j.position ?? '–'), e(j.type), String(j.priority), j.estimated_wait_s === null ? 'unknown' : dur(j.estimated_wait_s), `<span class="why">${e(j.why ?? '')}</span>`, desc(j.description)]), 'Nothing is queued.', q.hidden.queued);
  const stuck = (list: QueueJob[]) => list.map((j) => [jobCell(j), e(j.type), statusCell(j.status), e(j.failed_on.join(', ') || '–'), `${j.attempt}/${j.max_attempts}`, `<span class="why">${e(j.why ?? '–')}</span>`, desc(j.description)]);
  const head = ['Job', 'Type', 'Status', 'Failed on', 'Attempts', 'Last error', 'Description'];
  const failed = table('Failed', head, stuck(q.failed), 'No failed jobs.', q.hidden.failed);
  const blocked = table('Blocked (failed on two builders; needs coord jobs retry)', head, stuck(q.blocked), 'No blocked jobs.', q.hidden.blocked);
  return `<h2 id="queue-h">Queue</h2>${paused}${running}${queued}${failed}${blocked}`;
}

function renderRecent(m: DashboardModel): string {
  const rows = m.recent.map((j: RecentJob) => [jobCell(j), e(j.type), e(j.builder ?? '–'), `<span class="res r-${resultClass(j.result)}">${e(j.result)}</span>`, dur(j.duration_s), String(j.attempts), time(j.ended_at), desc(j.description)]);
  return `<h2 id="recent-h">Recent jobs</h2>${table('Finished jobs, newest first', ['Job', 'Type', 'Builder', 'Result', 'Duration', 'Attempts', 'Ended (UTC)', 'Description'], rows, 'No finished jobs yet.')}`;
}

function renderCharts(m: DashboardModel): string {
  const c = m.chart;
  return `<h2 id="charts-h">Job durations and results, last ${c.days} days</h2>${renderChartLegend()}
<div class="charts">${c.builders.map((b) => `<div class="chart-box"><h3>${e(b.builder)}</h3>${renderBuilderChart(b, c)}</div>`).join('\n')}</div>`;
}

function renderLocks(m: DashboardModel): string {
  const rows = m.locks.map((l: LockView) => [`<code>${e(l.name)}</code>`, e(l.holder), time(l.locked_at), l.expired ? '<span class="st st-failed">expired</span>' : `in ${dur(Math.max(0, l.expires_in_s))}`, e(l.reason ?? '–')]);
  return `<h2 id="locks-h">Locks</h2>${table('Held locks', ['Lock', 'Holder', 'Locked at (UTC)', 'Expires', 'Reason'], rows, 'No locks are held.')}`;
}

function messageItem(msg: MessageRow): string {
  return `<article class="msg p-${e(msg.priority)}" aria-labelledby="m-${e(msg.id)}">
<h3 id="m-${e(msg.id)}">${e(msg.subject || '(no subject)')}</h3>
<p class="meta">${e(msg.type)} · ${e(msg.priority)} · from <strong>${e(msg.from)}</strong> to ${e(msg.to)} · ${time(msg.timestamp)}${msg.unread_by.length ? ` · unread by ${e(msg.unread_by.join(', '))}` : ''}</p>
<p class="body">${e(msg.body)}${msg.truncated ? '<span class="na"> … (cut; coord messages read shows all)</span>' : ''}</p></article>`;
}

function renderMessages(m: DashboardModel): string {
  const list = m.messages.shown;
  return `<h2 id="messages-h">Latest messages</h2>${list.length ? `<p class="hint">The ${list.length} newest of ${m.messages.total}.</p>${list.map(messageItem).join('\n')}` : '<p class="empty">No messages.</p>'}`;
}

/** Every section's inner HTML. */
export function renderSections(m: DashboardModel, ctx: RenderContext): Record<SectionId, string> {
  return {
    'status-bar': renderStatusBar(m, ctx),
    summary: renderSummary(m),
    builders: renderBuilders(m, ctx.live),
    queue: renderQueue(m, ctx.live),
    recent: renderRecent(m),
    charts: renderCharts(m),
    locks: renderLocks(m),
    messages: renderMessages(m),
  };
}
