/**
 * `coord demo` (what `npm start` runs) end to end, small: 2 builders, a real build of HEAD,
 * the agent's hand-added job, one extra job, a message — and no process left behind, also
 * when interrupted with Ctrl-C (SIGINT).
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { COORD_BIN, PROJECT_ROOT } from '../support/cli.js';
import { pidsWithEnv } from '../../lib/demo/processes.js';

const SMALL = ['demo', '--builders', '2', '--builds', '1', '--no-test', '--jobs', '1', '--timeout', '100'];
const cleanups: string[] = [];
afterAll(() => { for (const d of cleanups) rmSync(d, { recursive: true, force: true }); });

interface Running {
  out: () => string;
  err: () => string;
  exit: Promise<number>;
  pid: number;
}

/** Starts the demo with a mark in its environment that every descendant inherits. */
function startDemo(mark: string, args: string[]): Running {
  const child = spawn(process.execPath, [COORD_BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, DEMO_TEST_MARK: mark }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const exit = new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig === 'SIGINT' ? 130 : 128))));
  return { out: () => out, err: () => err, exit, pid: child.pid! };
}

const workspaceOf = (out: string) => /^workspace (\S+)/m.exec(out)?.[1] ?? '';

async function settle(mark: string): Promise<number[]> {
  // Processes exit asynchronously after their group is killed: give them a moment.
  for (let i = 0; i < 20; i++) {
    const left = await pidsWithEnv('DEMO_TEST_MARK', mark);
    if (!left.length) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return pidsWithEnv('DEMO_TEST_MARK', mark);
}

test('the demo runs green with 2 builders: build artifact verified, message delivered, nothing left running', async () => {
  const mark = randomBytes(6).toString('hex');
  const d = startDemo(mark, SMALL);
  const code = await d.exit;
  const out = d.out();
  const ws = workspaceOf(out);
  if (ws) cleanups.push(ws);
  if (code !== 0) throw new Error(`demo exited ${code}\n${out}\n${d.err()}`);
  expect(out).toMatch(/^origin +git:\/\/127\.0\.0\.1:\d+\/fleet\.git/m);
  expect(out).toMatch(/^queued +\$ coord jobs add --type build --priority 1 /m);
  expect(out).toMatch(/^agent +edited coordination\/jobs\.json by hand/m);
  expect(out).toMatch(/^message +\$ sm all /m);
  expect(out).toMatch(/│ builder │ attempts │ duration │ exit │ artifact/);
  expect(out).toMatch(/^ {2}verified [0-9a-f]{64} {2}\d+ B {2}build[12]:\S+build-coord-[0-9a-f]{12}\.tgz$/m);
  expect(out).toMatch(/delivered to 1 of 1 recipients \(build2\)/);
  expect(out).toMatch(/heartbeat refs: 2 /);
  expect(out).toMatch(/^OK: 3 jobs ended as expected, 1 artifact\(s\) verified/m);
  expect(existsSync(ws)).toBe(false);
  expect(await settle(mark)).toEqual([]);
}, 150_000);

test('Ctrl-C (SIGINT) while jobs run: every process stopped, logs named, workspace kept', async () => {
  const mark = randomBytes(6).toString('hex');
  const d = startDemo(mark, SMALL);
  const deadline = Date.now() + 60_000;
  while (!/running —/.test(d.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(d.out()).toMatch(/running —/);
  expect((await pidsWithEnv('DEMO_TEST_MARK', mark)).length).toBeGreaterThan(3);
  process.kill(d.pid, 'SIGINT');
  const code = await d.exit;
  const ws = workspaceOf(d.out());
  cleanups.push(ws);
  expect(code).toBe(130);
  expect(d.err()).toMatch(/interrupted after .*every process it started is stopped\. Logs: \S+\/logs/);
  expect(existsSync(`${ws}/logs/build1.log`)).toBe(true);
  expect(await settle(mark)).toEqual([]);
}, 120_000);
