/**
 * The shape every benchmark section shares, so `npm run bench` can grow new sections
 * (sync, merge driver, heartbeat…) next to `tx`: each section runs on its own temp
 * folders, returns tables to print and data to write as JSON.
 */
import type { TempDirs } from './temp-dirs.js';

/** Knobs common to all sections (command-line flags of `npm run bench`). */
export interface BenchOptions {
  /** Timed iterations of latency measurements (after warm-up). Default 30. */
  iterations: number;
  /** Transactions per writer process in throughput runs. Default 25. */
  perWriter: number;
  /** Writer-process counts of throughput runs. Default [1, 2, 4]. */
  writers: number[];
  /** Daemon counts of the claim-throughput runs. Default [1, 2, 4, 8]. */
  daemons: number[];
  /** No-op jobs each claim-throughput run drains. Default 200. */
  jobs: number;
  /** Timed runs of each start-up and latency sample (start-up, messages). Default 10. */
  runs: number;
}

export const DEFAULT_BENCH_OPTIONS: Readonly<BenchOptions> = Object.freeze({ iterations: 30, perWriter: 25, writers: [1, 2, 4], daemons: [1, 2, 4, 8], jobs: 200, runs: 10 });

/** One printed table: a title, a header row and string cells. */
export interface BenchTable {
  title: string;
  head: string[];
  rows: string[][];
}

export interface SectionResult {
  tables: BenchTable[];
  /** Machine-readable figures (ms, counts), written to `bench-results/<section>-<time>.json`. */
  data: Record<string, unknown>;
}

export interface BenchSection {
  /** The name chosen on the command line (`npm run bench -- tx`). */
  name: string;
  description: string;
  /** Progress lines go to `log` (stderr); the result is printed by main. */
  run(opts: BenchOptions, temp: TempDirs, log: (line: string) => void): Promise<SectionResult>;
}
