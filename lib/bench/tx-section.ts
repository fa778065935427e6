/**
 * Section `tx` (issue 3, "Measure"): how much a transaction costs next to a bare git
 * cycle, and how many transactions per second a shared bare remote takes from 1, 2, 4
 * concurrent writer processes.
 *
 * - git cycle: `git fetch` + write a file + `git add` + `git commit` + `git push`, through
 *   the same process runner the engine uses (lib/git/run.ts), so the ratio is the
 *   engine's own overhead (temporary index, validation, lock, fast-forward), not runner cost.
 * - transaction: `runTransaction` appending one message, in process.
 * - throughput: N processes (each its own clone) start together behind a barrier and run
 *   `perWriter` transactions each; wall time is from the start signal to the last exit.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { git } from '../git/run.js';
import { PATHS } from '../store/kinds.js';
import { runTransaction } from '../tx/transaction.js';
import { appendMessage } from './append-message.js';
import { BENCH_IDENTITY, makeBenchRemote } from './remote.js';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1, fmt2, median, quantile } from './stats.js';
import type { TempDirs } from './temp-dirs.js';
import type { WorkerReport } from './tx-worker.js';

const WARMUP = 3;
const WORKER = fileURLToPath(new URL('./tx-worker.js', import.meta.url));

async function timeEach(iterations: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** One bare git cycle in `repo`: fetch, write a file, add, commit, push. */
async function gitCycle(repo: string, i: number): Promise<void> {
  await git(repo, ['fetch', '-q', 'origin']);
  await fs.writeFile(path.join(repo, 'bench-cycle.txt'), `cycle ${i}\n`);
  await git(repo, ['add', 'bench-cycle.txt']);
  await git(repo, [...BENCH_IDENTITY, 'commit', '-q', '-m', `bench cycle ${i}`]);
  await git(repo, ['push', '-q', 'origin', 'HEAD:main']);
}

export interface ThroughputRun {
  writers: number;
  transactions: number;
  failed: number;
  wall_s: number;
  tx_per_s: number;
  retries: number;
  worst_attempts: number;
  p50_ms: number;
  p95_ms: number;
}

/** Starts `count` writer processes behind a barrier and collects their reports. */
async function throughput(temp: TempDirs, writers: number, perWriter: number): Promise<ThroughputRun> {
  const dir = temp.make(`tx-w${writers}`);
  try {
    const names = Array.from({ length: writers }, (_, i) => `build${i + 1}`);
    const remote = await makeBenchRemote(dir, Math.max(4, writers), names);
    const procs = names.map((actor) => {
      const p = execa(process.execPath, [WORKER, remote.clones[actor], actor, String(perWriter)], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', buffer: false });
      let out = '';
      const ready = new Promise<void>((resolve) => {
        p.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.startsWith('ready\n')) resolve();
        });
      });
      return { p, ready, output: () => out };
    });
    await Promise.all(procs.map((w) => w.ready));
    const t0 = performance.now();
    for (const w of procs) w.p.stdin.end('go\n');
    await Promise.all(procs.map((w) => w.p));
    const wallMs = performance.now() - t0;
    const reports = procs.map((w) => JSON.parse(w.output().trim().split('\n').pop() ?? '{}') as WorkerReport);
    const attempts = reports.flatMap((r) => r.attempts);
    const latencies = reports.flatMap((r) => r.latencies_ms);
    const committed = reports.reduce((n, r) => n + r.committed, 0);
    return {
      writers,
      transactions: committed,
      failed: reports.reduce((n, r) => n + r.failed, 0),
      wall_s: wallMs / 1000,
      tx_per_s: committed / (wallMs / 1000),
      retries: attempts.reduce((n, a) => n + a - 1, 0),
      worst_attempts: Math.max(...attempts),
      p50_ms: median(latencies),
      p95_ms: quantile(latencies, 0.95),
    };
  } finally {
    temp.remove(dir);
  }
}

async function runTx(opts: BenchOptions, temp: TempDirs, log: (line: string) => void): Promise<SectionResult> {
  const dir = temp.make('tx');
  let cycleMs: number[], txMs: number[];
  try {
    const remote = await makeBenchRemote(dir, 4, ['cli', 'tx']);
    log(`tx: git cycle × ${opts.iterations} (+${WARMUP} warm-up)`);
    cycleMs = await timeEach(opts.iterations, (i) => gitCycle(remote.clones.cli, i));
    log(`tx: transaction × ${opts.iterations} (+${WARMUP} warm-up)`);
    txMs = await timeEach(opts.iterations, async (i) => {
      const out = await runTransaction({
        repoRoot: remote.clones.tx, actor: 'build1', action: 'bench.append', paths: [PATHS.messages],
        mutate: appendMessage(`lat-${i}`, 'build1'),
      });
      if (out.status !== 'committed') throw new Error(`bench transaction ${i} ended ${out.status}`);
    });
  } finally {
    temp.remove(dir);
  }
  const runs: ThroughputRun[] = [];
  for (const w of opts.writers) {
    log(`tx: ${w} writer process(es) × ${opts.perWriter} transactions`);
    runs.push(await throughput(temp, w, opts.perWriter));
  }
  const cycle = median(cycleMs), tx = median(txMs);
  const row = (name: string, s: number[]) => [name, fmt1(median(s)), fmt1(quantile(s, 0.1)), fmt1(quantile(s, 0.9)), String(s.length)];
  return {
    tables: [
      {
        title: 'Latency on a local bare remote (ms)',
        head: ['measure', 'median', 'p10', 'p90', 'n'],
        rows: [
          row('(a) git CLI cycle: fetch + write + add + commit + push', cycleMs),
          row('(b) transaction: runTransaction, append 1 message', txMs),
          ['(c) ratio b / a (medians)', fmt2(tx / cycle), '', '', ''],
        ],
      },
      {
        title: `(d) Throughput: concurrent writer processes, each its own clone, ${opts.perWriter} transactions each`,
        head: ['writers', 'tx', 'wall s', 'tx/s', 'retries', 'worst attempts', 'p50 ms', 'p95 ms', 'failed'],
        rows: runs.map((r) => [String(r.writers), String(r.transactions), fmt1(r.wall_s), fmt2(r.tx_per_s), String(r.retries), String(r.worst_attempts), fmt1(r.p50_ms), fmt1(r.p95_ms), String(r.failed)]),
      },
    ],
    data: {
      git_cycle_ms: { median: cycle, samples: cycleMs },
      transaction_ms: { median: tx, samples: txMs },
      ratio: tx / cycle,
      throughput: runs,
    },
  };
}

export const txSection: BenchSection = {
  name: 'tx',
  description: 'transaction vs bare git cycle latency; throughput with 1, 2, 4 writer processes',
  run: runTx,
};
