/**
 * Direct status reads over ssh against a real sshd (DESIGN.md section 8): a builder cut off
 * from the remote keeps committing its status to its offline queue; git shows it stale, the
 * direct read shows it now, and `coord status` shows both views, labelled.
 */
import { gitSync } from '../support/git-fixture.js';
import { runCoordCli, parseSingleJson } from '../support/cli.js';
import { describeSsh, startSshd, type Sshd } from '../support/sshd.js';
import { readPeerStatus } from '../../lib/ssh/peer-status.js';
import { makeSshFleet, type Json, type SshFleet } from './ssh-fleet.js';

describeSsh('direct status read of a peer whose git state is stale', () => {
  let sshd: Sshd;
  let f: SshFleet;
  beforeAll(async () => {
    sshd = await startSshd();
    // 1 s heartbeats: git's view of build2 is stale 3 s after its last beat reached the remote.
    f = await makeSshFleet(sshd, { heartbeat_interval_s: 1 });
    const peerEnv = { ...f.env, COORD_BUILDER: 'build2' };
    const first = await runCoordCli(['heartbeat'], { cwd: f.peer, env: peerEnv });
    expect(first.exitCode).toBe(0);
    // Cut build2 off from the remote: its next beats only reach its own offline queue.
    gitSync(f.peer, ['remote', 'set-url', 'origin', `${f.fleet.dir}/gone.git`]);
    const offline = await runCoordCli(['heartbeat'], { cwd: f.peer, env: peerEnv });
    expect(offline.exitCode).toBe(6);
    // The observer learns build2's ssh settings with its next fetch.
    gitSync(f.observer, ['fetch', '-q', 'origin']);
    await new Promise((r) => setTimeout(r, 3500));
  }, 120_000);
  afterAll(async () => {
    f?.cleanup();
    await sshd?.stop();
  });

  test('readPeerStatus returns the queued (newer) status and heartbeat, schema-checked, with their source', async () => {
    const before = sshd.connections();
    const p = await readPeerStatus(f.observer, 'build2', { env: f.env });
    expect(sshd.connections()).toBe(before + 1);
    expect(p.source).toBe('ssh');
    expect(p.builder).toBe('build2');
    expect(p.from.status).toBe('pending');
    expect(p.heartbeat!.builder).toBe('build2');
    expect(p.heartbeat!.sequence).toBeGreaterThanOrEqual(2);
    expect(p.status!.degraded?.reason).toMatch(/unreachable/);
    expect(p.read_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(p.warnings).toEqual([]);
  });

  test('coord status (no flag) reads the stale builder directly and shows both views, labelled', async () => {
    const r = await f.coord(['status']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Direct reads over ssh:/);
    expect(r.stdout).toMatch(/build2 {2}via git, \d+ s old: (stale|offline)/);
    expect(r.stdout).toMatch(/via ssh, now: .*heartbeat #\d+ .*\(pending\).*degraded: .*unreachable/);
    // build1 has no ssh settings: no direct view for it.
    expect(r.stdout).not.toMatch(/build1 {2}via git/);
  });

  test('coord status --direct --json: one document with the git view and the direct view', async () => {
    const r = await f.coord(['status', '--direct', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = parseSingleJson(r.stdout);
    const gitView = (doc.builders as Json[]).find((b) => b.builder === 'build2')!;
    const direct = (doc.direct as Json[]);
    expect(direct).toHaveLength(1);
    expect(direct[0].builder).toBe('build2');
    expect(direct[0].ok).toBe(true);
    expect(direct[0].label).toBe('via ssh, now');
    expect(direct[0].git_label).toMatch(/^via git, \d+ s old$/);
    expect(direct[0].peer.heartbeat.sequence).toBeGreaterThan(gitView.heartbeat.sequence);
  });
});
