/**
 * The crash-safe hand-off of `watch --exec` (lib/messages/watch-handoff.ts and the launcher
 * exec-wrapper.ts), named after the bug it fixes: a watcher SIGKILLed right after starting
 * a command was restarted and handed the same message over a second time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recoverInFlight, type RecoverOptions } from '../../lib/messages/watch-handoff.js';
import type { WatchEvent } from '../../lib/messages/watch.js';
import { ROOT } from '../support/git-fixture.js';

const WRAPPER = path.join(ROOT, 'dist/messages/exec-wrapper.js');
let dir: string;
beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'coord-handoff-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function options(events: WatchEvent[], redeliver = false): RecoverOptions {
  return { execTimeoutMs: 1000, redeliver, monotonic: () => 0, sleep: () => Promise.resolve(), stopped: () => false, onEvent: (e) => events.push(e) };
}

test('bug duplicate-after-sigkill: a command that never started is handed over again, and a late launcher gives up', async () => {
  const marker = path.join(dir, 'state.json.started-1');
  const events: WatchEvent[] = [];
  const r = await recoverInFlight({ id: 'm1', pid: 999_999, started_at: '2026-11-30T00:00:00Z', marker }, options(events));
  expect(r).toEqual({ id: 'm1', outcome: 'redeliver' });
  expect(existsSync(marker)).toBe(true); // claimed by the recovery
  // The crashed watcher's launcher, starting late, finds the claim and does not run the command.
  const late = spawnSync(process.execPath, [WRAPPER, marker, '--', process.execPath, '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' });
  expect(late.status).toBe(75);
  expect(late.stdout).toBe('');
});

test('a command that started (its launcher claimed first) counts as delivered, not handed over again', async () => {
  const marker = path.join(dir, 'state.json.started-2');
  const ran = spawnSync(process.execPath, [WRAPPER, marker, '--', process.execPath, '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' });
  expect({ status: ran.status, stdout: ran.stdout }).toEqual({ status: 0, stdout: 'ran' });
  const events: WatchEvent[] = [];
  expect(await recoverInFlight({ id: 'm2', pid: null, started_at: '2026-11-30T00:00:00Z', marker }, options(events))).toEqual({ id: 'm2', outcome: 'delivered' });
  expect(events.map((e) => e.code)).toEqual(['interrupted']);
  expect(await recoverInFlight({ id: 'm2', pid: null, started_at: '2026-11-30T00:00:00Z', marker }, options([], true))).toEqual({ id: 'm2', outcome: 'redeliver' });
});

test('the launcher passes exit codes and standard input through, and reports a missing program', () => {
  const echo = spawnSync(process.execPath, [WRAPPER, path.join(dir, 'a'), '--', process.execPath, '-e', 'process.stdin.pipe(process.stdout); process.stdin.on("end", () => { process.exitCode = 3; })'], { input: '{"body":"$(rm -rf ~) `id`"}\n', encoding: 'utf8' });
  expect({ status: echo.status, stdout: echo.stdout }).toEqual({ status: 3, stdout: '{"body":"$(rm -rf ~) `id`"}\n' });
  const missing = spawnSync(process.execPath, [WRAPPER, path.join(dir, 'b'), '--', path.join(dir, 'no-such-program')], { encoding: 'utf8' });
  expect(missing.status).toBe(127);
  expect(missing.stderr).toMatch(/cannot run/);
});
