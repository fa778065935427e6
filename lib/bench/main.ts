/**
 * `npm run bench [-- SECTION…] [--iterations N] [--per-writer N] [--writers 1,2,4] [--out DIR]`
 *
 * A benchmark program, not a timed test (STYLE.md): it prints the machine, then one table
 * set per section, and writes each section's figures to `bench-results/<section>-<time>.json`
 * (git-ignored). Everything runs on local bare remotes in temp folders, removed at the end.
 * Sections: see {@link SECTIONS}; with none named, all run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { machineInfo, type MachineInfo } from './machine.js';
import { DEFAULT_BENCH_OPTIONS, type BenchOptions, type BenchSection, type BenchTable } from './section.js';
import { TempDirs } from './temp-dirs.js';
import { txSection } from './tx-section.js';
import { claimSection } from './claim-section.js';
import { historySection } from './history-section.js';
import { hotfileSection } from './hotfile-section.js';
import { startupSection } from './startup-section.js';
import { messagesSection } from './messages-section.js';
import { dashboardSection } from './dashboard-section.js';

/** Every section, in the order `npm run bench` runs them. Add new ones here. */
export const SECTIONS: readonly BenchSection[] = [txSection, claimSection, historySection, hotfileSection, startupSection, messagesSection, dashboardSection];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Git must not read the machine's own configuration (signing, hooks, fsmonitor would skew
 * the figures) — the same hermetic settings the tests use. Child processes inherit them.
 */
function useHermeticGit(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  Object.assign(process.env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_SYSTEM: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', TZ: 'UTC' });
}

function printTable(t: BenchTable): void {
  const table = new Table({ head: t.head, style: { head: [], border: [] } });
  for (const r of t.rows) table.push(r);
  process.stdout.write(`\n${t.title}\n${table.toString()}\n`);
}

function machineTable(m: MachineInfo): BenchTable {
  return {
    title: 'Machine',
    head: ['cpus', 'cpu model', 'memory MB', 'node', 'git', 'platform', 'load (1 min)'],
    rows: [[String(m.cpus), m.cpu_model, String(m.memory_mb), m.node, m.git, m.platform, String(m.load_1m)]],
  };
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} ${text}: give a whole number ≥ 1`);
  return n;
}

const USAGE = `usage: npm run bench -- [SECTION…] [--iterations N] [--per-writer N] [--writers 1,2,4] [--daemons 1,2,4,8] [--jobs N] [--runs N] [--out DIR]
sections:
${SECTIONS.map((s) => `  ${s.name.padEnd(8)} ${s.description}`).join('\n')}
`;

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        iterations: { type: 'string' }, 'per-writer': { type: 'string' }, writers: { type: 'string' },
        out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
        daemons: { type: 'string' }, jobs: { type: 'string' }, runs: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(USAGE); return; }
  const unknown = positionals.filter((p) => !SECTIONS.some((s) => s.name === p));
  if (unknown.length) {
    process.stderr.write(`unknown section(s): ${unknown.join(', ')}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const opts: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, writers: [...DEFAULT_BENCH_OPTIONS.writers], daemons: [...DEFAULT_BENCH_OPTIONS.daemons] };
  try {
    if (values.iterations) opts.iterations = positiveInt('iterations', values.iterations);
    if (values['per-writer']) opts.perWriter = positiveInt('per-writer', values['per-writer']);
    if (values.writers) opts.writers = values.writers.split(',').map((w) => positiveInt('writers', w.trim()));
    if (values.daemons) opts.daemons = values.daemons.split(',').map((w) => positiveInt('daemons', w.trim()));
    if (values.jobs) opts.jobs = positiveInt('jobs', values.jobs);
    if (values.runs) opts.runs = positiveInt('runs', values.runs);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const chosen = positionals.length ? SECTIONS.filter((s) => positionals.includes(s.name)) : SECTIONS;
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'bench-results'));

  useHermeticGit();
  const temp = new TempDirs();
  const onSignal = (sig: NodeJS.Signals) => {
    temp.removeAll();
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const machine = await machineInfo();
    printTable(machineTable(machine));
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const section of chosen) {
      const started = new Date().toISOString();
      const result = await section.run(opts, temp, (line) => process.stderr.write(`${line}\n`));
      for (const t of result.tables) printTable(t);
      mkdirSync(outDir, { recursive: true });
      const file = path.join(outDir, `${section.name}-${stamp}.json`);
      writeFileSync(file, JSON.stringify({ section: section.name, started_at: started, machine, options: opts, results: result.data }, null, 2) + '\n');
      process.stdout.write(`\nwrote ${path.relative(process.cwd(), file) || file}\n`);
    }
  } finally {
    temp.removeAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

await main(process.argv.slice(2));
