/**
 * `coord demo` — what `npm start` runs (issue 9): a local fleet on real parts, the main job
 * end to end, with a summary. The work is in lib/demo/; this is the command-line edge
 * (options, signals, exit code).
 */
import type { Argv } from 'yargs';
import { CoordError } from '../errors.js';
import { DemoRun } from '../demo/run-demo.js';
import type { Run } from './cmd-files.js';
import { printJson } from './io.js';

function whole(v: unknown, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CoordError('E_USAGE', `${flag} ${String(v)}: give a whole number from ${min} to ${max}`);
  return n;
}

export function demoCommands(y: Argv, run: Run): Argv {
  return y.command(
    'demo',
    'run a local fleet end to end: git daemon origin, N builder daemons, real builds of this project, a summary',
    (c) => c
      .option('builders', { type: 'number', default: 3, describe: 'builders (daemons), each with its own clone' })
      .option('jobs', { type: 'number', default: 0, describe: 'extra small (smoke) jobs besides the builds, the test and the agent\'s job' })
      .option('builds', { type: 'number', default: 3, describe: 'commits of this project to build: HEAD and earlier ones' })
      .option('test', { type: 'boolean', default: true, describe: 'queue the test job (fast suites at HEAD); --no-test skips it' })
      .option('keep', { type: 'boolean', default: false, describe: 'keep the workspace (origin, clones, logs) at the end' })
      .option('transport', { choices: ['git', 'file', 'ssh'] as const, default: 'git', describe: 'how clones reach the origin: git daemon on 127.0.0.1, or a file path' })
      .option('harden', { type: 'boolean', default: false, describe: 'install the origin\'s validation hook (coord remote setup); it starts node on every push, ~0.6 s each here' })
      .option('timeout', { type: 'number', default: 300, describe: 'seconds the jobs may take before the demo gives up' })
      .example('npm start', 'the default: 3 builders, builds of 3 commits, one test, an agent\'s job, a message')
      .example('coord demo --builders 2 --jobs 4 --keep', 'a smaller fleet, more jobs, keep the workspace'),
    run(async (ctx, a) => {
      if (a.transport === 'ssh') throw new CoordError('E_USAGE', '--transport ssh is not available in the demo yet; use git (the default) or file');
      const demo = new DemoRun({
        builders: whole(a.builders, '--builders', 1, 16), extraJobs: whole(a.jobs, '--jobs', 0, 200), builds: whole(a.builds, '--builds', 1, 10),
        test: Boolean(a.test), keep: Boolean(a.keep), transport: a.transport as 'git' | 'file', harden: Boolean(a.harden),
        timeoutS: whole(a.timeout, '--timeout', 10, 86_400), env: ctx.io.env,
        io: {
          // With --json, progress goes to stderr and stdout keeps to one document.
          out: ctx.json ? ctx.io.stderr : ctx.io.stdout,
          err: ctx.io.stderr,
          tty: ctx.io.isTTY && !ctx.json,
          columns: () => process.stdout.columns || 100,
        },
      });
      const onSignal = () => demo.interrupt();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const r = await demo.run();
        if (ctx.json) printJson(ctx.io, r);
        if (!r.ok) process.exitCode = r.interrupted ? 130 : 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }),
  );
}
