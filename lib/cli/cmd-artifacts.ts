/**
 * `coord artifacts list [--job ID]` and `coord artifacts get JOB [NAME] [--out DIR]`
 * (DESIGN.md sections 4 and 8): the manifest from shared/artifacts.json, and copies over
 * ssh from the builder that made them, verified against the manifest's size and sha256.
 */
import path from 'node:path';
import type { Argv } from 'yargs';
import { getArtifact, type ArtifactProgress } from '../artifacts/fetch.js';
import { listArtifacts } from '../artifacts/manifest.js';
import type { Run } from './cmd-files.js';
import type { CommandContext } from './context.js';
import { terminalSafe } from '../util/terminal-text.js';
import { printJson, printLines } from './io.js';
import { argText, renderTable, warn } from './ops-edge.js';

/** `512 B`, `3.4 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Files at least this large get a progress line on a terminal. */
const PROGRESS_FROM_BYTES = 1024 * 1024;

/** A progress printer for stderr on a terminal (at most ~10 redraws a second). */
function progressPrinter(ctx: CommandContext): { onProgress?: (p: ArtifactProgress) => void; done: () => void } {
  if (!ctx.io.isTTY || ctx.json) return { done: () => undefined };
  let last = 0, drawn = false;
  return {
    onProgress: (p) => {
      if (p.total < PROGRESS_FROM_BYTES) return;
      const now = Date.now();
      if (now - last < 100 && p.bytes < p.total) return;
      last = now;
      drawn = true;
      const pct = p.total ? Math.floor((p.bytes / p.total) * 100) : 100;
      ctx.io.stderr(`\r\x1b[K${p.name}: ${formatBytes(p.bytes)} / ${formatBytes(p.total)} (${pct}%)`);
    },
    done: () => { if (drawn) ctx.io.stderr('\r\x1b[K'); },
  };
}

export function artifactCommands(y: Argv, run: Run): Argv {
  return y.command('artifacts', 'artifacts kept on the builders: list them, copy them over ssh (checksum-verified)', (ay) => ay
    .command(
      'list',
      'artifacts in shared/artifacts.json: job, attempt, builder, name, size, sha256',
      (c) => c
        .option('job', { type: 'string', describe: 'only the artifacts of this job' })
        .example('coord artifacts list', 'every artifact the fleet keeps')
        .example('coord artifacts list --job job-20261130-193728-build1-4f9a2c1d0b7e', 'one job\'s artifacts'),
      run(async (ctx, a) => {
        const job = a.job === undefined ? undefined : argText(a.job);
        const r = await listArtifacts(ctx.repoRoot(), { clock: ctx.clock, ...(job !== undefined ? { job } : {}) });
        if (ctx.json) return printJson(ctx.io, { ok: true, commit: r.commit, warnings: r.warnings, artifacts: r.artifacts });
        warn(ctx, r.warnings);
        if (!r.artifacts.length) return printLines(ctx.io, job ? `no artifacts recorded for job ${job}` : 'no artifacts recorded');
        printLines(ctx.io, renderTable(['JOB', 'ATTEMPT', 'BUILDER', 'NAME', 'SIZE', 'SHA256', 'CREATED'], terminalSafe(r.artifacts).map((e) => [
          e.job_id, e.attempt ?? null, e.builder, e.name, formatBytes(e.size), e.sha256.slice(0, 16), e.created_at,
        ])));
      }),
    )
    .command(
      'get <job> [name]',
      'copy a job\'s artifacts from its builder over ssh; verify size and sha256 (a mismatching copy is deleted, exit 3)',
      (c) => c
        .positional('job', { type: 'string', demandOption: true, describe: 'job id' })
        .positional('name', { type: 'string', describe: 'artifact name (default: all of the job\'s artifacts)' })
        .option('out', { type: 'string', describe: 'folder to write to (default: the working directory)' })
        .example('coord artifacts get job-20261130-193728-build1-4f9a2c1d0b7e', 'all artifacts of a job, here')
        .example('coord artifacts get job-20261130-193728-build1-4f9a2c1d0b7e app.deb --out dist/', 'one artifact into dist/'),
      run(async (ctx, a) => {
        const outDir = path.resolve(ctx.io.cwd, a.out === undefined ? '.' : argText(a.out));
        const name = a.name === undefined ? undefined : argText(a.name);
        const progress = progressPrinter(ctx);
        let r;
        try {
          r = await getArtifact(ctx.repoRoot(), argText(a.job), name, outDir, { env: ctx.io.env, clock: ctx.clock, ...(progress.onProgress ? { onProgress: progress.onProgress } : {}) });
        } finally {
          progress.done();
        }
        if (ctx.json) return printJson(ctx.io, { ok: true, warnings: r.warnings, artifacts: r.artifacts });
        warn(ctx, r.warnings);
        printLines(ctx.io, r.artifacts.map((f) => `${f.path} (${formatBytes(f.size)}, sha256 ${f.sha256.slice(0, 16)}… verified, from ${f.builder})`));
      }),
    )
    .demandCommand(1, 'name an artifacts command: list, get'));
}
