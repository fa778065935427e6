/**
 * Running the real `coord` command line (bin/coord.js → dist/, built by `npm run build`) in
 * a child process, as users and hooks do, and matching its `file: /json/pointer: reason`
 * lines.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json), found from this file's location. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `coord` entry point. */
export const COORD_BIN = path.join(PROJECT_ROOT, 'bin/coord.js');

/** What a command-line run produced. */
export interface CliResult {
  /** Exit code; 128 + signal number when killed by a signal. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCoordCli}. */
export interface CliOptions {
  /** Working folder. Default: the project root. */
  cwd?: string;
  /** Extra environment over the (hermetic) environment of the jest process. */
  env?: Record<string, string | undefined>;
  /** Run as this user/group id (needs root); for permission tests. */
  uid?: number;
  gid?: number;
  /** Standard input text. Default: none (closed). */
  input?: string;
  /** Kill the command after this many ms. Default 30000. */
  timeoutMs?: number;
}

/**
 * Runs `node bin/coord.js ARGS` and collects its output. Never throws on a non-zero exit:
 * the exit code is part of what tests assert.
 */
export function runCoordCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return runNode([COORD_BIN, ...args], opts);
}

/** Runs `node ARGS` (the same node as jest) with the options of {@link runCoordCli}. */
export function runNode(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd ?? PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code ?? 128 + (signal ? signalNumber(signal) : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 0;
}

/** Escapes `text` for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A RegExp matching one whole `coord validate` line `FILE: POINTER: REASON` (multiline mode),
 * where the reason matches `reason` (default: anything).
 * @param pointer the JSON pointer as printed; the whole document prints as `/`
 * @param opts.indented the line is indented (issues listed under an error on stderr)
 */
export function issueLineRe(file: string, pointer: string, reason?: RegExp, opts: { indented?: boolean } = {}): RegExp {
  const r = reason ? `.*${reason.source}.*` : '.+';
  const lead = opts.indented ? '[ \\t]+' : '';
  return new RegExp(`^${lead}${escapeRegExp(file)}: ${escapeRegExp(pointer)}: ${r}$`, 'm' + (reason?.flags.includes('i') ? 'i' : ''));
}

/**
 * Parses stdout of a `--json` run, asserting it is exactly one JSON document (DESIGN.md
 * section 9).
 * @throws SyntaxError when stdout is not a single JSON document
 */
export function parseSingleJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}
