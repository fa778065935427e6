/**
 * Commands about git: sync, remote setup, the merge driver. The hooks (`coord hook …`,
 * pre-receive included) are in cmd-hooks.ts.
 */
import { notAGitClone } from '../config/repo.js';
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { syncRepository } from '../commands/sync.js';
import { installMergeDriver, runMergeDriver } from '../merge/driver.js';
import { coordBin, setupRemote } from '../remote/setup.js';
import type { Run } from './cmd-files.js';
import { printJson, printLines } from './io.js';

export function gitCommands(y: Argv, run: Run): Argv {
  return y
    .command(
      'sync',
      'fetch, push queued builder-owned and local commits, fast-forward the working tree',
      (c) => c
        .option('commit', { type: 'boolean', default: false, describe: 'validate and commit your edits to coordination files (merged by record with the remote; a file invalid on the remote is replaced by your valid version when you edited the broken version). Refused, pushing nothing: another builder\'s build<N>/ files (2), invalid files, job changes the state machine forbids, credentials (3; COORD_ALLOW_SECRET=1 if not one), fields changed differently on the remote (4)' })
        .option('allow-removal', { type: 'boolean', default: false, describe: 'with --commit: allow jobs/messages to disappear without being archived (deliberate clean-up; also COORD_ALLOW_REMOVAL=1)' })
        .example('coord sync', 'catch up with the remote')
        .example('coord sync --commit', 'commit and push a hand edit of coordination/jobs.json')
        .example('coord sync --commit --allow-removal', 'commit a deliberate removal of jobs or messages')
        .example('COORD_ALLOW_SECRET=1 coord sync --commit', 'commit past a credential finding that is not a credential'),
      run(async (ctx, a) => {
        const allowRemoval = Boolean(a['allow-removal']) || /^(1|true|yes)$/i.test(ctx.io.env.COORD_ALLOW_REMOVAL ?? '');
        const allowSecret = /^(1|true|yes)$/i.test(ctx.io.env.COORD_ALLOW_SECRET ?? '');
        if (a['allow-removal'] && !a.commit) throw new CoordError('E_USAGE', '--allow-removal needs --commit (it allows your edits to drop records)', { details: { argument: '--allow-removal' } });
        // The actor is needed only to commit edits; a folder that is no git clone is named first.
        const notGit = notAGitClone(ctx.repoRoot(), ctx.io.env);
        if (notGit) throw notGit;
        const builder = ctx.maybeIdentity()?.builder ?? null;
        const actor = a.commit ? ctx.actor() : builder;
        const r = await syncRepository({ repoRoot: ctx.repoRoot(), commit: Boolean(a.commit), actor, builder, now: () => ctx.clock.now(), allowRemoval, allowSecret });
        if (ctx.json) return printJson(ctx.io, { ok: true, ...r });
        for (const w of r.warnings) ctx.io.stderr(`warning: ${w}\n`);
        const lines: string[] = [];
        if (r.pushed_pending) lines.push(`pushed ${r.pushed_pending} queued builder-owned commit(s)`);
        if (r.pushed_local) lines.push(`pushed ${r.pushed_local} local commit(s)`);
        if (r.repaired_files.length) lines.push(`repaired ${r.repaired_files.join(', ')} (invalid on the remote) with your version`);
        if (r.committed_files.length) lines.push(`committed ${r.committed_files.join(', ')} as ${r.commit?.slice(0, 12)}`);
        lines.push(r.worktree.moved ? `working tree fast-forwarded to ${r.remote_head?.slice(0, 12)}` : `working tree: ${r.worktree.reason}`);
        printLines(ctx.io, lines);
      }),
    )
    .command(
      'remote <action> <path>',
      'harden a self-hosted bare remote: validation hook, no force-push, audit reflog, heartbeat pruning',
      (c) => c
        .positional('action', { choices: ['setup'] as const, describe: 'what to do' })
        .positional('path', { type: 'string', demandOption: true, describe: 'the bare repository' })
        .option('branch', { type: 'string', default: 'main', describe: 'the coordination branch' })
        .example('coord remote setup /srv/git/Build.git', 'install the hooks and settings'),
      run(async (ctx, a) => {
        const r = await setupRemote(String(a.path), String(a.branch));
        if (ctx.json) return printJson(ctx.io, { ok: true, ...r });
        printLines(ctx.io, [`hardened ${r.path}`, `hooks: ${r.hooks.join(', ')}`, ...Object.entries(r.config).map(([k, v]) => `git config ${k} ${v}`)]);
      }),
    )
    .command(
      'merge-driver <action> [files..]',
      false as unknown as string,
      (c) => c.positional('action', { choices: ['run', 'install'] as const }).positional('files', { type: 'string', array: true }),
      run(async (ctx, a) => {
        if (a.action === 'install') {
          const driver = await installMergeDriver(ctx.repoRoot(), coordBin());
          return ctx.json ? printJson(ctx.io, { ok: true, driver }) : printLines(ctx.io, `merge driver coord-json registered: ${driver}`);
        }
        const [base, ours, theirs, file] = (a.files as string[] | undefined) ?? [];
        if (!base || !ours || !theirs || !file) {
          throw new CoordError('E_USAGE', 'merge-driver run needs %O %A %B %P (git passes them)');
        }
        const r = await runMergeDriver(base, ours, theirs, file);
        for (const m of r.messages) ctx.io.stderr(m + '\n');
        if (r.exitCode) process.exitCode = r.exitCode;
      }),
    );
}
