/**
 * Classifying git failures from machine-readable output (`push --porcelain`) and, where
 * git offers nothing better, from its fixed English messages (we run git with LC_ALL=C).
 */
import type { GitResult } from './run.js';

export type GitFailureKind =
  /** Lost the compare-and-swap: the remote ref moved. Re-read and retry. */
  | 'non-fast-forward'
  /** The remote could not be reached (network, daemon down, path missing). */
  | 'unreachable'
  /** The remote refused our credentials. */
  | 'auth'
  /** A server-side hook refused the push (e.g. the validation hook). */
  | 'hook-declined'
  | 'other';

export interface GitFailure {
  kind: GitFailureKind;
  /** The line(s) of git's output that decided it. */
  detail: string;
}

const UNREACHABLE = [
  /could not read from remote repository/i,
  /unable to access/i,
  /connection refused/i,
  /could not resolve host/i,
  /connection timed out/i,
  /network is unreachable/i,
  /no route to host/i,
  /does not appear to be a git repository/i,
  // git daemon --informative-errors, repository moved or deleted on the server
  /no such repository/i,
  /unable to connect/i,
  /connection reset/i,
  /the remote end hung up unexpectedly/i,
  /timed out/i,
];
const AUTH = [/permission denied/i, /authentication failed/i, /could not read username/i, /access denied/i, /host key verification failed/i];

/**
 * Classifies a failed `git push --porcelain`. Porcelain lines look like
 * `!\t<src>:<dst>\t[rejected] (fetch first)`; `[remote rejected] … (failed to update ref)`
 * and `cannot lock ref` come from a race inside the server and also mean "lost the CAS"
 * (PLATFORM.md).
 */
export function classifyPushFailure(r: GitResult): GitFailure {
  const all = `${r.stdout}\n${r.stderr}`;
  const rejected = r.stdout.split('\n').filter((l) => l.startsWith('!'));
  for (const line of rejected) {
    if (/\((fetch first|non-fast-forward|stale info|already exists)\)/.test(line)) return { kind: 'non-fast-forward', detail: line };
    if (/failed to update ref|cannot lock ref|incorrect old value|reference already exists/.test(line)) return { kind: 'non-fast-forward', detail: line };
    if (/hook declined|pre-receive|update hook/.test(line)) {
      const remoteLines = r.stderr.split('\n').filter((l) => l.startsWith('remote:')).join('\n');
      return { kind: 'hook-declined', detail: `${line}\n${remoteLines}`.trim() };
    }
  }
  if (/cannot lock ref|failed to update ref/.test(all)) return { kind: 'non-fast-forward', detail: all.trim() };
  return classifyTransportFailure(r);
}

/** Classifies a failed fetch/ls-remote (or a push that never got to compare refs). */
export function classifyTransportFailure(r: GitResult): GitFailure {
  const text = `${r.stderr}\n${r.stdout}`.trim();
  if (AUTH.some((re) => re.test(text))) return { kind: 'auth', detail: text };
  if (UNREACHABLE.some((re) => re.test(text))) return { kind: 'unreachable', detail: text };
  return { kind: 'other', detail: text };
}
