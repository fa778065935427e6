/**
 * The pure parts of the direct reads (no sshd needed): the ssh argument list and remote
 * command, failure classification from OpenSSH's real messages, the peer's cat-file reply,
 * choosing the freshest status, log markers, the artifact manifest, labels, settings.
 */
import { currentArtifacts, artifactsToFetch, type ArtifactEntry } from '../../lib/artifacts/manifest.js';
import { isCoordError } from '../../lib/errors.js';
import type { HeartbeatFile, StatusFile } from '../../lib/schemas/types.gen.js';
import { parseCatFileBatch } from '../../lib/ssh/batch.js';
import { classifySshFailure, sshError } from '../../lib/ssh/classify.js';
import { gitViewLabel, wantsDirectRead } from '../../lib/ssh/direct-views.js';
import { LogEndScanner, parseLogReply } from '../../lib/ssh/peer-log.js';
import { choosePeerState, type PeerDoc } from '../../lib/ssh/peer-status.js';
import { ARTIFACT_SCRIPT, LOG_SCRIPT, remoteCommand, sshArgv, STATUS_SCRIPT } from '../../lib/ssh/remote.js';
import { sshSettingsFromEnv } from '../../lib/ssh/settings.js';
import { assertSafeTarget, sshTargetOf, type SshTarget } from '../../lib/ssh/target.js';
import type { BuildConfigFile } from '../../lib/schemas/types.gen.js';

const target: SshTarget = { builder: 'build2', host: 'builder2.example', port: 2222, user: 'build', repoPath: '/srv/Build', identityFile: '/home/me/.ssh/coord', knownHostsFile: '/etc/coord/known_hosts', hostKeyPolicy: 'strict', connectTimeoutS: 7 };

describe('the ssh argument list and remote command', () => {
  test('batch mode, connect timeout, strict host keys, no forwarding, then -- host command', () => {
    const argv = sshArgv(target, { configFile: null }, 'REMOTE');
    const opts = argv.flatMap((a, i) => (argv[i - 1] === '-o' ? [a] : []));
    expect(opts).toEqual(expect.arrayContaining(['BatchMode=yes', 'ConnectTimeout=7', 'StrictHostKeyChecking=yes', 'UpdateHostKeys=no', 'ForwardAgent=no', 'ClearAllForwardings=yes', 'UserKnownHostsFile=/etc/coord/known_hosts', 'IdentitiesOnly=yes']));
    expect(argv.slice(-3)).toEqual(['--', 'builder2.example', 'REMOTE']);
    expect(argv).toEqual(expect.arrayContaining(['-p', '2222', '-l', 'build', '-i', '/home/me/.ssh/coord']));
  });

  test('accept-new only when configured; never "no"', () => {
    expect(sshArgv({ ...target, hostKeyPolicy: 'accept-new' }, { configFile: null }, 'R')).toContain('StrictHostKeyChecking=accept-new');
    expect(sshArgv(target, { configFile: null }, 'R').join(' ')).not.toMatch(/StrictHostKeyChecking=no/);
  });

  test('the remote command is a constant script plus single-quoted validated arguments', () => {
    expect(remoteCommand(LOG_SCRIPT, ['/srv/Build', 'job-1:a', '11', '1048576'])).toBe(`sh -c '${LOG_SCRIPT}' coord-peer '/srv/Build' 'job-1:a' '11' '1048576'`);
    for (const s of [STATUS_SCRIPT, LOG_SCRIPT, ARTIFACT_SCRIPT]) expect(s).not.toMatch(/['\\!\n]/);
    for (const bad of ["/srv/x'y", '/srv/$(id)', '/srv/a b', '-rf', 'a;b', 'a`b`', '']) {
      expect(() => remoteCommand(STATUS_SCRIPT, [bad])).toThrow(/refusing to send/);
    }
  });
});

describe('targets: the second check in code', () => {
  const config = (ssh: Record<string, unknown>): BuildConfigFile => ({ $schema: 'x', builders: { build2: { ssh: ssh as never } } });
  test.each([
    ['host', { host: 'a;b', repo_path: '/srv' }],
    ['host', { host: '-oProxyCommand=x', repo_path: '/srv' }],
    ['repo_path', { host: 'h', repo_path: '/srv/$(id)' }],
    ['repo_path', { host: 'h', repo_path: 'srv' }],
    ['repo_path', { host: 'h', repo_path: '/srv/../etc' }],
    ['user', { host: 'h', repo_path: '/srv', user: 'a b' }],
    ['identity_file', { host: 'h', repo_path: '/srv', identity_file: '~/.ssh/id_%h' }],
  ])('%s refused with E_INVALID naming the field', (field, ssh) => {
    let err: unknown = null;
    try { sshTargetOf(config(ssh), 'build2', '/repo', sshSettingsFromEnv({})); } catch (e) { err = e; }
    expect(isCoordError(err, 'E_INVALID')).toBe(true);
    expect((err as Error).message).toContain(`/builders/build2/ssh/${field}`);
  });

  test('layering: defaults < file < environment; IPv6 brackets removed; relative identity from the repository', () => {
    const t = sshTargetOf(config({ host: '[::1]', repo_path: '/srv/Build/', identity_file: 'keys/id', known_hosts_file: '/k', connect_timeout_s: 3 }), 'build2', '/repo', sshSettingsFromEnv({ COORD_SSH_KNOWN_HOSTS: '/env/kh', COORD_SSH_CONNECT_TIMEOUT: '9' }));
    expect(t).toMatchObject({ host: '::1', port: 22, user: null, repoPath: '/srv/Build', identityFile: '/repo/keys/id', knownHostsFile: '/env/kh', connectTimeoutS: 9, hostKeyPolicy: 'strict' });
    expect(() => assertSafeTarget(t)).not.toThrow();
  });

  test('no ssh settings: E_USAGE saying what to add', () => {
    expect(() => sshTargetOf({ $schema: 'x', builders: { build2: {} } }, 'build2', '/r', sshSettingsFromEnv({}))).toThrow(/build2 has no ssh settings: add "ssh"/);
  });

  test('malformed environment values: E_USAGE', () => {
    expect(() => sshSettingsFromEnv({ COORD_SSH_CONNECT_TIMEOUT: '0' })).toThrow(/COORD_SSH_CONNECT_TIMEOUT/);
  });
});

describe('classifying ssh failures (OpenSSH 9 messages, captured)', () => {
  test.each([
    [255, 'ssh: connect to host 127.0.0.1 port 42223: Connection refused', 'peer-down', 'E_UNREACHABLE'],
    [255, 'ssh: connect to host 10.0.0.9 port 22: No route to host', 'peer-down', 'E_UNREACHABLE'],
    [255, 'ssh: Could not resolve hostname nonexistent.invalid: Name or service not known', 'peer-down', 'E_UNREACHABLE'],
    [255, 'root@127.0.0.1: Permission denied (publickey).', 'auth', 'E_AUTH'],
    [255, 'No ED25519 host key is known for [127.0.0.1]:42222 and you have requested strict checking.\nHost key verification failed.', 'host-key-unknown', 'E_HOST_KEY'],
    [255, '@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\nHost key for [127.0.0.1]:42222 has changed and you have requested strict checking.\nHost key verification failed.', 'host-key-changed', 'E_HOST_KEY'],
    [255, 'Connection timed out during banner exchange', 'timeout', 'E_SSH_TIMEOUT'],
    [255, 'ssh: connect to host 10.255.255.1 port 22: Connection timed out', 'timeout', 'E_SSH_TIMEOUT'],
    [65, '', 'not-found', 'E_NOT_FOUND'],
    [66, '', 'no-repository', 'E_NOT_FOUND'],
    [128, 'fatal: not a git repository (or any of the parent directories): .git', 'no-repository', 'E_NOT_FOUND'],
    [127, 'sh: 1: git: not found', 'remote-failed', 'E_UNREACHABLE'],
  ] as const)('exit %i %j → %s (%s, exit 6 unless not found)', (exit, stderr, kind, code) => {
    expect(classifySshFailure(exit, stderr)).toBe(kind);
    const err = sshError(kind, target, stderr, { what: 'status of build2' });
    expect(err.code).toBe(code);
    expect(err.exitCode).toBe(code === 'E_NOT_FOUND' ? 5 : 6);
    expect(err.message).toMatch(/build2/);
    expect(err.message).toContain('builder2.example');
  });
});

describe("the peer's replies", () => {
  const reqs = ['refs/coord/pending:build2/status.json', 'HEAD:build2/status.json'];
  test('cat-file --batch: blobs and missing objects, in order', () => {
    const out = Buffer.from(`refs/coord/pending:build2/status.json missing\n${'a'.repeat(40)} blob 3\n{}\n\n`);
    const r = parseCatFileBatch(out, reqs, 100);
    expect(r.ok && [...r.blobs.entries()].map(([k, v]) => [k, v?.toString()])).toEqual([[reqs[0], undefined], [reqs[1], '{}\n']]);
  });
  test.each([
    ['garbage header', 'hello\n'],
    ['truncated blob', `${'a'.repeat(40)} blob 30\n{}\n`],
    ['over the size limit', `${'a'.repeat(40)} blob 101\n${'x'.repeat(101)}\n`],
  ])('%s is refused', (_what, text) => {
    expect(parseCatFileBatch(Buffer.from(text), reqs.slice(1), 100).ok).toBe(false);
  });

  test('log reply: size line then bytes; anything else refused', () => {
    expect(parseLogReply(Buffer.from('  12\nabc'))).toEqual({ fileSize: 12, data: Buffer.from('abc') });
    expect(parseLogReply(Buffer.from('x\nabc'))).toBeNull();
  });

  test("log end markers: the last attempt's end line, across chunks, reset by a retry's start line", () => {
    const s = new LogEndScanner();
    s.push('[coord] build2 runs sh (job j, attempt 1)\nout\n[coord] comp');
    expect(s.ended).toBe(false);
    s.push('leted (exit 0)\n');
    expect(s.ended).toBe(true);
    s.push('[coord] build3 runs sh (job j, attempt 2)\n');
    expect(s.ended).toBe(false);
    s.push('[coord] timed_out: timed out after 5 s\n');
    expect(s.ended).toBe(true);
  });
});

describe('choosing the freshest status', () => {
  const hb = (sequence: number): HeartbeatFile => ({ $schema: 'x', builder: 'build2', timestamp: '2026-11-30T10:00:00Z', sequence });
  const st = (updated_at: string): StatusFile => ({ $schema: 'x', builder: 'build2', state: 'idle', updated_at });
  test('highest sequence wins for the heartbeat; the status written with the freshest heartbeat wins', () => {
    const docs: PeerDoc[] = [
      { name: 'pending', status: st('2026-11-30T10:05:00Z'), heartbeat: hb(7) },
      { name: 'heartbeat-ref', status: null, heartbeat: hb(9) },
      { name: 'main', status: st('2026-11-30T10:09:00Z'), heartbeat: hb(5) },
      { name: 'checkout', status: null, heartbeat: null },
    ];
    expect(choosePeerState(docs).from).toEqual({ status: 'pending', heartbeat: 'heartbeat-ref' });
  });
  test('nothing there: nulls', () => {
    expect(choosePeerState([{ name: 'main', status: null, heartbeat: null }])).toEqual({ status: null, heartbeat: null, from: { status: null, heartbeat: null } });
  });
});

describe('the artifact manifest', () => {
  const e = (job_id: string, name: string, attempt: number, builder = 'build1'): ArtifactEntry => ({ job_id, name, attempt, builder, size: 1, sha256: '0'.repeat(64), created_at: '2026-11-30T10:00:00Z' });
  test("a retried job's latest attempt counts", () => {
    const all = [e('j1', 'a.deb', 1, 'build1'), e('j1', 'a.deb', 2, 'build2'), e('j2', 'b', 1)];
    expect(currentArtifacts(all, 'j1')).toEqual([e('j1', 'a.deb', 2, 'build2')]);
    expect(currentArtifacts(all).map((x) => x.job_id)).toEqual(['j1', 'j2']);
  });
  test('not in the manifest: E_NOT_FOUND', () => {
    expect(() => artifactsToFetch([], 'j9')).toThrow(/job j9 has no artifacts/);
  });
});

describe('labels and when to read directly', () => {
  test.each([[null, 'via git, never seen'], [12, 'via git, 12 s old'], [12 * 60 + 5, 'via git, 12 min old'], [3 * 3600, 'via git, 3 h old'], [5 * 86400, 'via git, 5 days old']] as const)('%p s → %s', (age, label) => {
    expect(gitViewLabel(age)).toBe(label);
  });
  test('direct when asked, when main was not fetched, or when git says stale/offline; never without ssh settings', () => {
    const base = { direct: false, fetchFresh: true, health: 'healthy', hasSsh: true };
    expect(wantsDirectRead(base)).toBe(false);
    expect(wantsDirectRead({ ...base, direct: true })).toBe(true);
    expect(wantsDirectRead({ ...base, fetchFresh: false })).toBe(true);
    expect(wantsDirectRead({ ...base, health: 'stale' })).toBe(true);
    expect(wantsDirectRead({ ...base, health: 'offline', hasSsh: false })).toBe(false);
    expect(wantsDirectRead({ ...base, health: 'offline', cleanShutdown: true })).toBe(false);
    expect(wantsDirectRead({ ...base, health: 'offline', cleanShutdown: true, direct: true })).toBe(true);
  });
});
