/**
 * `coord` — the command line (DESIGN.md section 9). Only this layer writes to stdout and
 * sets the exit code (through `process.exitCode`, so output flushes).
 */
import yargs, { type Argv } from 'yargs';
import { CoordError, exitCodeOf } from '../errors.js';
import { explainNotAGitClone } from '../config/repo.js';
import { makeContext, type CommandContext } from './context.js';
import type { Run } from './cmd-files.js';
import { processIO, reportError, type CliIO } from './io.js';
import { VERSION } from './version.js';

type Register = (y: Argv, run: Run) => unknown;

/**
 * Every top-level command word and the module that registers it, in `coord --help` order.
 * A command line naming one of these loads only that module: a cron heartbeat or a git
 * hook does not pay for loading the dashboard, ssh and messaging code (~0.3 s of CPU for
 * all of them). `coord --help`, an unknown word and shell completion load every module.
 * test/cli/lazy-commands.test.ts checks this list against the commands `coord --help` shows.
 */
export const COMMAND_MODULES: readonly { words: readonly string[]; load: () => Promise<Register> }[] = [
  { words: ['init', 'validate', 'migrate'], load: async () => (await import('./cmd-files.js')).fileCommands },
  { words: ['sync', 'remote', 'merge-driver'], load: async () => (await import('./cmd-git.js')).gitCommands },
  { words: ['hook'], load: async () => (await import('./cmd-hooks.js')).hookCommands },
  { words: ['doctor'], load: async () => (await import('./cmd-doctor.js')).doctorCommands },
  { words: ['jobs'], load: async () => (await import('./cmd-jobs.js')).jobCommands },
  { words: ['lock'], load: async () => (await import('./cmd-locks.js')).lockCommands },
  { words: ['status', 'history', 'queue', 'builder', 'schedule', 'completion'], load: async () => (await import('./cmd-ops.js')).opsCommands },
  { words: ['messages'], load: async () => (await import('./cmd-messages.js')).messageCommands },
  { words: ['artifacts'], load: async () => (await import('./cmd-artifacts.js')).artifactCommands },
  { words: ['dashboard'], load: async () => (await import('./cmd-dashboard.js')).dashboardCommands },
  { words: ['daemon', 'heartbeat'], load: async () => (await import('./cmd-daemon.js')).daemonCommands },
  { words: ['demo'], load: async () => (await import('./cmd-demo.js')).demoCommands },
];

/** Global options that take a value (`--repo DIR`), so the word after them is not the command. */
const VALUE_OPTIONS = new Set(['--repo', '--builder']);

/**
 * The command word of a command line: the first argument that is neither an option nor the
 * value of a global option. @returns null when there is none (or `--` comes first)
 */
export function commandWord(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return null;
    if (VALUE_OPTIONS.has(a)) { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return null;
}


/**
 * Parses and runs one command line.
 * @returns the exit code (also set on `process.exitCode` by commands that fail softly)
 */
export async function runCoord(argv: string[], io: CliIO = processIO()): Promise<number> {
  const wantsJson = argv.includes('--json');
  const word = argv.some((a) => a.startsWith('--get-yargs-completions')) ? null : commandWord(argv);
  let failure: unknown = null;
  const run: Run = (fn) => async (args) => {
    const ctx: CommandContext = makeContext(args, io);
    try {
      await fn(ctx, args);
    } catch (err) {
      // git's raw "fatal: not a git repository" → "DIR is not a git clone (no .git): …" (exit 2).
      let root: string | undefined;
      try { root = ctx.repoRoot(); } catch { root = undefined; }
      throw explainNotAGitClone(err, root, io.env);
    }
  };
  const y: Argv = yargs(argv)
    .scriptName('coord')
    .usage('coord [--repo DIR] [--builder ID] [--json] <command>\n\nCoordinate a fleet of build servers through one shared git repository.')
    .option('repo', { type: 'string', describe: 'coordination repository (default: COORD_REPO, else the nearest parent holding coordination/)', global: true })
    .option('builder', { type: 'string', describe: 'this builder (default: COORD_BUILDER, SERVER_ID, /etc/build_server_id, .build_server_id, hostname)', global: true })
    .option('json', { type: 'boolean', describe: 'print exactly one JSON document on stdout', global: true })
    .epilogue('Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid data, 4 contention or lock held, 5 not found, 6 remote unreachable.\nDocs: README.md (commands) and METHODOLOGY.md (the protocol).')
    .strict()
    .demandCommand(1, 'name a command (coord --help lists them)')
    .recommendCommands()
    .version(VERSION)
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // Point at the help of the command that was typed, when it is one we know.
      const help = word !== null && COMMAND_MODULES.some((m) => m.words.includes(word)) ? `coord ${word} --help` : 'coord --help';
      failure = err ?? new CoordError('E_USAGE', `${msg}\nRun ${help} for usage.`);
      throw failure;
    });
  const only = COMMAND_MODULES.filter((m) => word !== null && m.words.includes(word));
  // `coord --version` alone needs no command (yargs answers it before any handler runs).
  const versionOnly = word === null && argv.includes('--version') && !argv.some((a) => a === '--help' || a === '-h');
  for (const m of versionOnly ? [] : only.length ? only : COMMAND_MODULES) (await m.load())(y, run);
  try {
    await y.parseAsync();
  } catch (err) {
    reportError(io, failure ?? err, wantsJson);
    return exitCodeOf(failure ?? err);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
