/**
 * Compatibility scripts and their arguments (second fresh-user trial): values starting with
 * "-" stay values (never options of coord), a plain number N is buildN for every builder
 * argument, update_status.sh says what it ignores, and the installation is used as the
 * repository only when it is a set-up builder clone (never a developer's checkout of
 * build-coord, whose origin is the upstream project).
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { CliResult } from '../support/cli.js';
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { editConfig } from '../support/operator.js';
import { runScript, SCRIPTS } from './compat-support.js';

type Job = { id: string; description: string; not_before: string | null; priority: number };
const jobsOnOrigin = (origin: string): Job[] =>
  (JSON.parse(gitSync(origin, ['show', 'main:coordination/jobs.json'])) as { jobs: Job[] }).jobs;

describe('compatibility scripts: argument values', () => {
  let fleet: Fleet;
  let b1: string;

  beforeAll(async () => {
    fleet = await makeFleet(2);
    b1 = fleet.clones.build1;
    await editConfig(b1, (cfg) => { cfg.job_types.build = { command: ['true'], timeout_s: 60 }; });
  });

  afterAll(() => fleet.cleanup());

  test('a description starting with "-" is the description, not an option', async () => {
    const a = await runScript('create_job.sh', ['main', 'abc1234', '4', '--not-before=+5h'], b1);
    expect(a.exitCode).toBe(0);
    const b = await runScript('create_job.sh', ['main', 'abc1234', '4', '-5 is a note'], b1);
    expect(b.exitCode).toBe(0);
    const jobs = jobsOnOrigin(fleet.origin);
    expect(jobs.find((j) => j.id === a.stdout.trim())).toMatchObject({ description: '--not-before=+5h', not_before: null, priority: 4 });
    expect(jobs.find((j) => j.id === b.stdout.trim())).toMatchObject({ description: '-5 is a note', not_before: null, priority: 4 });
  });

  test('validate_json.sh -- FILE checks only FILE', async () => {
    const r = await runScript('validate_json.sh', ['--', 'coordination/jobs.json'], b1);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^1 file\(s\) checked, 0 error\(s\)/m);
  });

  test('N is buildN for read_messages.sh and check_unread_messages.sh', async () => {
    expect((await runScript('send_message.sh', ['build1', '2', 'info', 'hello', 'body'], b1)).exitCode).toBe(0);
    const read = await runScript('read_messages.sh', ['2'], fleet.clones.build2);
    expect(read.exitCode).toBe(0);
    expect(read.stdout).toContain('hello');
    const unread = await runScript('check_unread_messages.sh', ['2'], fleet.clones.build2);
    expect(unread.exitCode).toBe(1);
    expect(unread.stdout).toContain('hello');
    expect((await runScript('check_unread_messages.sh', ['1'], b1)).exitCode).toBe(0);
  });

  test('update_status.sh says STATUS and JOB_ID are ignored, and refreshes the heartbeat (exit 0)', async () => {
    const r = await runScript('update_status.sh', ['2', 'building', 'nosuchjob'], fleet.clones.build2);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^update_status\.sh: note: STATUS "building" and JOB_ID "nosuchjob" ignored: a builder's status now follows the queue .*only build2's heartbeat is refreshed$/m);
    expect(gitSync(fleet.origin, ['for-each-ref', '--format=%(refname)', 'refs/coord/heartbeats'])).toContain('refs/coord/heartbeats/build2');
  });
});

/** Runs `inst/scripts/NAME` (a copy of the scripts in an installation-like folder) from `cwd`. */
function runCopied(inst: string, name: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(inst, 'scripts', name), args, {
      cwd, env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, COORD_REPO: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

describe('compatibility scripts: the installation as repository', () => {
  let dir: string;
  let inst: string;
  let upstream: string;
  let elsewhere: string;
  const ran = () => existsSync(path.join(inst, 'coord-ran'));

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coord-compat-inst-'));
    upstream = path.join(dir, 'upstream.git');
    gitSync(dir, ['init', '-q', '--bare', '-b', 'main', upstream]);
    // A developer's checkout of build-coord: scripts/, bin/coord.js, coordination/, an origin.
    inst = path.join(dir, 'build-coord');
    gitSync(dir, ['init', '-q', '-b', 'main', inst]);
    gitSync(inst, ['remote', 'add', 'origin', upstream]);
    cpSync(SCRIPTS, path.join(inst, 'scripts'), { recursive: true });
    mkdirSync(path.join(inst, 'coordination'));
    mkdirSync(path.join(inst, 'bin'));
    // A stand-in coord that leaves a mark: it must not run at all.
    writeFileSync(path.join(inst, 'bin', 'coord.js'), `require('node:fs').writeFileSync(${JSON.stringify(path.join(inst, 'coord-ran'))}, process.argv.join(' '));\n`);
    chmodSync(path.join(inst, 'bin', 'coord.js'), 0o755);
    elsewhere = path.join(dir, 'home');
    mkdirSync(elsewhere);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a checkout that is not a set-up builder clone is refused (exit 2), nothing runs or is pushed', async () => {
    for (const [name, args] of [['heartbeat.sh', []], ['heartbeat.sh', ['1']], ['create_job.sh', ['main', 'abc1234']]] as [string, string[]][]) {
      const r = await runCopied(inst, name, args, elsewhere);
      expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({
        exit: 2, stderr: expect.stringMatching(/usage error: no coordination repository here: run from your fleet clone, or set COORD_REPO/),
      });
      expect(ran()).toBe(false);
    }
    expect(gitSync(upstream, ['for-each-ref'])).toBe('');
  });

  test('a set-up builder clone (.build_server_id) is used as the repository', async () => {
    writeFileSync(path.join(inst, '.build_server_id'), '1\n');
    try {
      const r = await runCopied(inst, 'heartbeat.sh', [], elsewhere, { COORD_QUIET_COMPAT: '1' });
      expect(r.exitCode).toBe(0);
      expect(ran()).toBe(true);
    } finally {
      rmSync(path.join(inst, '.build_server_id'));
      rmSync(path.join(inst, 'coord-ran'), { force: true });
    }
  });
});
