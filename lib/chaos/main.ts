/**
 * `npm run chaos [-- --duration S] [--jobs N] [--daemons N] [--seed N] [--max-job S]
 * [--settle S] [--keep] [--harden]` — the soak with invariants (issue 9). Prints the
 * disturbances as they happen, then the figures and every violation; exit 1 on any
 * violation (the workspace and its logs are kept then), 2 on bad usage.
 *
 * Defaults: 300 s of chaos, 4 daemons, 200 jobs — scaled with the duration (2 jobs per
 * 3 s, at least 20) so the CI version (`--duration 60`, 40 jobs) drains in its time too.
 */
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { runChaos } from './run-chaos.js';

const USAGE = 'usage: npm run chaos -- [--duration S] [--jobs N] [--daemons N] [--seed N] [--max-job S] [--settle S] [--keep] [--harden]\n';

function num(v: string | undefined, flag: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${flag} ${v}: give a number from ${min} to ${max}`);
  return n;
}

/** Git must not read the machine's configuration; children inherit this. */
function useHermeticGit(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  Object.assign(process.env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_SYSTEM: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', TZ: 'UTC' });
}

async function main(argv: string[]): Promise<void> {
  let opts;
  try {
    const { values } = parseArgs({
      args: argv, options: {
        duration: { type: 'string' }, jobs: { type: 'string' }, daemons: { type: 'string' }, seed: { type: 'string' },
        'max-job': { type: 'string' }, settle: { type: 'string' }, keep: { type: 'boolean' }, harden: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) { process.stdout.write(USAGE); return; }
    const durationS = num(values.duration, 'duration', 300, 10, 86_400);
    opts = {
      durationS,
      jobs: Math.round(num(values.jobs, 'jobs', Math.min(200, Math.max(20, Math.round((durationS * 2) / 3))), 1, 5000)),
      daemons: Math.round(num(values.daemons, 'daemons', 4, 2, 16)),
      seed: Math.round(num(values.seed, 'seed', Math.floor(Math.random() * 1e6), 0, 2 ** 31)),
      maxJobS: num(values['max-job'], 'max-job', 3, 0.3, 600),
      settleS: num(values.settle, 'settle', Math.max(120, durationS), 10, 86_400),
      keep: Boolean(values.keep), harden: Boolean(values.harden),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  useHermeticGit();
  const r = await runChaos({ ...opts, env: process.env, out: (l) => process.stdout.write(l + '\n') });
  const t = new Table({ head: ['figure', 'value'], style: { head: [], border: [] } });
  for (const [k, v] of Object.entries(r.figures)) t.push([k, String(v)]);
  process.stdout.write(`\nChaos summary\n${t.toString()}\n`);
  const inv = ['terminal', 'completed-twice', 'lost-lease', 'state-machine', 'cancel', 'validate', 'messages', 'processes'] as const;
  const names: Record<(typeof inv)[number], string> = {
    terminal: 'every job terminal', 'completed-twice': 'no job completed twice within one attempt', 'lost-lease': 'no completion accepted from a lost lease',
    'state-machine': 'every change of jobs.json obeys the job state machine', cancel: 'no cancel request lost (never claimed again after it)', validate: 'coord validate holds at every commit of main',
    messages: 'every message sent present exactly once', processes: 'no process of any job left running',
  };
  for (const i of inv) {
    const v = r.violations.filter((x) => x.invariant === i);
    process.stdout.write(`${v.length ? 'FAIL' : 'ok  '}  ${names[i]}${v.length ? ` (${v.length})` : ''}\n`);
    for (const x of v.slice(0, 20)) process.stdout.write(`        ${x.detail}\n`);
  }
  process.stdout.write(r.ok ? `\nno violations${r.kept ? `; workspace kept: ${r.workspace}` : ''}\n` : `\n${r.violations.length} violation(s); workspace and logs kept: ${r.workspace}\n`);
  process.exitCode = r.ok ? 0 : 1;
}

await main(process.argv.slice(2));
