/**
 * `coord dashboard [--out FILE] [--serve [PORT]] [--port P] [--host H]` (issue 10; DESIGN.md
 * section 9): the fleet page. `--out` writes one self-contained HTML file and updates
 * `shared/health_dashboard.json` (only when its content changed); `--serve` serves the page
 * live, read-only, refreshed from git. Argument checks come first, so a bad command line
 * reads and writes nothing.
 */
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Argv } from 'yargs';
import { buildHealthDashboard, validateHealthDashboard, writeHealthDashboard } from '../dashboard/aggregate.js';
import { collectDashboardData, type ArchiveCache } from '../dashboard/collect.js';
import { buildDashboardModel } from '../dashboard/model.js';
import { renderPage } from '../dashboard/render.js';
import { isLoopbackHost, startDashboardServer } from '../dashboard/server.js';
import { CoordError } from '../errors.js';
import { parseDurationFlag, parseWholeNumber } from '../ops/input.js';
import { writeFileAtomic } from '../store/files.js';
import { kindOfPath, ownerOfPath } from '../store/kinds.js';
import type { Run } from './cmd-files.js';
import type { CommandContext } from './context.js';
import { printJson, printLines } from './io.js';
import { argText, warn } from './ops-edge.js';
import { VERSION } from './version.js';

/** Default port of `--serve` without a port. */
export const DEFAULT_DASHBOARD_PORT = 8080;

const usage = (m: string) => new CoordError('E_USAGE', m);

interface DashboardArgs {
  out: string | null;
  serve: { host: string; port: number; refreshMs: number } | null;
  aggregate: boolean;
  chartDays: number;
}

/**
 * Checks the command line. `--serve` takes an optional port (`--serve 9000`, DESIGN.md) and
 * `--port` gives it too (`--serve --port 9000`, issue 10); both at once must agree.
 * @throws CoordError E_USAGE
 */
export function parseDashboardArgs(a: Record<string, unknown>): DashboardArgs {
  const out = a.out === undefined ? null : argText(a.out).trim();
  if (out === '') throw usage('--out needs a file name, for example --out fleet.html');
  const serving = a.serve !== undefined;
  if (!serving && out === null) throw usage('name what to do: --out FILE (write the page), --serve [PORT] (serve it live), or both');
  const fromServe = serving && argText(a.serve).trim() !== '' ? parseWholeNumber(a.serve, '--serve', 0, 65535) : null;
  const fromPort = a.port !== undefined ? parseWholeNumber(a.port, '--port', 0, 65535) : null;
  if (!serving && (fromPort !== null || a.host !== undefined || a.interval !== undefined)) throw usage('--port, --host and --interval go with --serve');
  if (fromServe !== null && fromPort !== null && fromServe !== fromPort) throw usage(`--serve ${fromServe} and --port ${fromPort} disagree; give the port once`);
  const host = a.host === undefined ? '127.0.0.1' : argText(a.host).trim();
  if (!(host === 'localhost' || isIP(host) !== 0)) throw usage(`--host ${JSON.stringify(argText(a.host))}: give an IP address (127.0.0.1, ::1, 0.0.0.0) or localhost`);
  const refreshMs = a.interval === undefined ? 5000 : parseDurationFlag(a.interval, '--interval', 1, 3600) * 1000;
  const chartDays = a.days === undefined ? 7 : parseWholeNumber(a.days, '--days', 1, 90);
  return {
    out, aggregate: a.aggregate !== false, chartDays,
    serve: serving ? { host, port: fromServe ?? fromPort ?? DEFAULT_DASHBOARD_PORT, refreshMs } : null,
  };
}

/**
 * Where `--out` writes, checked before anything is read: its folder must exist, it must not
 * be a folder, and it must not be a coordination file of the repository.
 * @throws CoordError E_NOT_FOUND (folder missing), E_USAGE (a folder, a coordination file)
 */
async function checkOutPath(ctx: CommandContext, out: string): Promise<string> {
  const abs = path.resolve(ctx.io.cwd, out);
  const dir = path.dirname(abs);
  const dst = await fs.stat(dir).catch(() => null);
  if (!dst) throw new CoordError('E_NOT_FOUND', `--out ${out}: folder ${dir} does not exist; create it first (coord dashboard creates no folders)`);
  if (!dst.isDirectory()) throw usage(`--out ${out}: ${dir} is not a folder`);
  const st = await fs.lstat(abs).catch(() => null);
  if (st?.isDirectory()) throw usage(`--out ${out}: is a folder; give a file name such as ${path.join(out, 'index.html')}`);
  const rel = path.relative(await fs.realpath(ctx.repoRoot()), path.join(await fs.realpath(dir), path.basename(abs)));
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    const r = rel.split(path.sep).join('/');
    if (kindOfPath(r) !== null || ownerOfPath(r) !== null || r.startsWith('.git/') || r.startsWith('coordination/') || r.startsWith('schemas/')) {
      throw usage(`--out ${out}: refusing to write the page over ${r}, a coordination file or folder; write it elsewhere (for example site/index.html)`);
    }
  }
  return abs;
}

async function writeOut(ctx: CommandContext, args: DashboardArgs, outAbs: string): Promise<void> {
  const root = ctx.repoRoot();
  const now = ctx.clock.now();
  const data = await collectDashboardData(root, { now });
  const model = buildDashboardModel(data, { chartDays: args.chartDays });
  const html = renderPage(model, { live: false, now, version: VERSION });
  const aggregate = buildHealthDashboard(model);
  validateHealthDashboard(aggregate);
  try {
    await writeFileAtomic(path.dirname(outAbs), path.basename(outAbs), html);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw usage(`--out ${args.out ?? ''}: cannot write there (${code}); choose a writable folder`);
    throw err;
  }
  const agg = args.aggregate ? await writeHealthDashboard(root, aggregate) : null;
  const rel = path.relative(ctx.io.cwd, outAbs) || outAbs;
  if (ctx.json && !args.serve) {
    return printJson(ctx.io, { ok: true, out: outAbs, bytes: Buffer.byteLength(html), commit: model.source.commit, fresh: model.source.fresh, warnings: model.source.warnings, aggregate: agg });
  }
  if (!ctx.json) {
    warn(ctx, model.source.warnings);
    printLines(ctx.io, `wrote ${rel} (${Math.ceil(Buffer.byteLength(html) / 1024)} KB, ${model.summary.builders} builders, commit ${model.source.commit?.slice(0, 12) ?? 'none'})`);
    if (agg) printLines(ctx.io, `${agg.path}: ${agg.written ? `updated${agg.replacedUnreadable ? ' (the old file was not valid JSON)' : ''}; coord sync --commit publishes it` : 'unchanged (only the time would differ)'}`);
  }
}

async function serve(ctx: CommandContext, args: DashboardArgs): Promise<void> {
  const s = args.serve!;
  const root = ctx.repoRoot();
  const archiveCache: ArchiveCache = { commit: null, jobs: [] };
  let lastFetchOkMs: number | null = null;
  const load = async () => {
    const now = ctx.clock.now();
    const data = await collectDashboardData(root, { now, archiveCache, lastFetchOkMs });
    if (data.source.fresh) lastFetchOkMs = now;
    return buildDashboardModel(data, { chartDays: args.chartDays });
  };
  let server;
  try {
    server = await startDashboardServer({
      host: s.host, port: s.port, refreshMs: s.refreshMs, load, now: () => ctx.clock.now(), version: VERSION,
      onRefreshError: (err) => ctx.io.stderr(`dashboard: refresh from git failed: ${(err as Error).message ?? String(err)}\n`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw usage(`port ${s.port} on ${s.host} is in use; choose another with --port (0 picks a free one)`);
    if (code === 'EACCES') throw usage(`port ${s.port} on ${s.host}: permission denied (ports below 1024 need privileges); choose another with --port`);
    if (code === 'EADDRNOTAVAIL') throw usage(`--host ${s.host}: not an address of this machine`);
    throw err;
  }
  if (ctx.json) printJson(ctx.io, { ok: true, url: server.url, host: server.host, port: server.port, refresh_s: s.refreshMs / 1000 });
  else {
    if (!isLoopbackHost(s.host)) ctx.io.stderr(`warning: listening on ${s.host}: anyone who can reach this address can read the fleet page (it is read-only)\n`);
    printLines(ctx.io, `dashboard: serving ${server.url} (read-only; refreshed from git every ${s.refreshMs / 1000} s; Ctrl-C stops)`);
  }
  // Serve until interrupted; close cleanly so the exit code is 0.
  await new Promise<void>((resolve) => {
    const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
}

export function dashboardCommands(y: Argv, run: Run): Argv {
  return y.command(
    'dashboard',
    'the fleet page: --out FILE writes a self-contained HTML file (and shared/health_dashboard.json); --serve serves it live, read-only',
    (c) => c
      .option('out', { type: 'string', describe: 'write the page to FILE (its folder must exist)' })
      .option('serve', { type: 'string', describe: `serve the page live on http://HOST:PORT/ (PORT default ${DEFAULT_DASHBOARD_PORT}; 0 picks a free one)` })
      .option('port', { type: 'string', describe: 'with --serve: the port (same as --serve PORT)' })
      .option('host', { type: 'string', describe: 'with --serve: the address to listen on (default 127.0.0.1, this machine only)' })
      .option('interval', { type: 'string', describe: 'with --serve: seconds between refreshes from git (default 5)' })
      .option('days', { type: 'string', describe: 'days of history in the per-builder chart (default 7)' })
      .option('aggregate', { type: 'boolean', default: true, describe: 'with --out: also update shared/health_dashboard.json (--no-aggregate: do not)' })
      .example('coord dashboard --out site/index.html', 'a static page to publish')
      .example('coord dashboard --serve', 'live on http://127.0.0.1:8080/')
      .example('coord dashboard --serve --port 9000 --interval 10', 'another port, slower refresh'),
    run(async (ctx, a) => {
      const args = parseDashboardArgs(a);
      const outAbs = args.out !== null ? await checkOutPath(ctx, args.out) : null;
      if (outAbs !== null) await writeOut(ctx, args, outAbs);
      if (args.serve) await serve(ctx, args);
    }),
  );
}
