/**
 * The live dashboard server in-process (real node:http on loopback, the hand-built fleet of
 * test/dashboard/fixture.ts): the DNS-rebinding guard on the `Host` header, control
 * characters in the HTML it serves, and refresh failures told once, not on every retry.
 */
import http from 'node:http';
import { buildDashboardModel, type DashboardModel } from '../../lib/dashboard/model.js';
import { hostHeaderAllowed, isLoopbackHost, startDashboardServer, type DashboardServer } from '../../lib/dashboard/server.js';
import { fixtureData, fixtureInput, NOW } from './fixture.js';

/** A message body with ESC, BEL and U+202E RIGHT-TO-LEFT OVERRIDE in it. */
const NASTY = 'before \u001b[2J\u0007 \u202eevil\u202c after';

function nastyModel(): DashboardModel {
  const msgs = fixtureInput().messages;
  if (!msgs) throw new Error('the fixture has messages');
  return buildDashboardModel(fixtureData({ fleet: { messages: { ...msgs, messages: [{ ...msgs.messages[0], body: NASTY, subject: `s ${NASTY}` }, ...msgs.messages.slice(1)] } } }));
}

/** A raw GET with the `Host` header as given (node's own would be correct). */
const get = (url: string, p: string, host?: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
  const req = http.request(new URL(p, url), { method: 'GET', headers: host === undefined ? {} : { Host: host }, setHost: host === undefined }, (res) => {
    let text = '';
    res.on('data', (b: Buffer) => { text += b.toString(); });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
  });
  req.on('error', reject);
  req.end();
});

describe('isLoopbackHost / hostHeaderAllowed', () => {
  test.each(['localhost', '127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '[::1]'])('%s is loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });
  test.each(['127.attacker.example', '127.0.0.1.evil.com', '127.a', '127.999.999.999', '127.0.0', '128.0.0.1', '0.0.0.0', 'localhost.evil', '::2'])('%s is not loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
  test('a non-loopback bind also answers to its own address, bracketed for IPv6', () => {
    expect(hostHeaderAllowed('192.0.2.7:8080', '192.0.2.7')).toBe(true);
    expect(hostHeaderAllowed('[fe80::1]:8080', 'fe80::1')).toBe(true);
    expect(hostHeaderAllowed('192.0.2.8:8080', '192.0.2.7')).toBe(false);
  });
});

describe('startDashboardServer', () => {
  let server: DashboardServer;
  beforeAll(async () => {
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, refreshMs: 3_600_000, load: () => Promise.resolve(nastyModel()), now: () => NOW });
  });
  afterAll(() => server.close());

  test.each([
    '127.attacker.example:80', '127.0.0.1.evil.com', '127.a', '127.999.999.999', '[::1].evil', '127.0.0.1:abc',
    '127.0.0.1:0', '127.0.0.1:65536', 'localhost:', 'evil.example', '', '127.0.0.1:80:80', '[::1', 'LOCALHOST.evil',
  ])('Host %j → 421 and no fleet data', async (host) => {
    const r = await get(server.url, '/api/status', host);
    expect(r.status).toBe(421);
    expect(r.body).not.toMatch(/build1/);
  });

  test.each(['localhost', 'localhost:8080', '127.0.0.1', '127.0.0.1:1', '127.4.5.6:65535', '[::1]', '[::1]:8080', 'LocalHost:80'])('Host %j → 200', async (host) => {
    expect((await get(server.url, '/api/status', host)).status).toBe(200);
  });

  test('control and bidi characters from files reach the page and /api/sections only as visible escapes; /api/status keeps the exact text', async () => {
    const page = await get(server.url, '/');
    const sections = await get(server.url, '/api/sections');
    for (const html of [page.body, JSON.parse(sections.body).sections.messages as string]) {
      for (const raw of ['\u0007', '\u001b', '\u202e', '\u202c']) expect(html).not.toContain(raw);
      expect(html).toContain('before \\x1b[2J\\x07 \\u202eevil\\u202c after');
    }
    const status = JSON.parse((await get(server.url, '/api/status')).body) as DashboardModel;
    expect(JSON.stringify(status)).toContain(JSON.stringify(NASTY).slice(1, -1));
  });
});

describe('refresh failures', () => {
  test('told once per distinct error, and once when refreshing works again', async () => {
    const results: (Error | null)[] = [new Error('main is invalid: a'), new Error('main is invalid: a'), new Error('main is invalid: a'), new Error('main is invalid: b'), new Error('main is invalid: b'), null, null, new Error('main is invalid: a')];
    let call = 0;
    const model = buildDashboardModel(fixtureData());
    const events: string[] = [];
    const server = await startDashboardServer({
      host: '127.0.0.1', port: 0, refreshMs: 3_600_000, now: () => NOW,
      load: () => {
        if (call === 0) { call++; return Promise.resolve(model); }
        const r = results[call++ - 1];
        return r ? Promise.reject(r) : Promise.resolve(model);
      },
      onRefreshError: (err) => events.push(`error: ${(err as Error).message}`),
      onRefreshRecovered: () => events.push('recovered'),
    });
    try {
      for (let i = 0; i < results.length; i++) await server.refresh();
      expect(events).toEqual(['error: main is invalid: a', 'error: main is invalid: b', 'recovered', 'error: main is invalid: a']);
      // The page still says what is wrong, every time.
      expect((await get(server.url, '/api/status')).body).toMatch(/"refresh_error": "main is invalid: a"/);
    } finally {
      await server.close();
    }
  });
});
