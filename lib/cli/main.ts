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
 * The words of a command line that are neither options nor values of global options, up to
 * `--` (the command, subcommand and positionals).
 */
export function positionalWords(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (VALUE_OPTIONS.has(a)) { i++; continue; }
    if (!a.startsWith('-')) out.push(a);
  }
  return out;
}

/**
 * How far yargs got when it failed: the (sub)commands entered (`['jobs', 'add']`) and the
 * subcommands known at that level. Read through yargs' internal methods, so null (and the
 * caller falls back to the command word) should a yargs version not have them.
 */
function commandLevel(y: Argv): { commands: string[]; subcommands: string[] } | null {
  try {
    const im = (y as unknown as { getInternalMethods(): { getContext(): { commands: string[] }; getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods();
    return { commands: [...im.getContext().commands], subcommands: [...im.getCommandInstance().getCommands()] };
  } catch {
    return null;
  }
}

/**
 * The usage error for a yargs failure message (pure): which help to point at, and an
 * unknown (sub)command word said as such — `unknown command mesages; did you mean
 * messages?` — instead of yargs' bare "Did you mean messages?" / "Unknown argument".
 * @param commands the (sub)commands yargs entered, outermost first
 * @param words the positional words typed ({@link positionalWords})
 * @param subcommands the subcommands known at the level it failed at
 */
export function usageFailure(msg: string, commands: readonly string[], words: readonly string[], subcommands: readonly string[]): { message: string; help: string } {
  const help = `coord ${[...commands, '--help'].join(' ')}`;
  const typed = words[commands.length];
  const what = commands.length ? `unknown ${commands.join(' ')} command` : 'unknown command';
  const known = subcommands.filter((c) => !/^[_$]/.test(c));
  const suggestion = /^Did you mean (\S+)\?$/.exec(msg.trim());
  if (typed !== undefined && known.length && suggestion) return { message: `${what} ${typed}; did you mean ${suggestion[1]}?`, help };
  if (typed !== undefined && known.length && !known.includes(typed) && new RegExp(`^Unknown arguments?: ${escapeRe(typed)}(,|$)`).test(msg.trim())) {
    return { message: `${what} ${typed}; the commands are ${known.join(', ')}`, help };
  }
  return { message: msg, help };
}

const escapeRe = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
      if (err) { failure = err; throw failure; }
      // Point at the help of the (sub)command that was typed, as far as yargs got into it.
      const level = commandLevel(y);
      const fallback = word !== null && COMMAND_MODULES.some((m) => m.words.includes(word)) ? [word] : [];
      const u = usageFailure(msg ?? '', level?.commands ?? fallback, positionalWords(argv), level?.subcommands ?? []);
      failure = new CoordError('E_USAGE', `${u.message}\nRun ${u.help} for usage.`);
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
