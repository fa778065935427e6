/**
 * Credentials in staged changes (the pre-commit hook, DESIGN.md section 10): upstream
 * committed a private key and passwords to the shared repository, where every builder and
 * every later clone keeps them. Any staged file is scanned, not only JSON.
 *
 * The scanner is the one `sm` uses for message bodies (lib/messages/secrets.ts,
 * secretlint's recommended preset plus our patterns), so both refuse the same things. Only
 * findings on lines this commit adds or changes count: a file that already held a
 * credential-shaped line (a test fixture) can still be edited without tripping the hook on
 * what was there before. The staged blob is scanned whole, so multi-line secrets (a key
 * block) are still recognised; a finding's line decides whether it is new.
 * {@link scanEditedSecrets} applies the same rule to `coord sync --commit`'s edits.
 */
import { git, gitBytes } from '../git/run.js';
import { scanSecrets, type SecretFinding } from '../messages/secrets.js';

/** Files larger than this are not scanned (reported as skipped). 1 MiB. */
export const MAX_SCAN_BYTES = 1024 * 1024;

/** A credential found in a staged file. */
export interface StagedSecret {
  /** Repository-relative path. */
  file: string;
  /** What was found (`private key`, `password assignment`, …); never the secret itself. */
  kind: string;
  rule: string;
  /** 1-based line and column in the staged file. */
  line: number;
  column: number;
}

/** A staged file that was not scanned, and why. */
export interface SkippedFile {
  file: string;
  reason: string;
}

export interface StagedScan {
  findings: StagedSecret[];
  skipped: SkippedFile[];
  /** Files scanned. */
  scanned: number;
}

/**
 * Parses `git diff -U0` output into the set of new-side line numbers that were added or
 * changed (pure). Hunk headers are `@@ -a[,b] +c[,d] @@`; `d` defaults to 1 and 0 means
 * a pure deletion.
 */
export function addedLines(diffU0: string): Set<number> {
  const out = new Set<number>();
  for (const m of diffU0.matchAll(/^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/gm)) {
    const start = Number(m[1]);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    for (let i = 0; i < count; i++) out.add(start + i);
  }
  return out;
}

/** Staged files with added lines (not deletions), with git's binary flag (`--numstat`). */
async function stagedFiles(repoRoot: string): Promise<{ file: string; binary: boolean }[]> {
  const r = await git(repoRoot, ['diff', '--cached', '--numstat', '-z', '--no-renames', '--no-textconv', '--diff-filter=d'], { allowFailure: true });
  const out: { file: string; binary: boolean }[] = [];
  for (const rec of r.stdout.split('\0').filter(Boolean)) {
    const m = /^(-|\d+)\t(-|\d+)\t([\s\S]*)$/.exec(rec);
    if (!m) continue;
    if (m[1] === '0') continue; // nothing added
    out.push({ file: m[3], binary: m[1] === '-' });
  }
  return out;
}

/**
 * Scans what is staged in `repoRoot`'s index (`GIT_INDEX_FILE` when git sets it for a
 * hook) for credentials on added or changed lines.
 */
export async function scanStagedSecrets(repoRoot: string, maxBytes = MAX_SCAN_BYTES): Promise<StagedScan> {
  const res: StagedScan = { findings: [], skipped: [], scanned: 0 };
  const files = await stagedFiles(repoRoot);
  // One batch for type and size of every staged blob (`:path` is the index entry).
  const check = files.some((f) => f.file.includes('\n')) ? null
    : await git(repoRoot, ['cat-file', '--batch-check=%(objecttype) %(objectsize)'], { input: files.map((f) => `:${f.file}`).join('\n') + '\n', allowFailure: true });
  const meta = check?.stdout.split('\n') ?? [];
  for (const [i, { file, binary }] of files.entries()) {
    if (binary) { res.skipped.push({ file, reason: 'binary' }); continue; }
    const [type, size] = (meta[i] ?? 'blob 0').split(' ');
    if (type !== 'blob') continue; // a submodule, or gone meanwhile
    if (Number(size) > maxBytes) { res.skipped.push({ file, reason: `larger than ${maxBytes} bytes` }); continue; }
    const bytes = await gitBytes(repoRoot, ['cat-file', 'blob', `:${file}`], { allowFailure: true });
    if (!bytes) continue;
    if (bytes.length > maxBytes) { res.skipped.push({ file, reason: `larger than ${maxBytes} bytes` }); continue; }
    if (bytes.includes(0)) { res.skipped.push({ file, reason: 'binary' }); continue; }
    res.scanned++;
    const found: SecretFinding[] = await scanSecrets({ [file]: bytes.toString('utf8') });
    if (!found.length) continue;
    const diff = await git(repoRoot, ['diff', '--cached', '-U0', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--', `:(literal)${file}`]);
    const fresh = addedLines(diff.stdout);
    for (const f of found) {
      if (fresh.has(f.line)) res.findings.push({ file, kind: f.kind, rule: f.rule, line: f.line, column: f.column });
    }
  }
  return res;
}

/**
 * Credentials in edited files that are not staged (`coord sync --commit` commits the
 * working tree's coordination files through the transaction engine, where no hook runs):
 * the same scanner and the same rule as the pre-commit hook — only findings on lines that
 * differ from `base` count (every line of a file `base` does not hold).
 * @param base the commit the edits are based on (HEAD), or null for none
 * @param edits repository-relative path → the working tree's bytes
 */
export async function scanEditedSecrets(repoRoot: string, base: string | null, edits: ReadonlyMap<string, Buffer>, maxBytes = MAX_SCAN_BYTES): Promise<StagedScan> {
  const res: StagedScan = { findings: [], skipped: [], scanned: 0 };
  for (const [file, bytes] of edits) {
    if (bytes.length > maxBytes) { res.skipped.push({ file, reason: `larger than ${maxBytes} bytes` }); continue; }
    if (bytes.includes(0)) { res.skipped.push({ file, reason: 'binary' }); continue; }
    res.scanned++;
    const found = await scanSecrets({ [file]: bytes.toString('utf8') });
    if (!found.length) continue;
    const tracked = base !== null && (await git(repoRoot, ['cat-file', '-e', `${base}:${file}`], { allowFailure: true })).exitCode === 0;
    // `git diff <commit> -- path` compares that commit with the working tree's file.
    const fresh = tracked
      ? addedLines((await git(repoRoot, ['diff', '-U0', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', base, '--', `:(literal)${file}`])).stdout)
      : null;
    for (const f of found) {
      if (!fresh || fresh.has(f.line)) res.findings.push({ file, kind: f.kind, rule: f.rule, line: f.line, column: f.column });
    }
  }
  return res;
}

/** `keys/deploy.pem line 1, column 1: private key` */
export function formatStagedSecret(s: StagedSecret): string {
  return `${s.file} line ${s.line}, column ${s.column}: ${s.kind}`;
}
