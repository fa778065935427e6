/**
 * `coord doctor` against real clones: all ok on a clone setup_build.sh made (after the cron
 * entry's own command published a heartbeat), problems with fixes and exit 3 on a bare
 * clone, a warning for a peer whose clock runs ahead, a problem for an old heartbeat or an
 * unreachable remote.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publishHeartbeat, heartbeatRef } from '../../lib/heartbeat/refs.js';
import { DEFAULT_REMOTE } from '../../lib/git/repo.js';
import { formatTimestamp } from '../../lib/util/time.js';
import { runCoordCli, parseSingleJson } from '../support/cli.js';
import { cloneFor, gitSync, hermeticEnv } from '../support/git-fixture.js';
import { exited, startDaemon, waitFor } from '../support/daemon-fixture.js';
import { extraClone, makeSetupFixture, runSetup, type SetupFixture } from '../support/setup-fixture.js';

interface Check { id: string; status: string; detail: string; fix: string | null }

let f: SetupFixture;
beforeAll(async () => {
  f = await makeSetupFixture(3);
  const r = await runSetup(f, 3);
  if (r.exitCode !== 0) throw new Error(`setup failed: ${r.stderr}`);
});
afterAll(() => f.fleet.cleanup());

async function doctor(cwd: string, args: string[] = []) {
  const r = await runCoordCli(['doctor', '--json', ...args], { cwd, env: hermeticEnv() });
  const doc = parseSingleJson(r.stdout) as { ok: boolean; builder: string | null; checks: Check[] };
  return { ...r, doc, byId: new Map(doc.checks.map((c) => [c.id, c])) };
}

test('a bare clone without hooks: every missing part is a problem with its fix, exit 3', async () => {
  const bare = extraClone(f, 'build2'); // identity file only
  const emptyPrefix = mkdtempSync(path.join(os.tmpdir(), 'coord-noprefix-'));
  const r = await doctor(bare, ['--prefix', emptyPrefix]);
  expect(r.exitCode).toBe(3);
  expect(r.doc.ok).toBe(false);
  expect(r.byId.get('identity')).toMatchObject({ status: 'ok', detail: expect.stringContaining('build2 (from ') });
  for (const [id, fix] of [
    ['hooks', /coord hook install/], ['merge-driver', /coord merge-driver install/], ['git-identity', /user\.name "Build2 daemon"/],
    ['links', /setup_build\.sh 2/], ['cron', /setup_build\.sh 2 --prefix/], ['systemd', /setup_build\.sh 2 --prefix/], ['heartbeat', /coord heartbeat/],
  ] as const) {
    expect([id, r.byId.get(id)?.status]).toEqual([id, 'problem']);
    expect([id, r.byId.get(id)?.fix]).toEqual([id, expect.stringMatching(fix)]);
  }
  expect(r.byId.get('remote')?.status).toBe('ok');
  expect(r.byId.get('files')?.status).toBe('ok');

  const human = await runCoordCli(['doctor', '--prefix', emptyPrefix], { cwd: bare, env: hermeticEnv() });
  expect(human.exitCode).toBe(3);
  expect(human.stdout).toMatch(/^problem +hooks +.*pre-commit is missing$/m);
  expect(human.stdout).toMatch(/^ +fix: coord hook install/m);
  expect(human.stdout).toMatch(/build2 in .*: \d+ ok, \d+ warning\(s\), [1-9]\d* problem\(s\)/);
});

test('a clone setup made, once the cron entry\'s command has beaten: every check ok, exit 0', async () => {
  // Run exactly the command the cron entry holds (after the schedule and user fields).
  const line = readFileSync(path.join(f.prefix, 'etc/cron.d/build-coord-build3'), 'utf8').split('\n').find((l) => l.startsWith('* * * * * '))!;
  const command = line.split(' ').slice(6).join(' ');
  const beat = spawnSync('/bin/sh', ['-c', command], { env: hermeticEnv(), encoding: 'utf8' });
  expect(beat.status).toBe(0);
  expect(gitSync(f.fleet.origin, ['rev-parse', heartbeatRef('build3')])).toMatch(/^[0-9a-f]{40}$/);

  const r = await doctor(f.clone);
  expect(r.doc.checks.filter((c) => c.status !== 'ok')).toEqual([]);
  expect(r.exitCode).toBe(0);
  expect(r.doc.builder).toBe('build3');
  expect(r.byId.get('cron')?.detail).toContain(f.prefix); // found through setup's record
  expect(r.byId.get('heartbeat')?.detail).toMatch(/^refs\/coord\/heartbeats\/build3 \d+ s old/);
});

test('a peer whose clock runs ahead is a warning, not a problem', async () => {
  const peer = extraClone(f, 'build1');
  const ahead = Date.now() + 5 * 60_000;
  const pushed = await publishHeartbeat(peer, DEFAULT_REMOTE, {
    $schema: '../schemas/heartbeat.schema.json', builder: 'build1', timestamp: formatTimestamp(ahead), sequence: 1, state: 'idle', current_job: null, interval_s: 60,
  }, ahead);
  expect(pushed.pushed).toBe(true);
  const r = await doctor(f.clone);
  expect(r.byId.get('clock-skew')).toMatchObject({ status: 'warning', detail: expect.stringMatching(/build1's clock is about (2[5-9]\d|30\d) s ahead/), fix: expect.stringMatching(/NTP/) });
  expect(r.exitCode).toBe(0);
});

test('a heartbeat this machine has seen unchanged for 20 minutes is a problem', async () => {
  const obsFile = path.join(f.clone, '.git/coord/observations.json');
  const obs = JSON.parse(readFileSync(obsFile, 'utf8')) as { heartbeats: Record<string, { first_seen: number; source: string }> };
  obs.heartbeats.build3 = { ...obs.heartbeats.build3, first_seen: Date.now() - 20 * 60_000, source: 'observed' };
  writeFileSync(obsFile, JSON.stringify(obs));
  const r = await doctor(f.clone);
  expect(r.byId.get('heartbeat')).toMatchObject({ status: 'problem', detail: expect.stringMatching(/\d+ s old \(by this machine's observation\): offline/), fix: expect.stringContaining('build-coord-build3.service') });
  expect(r.exitCode).toBe(3);
});

test('an unreachable remote is a problem, and the heartbeat cannot be judged', async () => {
  const url = gitSync(f.clone, ['remote', 'get-url', 'origin']);
  gitSync(f.clone, ['remote', 'set-url', 'origin', path.join(f.fleet.dir, 'gone.git')]);
  try {
    const r = await doctor(f.clone, ['--timeout', '5']);
    expect(r.exitCode).toBe(3);
    expect(r.byId.get('remote')).toMatchObject({ status: 'problem', detail: expect.stringMatching(/did not answer/), fix: expect.stringMatching(/git remote -v/) });
    expect(r.byId.get('heartbeat')).toMatchObject({ status: 'problem', detail: 'remote unreachable' });
    expect(r.byId.get('hooks')?.status).toBe('ok'); // the rest is still checked
  } finally {
    gitSync(f.clone, ['remote', 'set-url', 'origin', url]);
  }
});

test('no unit file, but a coord daemon started by hand runs: a warning naming its pid, not "nothing runs"', async () => {
  // build1's clone (identity file only) may exist already from the clock-skew test.
  const clone = existsSync(path.join(f.fleet.dir, 'build1')) ? path.join(f.fleet.dir, 'build1') : extraClone(f, 'build1');
  const emptyPrefix = mkdtempSync(path.join(os.tmpdir(), 'coord-noprefix-'));
  const before = await doctor(clone, ['--prefix', emptyPrefix]);
  expect(before.byId.get('systemd')).toMatchObject({ status: 'problem', detail: expect.stringContaining('no coord daemon of build1 runs here') });
  const procs: ChildProcess[] = [];
  const d = startDaemon(procs, clone, 'build1', []);
  try {
    await waitFor(() => {
      const st = spawnSync('git', ['-C', f.fleet.origin, 'show', 'main:build1/status.json'], { encoding: 'utf8' });
      return st.status === 0 && (JSON.parse(st.stdout) as { daemon?: { pid?: number } }).daemon?.pid === d.pid;
    }, 30_000, 'the daemon\'s status on main');
    const r = await doctor(clone, ['--prefix', emptyPrefix]);
    expect(r.byId.get('systemd')).toMatchObject({ status: 'warning', detail: expect.stringContaining(`coord daemon runs as pid ${d.pid}, started by hand`) });
  } finally {
    d.kill('SIGTERM');
    await exited(d);
  }
}, 60_000);

test('a committed .build_server_id is an identity problem, fixed by git rm --cached; doctor changes nothing', async () => {
  const c = cloneFor(f.fleet.dir, f.fleet.origin, 'build2', 'build2-tracked-id');
  gitSync(c, ['add', '-f', '.build_server_id']);
  const staged = gitSync(c, ['diff', '--cached', '--name-only']);
  const r = await doctor(c);
  expect(r.exitCode).toBe(3);
  expect(r.byId.get('identity')).toMatchObject({
    status: 'problem', detail: expect.stringMatching(/\.build_server_id is committed to the repository: every new clone starts with the same builder identity/),
    fix: expect.stringMatching(/^git rm --cached \.build_server_id/),
  });
  expect(gitSync(c, ['diff', '--cached', '--name-only'])).toBe(staged);
});
