/**
 * `coord lock acquire|release|renew|list|break|run` (DESIGN.md section 6, issue 6).
 * Expiry is judged by this observer's own clock (lib/locks/model.ts); the holder's token is
 * kept in `.git/coord/locks/<name>.json`.
 */
import { refuseCredentialArgs } from './arg-secrets.js';
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { loadObservations, noteLook, recordObservations } from '../heartbeat/observe.js';
import { LOCK_NAME_RE, observeLocks, viewLocks } from '../locks/model.js';
import { runWithLock } from '../locks/run.js';
import { acquireLockTx, breakLockTx, emptyLocks, releaseLockTx, renewLockTx, type LockOpResult } from '../locks/transactions.js';
import { parseDurationFlag, parseText } from '../ops/input.js';
import { readSnapshot, requireValid } from '../ops/snapshot.js';
import type { LocksFile } from '../schemas/types.gen.js';
import { PATHS } from '../store/kinds.js';
import type { Run } from './cmd-files.js';
import type { CommandContext } from './context.js';
import { safeForTerminal, terminalSafe } from '../util/terminal-text.js';
import { printJson, printLines } from './io.js';
import { argText, dur, operatorActor, renderTable, stringList, warn } from './ops-edge.js';

function lockName(raw: unknown): string {
  const name = argText(raw);
  if (!LOCK_NAME_RE.test(name)) throw new CoordError('E_USAGE', `lock name ${JSON.stringify(name)}: letters, digits, '.', '_', ':', '-', at most 128, starting with a letter or digit`);
  return name;
}

const ttlOf = (a: Record<string, unknown>) => (a.ttl === undefined ? undefined : parseDurationFlag(a.ttl, '--ttl', 1, 7 * 86400));

/** A refused lock operation as the error the command line reports. */
function refusedOrResult(r: LockOpResult): Exclude<LockOpResult, { status: 'refused' }> {
  if (r.status === 'refused') throw new CoordError(r.refusal.code, r.refusal.message, r.refusal.details ? { details: r.refusal.details } : {});
  return r;
}

function opts(ctx: CommandContext) {
  return { repoRoot: ctx.repoRoot(), actor: operatorActor(ctx), clock: ctx.clock };
}

export function lockCommands(y: Argv, run: Run): Argv {
  return y.command('lock', 'named leases (mutexes) shared by the fleet: acquire, release, renew, list, break, run', (ly) => ly
    .command(
      'acquire <name>',
      'take a lock when free or expired (exit 4 naming holder and expiry when held)',
      (c) => c.positional('name', { type: 'string', demandOption: true })
        .option('ttl', { type: 'string', describe: 'lease time (90, 5m, 1h); default policy.lease_ttl_s' })
        .option('reason', { type: 'string', describe: 'why, for the others (at most 500 characters)' })
        .example('coord lock acquire deploy --ttl 10m --reason "release 2.3"', 'hold "deploy" for 10 minutes unless renewed'),
      run(async (ctx, a) => {
        const name = lockName(a.name);
        const ttlS = ttlOf(a);
        const reason = a.reason === undefined ? undefined : parseText(a.reason, '--reason', 500);
        await refuseCredentialArgs({ '--reason': reason }, ctx.io.env);
        const r = refusedOrResult(await acquireLockTx({ ...opts(ctx), name, ...(ttlS ? { ttlS } : {}), ...(reason ? { reason } : {}) }));
        const e = r.entry!;
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: r.commit, lock: name, holder: e.locked_by, locked_at: e.locked_at, expires_at: e.expires_at, ttl_s: e.ttl_s ?? null, took_over_from: r.previous?.locked_by ?? null });
        printLines(ctx.io, safeForTerminal(`acquired ${name} until ${e.expires_at} (${dur(e.ttl_s ?? null)}; renew with coord lock renew ${name})${r.previous ? ` — took it over from ${r.previous.locked_by}, whose lease had expired` : ''}`));
      }),
    )
    .command(
      'release <name>',
      'release a lock this clone holds (exit 4 when someone else holds it)',
      (c) => c.positional('name', { type: 'string', demandOption: true }).example('coord lock release deploy', 'give "deploy" back'),
      run(async (ctx, a) => {
        const name = lockName(a.name);
        const r = refusedOrResult(await releaseLockTx({ ...opts(ctx), name }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: r.commit, lock: name, released: r.previous !== null });
        printLines(ctx.io, r.previous ? `released ${name}` : `${name} is not held; nothing to release`);
      }),
    )
    .command(
      'renew <name>',
      'extend a lock this clone holds (exit 4 when it is no longer held by it)',
      (c) => c.positional('name', { type: 'string', demandOption: true })
        .option('ttl', { type: 'string', describe: 'new lease time from now; default the lock\'s own' })
        .example('coord lock renew deploy --ttl 10m', 'ten more minutes'),
      run(async (ctx, a) => {
        const name = lockName(a.name);
        const ttlS = ttlOf(a);
        const r = refusedOrResult(await renewLockTx({ ...opts(ctx), name, ...(ttlS ? { ttlS } : {}) }));
        const e = r.entry!;
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: r.commit, lock: name, holder: e.locked_by, expires_at: e.expires_at, ttl_s: e.ttl_s ?? null });
        printLines(ctx.io, `renewed ${name} until ${e.expires_at}`);
      }),
    )
    .command(
      'list',
      'held locks: holder, since, expiry as judged by this machine\'s clock, reason',
      (c) => c.example('coord lock list', 'who holds what'),
      run(async (ctx) => {
        const now = ctx.clock.now();
        const s = await readSnapshot(ctx.repoRoot(), [PATHS.locks], { now });
        requireValid(s, [PATHS.locks]);
        warn(ctx, s.warnings);
        const doc = (s.files.get(PATHS.locks) as LocksFile | null) ?? emptyLocks();
        const obs = await loadObservations(ctx.repoRoot());
        const before = Object.keys(obs.locks);
        // A list from the last fetched main (remote unreachable) is a failed look: blind time.
        const look = { ok: s.fresh, at: now };
        const views = viewLocks(doc, observeLocks(obs.locks, doc, now, s.policy.clock_skew_s, noteLook(obs.sight, look.ok, now)));
        await recordObservations(ctx.repoRoot(), { locks: obs.locks, forgetLocks: before.filter((k) => !(k in obs.locks)), look });
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: s.commit, fresh: s.fresh, warnings: s.warnings, locks: views });
        if (!views.length) return printLines(ctx.io, 'no locks held');
        printLines(ctx.io, renderTable(['LOCK', 'HOLDER', 'SINCE', 'EXPIRES', 'REASON'], terminalSafe(views).map((v) => [
          v.name, v.holder, v.locked_at,
          v.expired ? `expired ${dur(-v.expires_in_s)} ago` : `in ${dur(v.expires_in_s)}${v.judged_by === 'timestamp' ? ' (by its clock)' : ''}`,
          v.reason,
        ])));
      }),
    )
    .command(
      'break <name>',
      'remove a lock whoever holds it — for a person; the reason is recorded in the commit',
      (c) => c.positional('name', { type: 'string', demandOption: true })
        .option('reason', { type: 'string', demandOption: true, describe: 'why (recorded as Coord-Reason)' })
        .example('coord lock break deploy --reason "build1 died mid-deploy"', 'free a lock whose holder is gone'),
      run(async (ctx, a) => {
        const name = lockName(a.name);
        const reason = parseText(a.reason, '--reason', 500).trim();
        if (!reason) throw new CoordError('E_USAGE', '--reason must say why the lock is broken');
        await refuseCredentialArgs({ '--reason': reason }, ctx.io.env);
        const r = refusedOrResult(await breakLockTx({ ...opts(ctx), name, reason }));
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: r.commit, lock: name, was_held_by: r.previous?.locked_by ?? null, reason });
        printLines(ctx.io, safeForTerminal(`broke ${name} (held by ${r.previous?.locked_by ?? '?'} since ${r.previous?.locked_at ?? '?'})`));
      }),
    )
    .command(
      'run <name> [command..]',
      'hold a lock while a command runs (renewed at a third of the TTL; released on exit, SIGINT, SIGTERM); exits with its code',
      (c) => c.parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
        .positional('name', { type: 'string', demandOption: true })
        .positional('command', { type: 'string', array: true, describe: 'the command and its arguments, after --' })
        .option('ttl', { type: 'string', describe: 'lease time (90, 5m); default policy.lease_ttl_s' })
        .option('reason', { type: 'string', describe: 'why, for the others' })
        .option('wait', { type: 'string', default: '0', describe: 'wait this long for a held lock (0: fail at once with exit 4, like flock -n)' })
        .option('kill-after', { type: 'string', default: '10', describe: 'seconds from a forwarded SIGTERM/SIGINT to SIGKILL' })
        .example('coord lock run deploy --ttl 2m -- ./deploy.sh --prod', 'run deploy.sh holding "deploy"')
        .example('coord lock run db-migrate --wait 10m -- npm run migrate', 'wait up to 10 minutes for the lock'),
      run(async (ctx, a) => {
        const name = lockName(a.name);
        const command = [...stringList(a.command), ...stringList(a['--'])];
        if (!command.length) throw new CoordError('E_USAGE', 'name the command to run after --, e.g. coord lock run deploy -- ./deploy.sh');
        const ttlS = ttlOf(a);
        const reason = a.reason === undefined ? undefined : parseText(a.reason, '--reason', 500);
        await refuseCredentialArgs({ '--reason': reason }, ctx.io.env);
        const r = await runWithLock({
          ...opts(ctx), name, command, ...(ttlS ? { ttlS } : {}), ...(reason ? { reason } : {}),
          waitS: parseDurationFlag(a.wait, '--wait', 0, 31 * 86400),
          killAfterS: parseDurationFlag(a['kill-after'], '--kill-after', 0, 3600),
          childStdout: ctx.json ? 'stderr' : 'inherit',
          log: (l) => ctx.io.stderr(`coord lock run: ${l}\n`),
        });
        if (r.status === 'refused') throw new CoordError(r.refusal.code, r.refusal.message, r.refusal.details ? { details: r.refusal.details } : {});
        if (r.status === 'interrupted') {
          if (ctx.json) printJson(ctx.io, { ok: false, lock: name, exit_code: r.exitCode, signal: null, interrupted_by: r.signal, released: true, renewals: 0, duration_s: 0 });
          process.exitCode = r.exitCode;
          return;
        }
        const rel = r.released ? `lock ${name} released` : `lock ${name} NOT released: it stays held until its lease runs out (${r.entry.ttl_s ?? '?'}s after the last renewal)`;
        if (r.spawnError === 'not_found') throw new CoordError('E_COMMAND_NOT_FOUND', `command not found: ${command[0]} (${rel})`, { details: { lock: name, released: r.released } });
        if (r.spawnError === 'not_executable') throw new CoordError('E_COMMAND_NOT_EXECUTABLE', `command not executable: ${command[0]} (${rel})`, { details: { lock: name, released: r.released } });
        if (r.lost) throw new CoordError('E_NOT_HOLDER', `lock ${name} was lost while ${command[0]} ran; the command was stopped (exit ${r.exitCode})`, { details: { lock: name, exit_code: r.exitCode } });
        if (r.leaseRanOut) {
          // Exit 6 whatever the renewals' own error: the lock could not be kept through the
          // remote (METHODOLOGY.md section 13); 4 stays "someone else has it".
          const o = r.leaseRanOut;
          throw new CoordError('E_UNREACHABLE',
            `lock ${name} could not be renewed for ${o.sinceRenewalS}s (${o.reason}), so ${command[0]} was stopped before its lease could run out and another machine take the lock over (exit ${r.exitCode}); ${rel}. Run it again once the remote answers`,
            { details: { lock: name, exit_code: r.exitCode, released: r.released, since_renewal_s: o.sinceRenewalS, renew_error: o.code } });
        }
        if (ctx.json) {
          printJson(ctx.io, { ok: r.exitCode === 0, lock: name, exit_code: r.exitCode, signal: r.signal, interrupted_by: r.interruptedBy, released: r.released, renewals: r.renewals, duration_s: r.durationS });
        } else if (r.exitCode !== 0 || !r.released) {
          ctx.io.stderr(`coord lock run: ${command[0]} ${r.signal ? `ended by ${r.signal}` : `exited ${r.childExitCode ?? r.exitCode}`}; ${rel}\n`);
        }
        process.exitCode = r.exitCode;
      }),
    )
    .demandCommand(1, 'name a lock command: acquire, release, renew, list, break, run'));
}
