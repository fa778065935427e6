/**
 * scripts/setup_build.sh run for real (DESIGN.md section 10, issue 8 "Must hold"): in a
 * fresh clone of a temp coordination repository, with system files under --prefix.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitSync, hermeticEnv, ROOT } from '../support/git-fixture.js';
import { fingerprintSetup, gitRun, makeSetupFixture, runScript, runSetup, type SetupFixture } from '../support/setup-fixture.js';

const user = os.userInfo().username;
// 'identity file ignored' is already done: coord init's .gitignore holds .build_server_id.
const ACTIONS = ['identity file', 'git identity', 'merge driver', 'pre-commit hook', 'link coord', 'link sendmessages', 'link sm', 'cron entry', 'systemd unit', 'setup record'];

describe('setup_build.sh 3 --prefix in a fresh clone', () => {
  let f: SetupFixture;
  beforeAll(async () => { f = await makeSetupFixture(3); });
  afterAll(() => f.fleet.cleanup());

  test('--dry-run prints every action and writes nothing, not even the prefix', async () => {
    const before = await fingerprintSetup(f);
    const r = await runSetup(f, 3, ['--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    for (const step of ACTIONS) expect([step, r.steps.get(step)]).toEqual([step, expect.stringMatching(/^would do \(/)]);
    expect(r.steps.get('identity file ignored')).toBe('already done (git ignores .build_server_id)');
    expect(r.steps.get('daemon enabled')).toMatch(/^skipped \(--prefix given/);
    expect(r.stdout).toContain('* * * * * '); // the cron entry is shown
    expect(r.stdout).toContain('Dry run: nothing was written.');
    expect(await fingerprintSetup(f)).toEqual(before);
    expect(existsSync(f.prefix)).toBe(false);
  });

  test('creates the identity file, git identity, merge driver, hook, links, cron entry and unit', async () => {
    const r = await runSetup(f, 3);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    for (const step of ACTIONS) expect([step, r.steps.get(step)]).toEqual([step, expect.stringMatching(/^done\b/)]);
    expect(r.steps.get('identity file ignored')).toBe('already done (git ignores .build_server_id)');
    expect(r.steps.get('dependencies')).toBe('skipped (--no-install)');
    expect(r.steps.get('coord validate')).toMatch(/^ok \(13 file\(s\) checked, 0 error\(s\)/);
    expect(r.stdout).toMatch(/^Next:$/m);

    expect(readFileSync(path.join(f.clone, '.build_server_id'), 'utf8')).toBe('3\n');
    expect(gitSync(f.clone, ['status', '--porcelain'])).toBe(''); // the identity file is ignored
    expect(gitSync(f.clone, ['config', '--local', 'user.name'])).toBe('Build3 daemon');
    expect(gitSync(f.clone, ['config', '--local', 'user.email'])).toMatch(/^build3@[A-Za-z0-9.-]+$/);
    expect(gitSync(f.clone, ['config', '--local', 'merge.coord-json.driver'])).toContain(`'${path.join(ROOT, 'bin/coord.js')}' merge-driver run`);

    const hook = path.join(f.clone, '.git/hooks/pre-commit');
    expect(statSync(hook).mode & 0o111).toBeTruthy();
    expect(readFileSync(hook, 'utf8')).toContain(`'${path.join(ROOT, 'bin/coord.js')}' hook pre-commit`);

    for (const name of ['coord', 'sendmessages', 'sm']) {
      const link = path.join(f.prefix, 'usr/local/bin', name);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(path.join(ROOT, 'bin', `${name}.js`));
    }

    const cronFile = path.join(f.prefix, 'etc/cron.d/build-coord-build3');
    expect(statSync(cronFile).mode & 0o777).toBe(0o644); // cron ignores group/world-writable files
    expect(readFileSync(cronFile, 'utf8')).toMatch(new RegExp(`^\\* \\* \\* \\* \\* ${user} cd '${f.clone}' && mkdir -p '${f.clone}/.git/coord' && COORD_BUILDER=build3 COORD_REPO='${f.clone}' '[^']+/node' '${path.join(ROOT, 'bin/coord.js')}' heartbeat >'[^']+' 2>&1$`, 'm'));

    const unit = readFileSync(path.join(f.prefix, 'etc/systemd/system/build-coord-build3.service'), 'utf8');
    for (const line of [
      'Restart=on-failure', `User=${user}`, `WorkingDirectory=${f.clone}`,
      'KillMode=mixed', 'TimeoutStopSec=660', 'NoNewPrivileges=yes', 'ProtectSystem=full', 'ProtectHome=read-only',
      // The clone lives under /tmp here: a private /tmp would hide it.
      f.clone.startsWith('/tmp/') ? 'PrivateTmp=no' : 'PrivateTmp=yes',
      'WantedBy=multi-user.target',
    ]) expect(unit.split('\n')).toContain(line);
    // node's folder first in PATH (cron and systemd would not find an nvm or /opt node), then the usual ones.
    expect(unit).toMatch(new RegExp(`^Environment=COORD_BUILDER=build3 COORD_REPO=${f.clone} PATH=${path.dirname(process.execPath)}(:/[^: ]+)*$`, 'm'));
    expect(unit).toMatch(/^Environment=.* PATH=(\S*:)?\/usr\/bin(:\S*)?$/m);
    expect(unit).toMatch(new RegExp(`^ExecStart=/\\S+/node ${path.join(ROOT, 'bin/coord.js')} daemon$`, 'm'));
    expect(unit).toMatch(new RegExp(`^ReadWritePaths=${f.clone}( |$)`, 'm'));
    // Where systemd's own checker is installed, it must have nothing to say about the unit.
    const verify = spawnSync('systemd-analyze', ['verify', path.join(f.prefix, 'etc/systemd/system/build-coord-build3.service')], { encoding: 'utf8' });
    if (!verify.error) expect(verify.stderr).toBe('');

    expect(JSON.parse(readFileSync(path.join(f.clone, '.git/coord/setup.json'), 'utf8'))).toMatchObject({
      builder: 'build3', prefix: f.prefix, repo: f.clone, package_dir: ROOT, user,
    });
  });

  test('running it again reports everything already done and changes no file', async () => {
    const before = await fingerprintSetup(f);
    const r = await runSetup(f, 3);
    expect(r.exitCode).toBe(0);
    const statuses = [...r.steps].filter(([step]) => !['node', 'git', 'coord validate'].includes(step));
    expect(statuses.length).toBeGreaterThanOrEqual(ACTIONS.length);
    for (const [step, status] of statuses) expect([step, status]).toEqual([step, expect.stringMatching(/^(already done|skipped) \(/)]);
    expect(await fingerprintSetup(f)).toEqual(before);
  });

  test('the linked commands run', () => {
    const r = spawnSync(path.join(f.prefix, 'usr/local/bin/coord'), ['--version'], { env: hermeticEnv(), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('a clone that is already another builder is refused without --force, and nothing is written', async () => {
    const before = await fingerprintSetup(f);
    const r = await runSetup(f, 2);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/\.build_server_id says 3: this clone is already build3\. .*--force/);
    expect(await fingerprintSetup(f)).toEqual(before);
  });
});

describe('a foreign pre-commit hook', () => {
  let f: SetupFixture;
  beforeAll(async () => { f = await makeSetupFixture(3); });
  afterAll(() => f.fleet.cleanup());
  const hook = () => path.join(f.clone, '.git/hooks/pre-commit');
  const foreign = '#!/bin/sh\n# the team\'s own hook\ntouch "$(git rev-parse --git-dir)/foreign-hook-ran"\n';

  test('is kept as pre-commit.pre-coord and runs after our checks', async () => {
    writeFileSync(hook(), foreign, { mode: 0o755 });
    const r = await runSetup(f, 2, ['--no-cron', '--no-systemd']);
    expect(r.exitCode).toBe(0);
    expect(r.steps.get('pre-commit hook')).toMatch(/^done \(.*earlier hook kept as pre-commit\.pre-coord/);
    expect(readFileSync(hook() + '.pre-coord', 'utf8')).toBe(foreign);
    expect(r.steps.get('cron entry')).toBe('skipped (--no-cron)');
    expect(r.steps.get('systemd unit')).toBe('skipped (--no-systemd)');

    writeFileSync(path.join(f.clone, 'notes.txt'), 'hello\n');
    gitRun(f.clone, ['add', 'notes.txt']);
    const c = gitRun(f.clone, ['commit', '-q', '-m', 'notes']);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    expect(existsSync(path.join(f.clone, '.git/foreign-hook-ran'))).toBe(true);

    const again = await runSetup(f, 2, ['--no-cron', '--no-systemd']);
    expect(again.steps.get('pre-commit hook')).toMatch(/^already done/);
    expect(readFileSync(hook() + '.pre-coord', 'utf8')).toBe(foreign);
  });

  test('when the backup name is taken too, setup refuses and leaves both alone', async () => {
    const other = '#!/bin/sh\nexit 0\n';
    writeFileSync(hook(), other, { mode: 0o755 });
    const r = await runSetup(f, 2, ['--no-cron', '--no-systemd']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/is a hook build-coord did not write, and .*pre-commit\.pre-coord exists as well; merge the two by hand/);
    expect(readFileSync(hook(), 'utf8')).toBe(other);
    expect(readFileSync(hook() + '.pre-coord', 'utf8')).toBe(foreign);
  });
});

describe('prerequisites and usage', () => {
  let bin: string;
  beforeAll(() => { bin = mkdtempSync(path.join(os.tmpdir(), 'coord-fakebin-')); });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  test('missing git: the clear message with the fix, exit 1', async () => {
    const dir = path.join(bin, 'no-git');
    spawnSync('mkdir', ['-p', dir]);
    symlinkSync(process.execPath, path.join(dir, 'node'));
    const r = await runScript(['3', '--repo', '/nonexistent'], { path: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^setup_build\.sh: error: git is not installed \(or not in PATH\): install it \(apt-get install git/);
    expect(r.stdout).toBe('');
  });

  test('missing node: the clear message with the fix, exit 1', async () => {
    const dir = path.join(bin, 'empty');
    spawnSync('mkdir', ['-p', dir]);
    const r = await runScript(['3'], { path: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/node is not installed \(or not in PATH\)\. build-coord needs Node\.js 20 or newer/);
  });

  test('an old node (v18.0.0): the clear message with the fix, exit 1', async () => {
    const dir = path.join(bin, 'old-node');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(path.join(dir, 'node'), '#!/bin/sh\necho v18.0.0\n', { mode: 0o755 });
    const r = await runScript(['3', '--repo', '/nonexistent'], { path: `${dir}:/usr/bin:/bin` });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`Node.js v18.0.0 at ${path.join(dir, 'node')} is too old: build-coord needs 20 or newer.`);
    expect(r.stderr).toMatch(/Install Node\.js 20\+/);
  });

  test.each([
    [[], /name the builder number/],
    [['0'], /builder number "0": give a whole number from 1 to 9999/],
    [['x3'], /builder number "x3"/],
    [['3', '--bogus'], /unknown option --bogus/],
    [['3', '--prefix'], /--prefix needs a value/],
    [['3', '4'], /one builder number only/],
  ])('usage %j: exit 2 with the reason', async (args, msg) => {
    const r = await runScript(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  test('a folder that is not a coordination clone is refused with what to do', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coord-notrepo-'));
    try {
      gitSync(dir, ['init', '-q', '-b', 'main']);
      const r = await runScript(['3', '--repo', dir, '--no-install', '--dry-run']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/holds no coordination\/ folder: it is not a coordination repository/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('setup_build1.sh and setup_build2.sh pass their number on', async () => {
    for (const n of [1, 2]) {
      const r = await runScript(['7'], { script: path.join(ROOT, `scripts/setup_build${n}.sh`) });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`one builder number only (got ${n} and 7)`);
    }
  });
});

// Setup is usually run with sudo on a clone that belongs to the builder's user.
const asRoot = process.getuid?.() === 0 ? describe : describe.skip;
asRoot('run as root on a clone another user owns', () => {
  let f: SetupFixture;
  beforeAll(async () => {
    f = await makeSetupFixture(3);
    chmodSync(f.fleet.dir, 0o755);
    spawnSync('chown', ['-R', 'nobody', f.clone]);
  });
  afterAll(() => f.fleet.cleanup());

  test('acts as that user: what it creates in the clone stays theirs; cron and the unit run as them', async () => {
    // This checkout may sit under a folder only root can enter (a `mktemp -d` clone, /root):
    // then the clone's owner cannot run this installation, and setup must say so up front
    // (it used to half-run and print node's MODULE_NOT_FOUND) and change nothing.
    const nobodyReads = spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', path.join(ROOT, 'bin/coord.js')]).status === 0;
    if (!nobodyReads) {
      const before = await fingerprintSetup(f);
      const refused = await runSetup(f, 3);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/nobody \(the owner of .*\) cannot read the installation at .*: install build-coord where nobody can read it/);
      expect(await fingerprintSetup(f)).toEqual(before);
      return;
    }
    const r = await runSetup(f, 3);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    for (const rel of ['.build_server_id', '.git/config', '.git/hooks/pre-commit', '.git/info/exclude', '.git/coord', '.git/coord/setup.json']) {
      expect([rel, statSync(path.join(f.clone, rel)).uid]).toEqual([rel, nobody]);
    }
    expect(readFileSync(path.join(f.prefix, 'etc/cron.d/build-coord-build3'), 'utf8')).toMatch(/^\* \* \* \* \* nobody cd /m);
    expect(readFileSync(path.join(f.prefix, 'etc/systemd/system/build-coord-build3.service'), 'utf8')).toContain('\nUser=nobody\n');
  });

  test('a --user that is not the clone\'s owner, or no user at all, is refused', async () => {
    const other = await runSetup(f, 3, ['--user', 'root']);
    expect(other.exitCode).toBe(1);
    expect(other.stderr).toMatch(/the daemon would run as root, but .* belongs to nobody/);
    const none = await runSetup(f, 3, ['--user', 'no-such-user-here']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('--user no-such-user-here: no such user on this machine.');
  });
});
