/**
 * Running `watch --exec CMD…` for one message: execa with an argument array (never a
 * shell, so message text is never evaluated), the message JSON on standard input,
 * `COORD_MESSAGE_ID` and `COORD_AUTO=1` in the environment (so an `sm` run inside marks
 * its message `auto`, a loop guard). The command gets its own process group so a timeout
 * or a stop ends its children too. Its standard output goes to our standard error: the
 * watcher's standard output belongs to the watcher (one JSON document per message with
 * `--json`).
 */
import { accessSync, closeSync, constants, createReadStream, openSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { CoordError } from '../errors.js';
import { ALREADY_CLAIMED } from './exec-wrapper-codes.js';
import type { Message } from './model.js';

/** How one run ended. */
export interface ExecResult {
  /** Exit code, or null when ended by a signal or not started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Could not start (command missing, not executable…). */
  startError: string | null;
  durationMs: number;
}

/** A started run. */
export interface ExecHandle {
  /** The command's pid (undefined when it could not start). */
  pid: number | undefined;
  result: Promise<ExecResult>;
  /** Ends the command's process group: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): void;
}

export interface ExecOptions {
  cwd: string;
  /**
   * A file to hold the input while the command runs. The command's standard input is that
   * file itself, not a pipe fed by the watcher: a watcher killed right after the start
   * cannot leave the command with half a message.
   */
  inputFile: string;
  /**
   * The claim file of this hand-off (exec-wrapper.ts): created by the launcher just before
   * the command runs; whoever creates it first runs the command.
   */
  marker: string;
  /** The base environment (the watcher's own, passed in by the command line). */
  env: NodeJS.ProcessEnv;
  /** Extra variables (COORD_MESSAGE_ID…). */
  extraEnv: Record<string, string>;
  /** Kill the command after this many ms. */
  timeoutMs: number;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the program of `--exec` the way execve would, so a typo fails at start-up rather
 * than once per message.
 * @throws CoordError E_COMMAND_NOT_FOUND (exit 127) when it is not an executable file
 */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv, cwd: string): string {
  if (program.includes('/')) {
    const abs = path.resolve(cwd, program);
    if (isExecutableFile(abs)) return abs;
    throw new CoordError('E_COMMAND_NOT_FOUND', `--exec ${program}: not an executable file (${abs})`);
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, program);
    if (isExecutableFile(p)) return p;
  }
  throw new CoordError('E_COMMAND_NOT_FOUND', `--exec ${program}: command not found in PATH`);
}

/** The environment a command gets for message `m`. */
export function execEnvironment(m: Message, builder: string, repoRoot: string): Record<string, string> {
  return {
    COORD_MESSAGE_ID: m.id,
    COORD_MESSAGE_FROM: m.from,
    COORD_MESSAGE_TYPE: m.type,
    COORD_AUTO: '1',
    COORD_BUILDER: builder,
    COORD_REPO: repoRoot,
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/** The launcher program (exec-wrapper.ts, compiled beside this file). */
export const EXEC_WRAPPER = fileURLToPath(new URL('./exec-wrapper.js', import.meta.url));

/**
 * Starts `cmd` with `input` on standard input (through `opts.inputFile`), by way of the
 * launcher that claims `opts.marker` first.
 */
export function startExec(cmd: readonly string[], input: string, opts: ExecOptions, now: () => number): ExecHandle {
  const started = now();
  writeFileSync(opts.inputFile, input, { mode: 0o600 });
  const fd = openSync(opts.inputFile, 'r');
  // A file stream hands its descriptor to the child as is (no pipe through this process);
  // it is never read here, and the descriptor is closed when the command ends.
  const stdin = createReadStream(opts.inputFile, { fd, autoClose: false });
  const sub = execa(process.execPath, [EXEC_WRAPPER, opts.marker, '--', ...cmd], {
    cwd: opts.cwd,
    env: { ...opts.env, ...opts.extraEnv },
    extendEnv: false,
    stdin,
    stdout: 2,
    stderr: 'inherit',
    reject: false,
    detached: true,
    cleanup: false,
    shell: false,
  });
  const pid = sub.pid;
  let killTimer: NodeJS.Timeout | null = null;
  let timedOut = false;
  const stop = (graceMs = 5000) => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    killTimer ??= setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
    killTimer.unref();
  };
  const timeout = setTimeout(() => { timedOut = true; stop(); }, opts.timeoutMs);
  timeout.unref();
  const result = sub.then((r) => {
    closeSync(fd);
    clearTimeout(timeout);
    if (killTimer) clearTimeout(killTimer);
    const startError = r.failed && r.exitCode === undefined && !r.signal ? (r.originalMessage || r.shortMessage || 'could not start')
      : r.exitCode === 127 ? `cannot run ${cmd[0]}` : r.exitCode === ALREADY_CLAIMED ? 'hand-off already claimed by another watcher' : null;
    return { exitCode: r.exitCode ?? null, signal: r.signal ?? null, timedOut, startError, durationMs: now() - started };
  });
  return { pid, result, stop };
}
