/**
 * `coord messages watch [--exec CMD…]`: print, or hand to a command, every new message for
 * this builder, once (lib/messages/watch.ts). SIGINT/SIGTERM stop it gracefully (a
 * running command finishes); a second signal stops the command too.
 */
import type { Argv, CommandModule } from 'yargs';
import { CoordError } from '../errors.js';
import { fullMessage } from '../messages/format.js';
import { parseSince } from '../messages/inbox.js';
import { DEFAULT_GUARDS } from '../messages/loop-guards.js';
import { resolveProgram } from '../messages/exec.js';
import { watchMessages, type WatchEvent } from '../messages/watch.js';
import type { Run } from './cmd-files.js';
import type { CommandContext } from './context.js';
import { safeForTerminal } from '../util/terminal-text.js';
import { printLines, whenStdoutGone } from './io.js';

function number(a: Record<string, unknown>, key: string, min: number): number {
  const v = Number(a[key]);
  if (!Number.isFinite(v) || v < min) throw new CoordError('E_USAGE', `--${key} ${String(a[key])}: give a number ≥ ${min}`, { details: { argument: `--${key}` } });
  return v;
}

async function watchHandler(ctx: CommandContext, a: Record<string, unknown>): Promise<void> {
  const builder = ctx.identity().builder;
  const repoRoot = ctx.repoRoot();
  const rest = ((a['--'] as unknown[] | undefined) ?? []).map(String);
  const execWords = [...((a.exec as unknown[] | undefined) ?? []).map(String), ...rest];
  if (rest.length && a.exec === undefined) throw new CoordError('E_USAGE', 'words after -- are the command of --exec; add --exec (coord messages watch --exec -- CMD ARGS…)', { details: { argument: '--exec' } });
  const exec = a.exec !== undefined ? execWords : null;
  if (exec !== null && !exec.length) throw new CoordError('E_USAGE', '--exec needs a command (coord messages watch --exec ./respond.sh, or --exec -- CMD ARGS…)', { details: { argument: '--exec' } });
  if (exec) resolveProgram(exec[0], ctx.io.env, repoRoot);
  const now = ctx.clock.now();
  const since = a.since !== undefined ? parseSince(typeof a.since === 'string' ? a.since : JSON.stringify(a.since), now) : null;
  const guards = {
    includeAuto: Boolean(a['include-auto']),
    maxDepth: number(a, 'max-depth', 1),
    threadLimit: number(a, 'thread-rate', 1),
    peerLimit: number(a, 'peer-rate', 1),
    windowMs: number(a, 'rate-window', 1) * 1000,
  };
  const graceful = new AbortController();
  const force = new AbortController();
  const onSignal = () => {
    if (!graceful.signal.aborted) {
      ctx.io.stderr('watch: stopping (a running command may finish; signal again to stop it)\n');
      graceful.abort();
    } else force.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Printing messages to a reader that has gone (`coord messages watch | head -5`) would
  // hand them over to nobody: stop as for a signal.
  if (!exec) whenStdoutGone(() => { if (!graceful.signal.aborted) { ctx.io.stderr('watch: stopping: standard output was closed\n'); graceful.abort(); } });
  const log = (e: WatchEvent) => ctx.io.stderr(`watch: ${e.level === 'warn' ? 'warning: ' : ''}${safeForTerminal(e.text)}\n`);
  try {
    const summary = await watchMessages({
      repoRoot, builder, clock: ctx.clock, exec, execTimeoutMs: number(a, 'exec-timeout', 1) * 1000, markRead: Boolean(a['mark-read']),
      guards, since, redeliverInterrupted: Boolean(a['redeliver-interrupted']),
      fetchIntervalMs: number(a, 'interval', 0.2) * 1000, pollIntervalMs: number(a, 'poll', 0.1) * 1000, debounceMs: 150,
      once: Boolean(a.once), env: ctx.io.env, commandLine: `coord messages watch${exec ? ` --exec ${exec.join(' ')}` : ''}`,
      signal: graceful.signal, forceSignal: force.signal,
      onMessage: (m, builders) => {
        if (ctx.json) ctx.io.stdout(JSON.stringify(m) + '\n');
        else printLines(ctx.io, [`── ${safeForTerminal(m.id)}`, ...fullMessage(m, builders), '']);
      },
      onEvent: log,
    });
    ctx.io.stderr(`watch: ${summary.delivered} delivered, ${summary.skipped} held back by loop guards, ${summary.failed} failed\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The `watch` subcommand of `coord messages`. */
export function watchCommand(run: Run): CommandModule {
  return {
    command: 'watch',
    describe: 'print (or run --exec CMD for) every new message for this builder, once, across restarts',
    builder: (c: Argv) => c
      .parserConfiguration({ 'populate--': true })
      .option('exec', { type: 'string', array: true, describe: 'run this command per message: message JSON on stdin, COORD_MESSAGE_ID and COORD_AUTO=1 in its environment; arguments that start with - go after --' })
      .option('mark-read', { type: 'boolean', default: false, describe: 'mark each handed-over message read' })
      .option('include-auto', { type: 'boolean', default: false, describe: 'hand messages sent by auto-responders to --exec too' })
      .option('since', { type: 'string', describe: 'first start: skip messages older than this (default: now); later: deliver again what was skipped after it' })
      .option('max-depth', { type: 'number', default: DEFAULT_GUARDS.maxDepth, describe: 'reply-chain depth at which --exec is no longer run' })
      .option('thread-rate', { type: 'number', default: DEFAULT_GUARDS.threadLimit, describe: 'messages of one thread handed to --exec per --rate-window' })
      .option('peer-rate', { type: 'number', default: DEFAULT_GUARDS.peerLimit, describe: 'messages of one sender handed to --exec per --rate-window' })
      .option('rate-window', { type: 'number', default: DEFAULT_GUARDS.windowMs / 1000, describe: 'seconds' })
      .option('interval', { type: 'number', default: 5, describe: 'seconds between fetches' })
      .option('poll', { type: 'number', default: 1, describe: 'seconds between content-hash checks (the safety net under file events)' })
      .option('exec-timeout', { type: 'number', default: 300, describe: 'seconds before a command is killed' })
      .option('redeliver-interrupted', { type: 'boolean', default: false, describe: 'after a crash, hand over again the message whose command was cut off' })
      .option('once', { type: 'boolean', default: false, describe: 'one pass (fetch, deliver), then exit' })
      .example('coord messages watch', 'print new messages as they arrive')
      .example('coord messages watch --mark-read --exec ./respond.sh', 'run a responder per message')
      .example('coord messages watch --exec -- node agent.js --quiet', 'a command whose arguments start with -'),
    handler: run(watchHandler),
  };
}
