/**
 * Section `hotfile` (issue 9, bench 4): what finished jobs in history cost a transaction.
 * One transaction = queue one job (`addJob` through `runTransaction`: fetch, read and
 * validate coordination/jobs.json, write it back, push) — every queue transaction pays
 * for the size of the hot file.
 *
 * Layouts measured, all with the same finished jobs (one attempt, an artifact, a log):
 * - 100 finished jobs in the hot file;
 * - 100 in the hot file + 100,000 archived in coordination/archive/jobs-YYYY-MM.json (what
 *   retention, `policy.job_retention_days`, produces);
 * - 10,000 and 100,000 in the hot file (no retention). 100,000 jobs are far over the
 *   16 MiB file limit (lib/store/parse.ts): that row shows the engine's refusal.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { git } from '../git/run.js';
import { addJob, makeJob, type JobRecord } from '../jobs/model.js';
import { DEFAULT_POLICY } from '../config/policy.js';
import { archivePath, PATHS } from '../store/kinds.js';
import type { JobsFile } from '../schemas/types.gen.js';
import { runTransaction } from '../tx/transaction.js';
import { formatTimestamp } from '../util/time.js';
import { BENCH_IDENTITY, makeBenchRemote } from './remote.js';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1, median, quantile } from './stats.js';
import type { TempDirs } from './temp-dirs.js';

/** A finished job as the daemon leaves it. */
function finishedJob(i: number, month: number): JobRecord {
  const t = Date.parse(`2026-${String(month).padStart(2, '0')}-01T00:00:00Z`) + (i % 2_000_000) * 1000;
  const ts = formatTimestamp(t);
  const base = makeJob({ type: 'noop', priority: 5, description: `finished job ${i}`, commit: 'a'.repeat(40) }, `job-done-${String(i).padStart(6, '0')}`, 'bench', t, { ...DEFAULT_POLICY });
  return {
    ...base, status: 'completed', assigned_to: 'build1', attempt: 1, started_at: ts, completed_at: ts, exit_code: 0, log: `build1/logs/${base.id}.log`,
    history: [{ attempt: 1, builder: 'build1', claimed_at: ts, ended_at: ts, status: 'completed', exit_code: 0, duration_seconds: 12.3, error: null }],
    artifacts: [{ name: `out-${i}.tgz`, size: 123456, sha256: 'b'.repeat(64) }],
  };
}

export interface HotRun {
  layout: string;
  hot_jobs: number;
  archived_jobs: number;
  hot_file_bytes: number;
  median_ms: number | null;
  p90_ms: number | null;
  n: number;
  error: string | null;
}

async function layoutRun(temp: TempDirs, layout: string, hot: number, archived: number, iterations: number, log: (l: string) => void): Promise<HotRun> {
  const dir = temp.make('hotfile');
  try {
    const remote = await makeBenchRemote(dir, 2, ['seed', 'tx']);
    const seed = remote.clones.seed;
    const jobsFile = path.join(seed, PATHS.jobs);
    const doc = JSON.parse(await fs.readFile(jobsFile, 'utf8')) as JobsFile;
    doc.jobs = Array.from({ length: hot }, (_, i) => finishedJob(i, 11));
    const text = JSON.stringify(doc, null, 2) + '\n';
    await fs.writeFile(jobsFile, text);
    // Archives by month, 10 months, each well under the file limit.
    const perMonth = Math.ceil(archived / 10);
    for (let m = 1; m <= 10 && archived > 0; m++) {
      const month = `2026-${String(m).padStart(2, '0')}`;
      const records = Array.from({ length: Math.min(perMonth, archived - (m - 1) * perMonth) }, (_, k) => finishedJob(hot + (m - 1) * perMonth + k, m));
      const p = path.join(seed, archivePath('jobs', month));
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.writeFile(p, JSON.stringify({ $schema: '../../schemas/archive.schema.json', kind: 'jobs', month, records }, null, 2) + '\n');
    }
    await git(seed, ['add', '-A']);
    await git(seed, [...BENCH_IDENTITY, 'commit', '-q', '-m', `${hot} finished jobs in the hot file, ${archived} archived`]);
    await git(seed, ['push', '-q', 'origin', 'HEAD:main'], { timeoutMs: 600_000 });
    log(`hotfile: ${layout}: jobs.json ${fmt1(Buffer.byteLength(text) / 1048576)} MiB; ${iterations} transactions`);
    const samples: number[] = [];
    let error: string | null = null;
    for (let i = -1; i < iterations; i++) {
      const t0 = performance.now();
      try {
        const out = await runTransaction({
          repoRoot: remote.clones.tx, actor: 'build1', action: 'job.add', paths: [PATHS.jobs],
          mutate: (s, now) => {
            const t = addJob(s.files.get(PATHS.jobs) as JobsFile, makeJob({ type: 'noop', priority: 5 }, `job-new-${i + 1}`, 'build1', now, s.policy));
            return t.ok ? { kind: 'commit', writes: new Map([[PATHS.jobs, t.doc]]), summary: t.job.id, result: t.job.id } : { kind: 'refuse', refusal: t.refusal };
          },
        });
        if (out.status !== 'committed') throw new Error(`ended ${out.status}`);
      } catch (err) {
        error = (err as Error).message.split('\n')[0].slice(0, 160);
        break;
      }
      if (i >= 0) samples.push(performance.now() - t0); // the first one is a warm-up
    }
    return {
      layout, hot_jobs: hot, archived_jobs: archived, hot_file_bytes: Buffer.byteLength(text),
      median_ms: samples.length ? median(samples) : null, p90_ms: samples.length ? quantile(samples, 0.9) : null, n: samples.length, error,
    };
  } finally {
    temp.remove(dir);
  }
}

async function runHotfile(opts: BenchOptions, temp: TempDirs, log: (line: string) => void): Promise<SectionResult> {
  const it = Math.min(opts.iterations, 15);
  const runs: HotRun[] = [
    await layoutRun(temp, '100 finished, in the hot file', 100, 0, it, log),
    await layoutRun(temp, '100 in the hot file + 100,000 archived', 100, 100_000, it, log),
    await layoutRun(temp, '10,000 finished, in the hot file', 10_000, 0, Math.min(it, 5), log),
    await layoutRun(temp, '100,000 finished, in the hot file', 100_000, 0, Math.min(it, 3), log),
  ];
  const ms = (v: number | null) => (v === null ? '–' : fmt1(v));
  return {
    tables: [{
      title: 'Hot-file cost: one queue transaction (fetch, read + validate jobs.json, write, push) vs finished jobs in history',
      head: ['layout', 'jobs.json', 'median ms', 'p90 ms', 'n', 'outcome'],
      rows: runs.map((r) => [r.layout, `${fmt1(r.hot_file_bytes / 1048576)} MiB`, ms(r.median_ms), ms(r.p90_ms), String(r.n), r.error ? `refused: ${r.error}` : 'ok']),
    }],
    data: { runs },
  };
}

export const hotfileSection: BenchSection = {
  name: 'hotfile',
  description: 'transaction time with 100 vs 100,000 finished jobs: archived vs in the hot file',
  run: runHotfile,
};
