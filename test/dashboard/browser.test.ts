/**
 * The fleet page in a real browser (issue 10, "Must hold"): a fixture fleet in real git (bare
 * origin, one clone per builder; healthy, stale, offline and grounded builders; queued,
 * running, failed and blocked jobs), `coord dashboard --out` and `--serve` run as the real
 * CLI, the page opened in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser download). Screenshots go to test-output/dashboard/.
 *
 * Chromium missing is a failure, not a skip: npm test installs it (scripts/dev/test-prereqs.sh).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { COORD_BIN, PROJECT_ROOT, runNode } from '../support/cli.js';
import { beat, claimAs, coord, originHead, queueJob, runJobAs } from '../support/operator.js';
import { fingerprintTree } from '../support/tree.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(PROJECT_ROOT, 'test-output/dashboard');
const XSS = '<script>window.__xss = 1</script>';
const SM_BIN = path.join(PROJECT_ROOT, 'bin/sm.js');

let fleet: Fleet;
let observer: string;
let browser: Browser;

/** Launches Debian's Chromium; a missing executable fails the suite with what to do. */
async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard browser test needs Debian's chromium (apt-get install -y chromium; npm test installs it when run as root)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The health label each builder's card shows, read from the page as a person sees it. */
async function healthLabels(page: Page): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const card of await page.locator('article.card').all()) {
    const b = await card.getAttribute('data-builder');
    const label = card.locator('h3 .badge .label');
    if (b && await label.isVisible()) out[b] = (await label.innerText()).trim();
  }
  return out;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  fleet = await makeFleet(4);
  const c = fleet.clones;
  observer = c.build1;
  // Builders: build1 beats now, build2 4 minutes ago (stale), build3 15 minutes ago
  // (offline), build4 beats now but is grounded.
  await beat(c.build1, 'build1', 1);
  await beat(c.build2, 'build2', 240);
  await beat(c.build3, 'build3', 900);
  await beat(c.build4, 'build4', 1);
  // Jobs: one blocked (failed on two builders), one failed for good, one running, one queued.
  const blocked = await queueJob(observer, 'alice', { type: 'noop', description: 'fails everywhere' });
  await runJobAs(c.build1, 'build1', blocked, 'failed');
  await runJobAs(c.build4, 'build4', blocked, 'failed');
  const failed = await queueJob(observer, 'alice', { type: 'noop', description: 'one try only', max_attempts: 1 });
  await runJobAs(c.build1, 'build1', failed, 'failed');
  const done = await queueJob(observer, 'alice', { type: 'noop', description: 'ok' });
  await runJobAs(c.build4, 'build4', done, 'completed');
  const running = await queueJob(observer, 'alice', { type: 'noop', description: 'running now' });
  await claimAs(c.build1, 'build1', running);
  await queueJob(observer, 'alice', { type: 'noop', description: XSS });
  expect((await coord(observer, ['builder', 'ground', '4', '--reason', 'disk failing'])).exitCode).toBe(0);
  const sm = await runNode([SM_BIN, 'all', `hello ${XSS}`], { cwd: c.build2 });
  expect(sm.exitCode).toBe(0);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  fleet?.cleanup();
});

describe('coord dashboard --out: a static page', () => {
  test('shows every builder with its health label, escapes file text, writes the summary; a screenshot is kept', async () => {
    const out = path.join(fleet.dir, 'fleet.html');
    const r = await coord(observer, ['dashboard', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^wrote \.\.\/fleet\.html \(\d+ KB, 4 builders, commit [0-9a-f]{12}\)\nshared\/health_dashboard\.json: updated/);
    const summary = JSON.parse(readFileSync(path.join(observer, 'shared/health_dashboard.json'), 'utf8'));
    expect(summary).toMatchObject({ builders: { build1: { health: 'healthy' }, build2: { health: 'stale' }, build3: { health: 'offline' }, build4: { health: 'grounded' } }, queue: { queued: 1, running: 1, failed: 1, blocked: 1, completed: 1 } });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    const errors: string[] = [];
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    await page.goto(`file://${out}`);
    expect(await healthLabels(page)).toEqual({ build1: 'healthy', build2: 'stale', build3: 'offline', build4: 'grounded' });
    await expect(page.getByRole('heading', { name: 'Builders', level: 2 }).isVisible()).resolves.toBe(true);
    // The job description and the message body show their <script> as text; it never ran.
    await expect(page.locator('#queue').getByText(XSS).isVisible()).resolves.toBe(true);
    await expect(page.locator('#messages').getByText(`hello ${XSS}`).first().isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    // Queue, blocked and failed lists, with the waiting reason.
    await expect(page.locator('#queue table').filter({ hasText: 'fails everywhere' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('#queue').getByText(/next in line|waiting its turn|busy, grounded, held back or offline/).first().isVisible()).resolves.toBe(true);
    // Self-contained: nothing but the file itself was requested; the CSP blocked nothing.
    expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'))).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'static-desktop.png'), fullPage: true });
    // Readable on a phone: nothing wider than the screen outside the scrolling tables.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, 'static-phone.png'), fullPage: true });
    await page.close();
  });
});

describe('coord dashboard --serve: the live page', () => {
  let server: ChildProcessWithoutNullStreams;
  let url: string;
  let stderr = '';

  beforeAll(async () => {
    server = spawn(process.execPath, [COORD_BIN, 'dashboard', '--serve', '--port', '0', '--interval', '1'], { cwd: observer, env: { ...process.env, NO_COLOR: '1' } });
    server.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed in 20 s; stdout: ${out}; stderr: ${stderr}`)), 20_000);
      server.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /dashboard: serving (http:\/\/127\.0\.0\.1:\d+\/) \(read-only/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    });
  }, 30_000);

  afterAll(async () => {
    if (server.exitCode === null) {
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  test('updates after a new heartbeat is pushed, without reloading the page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
    await page.goto(url);
    expect(await healthLabels(page)).toEqual({ build1: 'healthy', build2: 'stale', build3: 'offline', build4: 'grounded' });
    await expect(page.getByText(/fetched from the remote \d+s ago/).isVisible()).resolves.toBe(true);
    // A marker that a reload would wipe out.
    await page.evaluate(() => { (globalThis as unknown as { __marker: string }).__marker = 'still here'; });
    let navigations = 0;
    page.on('framenavigated', () => { navigations++; });

    // build2 comes back with a new heartbeat (a real push of its heartbeat ref), draining.
    await beat(fleet.clones.build2, 'build2', 0, { state: 'draining' });
    const card = page.locator('article.card[data-builder="build2"]');
    await card.locator('.badge .label', { hasText: 'healthy' }).waitFor({ timeout: 20_000 });
    await expect(card.getByText('draining').isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { __marker?: string }).__marker)).toBe('still here');
    expect(navigations).toBe(0);
    expect(Number(await page.locator('html').getAttribute('data-version'))).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'live.png'), fullPage: true });
    await page.close();
  }, 40_000);

  /** A raw request (so the Host header can be set). */
  const request = (method: string, p: string, headers: Record<string, string> = {}, body?: string) => new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const framing: Record<string, string> = body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {};
    const req = http.request(new URL(p, url), { method, headers: { ...framing, ...headers } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => { text += b.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });

  test('read-only: POST, PUT and DELETE get 405 and change nothing; GET and HEAD work with security headers', async () => {
    const before = { origin: originHead(fleet.origin), jobs: originJson(fleet.origin, 'coordination/jobs.json'), tree: await fingerprintTree(observer, { exclude: ['.git'] }) };
    for (const [method, p] of [['POST', '/'], ['POST', '/api/status'], ['PUT', '/api/sections'], ['DELETE', '/'], ['PATCH', '/api/status']]) {
      const r = await request(method, p, { 'Content-Type': 'application/json' }, '{"status":"cancelled"}');
      expect({ method, p, status: r.status, allow: r.headers.allow }).toEqual({ method, p, status: 405, allow: 'GET, HEAD' });
      expect(r.body).toMatch(/read-only/);
    }
    expect({ origin: originHead(fleet.origin), jobs: originJson(fleet.origin, 'coordination/jobs.json'), tree: await fingerprintTree(observer, { exclude: ['.git'] }) }).toEqual(before);

    const page = await request('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'; img-src data:; connect-src 'self'/);
    const head = await request('HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const api = await request('GET', '/api/status');
    const doc = JSON.parse(api.body) as { builders: { builder: string; health: string }[]; live: { version: number } };
    expect(doc.builders.map((b) => b.builder)).toEqual(['build1', 'build2', 'build3', 'build4']);
    expect(doc.live.version).toBeGreaterThanOrEqual(1);
    expect((await request('GET', '/nothing')).status).toBe(404);
    // DNS rebinding: a loopback server answers only to loopback host names.
    expect((await request('GET', '/api/status', { Host: 'evil.example' })).status).toBe(421);
    expect(stderr).toBe('');
  });
});
