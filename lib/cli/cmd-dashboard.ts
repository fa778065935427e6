/**
 * `coord dashboard [--out FILE] [--serve [PORT]] [--port P] [--host H]` (issue 10; DESIGN.md
 * section 9): the fleet page. `--out` writes one self-contained HTML file and updates
 * `shared/health_dashboard.json` (only when its content changed); `--serve` serves the page
 * live, read-only, refreshed from git. Argument checks come first, so a bad command line
 * reads and writes nothing.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
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
 * `--port` gives it too (`--serve --port 9000`, issue 10); both at once must agree. An option
 * given twice, `--port`/`--host`/`--interval` without `--serve`, and `--no-aggregate` without
 * `--out` are usage errors.
 * @throws CoordError E_USAGE
 */
export function parseDashboardArgs(a: Record<string, unknown>): DashboardArgs {
  for (const opt of ['out', 'serve', 'port', 'host', 'interval', 'days']) {
    if (Array.isArray(a[opt])) throw usage(`--${opt} given twice; give it once`);
  }
  const out = a.out === undefined ? null : argText(a.out).trim();
  if (out === '') throw usage('--out needs a file name, for example --out fleet.html');
  const serving = a.serve !== undefined;
  if (!serving) {
    const lone = (['port', 'host', 'interval'] as const).filter((k) => a[k] !== undefined);
    if (lone.length) throw usage(`${lone.map((k) => `--${k}`).join(' and ')} need${lone.length === 1 ? 's' : ''} --serve: --port, --host and --interval go with --serve`);
  }
  if (!serving && out === null) throw usage('name what to do: --out FILE (write the page), --serve [PORT] (serve it live), or both');
  if (a.aggregate === false && out === null) throw usage('--no-aggregate applies to --out only (--serve never writes shared/health_dashboard.json); drop it, or add --out FILE');
  const fromServe = serving && argText(a.serve).trim() !== '' ? parseWholeNumber(a.serve, '--serve', 0, 65535) : null;
  const fromPort = a.port !== undefined ? parseWholeNumber(a.port, '--port', 0, 65535) : null;
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
 * Where `--out` writes, checked before anything is read: its folder must exist; if the path
 * exists it must be a regular file (not a folder, symlink, device, FIFO or socket: the page is
 * renamed over it, which would replace those); and it must not be a coordination file of the
 * repository.
 * @throws CoordError E_NOT_FOUND (folder missing), E_USAGE (not a regular file, a
 *   coordination file)
 */
async function checkOutPath(ctx: CommandContext, out: string): Promise<string> {
  const abs = path.resolve(ctx.io.cwd, out);
  const dir = path.dirname(abs);
  const dst = await fs.stat(dir).catch(() => null);
  if (!dst) throw new CoordError('E_NOT_FOUND', `--out ${out}: folder ${dir} does not exist; create it first (coord dashboard creates no folders)`);
  if (!dst.isDirectory()) throw usage(`--out ${out}: ${dir} is not a folder`);
  const st = await fs.lstat(abs).catch(() => null);
  if (st?.isDirectory()) throw usage(`--out ${out}: is a folder; give a file name such as ${path.join(out, 'index.html')}`);
  if (st && !st.isFile()) {
    // The page is written to a temp file renamed over the target: that would replace a
    // device, FIFO or socket with a regular file, and a symlink rather than what it points to.
    if (st.isSymbolicLink()) {
      const target = await fs.readlink(abs).catch(() => '?');
      throw usage(`--out ${out}: is a symbolic link (to ${target}); writing would replace the link itself with a regular file. Give the real path of the file, or another name`);
    }
    const what = st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : 'not a regular file';
    throw usage(`--out ${out}: is ${what}, not a regular file; coord dashboard replaces the file it writes, which would destroy it. Give the name of a regular file or a new one`);
  }
  const rel = path.relative(await fs.realpath(ctx.repoRoot()), path.join(await fs.realpath(dir), path.basename(abs)));
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    const r = rel.split(path.sep).join('/');
    if (kindOfPath(r) !== null || ownerOfPath(r) !== null || r.startsWith('.git/') || r.startsWith('coordination/') || r.startsWith('schemas/')) {
      throw usage(`--out ${out}: refusing to write the page over ${r}, a coordination file or folder; write it elsewhere (for example site/index.html)`);
    }
  }
  return abs;
}

/** Errors creating or renaming the page's temp file that mean "this folder cannot take it". */
const UNWRITABLE = new Map<string, string>([
  ['EACCES', 'permission denied'], ['EPERM', 'operation not permitted'], ['EROFS', 'read-only file system'],
  ['ENOENT', 'the folder does not accept new files'], ['ENOTDIR', 'not a folder'], ['EISDIR', 'a folder is in the way'],
  ['ENOSPC', 'no space left'], ['EDQUOT', 'disk quota exceeded'], ['EXDEV', 'cross-device rename'], ['EINVAL', 'invalid for this file system'],
]);

/** The page's temp file, created (empty) before anything is read; renamed over the target. */
interface OutTemp {
  /** Absolute target path. */
  abs: string;
  /** Absolute temp path, beside the target. */
  tmp: string;
  handle: FileHandle;
}

const unwritable = (out: string, abs: string, code: string) =>
  usage(`--out ${out}: cannot write a file in ${path.dirname(abs)} (${code}: ${UNWRITABLE.get(code) ?? code}); choose a writable folder. Nothing was written`);

/**
 * Creates the page's temp file beside `abs` (O_EXCL, mode 0644), so an unwritable folder is
 * found before the repository is read or anything rendered.
 * @throws CoordError E_USAGE for the errors in {@link UNWRITABLE}; other errors as thrown
 */
async function openOutTemp(out: string, abs: string): Promise<OutTemp> {
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    return { abs, tmp, handle: await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && UNWRITABLE.has(code)) throw unwritable(out, abs, code);
    throw err;
  }
}

/** Reads the repository and renders the static page and the aggregate (validated). */
async function renderOut(ctx: CommandContext, args: DashboardArgs) {
  const root = ctx.repoRoot();
  const now = ctx.clock.now();
  const data = await collectDashboardData(root, { now });
  const model = buildDashboardModel(data, { chartDays: args.chartDays });
  const html = renderPage(model, { live: false, now, version: VERSION });
  const aggregate = buildHealthDashboard(model);
  validateHealthDashboard(aggregate);
  return { root, model, html, aggregate };
}

/**
 * Renders the page into the temp file of {@link openOutTemp}, renames it over the target,
 * then writes the aggregate. On any failure before the rename the temp file is removed; a
 * write or rename error of {@link UNWRITABLE} is a usage error.
 */
async function writeOut(ctx: CommandContext, args: DashboardArgs, t: OutTemp): Promise<void> {
  const outAbs = t.abs;
  let page: Awaited<ReturnType<typeof renderOut>>;
  let writing = false;
  try {
    page = await renderOut(ctx, args);
    writing = true;
    await t.handle.writeFile(page.html, 'utf8');
    await t.handle.sync();
    await t.handle.close();
    await fs.rename(t.tmp, outAbs);
  } catch (err) {
    await t.handle.close().catch(() => undefined);
    await fs.rm(t.tmp, { force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (writing && code !== undefined && UNWRITABLE.has(code)) throw unwritable(args.out ?? outAbs, outAbs, code);
    throw err;
  }
  const { root, model, html, aggregate } = page;
  const dh = await fs.open(path.dirname(outAbs), constants.O_RDONLY).catch(() => null);
  if (dh) {
    await dh.sync().catch(() => undefined);
    await dh.close();
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
      // Said once per distinct error, not on every refresh; the page shows it all along.
      onRefreshError: (err) => ctx.io.stderr(`dashboard: refresh from git failed: ${err instanceof Error ? err.message : String(err)} (the page keeps showing the last good state; said again only if the error changes)\n`),
      onRefreshRecovered: () => ctx.io.stderr('dashboard: refresh from git works again\n'),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw usage(`port ${s.port} on ${s.host} is in use; choose another with --port (0 picks a free one)`);
    if (code === 'EACCES') throw usage(`port ${s.port} on ${s.host}: permission denied (ports below 1024 need privileges); choose another with --port`);
    if (code === 'EADDRNOTAVAIL') throw usage(`--host ${s.host}: not an address of this machine`);
    throw err;
  }
  // Serve until interrupted; close cleanly so the exit code is 0. The handlers go in before
  // the URL is printed: whoever acts on that line may stop the server at once.
  const interrupted = new Promise<void>((resolve) => {
    const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (ctx.json) printJson(ctx.io, { ok: true, url: server.url, host: server.host, port: server.port, refresh_s: s.refreshMs / 1000 });
  else {
    if (!isLoopbackHost(s.host)) ctx.io.stderr(`warning: listening on ${s.host}: anyone who can reach this address can read the fleet page (it is read-only)\n`);
    printLines(ctx.io, `dashboard: serving ${server.url} (read-only; refreshed from git every ${s.refreshMs / 1000} s; Ctrl-C stops)`);
  }
  await interrupted;
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
      if (args.out !== null && outAbs !== null) await writeOut(ctx, args, await openOutTemp(args.out, outAbs));
      if (args.serve) await serve(ctx, args);
    }),
  );
}
