/**
 * `coord` — the command line (DESIGN.md section 9). Only this layer writes to stdout and
 * sets the exit code (through `process.exitCode`, so output flushes).
 */
import yargs, { type Argv } from 'yargs';
import { CoordError, exitCodeOf } from '../errors.js';
import { makeContext, type CommandContext } from './context.js';
import { fileCommands, type Run } from './cmd-files.js';
import { gitCommands } from './cmd-git.js';
import { processIO, reportError, type CliIO } from './io.js';
import { VERSION } from './version.js';
import { daemonCommands } from './cmd-daemon.js';


/**
 * Parses and runs one command line.
 * @returns the exit code (also set on `process.exitCode` by commands that fail softly)
 */
export async function runCoord(argv: string[], io: CliIO = processIO()): Promise<number> {
  const wantsJson = argv.includes('--json');
  let failure: unknown = null;
  const run: Run = (fn) => async (args) => {
    const ctx: CommandContext = makeContext(args, io);
    await fn(ctx, args);
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
      failure = err ?? new CoordError('E_USAGE', `${msg}\nRun coord --help for usage.`);
      throw failure;
    });
  fileCommands(y, run);
  gitCommands(y, run);
  (await import('./cmd-hooks.js')).hookCommands(y, run);
  (await import('./cmd-doctor.js')).doctorCommands(y, run);
  (await import('./cmd-jobs.js')).jobCommands(y, run);
  (await import('./cmd-locks.js')).lockCommands(y, run);
  (await import('./cmd-ops.js')).opsCommands(y, run);
  (await import('./cmd-messages.js')).messageCommands(y, run);
  (await import('./cmd-artifacts.js')).artifactCommands(y, run);
  (await import('./cmd-dashboard.js')).dashboardCommands(y, run);
  daemonCommands(y, run);
  (await import('./cmd-demo.js')).demoCommands(y, run);
  try {
    await y.parseAsync();
  } catch (err) {
    reportError(io, failure ?? err, wantsJson);
    return exitCodeOf(failure ?? err);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
