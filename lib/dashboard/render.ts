/**
 * The fleet page (issue 10): one self-contained HTML document — inline style and script,
 * no external requests, a Content-Security-Policy that allows only those two — built from
 * a {@link DashboardModel} by string building (no DOM library; ~tens of ms for 50
 * builders and 10,000 jobs, `npm run bench -- dashboard`). Pure.
 */
import { escapeHtml } from './escape.js';
import { contentSecurityPolicy, PAGE_CSS, PAGE_JS } from './assets.js';
import type { DashboardModel } from './model.js';
import { renderSections, SECTION_IDS, type RenderContext, type SectionId } from './render-sections.js';

export { renderSections, SECTION_IDS, type RenderContext, type SectionId };

/** Options of {@link renderPage} beyond the {@link RenderContext}. */
export interface PageOptions extends RenderContext {
  /** Live page: ms between polls of `api/sections`. Default 5000. */
  refreshMs?: number;
  /** Shown in the footer (the build-coord version). */
  version?: string;
}

const TITLES: Record<Exclude<SectionId, 'status-bar'>, string> = {
  summary: 'summary-h', builders: 'builders-h', queue: 'queue-h', recent: 'recent-h', charts: 'charts-h', locks: 'locks-h', messages: 'messages-h',
};

/**
 * The whole page.
 * @returns an HTML5 document (UTF-8); a static file carries its CSP in a `<meta>` element,
 *   the served page gets it as a header from lib/dashboard/server.ts as well
 */
export function renderPage(m: DashboardModel, o: PageOptions): string {
  const s = renderSections(m, o);
  const main = (Object.keys(TITLES) as (keyof typeof TITLES)[])
    .map((id) => `<section id="${id}" aria-labelledby="${TITLES[id]}">${s[id]}</section>`).join('\n');
  const healthy = m.summary.health.healthy;
  const title = `Fleet: ${healthy}/${m.summary.builders} healthy, ${m.summary.queue.queued ?? 0} queued — build-coord`;
  return `<!doctype html>
<html lang="en" data-live="${o.live}" data-refresh-ms="${Math.max(500, Math.round(o.refreshMs ?? 5000))}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.live, true))}">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="build-coord dashboard">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${PAGE_CSS}</style>
</head>
<body>
<a class="skip" href="#builders">Skip to the builders</a>
<header>
<h1>Build fleet dashboard</h1>
<div id="status-bar">${s['status-bar']}</div>
<p id="conn" aria-live="polite" hidden></p>
</header>
<main>
${main}
</main>
<footer><p>build-coord${o.version ? ` ${escapeHtml(o.version)}` : ''} · ${o.live ? `live view, read-only, refreshed from git every ${Math.round((o.refreshMs ?? 5000) / 1000)} s` : 'static page'} · times in UTC</p></footer>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}
