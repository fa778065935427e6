/**
 * The one door to git: the git CLI through execa with an argument array (never a shell).
 *
 * Why not simple-git here (METHODOLOGY.md "Implementation notes"): plumbing needs standard
 * input (`hash-object --stdin`, `mktree`), simple-git waits a fixed 50 ms after commands
 * that print nothing (most plumbing), and it strips `GIT_SSH_COMMAND`. Measured cycle
 * medians on this machine class are in PLATFORM.md; `npm run bench` reports ours.
 */
import { execa } from 'execa';

export interface GitOptions {
  /** Bytes or text for standard input. */
  input?: string | Buffer;
  /** Extra environment (merged over the process environment). */
  env?: Record<string, string | undefined>;
  /** Return the result instead of throwing when git exits non-zero. */
  allowFailure?: boolean;
  /** Kill git after this many ms. Default 120000. */
  timeoutMs?: number;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The argument list, for error messages. */
  args: readonly string[];
}

/** git ran but failed; carries the result so callers can classify it. */
export class GitCommandError extends Error {
  readonly result: GitResult;
  constructor(result: GitResult) {
    super(`git ${result.args.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'GitCommandError';
    this.result = result;
  }
}

/** Settings that keep a user's configuration from blocking or hanging our commits. */
export const SAFE_CONFIG = ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'push.gpgSign=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];

const BASE_ENV = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', LANG: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_EDITOR: 'true', GIT_MERGE_AUTOEDIT: 'no' };

/**
 * Runs `git ARGS` in `cwd`.
 * @throws GitCommandError when git exits non-zero (unless `allowFailure`)
 */
export async function git(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  const full = [...SAFE_CONFIG, ...args];
  const r = await execa('git', full, {
    cwd,
    env: { ...BASE_ENV, ...opts.env },
    extendEnv: true,
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs ?? 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  const result: GitResult = {
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    exitCode: r.exitCode ?? (r.timedOut ? 124 : 128),
    args,
  };
  if (r.timedOut) result.stderr += `\n(git timed out after ${opts.timeoutMs ?? 120_000} ms)`;
  if (result.exitCode !== 0 && !opts.allowFailure) throw new GitCommandError(result);
  return result;
}

/** Runs git and returns its standard output as raw bytes (for blobs). */
export async function gitBytes(cwd: string, args: readonly string[], opts: GitOptions = {}): Promise<Buffer | null> {
  const r = await execa('git', [...SAFE_CONFIG, ...args], {
    cwd,
    env: { ...BASE_ENV, ...opts.env },
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs ?? 120_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  if (r.exitCode !== 0) {
    if (opts.allowFailure) return null;
    throw new GitCommandError({ stdout: '', stderr: Buffer.from(r.stderr).toString('utf8'), exitCode: r.exitCode ?? 128, args });
  }
  return Buffer.from(r.stdout);
}
