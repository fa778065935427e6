/**
 * `coord` loads only the module of the command it runs (lib/cli/main.ts COMMAND_MODULES).
 * The list must name every command `coord --help` shows, in its order, or a command would
 * be missing whenever another one runs.
 */
import { COMMAND_MODULES, commandWord } from '../../lib/cli/main.js';
import { runCoordCli } from '../support/cli.js';

const words = COMMAND_MODULES.flatMap((m) => m.words);
/** Registered with no description, so yargs keeps it out of the help (git calls it). */
const HIDDEN = new Set(['merge-driver']);

test('commandWord skips options and the values of --repo and --builder', () => {
  expect(commandWord(['jobs', 'list'])).toBe('jobs');
  expect(commandWord(['--repo', '/x', '--builder', 'build2', '--json', 'status'])).toBe('status');
  expect(commandWord(['--repo=/x', 'heartbeat'])).toBe('heartbeat');
  expect(commandWord(['--json'])).toBeNull();
  expect(commandWord(['--', 'jobs'])).toBeNull();
  expect(commandWord([])).toBeNull();
});

test('every command coord --help lists is in COMMAND_MODULES, in the same order, and no word twice', async () => {
  const r = await runCoordCli(['--help']);
  expect(r.exitCode).toBe(0);
  const listed = [...r.stdout.matchAll(/^ {2}coord ([a-z-]+)/gm)].map((m) => m[1]);
  expect(listed.length).toBeGreaterThan(15);
  expect(listed).toEqual(words.filter((w) => !HIDDEN.has(w)));
  expect(new Set(words).size).toBe(words.length);
});

test('a command run alone still has its own subcommands and the global options; an unknown word still gets suggestions', async () => {
  const jobs = await runCoordCli(['--repo', '/nonexistent', 'jobs', '--help']);
  expect(jobs.exitCode).toBe(0);
  expect(jobs.stdout).toMatch(/coord jobs add/);
  expect(jobs.stdout).toMatch(/--builder/);
  const hidden = await runCoordCli(['merge-driver', '--help']);
  expect(hidden.exitCode).toBe(0);
  const typo = await runCoordCli(['jbos']);
  expect(typo.exitCode).toBe(2);
  expect(typo.stderr).toMatch(/unknown command jbos; did you mean jobs\?/);
});
