/**
 * Section `startup` (issue 9, bench 5): what starting the command line costs — `sm --help`
 * and `coord --help` next to `node -e 0` (hyperfine is not installed: each command runs
 * `runs` times after one warm-up, timed here from spawn to exit).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1, fmt2, median, quantile } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface StartupRow { command: string; median_ms: number; p10_ms: number; p90_ms: number; n: number; failed: number }

async function timeCommand(args: string[], runs: number): Promise<{ samples: number[]; failed: number }> {
  const samples: number[] = [];
  let failed = 0;
  for (let i = -1; i < runs; i++) {
    const t0 = performance.now();
    const r = await execa(process.execPath, args, { cwd: ROOT, reject: false, stdin: 'ignore' });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) failed++;
    if (i >= 0) samples.push(ms);
  }
  return { samples, failed };
}

async function runStartup(opts: BenchOptions, _temp: unknown, log: (line: string) => void): Promise<SectionResult> {
  const commands: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['coord --help', [path.join(ROOT, 'bin/coord.js'), '--help']],
    ['sm --help', [path.join(ROOT, 'bin/sm.js'), '--help']],
    ['coord --version', [path.join(ROOT, 'bin/coord.js'), '--version']],
    // One command word: only that command's module loads (lib/cli/main.ts COMMAND_MODULES).
    ['coord heartbeat --help', [path.join(ROOT, 'bin/coord.js'), 'heartbeat', '--help']],
    ['coord hook --help', [path.join(ROOT, 'bin/coord.js'), 'hook', '--help']],
  ];
  const rows: StartupRow[] = [];
  for (const [name, args] of commands) {
    log(`startup: ${name} × ${opts.runs}`);
    const { samples, failed } = await timeCommand(args, opts.runs);
    rows.push({ command: name, median_ms: median(samples), p10_ms: quantile(samples, 0.1), p90_ms: quantile(samples, 0.9), n: samples.length, failed });
  }
  const base = rows[0].median_ms;
  return {
    tables: [{
      title: `Start-up: spawn to exit (ms), ${opts.runs} runs each after a warm-up`,
      head: ['command', 'median', 'p10', 'p90', '× node -e 0', 'over node -e 0', 'failed'],
      rows: rows.map((r) => [r.command, fmt1(r.median_ms), fmt1(r.p10_ms), fmt1(r.p90_ms), fmt2(r.median_ms / base), fmt1(r.median_ms - base), String(r.failed)]),
    }],
    data: { rows },
  };
}

export const startupSection: BenchSection = {
  name: 'startup',
  description: '`sm --help` and `coord --help` vs `node -e 0`',
  run: runStartup,
};
