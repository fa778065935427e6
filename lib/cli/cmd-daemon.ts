/**
 * `coord daemon [--once]` and `coord heartbeat` (for cron). Both act AS this builder: they
 * refuse (exit 2) a builder that shared/build_config.json does not list. A second daemon
 * for the same builder and fleet on this machine refuses (exit 4) naming the running one;
 * `coord heartbeat` never waits for the daemon (it shares only the clone lock).
 */
import type { Argv } from 'yargs';
import { Daemon } from '../daemon/daemon.js';
import type { Run } from './cmd-files.js';
import { printJson, printLines } from './io.js';
import { VERSION } from './version.js';

export function daemonCommands(y: Argv, run: Run): Argv {
  return y
    .command(
      'daemon',
      'run this machine as a builder: heartbeat, claim, run and report jobs',
      (c) => c
        .option('once', { type: 'boolean', default: false, describe: 'run until nothing is left that it can claim: beat, claim up to capacity, run and report, claim again while jobs it may run remain queued; then exit (tests, scripts)' })
        .option('poll-interval', { type: 'number', describe: 'seconds between claim checks (default: min(5, heartbeat interval))' })
        .example('coord daemon', 'run until SIGTERM (systemd runs it so)')
        .example('coord --builder build2 daemon --once', 'as build2: run what it can claim now, then exit')
        .epilogue('One daemon per builder on a machine: a second one (same clone, or another clone of the same coordination repository) exits 4 naming the running one. Its lock is a folder in $TMPDIR/build-coord-<uid>/ (default /tmp); a lock left by a dead daemon is taken over at once.'),
      run(async (ctx, a) => {
        const id = await ctx.builderIdentity();
        const poll = a['poll-interval'] as number | undefined;
        const d = new Daemon({
          repoRoot: ctx.repoRoot(), builder: id.builder, clock: ctx.clock, once: Boolean(a.once), version: VERSION,
          ...(poll !== undefined ? { pollMs: Math.max(100, poll * 1000) } : {}),
          log: (line) => ctx.io.stderr(line + '\n'),
        });
        let signals = 0;
        const onSignal = () => { signals++; if (signals === 1) d.requestStop(); else d.forceStop(); };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        try {
          await d.run();
        } finally {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
        if (ctx.json) printJson(ctx.io, { ok: true, builder: id.builder });
      }),
    )
    .command(
      'heartbeat',
      'one heartbeat and status refresh (for cron; shares the daemon\'s local lock)',
      (c) => c.example('* * * * * coord heartbeat', 'a crontab line'),
      run(async (ctx) => {
        const id = await ctx.builderIdentity();
        const d = new Daemon({ repoRoot: ctx.repoRoot(), builder: id.builder, clock: ctx.clock, version: VERSION, log: (line) => ctx.io.stderr(line + '\n') });
        const r = await d.heartbeatOnce();
        // snake_case like every other --json document (the daemon's result is camelCase).
        if (ctx.json) return printJson(ctx.io, { ok: true, builder: id.builder, published: r.published, status_written: r.statusWritten, daemon_alive: r.daemonAlive });
        printLines(ctx.io, `${id.builder}: heartbeat ${r.published ? 'published' : 'not published (remote unreachable?)'}${r.statusWritten ? ', status updated on main' : ''}${r.daemonAlive ? ' (daemon running: it owns the status)' : ''}`);
        if (!r.published) process.exitCode = 6;
      }),
    );
}
