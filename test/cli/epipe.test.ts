/**
 * Bug (third trial): `id=$(coord jobs add … --wait | head -1)` — README's own idiom — exited 1
 * with an EPIPE stack trace once head had gone, and so did `coord history | head -1`. A reader
 * that went away is not an error: the command runs on and exits with its own status.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/cli.js';
import { hermeticEnv, makeFleet } from '../support/git-fixture.js';
import { fingerprintTree, makeCoordTree, removeTree } from '../support/tree.js';

/** Runs `node BIN ARGS` with its stdout closed by the reader before the command writes. */
function runWithReaderGone(bin: string, args: string[], cwd: string): Promise<{ exitCode: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', bin), ...args], { cwd, env: hermeticEnv({ NO_COLOR: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write: every write gets EPIPE
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

let tree: string;
beforeAll(async () => { tree = await makeCoordTree({ prefix: 'coord-epipe-' }); });
afterAll(async () => { await removeTree(tree); });

test.each([
  ['coord --help', 'coord.js', ['--help'], 0],
  ['coord --json validate', 'coord.js', ['--json', 'validate'], 0],
  ['coord validate of a missing file (error after the reader left)', 'coord.js', ['validate', 'coordination/nope.json'], 5],
  ['sm --help', 'sm.js', ['--help'], 0],
])('%s with stdout closed: its own exit code, no EPIPE trace, nothing changed', async (_name, bin, args, code) => {
  const before = await fingerprintTree(tree);
  const r = await runWithReaderGone(bin, args, tree);
  expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|internal error/);
  expect(r.exitCode).toBe(code);
  expect(await fingerprintTree(tree)).toEqual(before);
});

test('coord status --watch ends once its reader has gone (it ran on for ever), exit 0', async () => {
  const fleet = await makeFleet(1);
  try {
    const r = await runWithReaderGone('coord.js', ['--builder', 'build1', 'status', '--watch', '--interval', '1'], fleet.clones.build1);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|internal error/);
    expect(r.exitCode).toBe(0);
  } finally {
    fleet.cleanup();
  }
}, 30_000);
