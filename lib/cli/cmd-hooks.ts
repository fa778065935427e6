/**
 * `coord hook …`: installing a builder clone's git hooks, and the hooks themselves as git
 * runs them — `pre-commit` in a builder's clone (lib/hooks/pre-commit.ts), `pre-receive`
 * on a self-hosted bare remote (lib/remote/pre-receive.ts, installed by `coord remote setup`).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { git } from '../git/run.js';
import { installClientHooks } from '../hooks/client-hooks.js';
import { checkPreCommit } from '../hooks/pre-commit.js';
import { formatStagedSecret } from '../hooks/staged-secrets.js';
import { checkPush, parseRefUpdates } from '../remote/pre-receive.js';
import { coordBin } from '../remote/setup.js';
import type { CommandContext } from './context.js';
import type { Run } from './cmd-files.js';
import { issueLine, printJson, printLines } from './io.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes)$/i.test(v);

/**
 * The work tree a hook runs in: git's top level of the working folder (git starts hooks
 * there). Never --repo or COORD_REPO, which may name another clone; a repository without
 * coordination/ gets the credential scan only.
 */
async function hookRoot(ctx: CommandContext): Promise<{ root: string; coordination: boolean }> {
  const top = await git(ctx.io.cwd, ['rev-parse', '--show-toplevel'], { allowFailure: true });
  if (top.exitCode !== 0) throw new CoordError('E_USAGE', `coord hook pre-commit runs inside a git work tree (git starts it there); ${ctx.io.cwd} is not one`);
  const root = top.stdout.trim();
  const dir = path.join(root, 'coordination');
  return { root, coordination: existsSync(dir) && statSync(dir).isDirectory() };
}

async function preCommit(ctx: CommandContext): Promise<void> {
  const { root, coordination } = await hookRoot(ctx);
  const r = await checkPreCommit({
    repoRoot: root, coordination, now: ctx.clock.now(),
    allowRemoval: truthy(ctx.io.env.COORD_ALLOW_REMOVAL), allowSecret: truthy(ctx.io.env.COORD_ALLOW_SECRET),
  });
  if (!r.ok) process.exitCode = 3;
  if (ctx.json) return printJson(ctx.io, { ok: r.ok, validation: r.validation, secrets: r.secrets });
  const err = (line: string) => ctx.io.stderr(line + '\n');
  for (const i of [...r.errors, ...r.warnings]) err(issueLine(i));
  for (const s of r.secrets?.skipped ?? []) if (s.reason !== 'binary') err(`coord pre-commit: note: ${s.file} not scanned for credentials (${s.reason})`);
  for (const f of r.secrets?.findings ?? []) err(`${formatStagedSecret(f)} (looks like a credential)`);
  if (r.ok) return;
  const why: string[] = [];
  if (r.errors.length) {
    why.push(`${r.errors.length} problem(s) in staged coordination files (above: file: /json/pointer: reason); fix them and git add again` +
      (r.errors.some((i) => /record|removal/i.test(i.reason)) ? ', or commit a deliberate clean-up with COORD_ALLOW_REMOVAL=1' : ''));
  }
  if (r.secrets?.findings.length) {
    why.push('staged changes look like they carry credentials (above: file line, column: kind); take them out of the file and ' +
      '`git add` it again (keep secrets outside the repository), or commit with COORD_ALLOW_SECRET=1 if they are not credentials');
  }
  err(`coord pre-commit: commit refused: ${why.join('; ')}`);
}

export function hookCommands(y: Argv, run: Run): Argv {
  return y.command(
    'hook <name>',
    'git hooks: install this clone\'s hooks, or run one (git calls pre-commit and pre-receive)',
    (c) => c
      .positional('name', { choices: ['install', 'pre-commit', 'pre-receive'] as const, describe: 'install: write the client hooks into this clone; pre-commit / pre-receive: run that hook' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'install: print what would change, write nothing' })
      .option('node', { type: 'string', describe: 'install: the node binary the hooks call (default: the one running coord)' })
      .option('branch', { type: 'string', default: 'main', describe: 'pre-receive: the coordination branch' })
      .example('coord hook install', 'install the pre-commit hook (scripts/setup_build.sh does)')
      .example('COORD_ALLOW_SECRET=1 git commit', 'commit past a credential finding that is not a credential')
      .epilogue('The pre-commit hook refuses invalid staged coordination files (coord validate --staged) and credentials on added lines of any staged file. ' +
        'COORD_ALLOW_REMOVAL=1 allows a deliberate record clean-up; COORD_ALLOW_SECRET=1 a finding that is not a credential.'),
    run(async (ctx, a) => {
      if (a.name === 'pre-receive') {
        // git runs pre-receive inside the bare repository.
        const updates = parseRefUpdates(await readStdin());
        const lines = await checkPush(process.cwd(), updates, String(a.branch), ctx.clock.now());
        for (const l of lines) ctx.io.stderr(l + '\n');
        if (lines.length) process.exitCode = 1;
        return;
      }
      if (a.name === 'pre-commit') return preCommit(ctx);
      const node = (a.node as string | undefined) ?? process.execPath;
      if (!path.isAbsolute(node)) throw new CoordError('E_USAGE', `--node ${node}: give an absolute path (hooks run with git's PATH)`);
      const hooks = await installClientHooks({ repoRoot: ctx.repoRoot(), node, coordJs: coordBin(), dryRun: Boolean(a['dry-run']) });
      if (ctx.json) return printJson(ctx.io, { ok: true, dry_run: Boolean(a['dry-run']), hooks });
      printLines(ctx.io, hooks.map((h) => `${h.name} hook: ${h.status} (${h.detail})`));
    }),
  );
}
