/**
 * The launcher between `coord messages watch` and an `--exec` command (a program of its
 * own, never imported): `node exec-wrapper.js MARKER -- CMD ARGS…`.
 *
 * It claims the hand-off by creating MARKER exclusively, and only then runs CMD (argument
 * array, no shell; standard input, output and error inherited). A watcher restarted after a
 * crash makes the same exclusive claim before handing the message over again, so exactly
 * one of them runs the command — whichever instant the crash hit (watch.ts).
 *
 * Exit status: CMD's own (a signal is re-raised); 127 when CMD cannot start; 75 when the
 * hand-off was already claimed (CMD not run).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ALREADY_CLAIMED } from './exec-wrapper-codes.js';

function main(argv: string[]): number {
  const [marker, dashes, cmd, ...args] = argv;
  if (!marker || dashes !== '--' || !cmd) {
    process.stderr.write('exec-wrapper: usage: exec-wrapper MARKER -- CMD [ARGS…]\n');
    return 2;
  }
  try {
    closeSync(openSync(marker, 'wx'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return ALREADY_CLAIMED;
    throw err;
  }
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: false });
  if (r.error) {
    process.stderr.write(`watch: cannot run ${cmd}: ${r.error.message}\n`);
    return 127;
  }
  if (r.signal) {
    process.kill(process.pid, r.signal);
    return 128;
  }
  return r.status ?? 1;
}

process.exitCode = main(process.argv.slice(2));
