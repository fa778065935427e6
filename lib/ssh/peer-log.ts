/**
 * A job's live log, read from the builder that runs it (DESIGN.md section 8, `coord jobs logs
 * ID --follow`). The daemon writes the whole output to `<clone>/.git/coord/logs/<job>.log`
 * (lib/daemon/runner.ts); git only ever holds a bounded tail, committed now and then.
 *
 * Following is offset polling: each poll is one short ssh read of the bytes after the
 * offset (at most {@link LOG_CHUNK_BYTES}), plus the file's size, so a log that shrank
 * (replaced) is noticed and read again from the start. No long-lived session to babysit:
 * a poll that fails says why, and a peer that drops mid-follow ends the follow with the
 * error instead of hanging.
 */
import { StringDecoder } from 'node:string_decoder';
import { CoordError, isCoordError } from '../errors.js';
import { LOG_SCRIPT, remoteLogPath } from './remote.js';
import { sshReadBuffered } from './run.js';
import type { SshSettings } from './settings.js';
import { JOB_ID_RE, type SshTarget } from './target.js';
import { resolvePeer, type PeerReadOptions } from './peer-status.js';

/** Most bytes one poll reads (a larger backlog is read in several polls without waiting). */
export const LOG_CHUNK_BYTES = 1024 * 1024;

/** Default bytes of a one-shot read (the end of the log). */
export const LOG_TAIL_BYTES = 256 * 1024;

/** `[coord] build2 runs …` — the runner's first line of an attempt (lib/daemon/runner.ts). */
const START_LINE = /^\[coord\] \S+ runs /;
/** `[coord] completed (exit 0)` and the other outcomes: the runner's last line of an attempt. */
const END_LINE = /^\[coord\] (completed|failed|cancelled|timed_out)\b/;

/** Splits a reply of {@link LOG_SCRIPT}: the size line, then the bytes. Pure. */
export function parseLogReply(out: Buffer): { fileSize: number; data: Buffer } | null {
  const nl = out.indexOf(10);
  if (nl < 0) return null;
  const line = out.subarray(0, nl).toString('utf8').trim();
  if (!/^[0-9]{1,15}$/.test(line)) return null;
  return { fileSize: Number(line), data: out.subarray(nl + 1) };
}

/**
 * Watches the runner's marker lines in a stream of text: has the attempt that the log
 * shows last come to its end? Handles lines split across chunks. Pure.
 */
export class LogEndScanner {
  private partial = '';
  /** True after an end line, until a later start line (a retry appending to the same log). */
  ended = false;

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      if (START_LINE.test(l)) this.ended = false;
      else if (END_LINE.test(l)) this.ended = true;
    }
  }
}

function checkJobId(jobId: string): void {
  if (!JOB_ID_RE.test(jobId)) throw new CoordError('E_USAGE', `${JSON.stringify(jobId)} is not a job id (letters, digits, '.', '_', ':', '-')`);
}

/**
 * One poll: the log's size and at most `maxBytes` from byte `offset` (0-based).
 * @throws CoordError E_NOT_FOUND (details.kind 'not-found': no log yet; 'no-repository'),
 *   and the ssh errors of lib/ssh/run.ts
 */
export async function readPeerLogChunk(t: SshTarget, settings: SshSettings, jobId: string, offset: number, maxBytes: number, o: { timeoutMs: number; signal?: AbortSignal }): Promise<{ fileSize: number; data: Buffer }> {
  checkJobId(jobId);
  const out = await sshReadBuffered(t, {
    script: LOG_SCRIPT, args: [t.repoPath, jobId, String(offset + 1), String(maxBytes)],
    what: `log of job ${jobId}`, remotePath: remoteLogPath(t, jobId),
  }, { settings, maxBytes: maxBytes + 64, timeoutMs: o.timeoutMs, ...(o.signal ? { signal: o.signal } : {}) });
  const r = parseLogReply(out);
  if (!r) throw new CoordError('E_INVALID', `${t.builder} answered the log read of ${jobId} with something unexpected`, { details: { builder: t.builder } });
  return r;
}

export interface PeerLog {
  builder: string;
  job_id: string;
  source: 'ssh';
  /** Size of the whole log on the builder (bytes). */
  size: number;
  /** Bytes before `text` that were not read (0: the whole log). */
  skipped: number;
  text: string;
}

/**
 * The end of a job's live log (at most `tailBytes`), read once.
 * @throws CoordError E_NOT_FOUND when the builder has no log for the job; ssh errors (exit 6)
 */
export async function readPeerLog(repoRoot: string, builder: string, jobId: string, o: PeerReadOptions & { tailBytes?: number } = {}): Promise<PeerLog> {
  checkJobId(jobId);
  const { target, settings } = await resolvePeer(repoRoot, builder, o);
  const timeoutMs = o.timeoutMs ?? (target.connectTimeoutS + 30) * 1000;
  const tail = Math.max(1, Math.min(o.tailBytes ?? LOG_TAIL_BYTES, LOG_CHUNK_BYTES));
  const sig = o.signal ? { signal: o.signal } : {};
  let r = await readPeerLogChunk(target, settings, jobId, 0, tail, { timeoutMs, ...sig });
  let skipped = 0;
  if (r.fileSize > tail) {
    skipped = r.fileSize - tail;
    r = await readPeerLogChunk(target, settings, jobId, skipped, tail, { timeoutMs, ...sig });
  }
  let text = r.data.toString('utf8');
  if (skipped > 0) {
    // Start at a line boundary, as the committed tail does.
    const nl = text.indexOf('\n');
    if (nl >= 0) { skipped += Buffer.byteLength(text.slice(0, nl + 1)); text = text.slice(nl + 1); }
  }
  return { builder, job_id: jobId, source: 'ssh', size: r.fileSize, skipped, text };
}

/** What `until` is told after each poll. */
export interface FollowState {
  /** Bytes of the log read so far (the next poll starts here). */
  offset: number;
  /** The log's last attempt has written its end line (`[coord] completed …`). */
  endMarkerSeen: boolean;
  /** False while the builder has no log for the job yet. */
  logFound: boolean;
  polls: number;
}

/** Asked after each poll that found nothing more to read; true stops the follow (after one last poll). */
export type FollowUntil = (s: FollowState) => boolean | Promise<boolean>;

export interface FollowOptions extends PeerReadOptions {
  /** ms between polls when there is nothing new. Default 1000. */
  pollMs?: number;
  /** Start at this byte (default 0: the whole log). */
  fromOffset?: number;
  /** Told when the log was replaced by a shorter one and is read again from the start. */
  onNotice?: (line: string) => void;
}

export interface FollowResult {
  builder: string;
  job_id: string;
  bytes: number;
  /** `until`: the caller's condition; `aborted`: the signal. */
  ended: 'until' | 'aborted';
  endMarkerSeen: boolean;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Follows a job's live log on `builder`: calls `onChunk` with new text as it appears, until
 * `until` says stop (then one last poll drains what is left) or `signal` aborts.
 * A log that does not exist yet is waited for (the job may not have started).
 * @throws CoordError like {@link readPeerLogChunk}, except a missing log
 */
export async function followPeerLog(repoRoot: string, builder: string, jobId: string, onChunk: (text: string) => void, until: FollowUntil, o: FollowOptions = {}): Promise<FollowResult> {
  checkJobId(jobId);
  const { target, settings } = await resolvePeer(repoRoot, builder, o);
  const timeoutMs = o.timeoutMs ?? (target.connectTimeoutS + 30) * 1000;
  const pollMs = o.pollMs ?? 1000;
  const scanner = new LogEndScanner();
  let decoder = new StringDecoder('utf8');
  let offset = o.fromOffset ?? 0;
  let bytes = 0, polls = 0, logFound = false, stopping = false;
  const emit = (text: string) => { if (text) { scanner.push(text); onChunk(text); } };
  for (;;) {
    if (o.signal?.aborted) break;
    let got = 0;
    try {
      const r = await readPeerLogChunk(target, settings, jobId, offset, LOG_CHUNK_BYTES, { timeoutMs, ...(o.signal ? { signal: o.signal } : {}) });
      logFound = true;
      if (r.fileSize < offset) {
        o.onNotice?.(`the log of ${jobId} on ${builder} was replaced (now ${r.fileSize} bytes); reading it again from the start`);
        emit(decoder.end());
        decoder = new StringDecoder('utf8');
        offset = 0;
        continue;
      }
      got = r.data.length;
      offset += got;
      bytes += got;
      emit(decoder.write(r.data));
    } catch (err) {
      if (o.signal?.aborted) break;
      if (!(isCoordError(err, 'E_NOT_FOUND') && err.details.kind === 'not-found')) throw err;
    }
    polls++;
    if (got >= LOG_CHUNK_BYTES) continue;
    if (stopping) { emit(decoder.end()); return { builder, job_id: jobId, bytes, ended: 'until', endMarkerSeen: scanner.ended }; }
    if (await until({ offset, endMarkerSeen: scanner.ended, logFound, polls })) { stopping = true; continue; }
    await sleep(pollMs, o.signal);
  }
  emit(decoder.end());
  return { builder, job_id: jobId, bytes, ended: 'aborted', endMarkerSeen: scanner.ended };
}
