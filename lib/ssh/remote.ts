/**
 * The fixed remote commands of the direct reads (DESIGN.md section 8), and the ssh argument
 * list. Pure.
 *
 * ssh hands the remote side one string, which the builder's login shell interprets. So the
 * string is always `sh -c '<SCRIPT>' coord-peer '<arg>'…` where SCRIPT is one of the
 * constants below (no quote, backslash, `!` or newline in it: it reads the same in sh,
 * bash, zsh, fish and csh) and every argument has been checked against a strict pattern
 * that leaves no character a shell could interpret, then single-quoted as well. Nothing
 * read from a file is ever spliced into a script.
 *
 * Where the reads look, on the builder (lib/daemon keeps these):
 * - status: `git cat-file --batch` in `repo_path`, fed `<rev>:<path>` lines on standard input
 *   (the builder's own refs: the offline queue, its heartbeat ref, its view of main);
 * - log: `<repo_path>/.git/coord/logs/<job-id>.log` from a byte offset, at most N bytes;
 * - artifact: `<repo_path>/.git/coord/artifacts/<job-id>/<name>`.
 */
import { REMOTE_EXIT } from './classify.js';
import type { SshSettings } from './settings.js';
import type { SshTarget } from './target.js';

const NOT_FOUND = REMOTE_EXIT.notFound;
const NO_REPO = REMOTE_EXIT.noRepository;

/** `$1` = repo_path. Reads objects named on standard input. */
export const STATUS_SCRIPT = `cd "$1" 2>/dev/null || exit ${NO_REPO}; exec git -c "safe.directory=*" cat-file --batch`;

/**
 * `$1` = repo_path, `$2` = job id, `$3` = 1-based start byte, `$4` = most bytes to send.
 * Prints the file's size on the first line, then the bytes.
 */
export const LOG_SCRIPT = `[ -d "$1" ] || exit ${NO_REPO}; f="$1/.git/coord/logs/$2.log"; [ -f "$f" ] || exit ${NOT_FOUND}; wc -c < "$f"; tail -c "+$3" "$f" | head -c "$4"`;

/** `$1` = repo_path, `$2` = job id, `$3` = artifact name. Sends the file. */
export const ARTIFACT_SCRIPT = `[ -d "$1" ] || exit ${NO_REPO}; f="$1/.git/coord/artifacts/$2/$3"; [ -f "$f" ] || exit ${NOT_FOUND}; exec cat "$f"`;

/** Characters an argument of a remote command may hold (a superset of every pattern used). */
const SAFE_ARG = /^[A-Za-z0-9._/:+@=,-]+$/;

/**
 * The remote command string for `script` with `args`.
 * @throws Error when an argument holds anything outside {@link SAFE_ARG} (callers validate
 *   first with the narrower patterns of lib/ssh/target.ts; this is a last check, a bug if hit)
 */
export function remoteCommand(script: string, args: readonly string[]): string {
  if (/['\\!\n\r]/.test(script)) throw new Error('remote script must not contain quotes, backslashes, "!" or newlines');
  for (const a of args) {
    if (!SAFE_ARG.test(a) || a.startsWith('-')) throw new Error(`refusing to send ${JSON.stringify(a)} as a remote argument`);
  }
  return [`sh -c '${script}' coord-peer`, ...args.map((a) => `'${a}'`)].join(' ');
}

/** Where a job's live log is on the builder. */
export function remoteLogPath(t: SshTarget, jobId: string): string {
  return `${t.repoPath}/.git/coord/logs/${jobId}.log`;
}

/** Where an artifact is kept on the builder. */
export function remoteArtifactPath(t: SshTarget, jobId: string, name: string): string {
  return `${t.repoPath}/.git/coord/artifacts/${jobId}/${name}`;
}

/**
 * The argument list for `ssh` (never a shell): batch mode (no prompts), a connect timeout,
 * strict host key checking (or accept-new when the operator chose it; never off), no
 * forwarding, keep-alives so a dead peer ends a long read, then `--`, the host and the
 * remote command.
 */
export function sshArgv(t: SshTarget, settings: Pick<SshSettings, 'configFile'>, remote: string): string[] {
  const o = (kv: string) => ['-o', kv];
  return [
    ...(settings.configFile ? ['-F', settings.configFile] : []),
    ...o('BatchMode=yes'),
    ...o(`ConnectTimeout=${t.connectTimeoutS}`),
    ...o(`StrictHostKeyChecking=${t.hostKeyPolicy === 'accept-new' ? 'accept-new' : 'yes'}`),
    ...o('UpdateHostKeys=no'),
    ...o('LogLevel=ERROR'),
    ...o('RequestTTY=no'),
    ...o('ForwardAgent=no'),
    ...o('ForwardX11=no'),
    ...o('ClearAllForwardings=yes'),
    ...o('PermitLocalCommand=no'),
    ...o('ServerAliveInterval=5'),
    ...o('ServerAliveCountMax=3'),
    ...(t.knownHostsFile ? [...o(`UserKnownHostsFile=${t.knownHostsFile}`), ...o('GlobalKnownHostsFile=/dev/null')] : []),
    ...(t.identityFile ? ['-i', t.identityFile, ...o('IdentitiesOnly=yes')] : []),
    '-p', String(t.port),
    ...(t.user ? ['-l', t.user] : []),
    '--', t.host, remote,
  ];
}
