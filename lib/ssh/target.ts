/**
 * Who to ssh to, and the second line of defence against injection (DESIGN.md section 8).
 *
 * `shared/build_config.json` is schema-checked before anything reads it, and its `ssh`
 * patterns already exclude options and shell syntax. This module checks the same facts
 * again in code, because a target can reach the ssh door without passing through the
 * schema (a caller building one by hand, a schema edited carelessly): nothing that starts
 * with `-`, nothing outside a small character set, no `..` path segment. A refused target
 * never reaches a process spawn.
 */
import path from 'node:path';
import { CoordError } from '../errors.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import type { SshSettings } from './settings.js';

/** `builders.<id>.ssh` as written in shared/build_config.json. */
export type SshConfigEntry = NonNullable<BuildConfigFile['builders'][string]['ssh']>;

export type HostKeyPolicy = 'strict' | 'accept-new';

/** Everything the ssh door needs to reach one builder. Built only by {@link sshTargetOf}. */
export interface SshTarget {
  builder: string;
  /** Hostname or address, brackets of an IPv6 literal removed. */
  host: string;
  port: number;
  user: string | null;
  /** Absolute path of the builder's clone. */
  repoPath: string;
  /** Absolute (or `~/…`) path of the private key, or null for ssh's defaults. */
  identityFile: string | null;
  /** known_hosts file, or null for ssh's own default. */
  knownHostsFile: string | null;
  hostKeyPolicy: HostKeyPolicy;
  /** Seconds (ConnectTimeout). */
  connectTimeoutS: number;
}

export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/** Same patterns as schemas/build_config.schema.json (`builders.*.ssh`). */
export const SSH_PATTERNS = {
  builder: /^build[1-9][0-9]{0,3}$/,
  host: /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$|^\[[0-9a-fA-F:.]+\]$/,
  user: /^[a-z_][a-z0-9_-]{0,31}$/,
  repoPath: /^\/[A-Za-z0-9._/-]*$/,
  file: /^[A-Za-z0-9._/~][A-Za-z0-9._/~-]*$/,
} as const;

/** A job id as the schema's `recordId`: safe as an argument of a remote command. */
export const JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * An artifact name that can be fetched over ssh: a plain file name of letters, digits and
 * `._+,=@-`, not starting with `.` or `-`. Names outside this set are refused rather than
 * quoted, so no remote shell ever sees a character it could interpret.
 */
export const ARTIFACT_NAME_RE = /^[A-Za-z0-9_+@=,][A-Za-z0-9._+@=,-]{0,254}$/;

function refuse(builder: string, field: string, value: unknown, why: string): never {
  const file = 'shared/build_config.json';
  const pointer = `/builders/${builder}/ssh/${field}`;
  const reason = `${JSON.stringify(value)} ${why}; nothing was sent to the builder`;
  throw new CoordError('E_INVALID', `${file}: ${pointer}: ${reason}`, { issues: [{ file, pointer, reason, severity: 'error' }], details: { builder, field } });
}

function localPathOk(p: string): boolean {
  // eslint-disable-next-line no-control-regex
  return p !== '' && !p.startsWith('-') && !/[\u0000-\u001f\u007f%]/.test(p);
}

function hasDotDot(p: string): boolean {
  return p.split('/').includes('..');
}

/**
 * Checks a target again, right before it is used (the ssh door calls this before spawning).
 * @throws CoordError E_INVALID naming the builder and the field
 */
export function assertSafeTarget(t: SshTarget): void {
  if (!SSH_PATTERNS.builder.test(t.builder)) throw new CoordError('E_INVALID', `${JSON.stringify(t.builder)} is not a builder id; nothing was sent`);
  if (!SSH_PATTERNS.host.test(t.host) && !/^[0-9a-fA-F:.]+$/.test(t.host)) refuse(t.builder, 'host', t.host, 'is not a plain hostname or address (letters, digits, ".", "-"; no options, no shell syntax)');
  if (t.host.startsWith('-')) refuse(t.builder, 'host', t.host, 'starts with "-" (it would be read as an ssh option)');
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) refuse(t.builder, 'port', t.port, 'is not a port number from 1 to 65535');
  if (t.user !== null && !SSH_PATTERNS.user.test(t.user)) refuse(t.builder, 'user', t.user, 'is not a plain login name');
  if (!SSH_PATTERNS.repoPath.test(t.repoPath)) refuse(t.builder, 'repo_path', t.repoPath, "is not an absolute path of letters, digits, '.', '_', '-' and '/' (no spaces, quotes or shell syntax)");
  if (hasDotDot(t.repoPath)) refuse(t.builder, 'repo_path', t.repoPath, 'contains a ".." segment');
  // Local files go to ssh as arguments (never through a shell), but ssh expands `%` tokens
  // in them and splits UserKnownHostsFile on spaces.
  if (t.identityFile !== null && !localPathOk(t.identityFile)) refuse(t.builder, 'identity_file', t.identityFile, 'is not a plain file path (no leading "-", no "%", no control characters)');
  if (t.knownHostsFile !== null && (!localPathOk(t.knownHostsFile) || /\s/.test(t.knownHostsFile))) {
    refuse(t.builder, 'known_hosts_file', t.knownHostsFile, 'is not a plain file path (no leading "-", no "%", no spaces or control characters)');
  }
  if (t.hostKeyPolicy !== 'strict' && t.hostKeyPolicy !== 'accept-new') refuse(t.builder, 'host_key_policy', t.hostKeyPolicy, 'must be "strict" or "accept-new"');
  if (!Number.isInteger(t.connectTimeoutS) || t.connectTimeoutS < 1 || t.connectTimeoutS > 120) refuse(t.builder, 'connect_timeout_s', t.connectTimeoutS, 'must be a whole number of seconds from 1 to 120');
}

/** A path from the config: `~/…` and absolute paths as they are, others from the repository root. */
function fromRepo(repoRoot: string, p: string): string {
  return p.startsWith('~') || path.isAbsolute(p) ? p : path.resolve(repoRoot, p);
}

/**
 * The ssh target of `builder` from a (schema-valid) build config, layered: defaults <
 * `builders.<id>.ssh` < environment ({@link SshSettings}).
 * @throws CoordError E_USAGE when the builder is unknown or has no `ssh` settings;
 *   E_INVALID when a field fails {@link assertSafeTarget}
 */
export function sshTargetOf(config: BuildConfigFile, builder: string, repoRoot: string, settings: SshSettings): SshTarget {
  if (!SSH_PATTERNS.builder.test(builder)) throw new CoordError('E_USAGE', `${JSON.stringify(builder)} is not a builder id; builders are named build<N>`);
  const entry = config.builders?.[builder];
  if (!entry) throw new CoordError('E_USAGE', `${builder} is not in shared/build_config.json; add it under "builders" to reach it over ssh`);
  const s = entry.ssh;
  if (!s) {
    throw new CoordError('E_USAGE', `${builder} has no ssh settings: add "ssh": {"host", "repo_path"} under builders.${builder} in shared/build_config.json (DESIGN.md section 8)`, { details: { builder } });
  }
  const knownHosts = settings.knownHostsFile ?? (s.known_hosts_file ? fromRepo(repoRoot, s.known_hosts_file) : null);
  const t: SshTarget = {
    builder,
    host: s.host.startsWith('[') && s.host.endsWith(']') ? s.host.slice(1, -1) : s.host,
    port: s.port ?? 22,
    user: s.user ?? null,
    repoPath: s.repo_path.length > 1 ? s.repo_path.replace(/\/+$/, '') : s.repo_path,
    identityFile: s.identity_file ? fromRepo(repoRoot, s.identity_file) : null,
    knownHostsFile: knownHosts,
    hostKeyPolicy: s.host_key_policy ?? 'strict',
    connectTimeoutS: settings.connectTimeoutS ?? s.connect_timeout_s ?? DEFAULT_CONNECT_TIMEOUT_S,
  };
  assertSafeTarget(t);
  return t;
}

/** `user@host:port`, for messages. */
export function describeTarget(t: SshTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user ? `${t.user}@` : ''}${host}:${t.port}`;
}
