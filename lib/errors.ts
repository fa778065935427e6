/**
 * Error codes, their exit codes, and the one error class every module throws.
 *
 * Exit codes are a contract (DESIGN.md section 9): 0 ok, 1 internal error, 2 usage,
 * 3 invalid data, 4 contention or lock held, 5 not found, 6 remote unreachable.
 * Refusals that are an expected outcome of a transaction (lock held, job not claimable)
 * are returned as values by the transaction engine and become a `CoordError` only at the
 * command-line edge.
 */

/** Every error code the tool emits, with the exit code it maps to. */
export const EXIT_CODES = {
  E_INTERNAL: 1,
  E_USAGE: 2,
  E_IDENTITY: 2,
  E_PATH: 2,
  E_INVALID: 3,
  E_INVALID_STATE: 3,
  E_RECORD_LOSS: 3,
  E_CONTENTION: 4,
  E_LOCK_HELD: 4,
  E_NOT_HOLDER: 4,
  E_NOT_FOUND: 5,
  E_UNREACHABLE: 6,
  E_AUTH: 6,
  /** ssh: the peer's host key is unknown or has changed (lib/ssh). */
  E_HOST_KEY: 6,
  /** ssh: the peer did not answer in time (lib/ssh). */
  E_SSH_TIMEOUT: 6,
  /** A copied artifact's size or sha256 differs from shared/artifacts.json (lib/artifacts). */
  E_CHECKSUM: 3,
  E_HOOK_DECLINED: 3,
  E_GIT: 1,
  E_COMMAND_NOT_FOUND: 127,
  E_COMMAND_NOT_EXECUTABLE: 126,
  /** `coord jobs wait`: a job ended failed, cancelled or blocked. */
  E_JOB_FAILED: 3,
  /** `coord jobs wait --timeout`: the jobs did not end in time. */
  E_TIMEOUT: 4,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

/** One problem found in a file: where (file, JSON pointer) and what. */
export interface Issue {
  /** Path relative to the repository root, '/'-separated. */
  file: string;
  /** RFC 6901 JSON pointer into the document; '' is the whole document. */
  pointer: string;
  /** What is wrong, and where useful what to do. */
  reason: string;
  /** 1-based line of the pointed value in the file text, when known. */
  line?: number;
  /** 'error' makes the file invalid; 'warning' is reported only. */
  severity: 'error' | 'warning';
}

/** Formats an issue as `file: /pointer: reason (line N)`, the line `coord validate` prints. */
export function formatIssue(issue: Issue): string {
  const ptr = issue.pointer === '' ? '/' : issue.pointer;
  const where = issue.line !== undefined ? ` (line ${issue.line})` : '';
  const tag = issue.severity === 'warning' ? 'warning: ' : '';
  return `${issue.file}: ${ptr}: ${tag}${issue.reason}${where}`;
}

export interface CoordErrorOptions {
  cause?: unknown;
  /** Problems behind an E_INVALID error, one per file/pointer. */
  issues?: Issue[];
  /** Extra machine-readable facts (holder of a lock, valid builder names…). */
  details?: Record<string, unknown>;
}

/**
 * The error every module throws. `message` names the subject (file, job id, ref) and
 * says what to do next; `code` selects the exit code through {@link EXIT_CODES}.
 */
export class CoordError extends Error {
  readonly code: ErrorCode;
  readonly issues: Issue[];
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: CoordErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CoordError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.details = options.details ?? {};
  }

  /** The process exit code for this error (DESIGN.md section 9). */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** True when `err` is a {@link CoordError}, optionally with one of the given codes. */
export function isCoordError(err: unknown, ...codes: ErrorCode[]): err is CoordError {
  return err instanceof CoordError && (codes.length === 0 || codes.includes(err.code));
}

/** The exit code for any thrown value: a CoordError's own, otherwise 1 (internal). */
export function exitCodeOf(err: unknown): number {
  return err instanceof CoordError ? err.exitCode : 1;
}
