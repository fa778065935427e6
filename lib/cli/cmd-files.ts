/**
 * Commands about the files themselves: init, validate, migrate.
 */
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { git } from '../git/run.js';
import { installMergeDriver } from '../merge/driver.js';
import { coordBin } from '../remote/setup.js';
import { initRepository } from '../commands/init.js';
import { CI_KINDS, GITHUB_WORKFLOW_PATH, type CiKind } from '../commands/ci-workflow.js';
import { migrateRepository, type MigrateResult } from '../commands/migrate.js';
import { validateRepository } from '../commands/validate.js';
import { MINIMAL_JOBS_NOTE } from '../store/legacy.js';
import type { CommandContext } from './context.js';
import { colour, issueLine, printJson, printLines } from './io.js';

export type Run = (fn: (ctx: CommandContext, args: Record<string, unknown>) => Promise<void>) => (args: Record<string, unknown>) => Promise<void>;

export function fileCommands(y: Argv, run: Run): Argv {
  return y
    .command(
      'init',
      'create the coordination tree (files, schemas, .gitattributes) for N builders',
      (c) => c
        .option('builders', { type: 'string', default: '2', describe: 'number of builders (build1..buildN)' })
        .option('dir', { type: 'string', describe: 'folder to initialise (default: --repo, else the working directory)' })
        .option('ci', { choices: CI_KINDS, describe: `also add a CI workflow running coord validate on every push (github: ${GITHUB_WORKFLOW_PATH}); an existing one is kept` })
        .example('coord init --builders 4', 'a tree for build1..build4 in the working directory')
        .example('coord init --ci github', 'add the validation workflow for a hosted remote'),
      run(async (ctx, a) => {
        const root = (a.dir as string | undefined) ?? (a.repo as string | undefined) ?? ctx.io.cwd;
        // A string option, so `--builders abc` is named as typed rather than as NaN.
        const typed = String(a.builders);
        if (!/^\d+$/.test(typed) || Number(typed) < 1) throw new CoordError('E_USAGE', `--builders must be a whole number ≥ 1, got ${typed}`, { details: { argument: '--builders' } });
        const res = await initRepository({ root: resolve(ctx.io.cwd, root), builders: Number(typed), now: ctx.clock.now(), ci: (a.ci as CiKind | undefined) ?? null });
        // Inside a git work tree, register the merge driver the new .gitattributes names.
        const inGit = await git(resolve(ctx.io.cwd, root), ['rev-parse', '--is-inside-work-tree'], { allowFailure: true });
        if (inGit.exitCode === 0 && inGit.stdout.trim() === 'true') await installMergeDriver(resolve(ctx.io.cwd, root), coordBin());
        if (ctx.json) return printJson(ctx.io, { ok: true, root: resolve(ctx.io.cwd, root), ...res });
        printLines(ctx.io, [
          ...res.created.map((f) => `created ${f}`),
          ...res.updated.map((f) => `updated ${f}`),
          `${res.created.length} created, ${res.updated.length} updated, ${res.kept.length} kept`,
          res.created.length || res.updated.length ? 'next: git add -A && git commit -m "coord init" && git push' : 'nothing to do: the tree is complete',
        ]);
      }),
    )
    .command(
      'validate [files..]',
      'schema-check coordination files; one line per problem: file: /json/pointer: reason',
      (c) => c
        .positional('files', { type: 'string', array: true, describe: 'files to check (default: all)' })
        .option('staged', { type: 'boolean', default: false, describe: 'check the files staged in git, and refuse record loss and job changes the state machine forbids (completed → queued, …) against HEAD, as the remote\'s pre-receive hook does' })
        .option('allow-removal', { type: 'boolean', default: false, describe: 'with --staged: allow jobs/messages to disappear (deliberate clean-up)' })
        .example('coord validate', 'check every coordination file')
        .example('coord validate coordination/jobs.json', 'check one file')
        .example('coord validate --staged', 'what the pre-commit hook runs'),
      run(async (ctx, a) => {
        const report = await validateRepository({
          repoRoot: ctx.repoRoot(), files: (a.files as string[] | undefined) ?? [], staged: Boolean(a.staged),
          allowRemoval: Boolean(a['allow-removal']), cwd: ctx.io.cwd, now: ctx.clock.now(),
        });
        const issues = report.files.flatMap((f) => f.issues);
        const errors = issues.filter((i) => i.severity === 'error').length;
        if (ctx.json) {
          printJson(ctx.io, { ok: report.ok, files: report.files, error_count: errors, warning_count: issues.length - errors });
        } else {
          printLines(ctx.io, issues.map(issueLine));
          // Minimal hand-written job records are a supported form: not worth a line.
          for (const f of report.files) {
            const legacy = f.legacy.filter((n) => n !== MINIMAL_JOBS_NOTE);
            if (legacy.length) ctx.io.stderr(`${f.file}: legacy shape (${legacy.join('; ')}); coord migrate rewrites it\n`);
          }
          const summary = `${report.files.length} file(s) checked, ${errors} error(s), ${issues.length - errors} warning(s)`;
          ctx.io.stderr((report.ok ? colour.green(summary) : colour.red(summary)) + '\n');
        }
        if (!report.ok) process.exitCode = 3;
      }),
    )
    .command(
      'migrate',
      'rewrite legacy file shapes to the canonical form, in one commit; recognise the upstream toolkit\'s layout',
      (c) => c
        .option('dry-run', { type: 'boolean', default: false, describe: 'report everything (each problem with the flag that fixes it) and show the diff; write nothing; exit 3 only when something must be fixed by hand' })
        .option('remove-derived', { type: 'boolean', default: false, describe: 'remove the old derived files (in the migration commit) and delete heartbeat branches on the remote' })
        .option('add-builders', { type: 'boolean', default: false, describe: 'add builders the data names (build3/, jobs, messages, locks) to shared/build_config.json' })
        .option('trust-senders', { type: 'boolean', default: false, describe: 'add non-builder message senders (people, agents) to trust.senders of shared/build_config.json' })
        .example('coord migrate --dry-run --remove-derived --add-builders', 'see everything that would change')
        .example('coord migrate --remove-derived --add-builders', 'rewrite, clean up and commit (then git push)'),
      run(async (ctx, a) => {
        const dry = Boolean(a['dry-run']);
        const res = await migrateRepository({
          repoRoot: ctx.repoRoot(), dryRun: dry, now: ctx.clock.now(), actor: (() => { try { return ctx.maybeIdentity()?.builder ?? null; } catch { return null; } })(),
          removeDerived: Boolean(a['remove-derived']), addBuilders: Boolean(a['add-builders']), trustSenders: Boolean(a['trust-senders']),
        });
        // A dry run exits 3 only when a problem has no flag that fixes it.
        const handFix = res.problems.some((p) => p.fix === null);
        if (handFix) process.exitCode = 3;
        if (ctx.json) return printJson(ctx.io, { ok: !handFix, dry_run: dry, ...res });
        printLines(ctx.io, migrateReport(res, dry));
        if (res.derived.some((d) => d.action === 'failed')) process.exitCode = 6;
      }),
    );
}

/** The human report of `coord migrate`: diffs (dry run), rewrites, old-layout items, names, running jobs. */
export function migrateReport(res: MigrateResult, dry: boolean): string[] {
  const lines: string[] = [];
  if (dry) lines.push(...res.changes.map((c) => c.diff));
  if (!res.changes.length) lines.push('nothing to migrate: every file is canonical');
  lines.push(...res.changes.map((c) => `${dry ? 'would rewrite' : 'rewrote'} ${c.file}: ${c.legacy.join('; ') || 'formatting'}`));
  for (const d of res.derived) {
    const what = d.kind === 'branch' ? `heartbeat branch ${d.path} on the remote` : d.path;
    const how = d.path === '.build_server_id' && d.kind === 'file'
      ? (d.action === 'kept' ? 'committed, so every new clone starts as the same builder (--remove-derived untracks it; the file stays)' : d.action === 'would remove' ? 'would be untracked in the commit (the file stays)' : 'untracked in the commit (the file stays)')
      : d.action === 'kept' ? 'kept (--remove-derived removes it)' : d.action === 'failed' ? `NOT deleted: ${d.error ?? 'refused'}` : d.action === 'would remove' ? (d.kind === 'branch' ? 'would be deleted on the remote' : 'would be removed in the commit') : (d.kind === 'branch' ? 'deleted on the remote' : 'removed in the commit');
    lines.push(`${d.status} ${what}: ${how}; now: ${d.replaced_by}`);
  }
  if (!res.heartbeat_branches_checked && res.heartbeat_branches_reason) lines.push(`heartbeat branches: not checked (${res.heartbeat_branches_reason})`);
  const n = res.names;
  const notAdded = n.unknown.filter((b) => !n.added.includes(b));
  if (n.added.length) lines.push(`builders ${dry ? 'that would be ' : ''}added to shared/build_config.json: ${n.added.join(', ')}`);
  if (notAdded.length) lines.push(`builders in the data but not configured: ${notAdded.join(', ')} (--add-builders adds them)`);
  const untrusted = n.untrusted.filter((s) => !n.trusted_added.includes(s));
  if (n.trusted_added.length) lines.push(`senders ${dry ? 'that would be ' : ''}added to trust.senders: ${n.trusted_added.join(', ')}`);
  if (untrusted.length) lines.push(`non-builder senders (people or agents, not builders): ${untrusted.join(', ')} (--trust-senders lets them send with sm --from)`);
  if (n.recipients.length) lines.push(`messages addressed to names that are not builders: ${n.recipients.join(', ')} (nobody can mark them read)`);
  for (const j of res.running_jobs) {
    lines.push(`job ${j.id} is running on ${j.assigned_to ?? 'nobody'}${j.started_at ? ` since ${j.started_at}` : ''}: a daemon requeues it once ${j.assigned_to ?? 'its holder'}'s heartbeat and lease stand still for the lease time, or its holder ends it by hand: coord --builder ${j.assigned_to ?? 'buildN'} jobs complete ${j.id} --status failed`);
  }
  for (const p of res.problems) {
    lines.push(`problem: ${p.file}${p.pointer ? `: ${p.pointer}` : ''}: ${p.reason}: ${p.fix ? `${p.fix} fixes it` : 'must be fixed by hand'}`);
  }
  if (res.problems.length) {
    const hand = res.problems.filter((p) => p.fix === null).length;
    const flags = [...new Set(res.problems.map((p) => p.fix).filter((f): f is NonNullable<typeof f> => f !== null))];
    lines.push(hand
      ? `${res.problems.length} problem(s) stop the migration: ${hand} must be fixed by hand first${flags.length ? `; the others: coord migrate ${flags.join(' ')}` : ''}`
      : `${res.problems.length} problem(s) stop the migration with these flags; every one is fixed by: coord migrate ${flags.join(' ')} (add them to the other flags)`);
  }
  if (res.commit) {
    lines.push(`committed ${res.commit.slice(0, 12)}`, 'the commit is local only, not pushed yet: push it with git push (or coord sync)',
      'next: git push, then coord doctor and coord status on each builder (MIGRATION.md)');
  }
  return lines;
}

export function usage(message: string): CoordError {
  return new CoordError('E_USAGE', message);
}
