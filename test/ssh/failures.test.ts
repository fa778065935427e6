/**
 * What goes wrong with a direct read, against a real sshd: each failure is its own clear
 * error (exit 6) naming the builder and host, and `coord status` keeps the git view.
 * Settings with shell syntax are refused before any connection — proven by sshd's log and by
 * an ssh client stand-in (COORD_SSH_BIN) that records every start.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseSingleJson } from '../support/cli.js';
import { describeSsh, startSshd, type Sshd } from '../support/sshd.js';
import { isCoordError } from '../../lib/errors.js';
import { sshReadBuffered } from '../../lib/ssh/run.js';
import { STATUS_SCRIPT } from '../../lib/ssh/remote.js';
import { DEFAULT_SSH_SETTINGS } from '../../lib/ssh/settings.js';
import type { SshTarget } from '../../lib/ssh/target.js';
import { editOrigin, makeSshFleet, sshEntry, type Json, type SshFleet } from './ssh-fleet.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A port where nobody listens (bound, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** An ssh client stand-in that records its arguments, then runs the real ssh. */
function recordingSsh(dir: string): { bin: string; calls: () => string[] } {
  const bin = path.join(dir, 'ssh-recorder.sh');
  const rec = path.join(dir, 'ssh-calls.txt');
  writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${rec}'\nexec ssh "$@"\n`);
  chmodSync(bin, 0o755);
  return { bin, calls: () => (existsSync(rec) ? readFileSync(rec, 'utf8').split('\n').filter(Boolean) : []) };
}

describeSsh('direct-read failures: each a distinct error, exit 6, git view kept', () => {
  let sshd: Sshd;
  let f: SshFleet;
  let silent: net.Server;
  const held: net.Socket[] = [];
  const artifact = Buffer.from('artifact\n');
  let firstContact = '';
  beforeAll(async () => {
    sshd = await startSshd();
    f = await makeSshFleet(sshd);
    // Accepts connections and never says a word: ssh waits for the banner until its timeout.
    silent = net.createServer((s) => { held.push(s); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const emptyKnownHosts = path.join(sshd.dir, 'known_hosts.empty');
    writeFileSync(emptyKnownHosts, '');
    firstContact = path.join(sshd.dir, 'known_hosts.first');
    writeFileSync(firstContact, '');
    const otherKey = path.join(sshd.dir, 'other_ed25519');
    const down = await closedPort();
    editOrigin(f.fleet, (files) => {
      const b = files['shared/build_config.json'].builders as Json;
      const entry = (over: Json) => ({ arch: 'x86_64', labels: [], ssh: sshEntry(sshd, f.peer, { known_hosts_file: sshd.knownHosts, ...over }) });
      b.build2.ssh = sshEntry(sshd, f.peer, { known_hosts_file: sshd.knownHosts });
      b.build3 = entry({ port: down });
      b.build4 = entry({ identity_file: otherKey });
      b.build5 = entry({ port: silentPort, connect_timeout_s: 1 });
      b.build6 = entry({ known_hosts_file: sshd.wrongKnownHosts });
      b.build7 = entry({ known_hosts_file: emptyKnownHosts });
      // accept-new, configured: a first key is recorded; a changed key is still refused.
      b.build8 = entry({ known_hosts_file: firstContact, host_key_policy: 'accept-new' });
      b.build9 = entry({ known_hosts_file: sshd.wrongKnownHosts, host_key_policy: 'accept-new' });
      files['shared/artifacts.json'].artifacts.push(
        ...['build3', 'build6'].map((builder) => ({ job_id: `job-on-${builder}`, attempt: 1, builder, name: 'a.txt', size: artifact.length, sha256: sha(artifact), created_at: '2026-11-30T10:00:00Z' })),
      );
    }, ['shared/build_config.json', 'shared/artifacts.json']);
  }, 120_000);
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => silent?.close(r));
    f?.cleanup();
    await sshd?.stop();
  });

  // Per-builder known_hosts files in the config: no COORD_SSH_KNOWN_HOSTS override here.
  const noOverride = { COORD_SSH_KNOWN_HOSTS: '' };

  test('coord status --direct: git view of every builder, and per builder the right error (exit 6)', async () => {
    const r = await f.coord(['status', '--direct', '--json'], noOverride);
    expect(r.exitCode).toBe(6);
    const doc = parseSingleJson(r.stdout);
    expect(doc.ok).toBe(true);
    expect((doc.builders as Json[]).map((b) => String(b.builder))).toEqual(['build1', 'build2', 'build3', 'build4', 'build5', 'build6', 'build7', 'build8', 'build9']);
    const views = Object.fromEntries((doc.direct as Json[]).map((v) => [v.builder, v]));
    expect(views.build2.ok).toBe(true);
    const err = (b: string) => views[b].error as { code: string; exit_code: number; message: string };
    expect(err('build3')).toMatchObject({ code: 'E_UNREACHABLE', exit_code: 6 });
    expect(err('build3').message).toMatch(/^build3 \(.*@127\.0\.0\.1:\d+\) is down or unreachable over ssh: .*Connection refused/);
    expect(err('build4')).toMatchObject({ code: 'E_AUTH', exit_code: 6 });
    expect(err('build4').message).toMatch(/^build4 \(.*127\.0\.0\.1:\d+\) refused our ssh key: .*Permission denied \(publickey\)/);
    expect(err('build5')).toMatchObject({ code: 'E_SSH_TIMEOUT', exit_code: 6 });
    expect(err('build5').message).toMatch(/^build5 \(.*127\.0\.0\.1:\d+\) did not answer over ssh in time: .*timed out.*\(connect timeout 1 s\)/);
    expect(err('build6')).toMatchObject({ code: 'E_HOST_KEY', exit_code: 6 });
    expect(err('build6').message).toMatch(/the host key of build6 \(.*127\.0\.0\.1:\d+\) has CHANGED since it was recorded in .*known_hosts\.wrong; refusing to connect/);
    expect(err('build7')).toMatchObject({ code: 'E_HOST_KEY', exit_code: 6 });
    expect(err('build7').message).toMatch(/the host key of build7 .* is not in .*known_hosts\.empty; refusing to connect/);
    // build8 got through (its repo_path is build2's clone, so it has no status of its own).
    expect(err('build8')).toMatchObject({ code: 'E_NOT_FOUND', exit_code: 5 });
    expect(err('build8').message).toMatch(/^build8 \(.*\) has no status or heartbeat in its clone/);
    expect(readFileSync(firstContact, 'utf8')).toMatch(/ssh-ed25519 /);
    expect(err('build9')).toMatchObject({ code: 'E_HOST_KEY', exit_code: 6 });
    expect(err('build9').message).toMatch(/has CHANGED/);
  }, 120_000);

  test('human coord status --direct prints the git table, then each failure under its builder', async () => {
    const r = await f.coord(['status', '--direct'], noOverride);
    expect(r.exitCode).toBe(6);
    expect(r.stdout).toMatch(/BUILDER .*HEALTH/);
    expect(r.stdout).toMatch(/build3 {2}via git, never seen: offline/);
    expect(r.stdout).toMatch(/via ssh, failed: build3 .* is down or unreachable over ssh/);
  }, 120_000);

  test('peer down: coord artifacts get exits 6 naming the builder and host', async () => {
    const r = await f.coord(['artifacts', 'get', 'job-on-build3', '--out', path.join(f.fleet.dir, 'o3')], noOverride);
    expect(r.exitCode).toBe(6);
    expect(r.stderr).toMatch(/error: build3 \(.*127\.0\.0\.1:\d+\) is down or unreachable over ssh: ssh: connect to host 127\.0\.0\.1 port \d+: Connection refused/);
  });

  test('wrong host key: refused before authenticating, exit 6, nothing written', async () => {
    const accepted = () => (sshd.log().match(/^Accepted publickey/gm) ?? []).length;
    const before = sshd.connections(), acceptedBefore = accepted();
    const out = path.join(f.fleet.dir, 'o6');
    const r = await f.coord(['artifacts', 'get', 'job-on-build6', '--out', out], noOverride);
    expect(r.exitCode).toBe(6);
    expect(r.stderr).toMatch(/host key of build6 .* has CHANGED/);
    // It reached the server, and gave up at the key exchange: no login happened.
    expect(sshd.connections()).toBe(before + 1);
    expect(accepted()).toBe(acceptedBefore);
    expect(existsSync(path.join(out, 'a.txt'))).toBe(false);
  });
});

describeSsh('settings with shell syntax are refused before any connection', () => {
  let sshd: Sshd;
  let f: SshFleet;
  let rec: ReturnType<typeof recordingSsh>;
  const marker = () => path.join(f.fleet.dir, 'PWNED');
  beforeAll(async () => {
    sshd = await startSshd();
    f = await makeSshFleet(sshd);
    rec = recordingSsh(f.fleet.dir);
  }, 120_000);
  afterAll(async () => {
    f?.cleanup();
    await sshd?.stop();
  });

  const cases: [string, (m: string) => Json][] = [
    ['host', (m) => ({ host: `127.0.0.1;touch ${m}` })],
    ['host', () => ({ host: '-oProxyCommand=sh' })],
    ['repo_path', (m) => ({ repo_path: `/tmp/x$(touch ${m})` })],
    ['repo_path', (m) => ({ repo_path: `/tmp/x'; touch ${m}; '` })],
  ];
  test.each(cases)('%s %#: coord status --direct and artifacts get exit 3 naming the field; no ssh started, no connection', async (field, over) => {
    editOrigin(f.fleet, (files) => {
      files['shared/build_config.json'].builders.build2.ssh = sshEntry(sshd, f.peer, over(marker()));
      files['shared/artifacts.json'].artifacts = [{ job_id: 'job-x', attempt: 1, builder: 'build2', name: 'a.txt', size: 1, sha256: '0'.repeat(64), created_at: '2026-11-30T10:00:00Z' }];
    }, ['shared/build_config.json', 'shared/artifacts.json']);
    const before = sshd.connections();
    for (const args of [['status', '--direct'], ['artifacts', 'get', 'job-x', '--out', path.join(f.fleet.dir, 'ox')]]) {
      const r = await f.coord(args, { COORD_SSH_BIN: rec.bin });
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`shared/build_config\\.json: /builders/build2/ssh/${field}: `));
    }
    expect(rec.calls()).toEqual([]);
    expect(sshd.connections()).toBe(before);
    expect(existsSync(marker())).toBe(false);
  }, 120_000);

  test('a target built by hand (bypassing the schema) is refused by the ssh door before spawning', async () => {
    mkdirSync(path.join(f.fleet.dir, 'door'), { recursive: true });
    const good: SshTarget = { builder: 'build2', host: '127.0.0.1', port: sshd.port, user: sshd.user, repoPath: f.peer, identityFile: sshd.userKey, knownHostsFile: sshd.knownHosts, hostKeyPolicy: 'strict', connectTimeoutS: 5 };
    const settings = { ...DEFAULT_SSH_SETTINGS, sshBin: rec.bin, configFile: '/dev/null' };
    const bad: Partial<SshTarget>[] = [
      { host: '-oProxyCommand=touch /tmp/coord-pwned' },
      { host: '127.0.0.1 touch' },
      { repoPath: `/tmp/a'; touch ${marker()}; '` },
      { repoPath: '/tmp/../etc' },
      { user: 'root;id' },
      { identityFile: '-oProxyCommand=sh' },
      { knownHostsFile: '/tmp/a b' },
      { port: 0 },
    ];
    for (const over of bad) {
      const err = await sshReadBuffered({ ...good, ...over }, { script: STATUS_SCRIPT, args: [good.repoPath], what: 'status of build2', input: '' }, { settings, maxBytes: 1024, timeoutMs: 10_000 }).then(() => null, (e: unknown) => e);
      expect(isCoordError(err, 'E_INVALID')).toBe(true);
    }
    expect(rec.calls()).toEqual([]);
    // The same door with the good target does connect (through the recorder).
    await sshReadBuffered(good, { script: STATUS_SCRIPT, args: [good.repoPath], what: 'status of build2', input: '' }, { settings, maxBytes: 1024, timeoutMs: 10_000 });
    expect(rec.calls()).toHaveLength(1);
    expect(existsSync(marker())).toBe(false);
  });
});
