/**
 * The dashboard's pure core on a hand-built fleet (test/dashboard/fixture.ts): the view
 * model (health, queue with "why waiting", recent jobs, chart, locks, messages) and the
 * rendered page (labels, escaping, semantic markup, CSP hashes).
 */
import { createHash } from 'node:crypto';
import { PAGE_CSS, PAGE_JS, contentSecurityPolicy } from '../../lib/dashboard/assets.js';
import { buildDashboardModel } from '../../lib/dashboard/model.js';
import { renderPage, renderSections, SECTION_IDS } from '../../lib/dashboard/render.js';
import { niceCeil, renderBuilderChart } from '../../lib/dashboard/render-chart.js';
import { fixtureData, iso, job, NOW, XSS } from './fixture.js';

describe('buildDashboardModel', () => {
  const m = buildDashboardModel(fixtureData());

  test('builders: health judged like coord status (healthy, stale, offline, grounded), with reasons', () => {
    expect(m.builders.map((b) => [b.builder, b.health])).toEqual([['build1', 'healthy'], ['build2', 'stale'], ['build3', 'offline'], ['build4', 'grounded']]);
    const [b1, b2, b3, b4] = m.builders;
    expect(b1).toMatchObject({ current_job: { id: 'job-run', elapsed_s: 125 }, heartbeat: { age_s: 5, sequence: 42 }, state: 'building', arch: 'x86_64', labels: ['deb'] });
    expect(b2.reason).toMatch(/no heartbeat for 4m \(stale after 3m\)/);
    expect(b3.reason).toMatch(/offline after 10m/);
    expect(b4.grounded).toMatchObject({ by: 'alice', reason: 'disk <b>failing</b>' });
    expect(m.summary.health).toMatchObject({ healthy: 1, stale: 1, offline: 1, grounded: 1, degraded: 0 });
  });

  test('queue: running, queued in order with why each waits, failed, blocked', () => {
    expect(m.queue.running.map((j) => [j.id, j.builder, j.elapsed_s])).toEqual([['job-run', 'build1', 125]]);
    // job-q2's type is unknown: no builder can run it, so it has no place in the queue.
    expect(m.queue.queued.map((j) => [j.id, j.position])).toEqual([['job-q1', 1], ['job-q2', null]]);
    // build1 is busy, build2 stale, build3 offline, build4 grounded: nobody takes it now.
    expect(m.queue.queued[0].why).toMatch(/every builder that may run it .* is busy, grounded, held back or offline/);
    expect(m.queue.queued[1].why).toMatch(/unknown job type "nope"/);
    expect(m.queue.failed.map((j) => [j.id, j.why])).toEqual([['job-failed', 'exit 2']]);
    expect(m.queue.blocked.map((j) => [j.id, j.failed_on])).toEqual([['job-blocked', ['build1', 'build4']]]);
    expect(m.queue.totals).toEqual({ running: 1, queued: 2, failed: 1, blocked: 1, completed: 2 });
  });

  test('queued list is cut at queuedShown, and says how many are left out', () => {
    const many = Array.from({ length: 8 }, (_, i) => job(`job-x${i}`));
    const cut = buildDashboardModel(fixtureData({ fleet: { jobs: { $schema: '', paused: null, grounded: {}, jobs: many } } }), { queuedShown: 3 });
    expect(cut.queue.queued.map((j) => j.id)).toEqual(['job-x0', 'job-x1', 'job-x2']);
    expect(cut.queue.hidden.queued).toBe(5);
    expect(cut.queue.queued[2].why).toMatch(/waiting its turn: 2 queued job\(s\) ahead/);
  });

  test('recent jobs newest first with duration and result; archived jobs count too', () => {
    const archivedJob = job('job-archived', { status: 'completed', completed_at: iso(NOW - 300_000), history: [{ attempt: 1, builder: 'build2', claimed_at: iso(NOW - 400_000), ended_at: iso(NOW - 300_000), status: 'completed', duration_seconds: 100 }] });
    const withArchive = buildDashboardModel(fixtureData({ archived: [archivedJob] }));
    expect(withArchive.recent.map((j) => [j.id, j.result, j.duration_s])).toEqual([
      ['job-archived', 'completed', 100], ['job-done2', 'completed', 65], ['job-blocked', 'blocked', 25], ['job-failed', 'failed', 30], ['job-done1', 'completed', 300],
    ]);
  });

  test('chart: attempts ended in the window, per builder, by result', () => {
    const c = Object.fromEntries(m.chart.builders.map((b) => [b.builder, b]));
    expect(c.build1.counts).toEqual({ completed: 1, failed: 2 });
    expect(c.build1.median_completed_s).toBe(300);
    expect(c.build4.counts).toEqual({ failed: 1, completed: 1 });
    expect(c.build4.points.map((p) => p.result)).toEqual(['failed', 'completed']);
    expect(c.build2.total).toBe(0);
    const short = buildDashboardModel(fixtureData(), { chartDays: 1 });
    expect(short.chart.builders.find((b) => b.builder === 'build1')!.counts).toEqual({ failed: 2 });
  });

  test('locks, messages newest first with unread recipients, data source', () => {
    expect(m.locks).toEqual([expect.objectContaining({ name: 'deploy', holder: 'build1', expired: false })]);
    expect(m.summary.locks_held).toBe(1);
    expect(m.messages.shown.map((x) => x.id)).toEqual(['msg-1', 'msg-2']);
    expect(m.messages.shown[0].unread_by).toEqual(['build3', 'build4']);
    expect(m.summary.unread_messages).toBe(1);
    expect(m.source).toMatchObject({ commit_time: '2026-11-30T11:59:30Z', fetched_at: '2026-11-30T12:00:00Z', fetched_age_s: 0, fresh: true });
  });

  test('a long message body is cut at bodyChars and says so', () => {
    const d = fixtureData();
    d.fleet.messages!.messages[0].body = 'x'.repeat(50);
    expect(buildDashboardModel(d, { bodyChars: 10 }).messages.shown[0]).toMatchObject({ body: 'x'.repeat(10), truncated: true });
  });
});

describe('renderPage', () => {
  const m = buildDashboardModel(fixtureData());
  const html = renderPage(m, { live: false, now: NOW, version: '0.1.0' });

  test('builders with their health labels as text, an icon and a colour class', () => {
    for (const [b, h] of [['build1', 'healthy'], ['build2', 'stale'], ['build3', 'offline'], ['build4', 'grounded']]) {
      expect(html).toMatch(new RegExp(`<article class="card h-${h}"[^>]*data-builder="${b}"`));
    }
    expect(html).toMatch(/<span class="badge h-stale"><svg class="icon"[^>]*aria-hidden="true">.*?<\/svg><span class="label">stale<\/span><\/span>/);
  });

  test('text from files is escaped: <script> in a message body and a job description shows as text', () => {
    expect(html).toContain('look: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('<span class="desc">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</span>');
    expect(html).toContain('disk &lt;b&gt;failing&lt;/b&gt;');
    expect(html).toContain('release &lt;1.2&gt;');
    expect(html).not.toContain(XSS);
    // The only script element is the page's own.
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  test('semantic and accessible: lang, viewport, landmarks, headings, tables with th scope, meters', () => {
    expect(html).toMatch(/^<!doctype html>\n<html lang="en"/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    for (const tag of ['<header>', '<main>', '<footer>', '<h1>', '<h2 id="builders-h">', '<th scope="col">', '<th scope="row">', '<caption', '<meter ']) expect(html).toContain(tag);
    for (const id of ['summary', 'builders', 'queue', 'recent', 'charts', 'locks', 'messages']) expect(html).toContain(`<section id="${id}" aria-labelledby="${id}-h">`);
    expect(html).toMatch(/<svg viewBox="0 0 600 150" role="img" aria-label="Job durations and results: build1: 3 attempts in the last 7 days: 1 completed, 2 failed; median completed duration 5m"/);
  });

  test('self-contained: no external URL; the CSP allows exactly the inline style and script by hash', () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const hash = (t: string) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    expect(style).toBe(PAGE_CSS);
    expect(script).toBe(PAGE_JS);
    const csp = contentSecurityPolicy(false);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'none'");
    expect(contentSecurityPolicy(true)).toContain("connect-src 'self'");
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${csp.replace(/'/g, '&#39;')}">`);
  });

  test('data age: the commit and its time; a failed fetch is said plainly', () => {
    expect(html).toContain('Data as of commit <code>abcdef012345</code>, committed <time datetime="2026-11-30T11:59:30Z">');
    const stale = renderPage(buildDashboardModel(fixtureData({ source: { fresh: false, fetchedAtMs: NOW - 600_000, warnings: ['remote origin not reachable (x)'] } })), { live: false, now: NOW });
    expect(stale).toMatch(/<ul class="alerts" role="alert"><li>The last fetch from the remote failed: the data is older than it should be \(last successful fetch <time[^>]*>2026-11-30 11:50:00Z<\/time> UTC\)\.<\/li><li>remote origin not reachable \(x\)<\/li><\/ul>/);
  });

  test('live sections: ages carry data-age-s so the page counts them up; a refresh error is shown', () => {
    const s = renderSections(m, { live: true, now: NOW + 7000, refreshError: 'fetch failed <x>' });
    expect(Object.keys(s)).toEqual([...SECTION_IDS]);
    expect(s.builders).toContain('<span data-age-s="5">5s</span> ago');
    expect(s['status-bar']).toContain('data-model-age-s="7"');
    expect(s['status-bar']).toContain('fetched from the remote <span data-age-now-s="7">7s</span> ago');
    expect(s['status-bar']).toContain('Refreshing from git failed: fetch failed &lt;x&gt;.');
  });
});

describe('chart', () => {
  test('niceCeil rounds up to 1, 2, 5 × 10^k', () => {
    expect([0, 1, 3, 7, 45, 99, 101, 600, 4000].map(niceCeil)).toEqual([60, 1, 5, 10, 50, 100, 200, 1000, 5000]);
  });
  test('shapes tell the result: circle completed, square failed, triangle other; ids escaped in titles', () => {
    const svg = renderBuilderChart({
      builder: 'build9', counts: { completed: 1, failed: 1, cancelled: 1 }, total: 3, median_completed_s: 10,
      points: [{ t: NOW - 1000, duration_s: 10, result: 'completed', job: 'j<1>' }, { t: NOW - 500, duration_s: 20, result: 'failed', job: 'j2' }, { t: NOW, duration_s: 5, result: 'cancelled', job: 'j3' }],
    }, { from: NOW - 86_400_000, to: NOW, days: 1 });
    expect(svg).toMatch(/<circle class="pt ok"[^>]*><title>j&lt;1&gt; completed 10s/);
    expect(svg).toMatch(/<rect class="pt bad"[^>]*><title>j2 failed 20s/);
    expect(svg).toMatch(/<path class="pt other"[^>]*><title>j3 cancelled 5s/);
  });
});

describe('the shortcuts the model takes for speed give the same figures', () => {
  test('on a synthetic fleet of 20 builders and 2,000 jobs: builders as fleetStatus, queue places as queuePlaces', async () => {
    const { syntheticFleet } = await import('../../lib/bench/dashboard-section.js');
    const { fleetStatus } = await import('../../lib/ops/fleet-status.js');
    const { queuePlaces } = await import('../../lib/ops/queue-stats.js');
    const data = syntheticFleet(20, 2000, 500);
    const m = buildDashboardModel(data);
    const full = fleetStatus(data.fleet);
    expect(m.builders.map(({ arch: _a, labels: _l, max_concurrent_jobs: _c, ...b }) => b)).toEqual(full.builders);
    const all = data.fleet.jobs.jobs as Parameters<typeof queuePlaces>[0];
    const places = queuePlaces(all, data.fleet.config, data.fleet.now, [...all, ...data.archived], data.fleet.jobs);
    expect(m.queue.queued.length).toBe(50);
    for (const j of m.queue.queued) expect({ id: j.id, position: j.position, wait: j.estimated_wait_s }).toEqual({ id: j.id, position: places.get(j.id)!.position, wait: places.get(j.id)!.estimated_wait_s });
    expect(m.queue.queued.some((j) => j.estimated_wait_s !== null && j.estimated_wait_s > 0)).toBe(true);
  });
});
