/**
 * The command line's only door to stdout/stderr and the environment. `--json` keeps
 * stdout to exactly one JSON document, errors included (DESIGN.md section 9).
 */
import pc from 'picocolors';
import { CoordError, formatIssue, type Issue } from '../errors.js';
import { safeForTerminal } from '../util/terminal-text.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when stdout is a terminal (progress lines, colour). */
  isTTY: boolean;
}

let closed: { stdout: boolean; stderr: boolean } | null = null;
const onStdoutGone: (() => void)[] = [];

/** Has the reader of this process's stdout gone away (EPIPE)? */
export function stdoutGone(): boolean {
  return closed?.stdout ?? false;
}

/** Calls `cb` once stdout's reader has gone (a watch loop stops: nobody reads it any more). */
export function whenStdoutGone(cb: () => void): void {
  if (stdoutGone()) cb();
  else onStdoutGone.push(cb);
}

/**
 * A reader that went away (`coord … | head -1`) is not an error: later writes to that stream
 * are dropped and the command runs on to its own exit status (the README's
 * `id=$(coord jobs add … --wait | head -1)` relies on it). Without this, Node raises EPIPE
 * as an unhandled 'error' event: a stack trace and exit 1.
 */
function watchClosedStreams(): { stdout: boolean; stderr: boolean } {
  if (closed) return closed;
  const state = { stdout: false, stderr: false };
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        const first = !state[name];
        state[name] = true;
        if (first && name === 'stdout') for (const cb of onStdoutGone.splice(0)) cb();
        return;
      }
      throw err;
    });
  }
  closed = state;
  return state;
}

export function processIO(): CliIO {
  const gone = watchClosedStreams();
  return {
    stdout: (t) => { if (!gone.stdout) process.stdout.write(t); },
    stderr: (t) => { if (!gone.stderr) process.stderr.write(t); },
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
  };
}

/** Colour helpers honouring NO_COLOR / non-terminals (picocolors checks both). */
export const colour = pc;

/** One JSON document on stdout. */
export function printJson(io: CliIO, doc: unknown): void {
  io.stdout(JSON.stringify(doc, null, 2) + '\n');
}

/** Human lines on stdout. */
export function printLines(io: CliIO, lines: string | string[]): void {
  const text = Array.isArray(lines) ? lines.join('\n') : lines;
  if (text !== '') io.stdout(text.endsWith('\n') ? text : text + '\n');
}

/** An issue as a human line (terminal-safe: the reason may quote file data). */
export function issueLine(issue: Issue): string {
  const line = safeForTerminal(formatIssue(issue));
  return issue.severity === 'warning' ? colour.yellow(line) : line;
}

/** The JSON shape of an error (stdout with --json). */
export function errorDocument(err: unknown): Record<string, unknown> {
  if (err instanceof CoordError) {
    return {
      ok: false,
      error: { code: err.code, exit_code: err.exitCode, message: err.message, ...(err.issues.length ? { issues: err.issues } : {}), ...(Object.keys(err.details).length ? { details: err.details } : {}) },
    };
  }
  return { ok: false, error: { code: 'E_INTERNAL', exit_code: 1, message: err instanceof Error ? err.message : String(err) } };
}

/**
 * Reports an error: one JSON document on stdout with --json, else lines on stderr (made
 * terminal-safe: a message may quote file data or arguments).
 */
export function reportError(io: CliIO, err: unknown, json: boolean, program = 'coord'): void {
  if (json) {
    printJson(io, errorDocument(err));
    return;
  }
  if (err instanceof CoordError) {
    io.stderr(`${program}: ${colour.red('error')}: ${safeForTerminal(err.message)}\n`);
    for (const i of err.issues) io.stderr(`  ${issueLine(i)}\n`);
  } else {
    const e = err as Error;
    io.stderr(`${program}: internal error: ${safeForTerminal(e?.stack ?? String(err))}\n`);
  }
}
