/**
 * `coord doctor [--prefix DIR] [--bin-dir DIR] [--timeout S]`: checks this builder's set-up
 * (lib/doctor/run.ts) and prints each check as ok / warning / problem / skipped with the
 * fix. Exit 0 when no problem was found (warnings allowed), 3 otherwise.
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import type { ResolvedIdentity } from '../config/identity.js';
import { isCoordError } from '../errors.js';
import { DEFAULT_REMOTE } from '../git/repo.js';
import { doctorExitCode, type CheckStatus } from '../doctor/model.js';
import { runDoctor } from '../doctor/run.js';
import { coordBin } from '../remote/setup.js';
import type { Run } from './cmd-files.js';
import { colour, printJson, printLines } from './io.js';

const PAINT: Record<CheckStatus, (s: string) => string> = {
  ok: colour.green, warning: colour.yellow, problem: colour.red, skipped: colour.dim,
};

export function doctorCommands(y: Argv, run: Run): Argv {
  return y.command(
    'doctor',
    'check this builder\'s set-up: identity, hooks, merge driver, remote, heartbeat, clock skew, cron, systemd, disk',
    (c) => c
      .option('prefix', { type: 'string', describe: 'where setup wrote system files (default: what scripts/setup_build.sh recorded, else /)' })
      .option('bin-dir', { type: 'string', describe: 'where the command links are (default: recorded by setup, else PREFIX/usr/local/bin)' })
      .option('timeout', { type: 'number', default: 15, describe: 'seconds allowed for reaching the remote' })
      .example('coord doctor', 'check everything; exit 3 when something is wrong')
      .example('coord doctor --json', 'the same as one JSON document')
      .epilogue('Each check prints ok, warning (worth a look), problem (with the fix) or skipped. Exit codes: 0 no problem, 3 a problem found.'),
    run(async (ctx, a) => {
      const repoRoot = ctx.repoRoot();
      let identity: ResolvedIdentity | null = null;
      let identityError: string | null = null;
      try {
        identity = ctx.maybeIdentity();
      } catch (err) {
        if (!isCoordError(err, 'E_IDENTITY')) throw err;
        identityError = err.message;
      }
      const opt = (k: string) => (typeof a[k] === 'string' ? path.resolve(ctx.io.cwd, a[k]) : null);
      const prefix = opt('prefix');
      const report = await runDoctor({
        repoRoot, identity, identityError, now: ctx.clock.now(),
        prefix: prefix === '/' ? '' : prefix, binDir: opt('bin-dir'),
        remote: DEFAULT_REMOTE, timeoutMs: Math.max(1, Number(a.timeout) || 15) * 1000, coordJs: coordBin(),
      });
      process.exitCode = doctorExitCode(report);
      if (ctx.json) return printJson(ctx.io, report);
      const lines: string[] = [];
      for (const c of report.checks) {
        lines.push(`${PAINT[c.status](c.status.padEnd(8))} ${c.id.padEnd(13)} ${c.detail}`);
        if (c.fix && c.status !== 'ok' && c.status !== 'skipped') lines.push(`${' '.repeat(23)}fix: ${c.fix}`);
      }
      const n = report.counts;
      lines.push(`${report.builder ?? 'unknown builder'} in ${report.repo}: ${n.ok} ok, ${n.warning} warning(s), ${n.problem} problem(s), ${n.skipped} skipped`);
      printLines(ctx.io, lines);
    }),
  );
}
