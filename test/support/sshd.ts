/**
 * A real OpenSSH server for the direct-read tests (DESIGN.md section 8): listening on
 * 127.0.0.1 on a free port, with a throwaway ed25519 host key and user key made by
 * ssh-keygen for the test, key-only login, its log kept in memory (so a test can prove
 * that no connection was attempted), and a known_hosts file of its own — nothing under
 * ~/.ssh is read for trust or written.
 *
 * When sshd is not installed the fixture fails loudly (`npm test` installs openssh-server, scripts/dev/test-prereqs.sh);
 * only COORD_SKIP_SSH_TESTS=1 skips the suites, explicitly.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** True when the ssh suites were switched off on purpose. */
export const SKIP_SSH = process.env.COORD_SKIP_SSH_TESTS === '1';

/** `describe`, or `describe.skip` when COORD_SKIP_SSH_TESTS=1 (and only then). */
export const describeSsh: jest.Describe = SKIP_SSH ? describe.skip : describe;

function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (d && existsSync(p)) return p;
  }
  return null;
}

export interface Sshd {
  port: number;
  /** Private folder (0700) holding keys, config, known_hosts. */
  dir: string;
  /** The login name tests use (the user running the tests). */
  user: string;
  /** The user's private key (its public half is the only authorized key). */
  userKey: string;
  /** known_hosts holding the server's real host key. */
  knownHosts: string;
  /** known_hosts holding a different key for the same host and port ("host key changed"). */
  wrongKnownHosts: string;
  /** Number of TCP connections sshd has seen so far. */
  connections(): number;
  /** Everything sshd logged so far. */
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(file: string, comment: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
  return readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * Starts sshd.
 * @throws Error saying how to get sshd when it is not installed or does not start
 */
export async function startSshd(): Promise<Sshd> {
  const sshd = findProgram('sshd');
  if (!sshd || !findProgram('ssh') || !findProgram('ssh-keygen')) {
    throw new Error('OpenSSH (sshd, ssh, ssh-keygen) is not installed, so the direct-read tests cannot run. Install it (apt-get install -y openssh-server; npm test does when run as root) or set COORD_SKIP_SSH_TESTS=1 to skip these suites on purpose.');
  }
  const isRoot = process.getuid?.() === 0;
  // sshd's privilege-separation folder; missing after a fresh install in a container.
  if (isRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coord-sshd-'));
  const user = os.userInfo().username;
  const hostKey = path.join(dir, 'host_ed25519');
  const userKey = path.join(dir, 'user_ed25519');
  const otherKey = path.join(dir, 'other_ed25519');
  const hostPub = keygen(hostKey, 'coord-test-host');
  const userPub = keygen(userKey, 'coord-test-user');
  const otherPub = keygen(otherKey, 'coord-test-other-host');
  writeFileSync(path.join(dir, 'authorized_keys'), `${userPub} coord-test\n`, { mode: 0o600 });
  let lastError = '';
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    writeFileSync(config, [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      // Keys live in a private temp folder; StrictModes would still object to /tmp.
      'StrictModes no',
      // Root's shell start-up files are slow on every command (PLATFORM.md).
      'SetEnv SHLVL=1',
      'LogLevel VERBOSE',
      'MaxStartups 100',
      '',
    ].join('\n'));
    writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
    writeFileSync(path.join(dir, 'known_hosts.wrong'), `[127.0.0.1]:${port} ${otherPub}\n`);
    const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (b: Buffer) => { log += b.toString('utf8'); });
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      const check = () => { if (/Server listening on/.test(log)) { clearTimeout(timer); resolve(true); } };
      child.stderr!.on('data', check);
      child.once('exit', () => { clearTimeout(timer); resolve(false); });
    });
    if (!ready) {
      lastError = log.trim();
      if (child.exitCode === null) child.kill('SIGKILL');
      continue;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return {
      port, dir, user, userKey,
      knownHosts: path.join(dir, 'known_hosts'),
      wrongKnownHosts: path.join(dir, 'known_hosts.wrong'),
      connections: () => (log.match(/^Connection from /gm) ?? []).length,
      log: () => log,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start (3 tries): ${lastError || 'no output'}. The direct-read tests need a working OpenSSH server; set COORD_SKIP_SSH_TESTS=1 to skip them on purpose.`);
}

/** Waits until `cond()` holds (polling), or fails naming `what`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
