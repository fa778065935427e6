/**
 * What the pre-commit hook checks (`coord hook pre-commit`, installed by
 * lib/hooks/client-hooks.ts): the staged coordination files, exactly as
 * `coord validate --staged` judges them (schema, semantic checks, record loss against
 * HEAD), and credentials on the lines the commit adds, in any file
 * (lib/hooks/staged-secrets.ts). Both run; the commit is refused when either finds an
 * error. Nothing is written.
 *
 * Ways past it, each deliberate: `COORD_ALLOW_REMOVAL=1` (a clean-up that drops records,
 * like `coord validate --staged --allow-removal`), `COORD_ALLOW_SECRET=1` (a finding that
 * is not a credential, like `sm --allow-secret`), and git's own `--no-verify`, which skips
 * every check — the remote's pre-receive hook or the CI workflow still validates.
 */
import type { Issue } from '../errors.js';
import { validateRepository, type ValidateReport } from '../commands/validate.js';
import { scanStagedSecrets, type StagedScan } from './staged-secrets.js';

export interface PreCommitOptions {
  /** Top of the work tree. */
  repoRoot: string;
  /** False when the repository holds no `coordination/` (then only the credential scan runs). */
  coordination: boolean;
  allowRemoval: boolean;
  allowSecret: boolean;
  /** Epoch ms, for the validator's time checks. */
  now: number;
}

export interface PreCommitReport {
  ok: boolean;
  /** null when the repository holds no coordination tree. */
  validation: ValidateReport | null;
  secrets: StagedScan | null;
  /** Issue lines with severity error (for the refusal). */
  errors: Issue[];
  warnings: Issue[];
}

/** Runs both checks on the index. */
export async function checkPreCommit(o: PreCommitOptions): Promise<PreCommitReport> {
  const validation = o.coordination
    ? await validateRepository({ repoRoot: o.repoRoot, files: [], staged: true, allowRemoval: o.allowRemoval, cwd: o.repoRoot, now: o.now })
    : null;
  const secrets = o.allowSecret ? null : await scanStagedSecrets(o.repoRoot);
  const issues = validation?.files.flatMap((f) => f.issues) ?? [];
  const errors = issues.filter((i) => i.severity === 'error');
  return {
    ok: errors.length === 0 && !secrets?.findings.length,
    validation, secrets, errors, warnings: issues.filter((i) => i.severity === 'warning'),
  };
}
