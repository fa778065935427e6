/**
 * What went wrong with an ssh read, from ssh's exit status and its fixed English messages
 * (OpenSSH; the door runs it with `LogLevel=ERROR`, which keeps exactly these lines). Pure.
 *
 * | kind | error code | exit |
 * |---|---|---|
 * | peer down (refused, no route, unknown host, connection closed) | E_UNREACHABLE | 6 |
 * | auth refused (`Permission denied (publickey)`) | E_AUTH | 6 |
 * | host key unknown or changed (`Host key verification failed`) | E_HOST_KEY | 6 |
 * | timeout (ConnectTimeout, banner, keep-alive, the read's own deadline) | E_SSH_TIMEOUT | 6 |
 * | remote folder or file missing (exit 66 / 65 of the fixed remote command) | E_NOT_FOUND | 5 |
 */
import { CoordError, type ErrorCode } from '../errors.js';
import { describeTarget, type SshTarget } from './target.js';

export type SshFailureKind =
  | 'peer-down' | 'auth' | 'host-key-changed' | 'host-key-unknown' | 'timeout'
  | 'no-repository' | 'not-found' | 'remote-failed' | 'ssh-missing';

/** Exit codes of the fixed remote commands (lib/ssh/remote.ts). */
export const REMOTE_EXIT = { notFound: 65, noRepository: 66 } as const;

const HOST_KEY_CHANGED = [/REMOTE HOST IDENTIFICATION HAS CHANGED/i, /Host key for .* has changed/i];
const HOST_KEY_FAILED = [/Host key verification failed/i, /No \S+ host key is known/i];
const AUTH = [/Permission denied/i, /Too many authentication failures/i, /no more authentication methods/i];
const TIMEOUT = [/timed out/i, /Timeout, server .* not responding/i];
const DOWN = [
  /Connection refused/i, /No route to host/i, /Network is unreachable/i, /Could not resolve hostname/i,
  /Name or service not known/i, /Temporary failure in name resolution/i, /Connection closed by/i,
  /Connection reset/i, /kex_exchange_identification/i, /Broken pipe/i, /ssh_exchange_identification/i,
];

/**
 * Classifies a finished ssh run.
 * @param exitCode ssh's exit status (255: ssh's own failure; otherwise the remote command's)
 * @param stderr what ssh and the remote command wrote on standard error
 */
export function classifySshFailure(exitCode: number, stderr: string): SshFailureKind {
  if (exitCode === REMOTE_EXIT.notFound) return 'not-found';
  if (exitCode === REMOTE_EXIT.noRepository) return 'no-repository';
  if (exitCode !== 255) return /not a git repository/i.test(stderr) ? 'no-repository' : 'remote-failed';
  if (HOST_KEY_CHANGED.some((re) => re.test(stderr))) return 'host-key-changed';
  if (HOST_KEY_FAILED.some((re) => re.test(stderr))) return 'host-key-unknown';
  if (AUTH.some((re) => re.test(stderr))) return 'auth';
  if (TIMEOUT.some((re) => re.test(stderr))) return 'timeout';
  if (DOWN.some((re) => re.test(stderr))) return 'peer-down';
  // ssh failed before running anything and said nothing we know: treat as unreachable.
  return 'peer-down';
}

const CODE: Record<SshFailureKind, ErrorCode> = {
  'peer-down': 'E_UNREACHABLE',
  auth: 'E_AUTH',
  'host-key-changed': 'E_HOST_KEY',
  'host-key-unknown': 'E_HOST_KEY',
  timeout: 'E_SSH_TIMEOUT',
  'no-repository': 'E_NOT_FOUND',
  'not-found': 'E_NOT_FOUND',
  'remote-failed': 'E_UNREACHABLE',
  'ssh-missing': 'E_COMMAND_NOT_FOUND',
};

/** The last meaningful line ssh printed (the banner of a changed key is skipped). */
export function sshDetail(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^@+$/.test(l) && !l.startsWith('@'));
  const decisive = lines.find((l) => [...HOST_KEY_CHANGED, ...AUTH, ...TIMEOUT, ...DOWN].some((re) => re.test(l)));
  return (decisive ?? lines[lines.length - 1] ?? '').slice(0, 300).replace(/\.+$/, '');
}

export interface SshFailureContext {
  /** What was being read, without an article: `status of build2`, `log of job X`, `artifact X of job Y`. */
  what: string;
  /** Where on the builder (the remote path), when it helps. */
  remotePath?: string;
  /** ms the read was allowed (for a timeout of the read itself). */
  deadlineMs?: number;
}

/**
 * The error for a failed ssh read: names the builder, the host, what failed and what to do.
 * Every kind maps to exit 6 except a missing remote file or folder (5) and a missing ssh
 * client (127).
 */
export function sshError(kind: SshFailureKind, t: SshTarget, stderr: string, ctx: SshFailureContext): CoordError {
  const where = `${t.builder} (${describeTarget(t)})`;
  const detail = sshDetail(stderr);
  const said = detail ? `: ${detail}` : '';
  const kh = t.knownHostsFile ?? '~/.ssh/known_hosts';
  let message: string;
  switch (kind) {
    case 'peer-down':
      message = `${where} is down or unreachable over ssh${said}. Reading the ${ctx.what} directly failed; the git view is all there is until the builder answers`;
      break;
    case 'auth':
      message = `${where} refused our ssh key${said}. Put this machine's public key${t.identityFile ? ` (${t.identityFile}.pub)` : ''} in ~${t.user ?? ''}/.ssh/authorized_keys on ${t.builder}`;
      break;
    case 'host-key-changed':
      message = `the host key of ${where} has CHANGED since it was recorded in ${kh}; refusing to connect (a reinstalled builder, or someone in between). Check the new key with the builder's operator, then replace the entry (ssh-keygen -R)`;
      break;
    case 'host-key-unknown':
      message = `the host key of ${where} is not in ${kh}; refusing to connect. Add it after checking its fingerprint (ssh-keyscan -p ${t.port} ${t.host}), or set "host_key_policy": "accept-new" for ${t.builder} in shared/build_config.json`;
      break;
    case 'timeout':
      message = ctx.deadlineMs !== undefined && !detail
        ? `${where} did not finish sending the ${ctx.what} within ${Math.round(ctx.deadlineMs / 1000)} s over ssh; the read was stopped`
        : `${where} did not answer over ssh in time${said} (connect timeout ${t.connectTimeoutS} s)`;
      break;
    case 'no-repository':
      message = `${where} has no clone at ${t.repoPath}; check builders.${t.builder}.ssh.repo_path in shared/build_config.json`;
      break;
    case 'not-found':
      message = `${where} has no ${ctx.what}${ctx.remotePath ? ` (${ctx.remotePath})` : ''}`;
      break;
    case 'remote-failed':
      message = `reading the ${ctx.what} on ${where} failed${said}`;
      break;
    case 'ssh-missing':
      message = 'the ssh client is not installed (or COORD_SSH_BIN names no program); install openssh-client';
      break;
  }
  return new CoordError(CODE[kind], message, { details: { builder: t.builder, host: t.host, port: t.port, kind } });
}
