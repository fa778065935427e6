/**
 * `coord dashboard --serve` (issue 10): the fleet page served live with node:http.
 *
 * - Read-only: only GET and HEAD; any other method gets 405 and nothing changes. No
 *   endpoint writes anything (the refresh loop reads git like `coord status`).
 * - Routes: `/` the page; `/api/status` the {@link DashboardModel} as JSON (plus `live`:
 *   version, served_at, refresh_error); `/api/sections` the page's sections as HTML
 *   fragments, which the page polls to update itself without reloading.
 * - The model is rebuilt from git every `refreshMs` by `load` (fetch from the remote); a
 *   failed refresh keeps the last good model and says so on the page.
 * - Headers: a hash-based Content-Security-Policy (lib/dashboard/assets.ts), nosniff,
 *   no-referrer, no framing, no caching. On a loopback address, requests whose `Host` is
 *   not a loopback name are refused (421), so a web page elsewhere cannot read the fleet
 *   through DNS rebinding.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import { contentSecurityPolicy } from './assets.js';
import type { DashboardModel } from './model.js';
import { renderPage, renderSections, type SectionId } from './render.js';
import { renderStatusBar } from './render-sections.js';

export interface DashboardServerOptions {
  /** Address to listen on (default of the command: 127.0.0.1). */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** ms between refreshes from git (and between the page's polls). */
  refreshMs: number;
  /** Reads the fleet afresh (fetching from the remote) and builds the model. */
  load: () => Promise<DashboardModel>;
  /** Observer's now, epoch ms. */
  now: () => number;
  /** build-coord version for the footer. */
  version?: string;
  /**
   * Told about a failed refresh (the server keeps running) — once per distinct error
   * message in a row, not on every retry: the same failure again says nothing new.
   */
  onRefreshError?: (err: unknown) => void;
  /** Told once when a refresh works again after {@link onRefreshError} was called. */
  onRefreshRecovered?: () => void;
}

export interface DashboardServer {
  /** `http://HOST:PORT/` as listened on. */
  url: string;
  host: string;
  port: number;
  /** Rebuilds the model now (what the timer does). Never throws. */
  refresh(): Promise<void>;
  /** Stops the timer and the server, drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * True for addresses only this machine can reach: `localhost`, an IPv4 literal in
 * 127.0.0.0/8 (four decimal octets 0–255, as node:net `isIPv4` accepts them) and `::1`
 * (bare or in brackets). Names that merely start with `127.` (`127.0.0.1.evil.com`,
 * `127.a`, `127.999.999.999`) are not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || h === '[::1]' || (isIPv4(h) && h.startsWith('127.'));
}

/**
 * The host part of a `Host` header, lower-cased, with brackets kept for IPv6
 * (`[::1]:8080` → `[::1]`); null when the header is missing or malformed: anything after
 * the host that is not `:PORT` with PORT a number 1–65535 (`127.0.0.1:abc`, `[::1].evil`,
 * `localhost:`), or an empty host.
 */
export function hostOfHeader(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const h = hostHeader.trim().toLowerCase();
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return null;
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return null;
  }
  return m[1];
}

/**
 * Whether a loopback-bound server answers a request with this `Host` header: only when it
 * names `localhost`, a 127.0.0.0/8 IPv4 literal or `[::1]` (each with an optional port
 * 1–65535), or the address the server was bound to. Anything else (a DNS name, which an
 * attacker's page could rebind to 127.0.0.1) gets 421.
 */
export function hostHeaderAllowed(hostHeader: string | undefined, boundHost: string): boolean {
  const host = hostOfHeader(hostHeader);
  if (host === null) return false;
  if (host === 'localhost' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'))) return true;
  const bound = boundHost.toLowerCase();
  return host === bound || (isIPv6(bound) && host === `[${bound}]`);
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/**
 * Loads the first model, then listens.
 * @throws whatever the first `load` throws (nothing to show yet), or the listen error
 *   (EADDRINUSE, EACCES) from node:net
 */
export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  let model = await o.load();
  let version = 1;
  let refreshError: string | null = null;
  /** The full message last given to onRefreshError; null while refreshes work. */
  let reported: string | null = null;
  let cache: { version: number; sections: Record<SectionId, string> } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let inFlight: Promise<void> | null = null;
  const csp = contentSecurityPolicy(true);
  const loopback = isLoopbackHost(o.host);

  const sectionsNow = (): Record<SectionId, string> => {
    const now = o.now();
    if (!cache || cache.version !== version) cache = { version, sections: renderSections(model, { live: true, now }) };
    return { ...cache.sections, 'status-bar': renderStatusBar(model, { live: true, now, refreshError }) };
  };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}) => {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, {
      'Content-Type': type, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store',
      'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cross-Origin-Opener-Policy': 'same-origin',
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  };
  const text = (req: IncomingMessage, res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}) =>
    send(req, res, status, 'text/plain; charset=utf-8', body + '\n', extra);

  const server = createServer((req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // Refuse: nothing here changes state. Read (and drop) the body first — answering
        // before it is read makes node close a kept-alive connection under the client's
        // next request — but no more than 1 MB of it.
        let seen = 0;
        req.on('data', (b: Buffer) => { seen += b.length; if (seen > 1_048_576) req.destroy(); });
        req.on('end', () => text(req, res, 405, `${req.method ?? '?'} not allowed: the dashboard is read-only (GET and HEAD only)`, { Allow: 'GET, HEAD' }));
        return;
      }
      if (loopback && !hostHeaderAllowed(req.headers.host, o.host)) {
        return text(req, res, 421, `this dashboard answers only to ${o.host} (Host: ${req.headers.host ?? 'missing'})`);
      }
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/' || path === '/index.html') {
        return send(req, res, 200, 'text/html; charset=utf-8', renderPage(model, { live: true, now: o.now(), refreshError, refreshMs: o.refreshMs, ...(o.version ? { version: o.version } : {}) }));
      }
      if (path === '/api/status') {
        return send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify({ ...model, live: { version, served_at: new Date(o.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), refresh_error: refreshError } }, null, 2) + '\n');
      }
      if (path === '/api/sections') {
        return send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify({ version, sections: sectionsNow() }));
      }
      return text(req, res, 404, `not found: ${path} (the dashboard serves /, /api/status and /api/sections)`);
    } catch (err) {
      if (!res.headersSent) text(req, res, 500, `internal error: ${messageOf(err)}`);
      else res.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  const refresh = async (): Promise<void> => {
    if (inFlight) return inFlight;
    inFlight = (async () => {
      try {
        model = await o.load();
        version++;
        if (reported !== null) { reported = null; o.onRefreshRecovered?.(); }
        refreshError = null;
      } catch (err) {
        refreshError = messageOf(err);
        const full = err instanceof Error ? err.message : String(err);
        if (full !== reported) { reported = full; o.onRefreshError?.(err); }
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => { void refresh().then(schedule); }, o.refreshMs);
  };
  schedule();

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    refresh,
    close: () => (closing ??= (async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (inFlight) await inFlight;
    })()),
  };
}
