/**
 * The one door to ssh (DESIGN.md section 8): the system `ssh` client through execa with an
 * argument array, a fixed remote command (lib/ssh/remote.ts), a cap on the bytes read, a
 * deadline, and every failure turned into a {@link CoordError} that names the builder and
 * the host (lib/ssh/classify.ts). The target is checked again here, before any process
 * is spawned: a refused target never opens a connection.
 */
import type { Writable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { CoordError } from '../errors.js';
import { classifySshFailure, sshError, type SshFailureContext } from './classify.js';
import { remoteCommand, sshArgv } from './remote.js';
import type { SshSettings } from './settings.js';
import { assertSafeTarget, describeTarget, type SshTarget } from './target.js';

/** One read: a fixed script, its validated arguments, and what it is for messages. */
export interface SshRead {
  script: string;
  args: readonly string[];
  /** For messages, without an article: `status of build2`, `log of job X`, `artifact X of job Y`. */
  what: string;
  remotePath?: string;
  /** Standard input for the remote command (the object list of a status read). */
  input?: string;
}

export interface SshReadOptions {
  settings: SshSettings;
  /** Most bytes accepted on standard output; more is refused (E_INVALID) and the read stopped. */
  maxBytes: number;
  /** Deadline of the whole read (ms); 0 for none (keep-alives still end a dead session). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** ssh's standard error is diagnostics only: keep a bounded amount. */
const STDERR_CAP = 256 * 1024;

function argvOf(t: SshTarget, read: SshRead, settings: SshSettings): string[] {
  assertSafeTarget(t);
  return sshArgv(t, settings, remoteCommand(read.script, read.args));
}

function context(read: SshRead, timeoutMs: number): SshFailureContext {
  return { what: read.what, ...(read.remotePath ? { remotePath: read.remotePath } : {}), ...(timeoutMs ? { deadlineMs: timeoutMs } : {}) };
}

function tooMuch(t: SshTarget, read: SshRead, maxBytes: number): CoordError {
  return new CoordError('E_INVALID', `${t.builder} (${describeTarget(t)}) sent more than ${maxBytes} bytes for the ${read.what}; refused (the limit keeps a broken or hostile peer from filling memory or disk)`, { details: { builder: t.builder, limit: maxBytes } });
}

interface Finished {
  exitCode?: number | undefined;
  failed: boolean;
  timedOut: boolean;
  isCanceled: boolean;
  isMaxBuffer: boolean;
  stderr: unknown;
  code?: string | undefined;
}

function asError(v: unknown): Error {
  return v instanceof Error ? v : new Error(String(v));
}

function stderrText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return '';
}

/** Turns a finished run into an error, or null when it succeeded. */
function failureOf(t: SshTarget, read: SshRead, o: SshReadOptions, r: Finished): CoordError | null {
  const stderr = stderrText(r.stderr);
  if (r.code === 'ENOENT') return sshError('ssh-missing', t, stderr, context(read, o.timeoutMs));
  if (r.isCanceled) return new CoordError('E_INTERNAL', `reading the ${read.what} from ${t.builder} was cancelled`);
  if (r.timedOut) return sshError('timeout', t, '', context(read, o.timeoutMs));
  if (r.isMaxBuffer) return tooMuch(t, read, o.maxBytes);
  if (r.exitCode === 0) return null;
  return sshError(classifySshFailure(r.exitCode ?? 255, stderr), t, stderr, context(read, o.timeoutMs));
}

/**
 * Runs one read and returns its standard output.
 * @throws CoordError E_INVALID (target refused before connecting, or over `maxBytes`),
 *   E_UNREACHABLE / E_AUTH / E_HOST_KEY / E_SSH_TIMEOUT (exit 6), E_NOT_FOUND (remote file
 *   or folder missing)
 */
export async function sshReadBuffered(t: SshTarget, read: SshRead, o: SshReadOptions): Promise<Buffer> {
  const argv = argvOf(t, read, o.settings);
  const r = await execa(o.settings.sshBin, argv, {
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: false,
    extendEnv: true,
    maxBuffer: { stdout: o.maxBytes, stderr: STDERR_CAP },
    ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}),
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    ...(read.input !== undefined ? { input: read.input } : { stdin: 'ignore' as const }),
  });
  const err = failureOf(t, read, o, r);
  if (err) throw err;
  const out = r.stdout;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Runs one read and streams its standard output into `sink` (through `onChunk`, which sees
 * every chunk first: for a checksum or progress).
 * @returns the number of bytes written
 * @throws like {@link sshReadBuffered}; a sink error is rethrown as it is
 */
export async function sshReadStream(t: SshTarget, read: SshRead, o: SshReadOptions & { sink: Writable; onChunk?: (chunk: Buffer) => void }): Promise<number> {
  const argv = argvOf(t, read, o.settings);
  const sub = execa(o.settings.sshBin, argv, {
    encoding: 'buffer',
    reject: false,
    buffer: { stdout: false, stderr: true },
    maxBuffer: { stderr: STDERR_CAP },
    extendEnv: true,
    ...(o.timeoutMs ? { timeout: o.timeoutMs } : {}),
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    stdin: 'ignore',
  });
  let bytes = 0;
  let over = false;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > o.maxBytes) { over = true; done(tooMuch(t, read, o.maxBytes)); return; }
      o.onChunk?.(chunk);
      done(null, chunk);
    },
  });
  let streamError: unknown = null;
  try {
    await pipeline(sub.stdout, meter, o.sink);
  } catch (err) {
    streamError = err;
    sub.kill('SIGTERM');
  }
  const r = await sub;
  if (over) throw tooMuch(t, read, o.maxBytes);
  // We killed ssh because the sink failed: that failure is the news, not ssh's exit
  // (unless the read's own deadline or cancel ended it).
  if (streamError && !r.timedOut && !r.isCanceled) throw asError(streamError);
  const err = failureOf(t, read, o, r);
  if (err) throw err;
  if (streamError) throw asError(streamError);
  return bytes;
}
