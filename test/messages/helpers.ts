/**
 * Helpers for the messaging scenario tests: run the real `sm` and `coord` programs
 * (bin/*.js → dist/) in a builder's clone with a hermetic environment, and read what
 * reached the origin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Message } from '../../lib/messages/model.js';
import { gitSync, hermeticEnv, originJson, ROOT } from '../support/git-fixture.js';

export const SM_BIN = path.join(ROOT, 'bin/sm.js');
export const SENDMESSAGES_BIN = path.join(ROOT, 'bin/sendmessages.js');
export const COORD_BIN = path.join(ROOT, 'bin/coord.js');
export const MESSAGES = 'coordination/messages.json';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  /** Standard input: text or bytes. Default: empty. */
  input?: string | Buffer;
  /** Run with file descriptor 0 closed (`<&-`). */
  closedStdin?: boolean;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs `node BIN ARGS` in `cwd` and collects its output; never throws on a non-zero exit. */
export function runBin(bin: string, args: readonly string[], opts: RunOptions): Promise<Ran> {
  const closed = opts.closedStdin === true;
  // A closed standard input needs a shell redirection; the program itself is still exec'd
  // with an argument array (no text passes through the shell).
  const [cmd, argv] = closed
    ? ['bash', ['-c', 'exec "$0" "$@" <&-', process.execPath, bin, ...args]]
    : [process.execPath, [bin, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd, env: hermeticEnv(opts.env ?? {}), stdio: [closed ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 143), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (!closed) child.stdin!.end(opts.input ?? '');
  });
}

export const sm = (cwd: string, args: readonly string[], opts: Omit<RunOptions, 'cwd'> = {}) => runBin(SM_BIN, args, { cwd, ...opts });
export const coord = (cwd: string, args: readonly string[], opts: Omit<RunOptions, 'cwd'> = {}) => runBin(COORD_BIN, args, { cwd, ...opts });

/** `coord … --json` parsed; fails the test with the output when it is not one JSON document. */
export async function coordJson<T = Record<string, unknown>>(cwd: string, args: readonly string[]): Promise<T> {
  const r = await coord(cwd, [...args, '--json']);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`coord ${args.join(' ')} --json: exit ${r.code}, stdout ${r.stdout}, stderr ${r.stderr}`);
  }
}

/** The unread (or with `all`, every) message of a builder, through its own `coord messages`. */
export async function inbox(cwd: string, ...extra: string[]): Promise<Message[]> {
  return (await coordJson<{ messages: Message[] }>(cwd, ['messages', ...extra])).messages;
}

/** The origin's main commit. */
export function originHead(origin: string): string {
  return gitSync(origin, ['rev-parse', 'main']);
}

/** Messages on the origin's main. */
export function originMessages(origin: string): Message[] {
  return (originJson(origin, MESSAGES) as { messages: Message[] }).messages;
}

/** Starts a long-running program (a watcher); the caller stops it. */
export function startBin(bin: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): ChildProcess & { output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: hermeticEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  return Object.assign(child, { output: () => ({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }) });
}

/** Resolves when the child exits (its code, or 128 + signal). */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? 128);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143))));
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Writes a file on the origin's main as a plain commit (a hand edit that bypassed coord). */
export function pushRawFile(dir: string, origin: string, file: string, content: string): void {
  const work = path.join(dir, `hand-edit-${Date.now()}`);
  gitSync(dir, ['clone', '-q', origin, work]);
  gitSync(work, ['config', 'core.hooksPath', '/dev/null']);
  const abs = path.join(work, file);
  writeFileSync(abs, content);
  gitSync(work, ['add', file]);
  gitSync(work, ['commit', '-q', '-m', 'hand edit']);
  gitSync(work, ['push', '-q', 'origin', 'main']);
}
