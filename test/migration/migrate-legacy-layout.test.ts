/**
 * `coord migrate` on a repository in the upstream toolkit's layout as a whole (issue 11):
 * four builders, messages with a single `read` flag and `YYYY-MM-DD HH:MM` times (one from
 * `architect`, a person), a hand-made job stuck `running`, locks as an array, the derived
 * files the old scripts committed, heartbeat branches on the remote. Made by the test in the
 * old shapes, in a clone of a bare origin.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { parseSingleJson, runCoordCli } from '../support/cli.js';
import { commitCount, fingerprintTree, git, makeCoordTree, makeTempDir, readJson, removeTree, writeJson, writeText } from '../support/tree.js';
import { DERIVED } from './compat-support.js';

type Obj = Record<string, unknown>;
const ENV = { COORD_BUILDER: 'build1' };
const coord = (root: string, ...args: string[]) => runCoordCli(['--repo', root, ...args], { cwd: root, env: ENV });
const HEARTBEAT_BRANCHES = ['heartbeat/build1', 'heartbeat/build3'];

/**
 * A clone of a new bare origin holding a coordination tree in the old layout.
 * @param configured how many builders shared/build_config.json lists (the data names four)
 */
async function oldLayoutRepo(configured: number): Promise<{ dir: string; root: string; origin: string }> {
  const dir = await makeTempDir('coord-old-layout-');
  const origin = path.join(dir, 'origin.git');
  git(dir, ['init', '-q', '--bare', '-b', 'main', origin]);
  const tree = await makeCoordTree({ builders: 4, prefix: 'coord-old-tree-' });
  const root = path.join(dir, 'Build');
  git(dir, ['clone', '-q', origin, root]);
  await fs.cp(tree, root, { recursive: true });
  await removeTree(tree);

  // The old build config: no $schema, a site field, only `configured` builders.
  const cfg = (await readJson(root, 'shared/build_config.json')) as Obj;
  delete cfg.$schema;
  cfg.builders = Object.fromEntries(Object.entries(cfg.builders as Obj).slice(0, configured));
  delete cfg.trust;
  cfg.notification_email = 'ops@example.invalid';
  await writeJson(root, 'shared/build_config.json', cfg);

  // Per-builder files as the old scripts left them: no $schema, legacy timestamps.
  for (const b of ['build1', 'build2', 'build3', 'build4']) {
    for (const f of ['status.json', 'heartbeat.json']) {
      const doc = (await readJson(root, `${b}/${f}`)) as Obj;
      delete doc.$schema;
      if ('updated_at' in doc) doc.updated_at = '2025-11-04 20:45';
      if ('timestamp' in doc) doc.timestamp = '2025-11-04 20:45';
      await writeJson(root, `${b}/${f}`, doc);
    }
  }

  await writeJson(root, 'coordination/messages.json', {
    messages: [
      { id: 'msg_1730753100_build1', from: 'build1', to: 'all', type: 'info', subject: 'Build1 online', body: 'ready', timestamp: '2025-11-04 20:45', read: true },
      { id: 'msg_1730753160_build2', from: 'build2', to: 'build1', subject: 'Need libssl', body: 'please install libssl-dev', timestamp: '2025-11-04 20:46', read: false },
      { id: 'msg_1730753220_build3', from: 'build3', to: 'build4', type: 'error', priority: 'high', subject: 'Broken', body: 'dpkg failed', timestamp: '2025-11-04 20:47', read: true, requires_ack: false },
      { id: 'msg_1730753280_architect', from: 'architect', to: 'all', type: 'request', subject: 'Plan', body: 'build4 takes arm64', timestamp: '2025-11-04 20:48', read: false },
    ],
  });
  await writeJson(root, 'coordination/jobs.json', {
    jobs: [
      // Hand-made, stuck running on build3 since the old toolkit died: no attempt, no lease, no type.
      { id: 'job_1730753100', branch: 'main', commit: 'abc1234', priority: 1, status: 'running', assigned_to: 'build3', created_at: '2025-11-04 20:40', started_at: '2025-11-04 20:45', dependencies: [] },
      { id: 'job_1730753400', branch: 'feature', commit: 'def5678', priority: 5, status: 'queued', created_at: '2025-11-04 20:50' },
    ],
  });
  await writeJson(root, 'coordination/locks.json', [{ name: 'job_assignment', owner: 'build4', timestamp: '2025-11-04 20:45' }]);
  await writeJson(root, 'coordination/message_stats.json', { total: 4, unread: 2, by_server: { build1: 1 } });
  await writeJson(root, 'coordination/unread_messages_status.json', { last_checked: '2025-11-04T20:50:00Z', servers: { build1: { unread_count: 1, has_unread: true } } });
  await writeText(root, 'MESSAGES_ALL.txt', '[INFO] build1 -> all: Build1 online\n');
  await writeText(root, 'MESSAGES_STATUS.md', '# Message status\n\n| server | unread |\n|---|---|\n| build1 | 1 |\n');

  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '--no-verify', '-m', 'old toolkit state']);
  git(root, ['push', '-q', 'origin', 'main']);
  for (const b of HEARTBEAT_BRANCHES) git(root, ['push', '-q', 'origin', `HEAD:refs/heads/${b}`]);
  return { dir, root, origin };
}

const branchesOf = (origin: string) => git(origin, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']).stdout.trim().split('\n').sort();
const tracked = (root: string) => git(root, ['ls-tree', '-r', '--name-only', 'HEAD']).stdout.split('\n');

describe('coord migrate on the upstream layout', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await removeTree(d); });

  test('four configured builders: --remove-derived gives one commit, a tree that validates, no derived file, no heartbeat branch', async () => {
    const { dir, root, origin } = await oldLayoutRepo(4);
    dirs.push(dir);
    const commits = commitCount(root);

    const run = await coord(root, 'migrate', '--remove-derived');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^committed [0-9a-f]{12}$/m);
    for (const f of DERIVED) expect(run.stdout).toMatch(new RegExp(`^derived ${f.replace(/\./g, '\\.')}: removed in the commit; now: coord `, 'm'));
    for (const b of HEARTBEAT_BRANCHES) expect(run.stdout).toContain(`obsolete heartbeat branch ${b} on the remote: deleted on the remote; now: refs/coord/heartbeats/build<N>`);
    expect(run.stdout).toMatch(/^job job_1730753100 is running on build3 since 2025-11-04T20:45:00Z: /m);
    expect(run.stdout).toMatch(/^non-builder senders \(people or agents, not builders\): architect \(--trust-senders/m);

    // One commit: the rewrites and the removals together; the working tree clean.
    expect(commitCount(root)).toBe(commits + 1);
    const changed = git(root, ['show', '--name-status', '--format=', 'HEAD']).stdout.trim().split('\n');
    for (const f of DERIVED) expect(changed).toContain(`D\t${f}`);
    expect(changed).toEqual(expect.arrayContaining(['M\tcoordination/messages.json', 'M\tcoordination/jobs.json', 'M\tcoordination/locks.json', 'M\tshared/build_config.json', 'M\tbuild3/status.json']));
    expect(git(root, ['status', '--porcelain']).stdout).toBe('');
    for (const f of DERIVED) {
      expect(tracked(root)).not.toContain(f);
      expect(existsSync(path.join(root, f))).toBe(false);
    }
    expect(branchesOf(origin)).toEqual(['main']);

    const check = await coord(root, 'validate');
    // Valid; the one warning is true: the old queue's jobs are builds (type "build"), which
    // this fixture's build config does not define — the operator must add it (MIGRATION.md).
    expect(check.exitCode).toBe(0);
    expect(check.stdout.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^coordination\/jobs\.json: \/jobs\/1\/type: warning: unknown job type "build"/)]);
    expect(check.stderr).not.toContain('legacy shape');

    // Per-recipient read state from the single flag; the stuck job keeps its holder, attempt 1.
    const msgs = ((await readJson(root, 'coordination/messages.json')) as { messages: Obj[] }).messages;
    expect(msgs.map((m) => [m.id, m.read_by, m.timestamp])).toEqual([
      ['msg_1730753100_build1', ['build2', 'build3', 'build4'], '2025-11-04T20:45:00Z'],
      ['msg_1730753160_build2', [], '2025-11-04T20:46:00Z'],
      ['msg_1730753220_build3', ['build4'], '2025-11-04T20:47:00Z'],
      ['msg_1730753280_architect', [], '2025-11-04T20:48:00Z'],
    ]);
    for (const m of msgs) expect(m).not.toHaveProperty('read');
    const jobs = ((await readJson(root, 'coordination/jobs.json')) as { jobs: Obj[] }).jobs;
    expect(jobs[0]).toMatchObject({ id: 'job_1730753100', type: 'build', status: 'running', assigned_to: 'build3', attempt: 1, started_at: '2025-11-04T20:45:00Z', dependencies: [] });
    expect(jobs[1]).toMatchObject({ id: 'job_1730753400', type: 'build', status: 'queued', attempt: 0 });
    expect(((await readJson(root, 'coordination/locks.json')) as { locks: Obj }).locks).toMatchObject({ job_assignment: { locked_by: 'build4' } });
    expect(await readJson(root, 'shared/build_config.json')).toMatchObject({ $schema: '../schemas/build_config.schema.json', notification_email: 'ops@example.invalid' });

    // A second run finds nothing left to do.
    const again = await coord(root, 'migrate', '--remove-derived');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/nothing to migrate/);
    expect(again.stdout).not.toMatch(/^(derived|obsolete) /m);
    expect(commitCount(root)).toBe(commits + 1);
  });

  test('two configured builders: reported and refused without --add-builders; --dry-run changes nothing; --add-builders --trust-senders completes it', async () => {
    const { dir, root, origin } = await oldLayoutRepo(2);
    dirs.push(dir);
    const commits = commitCount(root);
    const before = await fingerprintTree(root);

    // build3 holds a job and build4 a lock: without the builders the data is invalid.
    const refused = await coord(root, 'migrate', '--remove-derived');
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toMatch(/the data names builder\(s\) not in shared\/build_config\.json: build3, build4 \(coord migrate --add-builders adds them\); nothing was written/);
    expect(refused.stderr).toMatch(/coordination\/jobs\.json: \/jobs\/0\/assigned_to: .*"build3" is not a configured builder/);
    expect(await fingerprintTree(root)).toEqual(before);
    expect(branchesOf(origin)).toEqual(['heartbeat/build1', 'heartbeat/build3', 'main']);

    // A dry run without flags reports everything it found, each with the flag that fixes it:
    // exit 0, since no problem needs a hand fix.
    const bare = await coord(root, 'migrate', '--dry-run');
    expect(bare.exitCode).toBe(0);
    expect(bare.stdout).toMatch(/^problem: coordination\/jobs\.json: \/jobs\/0\/assigned_to: .*"build3" is not a configured builder.*: --add-builders fixes it$/m);
    expect(bare.stdout).toMatch(/^derived coordination\/message_stats\.json: kept \(--remove-derived removes it\)/m);
    expect(bare.stdout).toMatch(/^obsolete heartbeat branch heartbeat\/build3 on the remote: kept \(--remove-derived removes it\)/m);
    expect(bare.stdout).toMatch(/^builders in the data but not configured: build3, build4 \(--add-builders adds them\)$/m);
    expect(bare.stdout).toMatch(/^non-builder senders .*: architect \(--trust-senders/m);
    expect(bare.stdout).toMatch(/^job job_1730753100 is running on build3/m);
    expect(bare.stdout).toMatch(/problem\(s\) stop the migration with these flags; every one is fixed by: coord migrate --add-builders/);
    expect(bare.stdout).not.toMatch(/fixed by hand/);
    expect(await fingerprintTree(root)).toEqual(before);
    expect(commitCount(root)).toBe(commits);

    // A dry run reports everything, as one JSON document, and changes nothing.
    const dry = await coord(root, '--json', 'migrate', '--dry-run', '--remove-derived', '--add-builders', '--trust-senders');
    expect(dry.exitCode).toBe(0);
    const doc = parseSingleJson(dry.stdout);
    expect(doc).toMatchObject({
      ok: true, dry_run: true, commit: null, heartbeat_branches_checked: true,
      names: { configured: ['build1', 'build2'], found: ['build1', 'build2', 'build3', 'build4'], unknown: ['build3', 'build4'], added: ['build3', 'build4'], senders: ['architect'], trusted_added: ['architect'] },
      running_jobs: [{ id: 'job_1730753100', assigned_to: 'build3', started_at: '2025-11-04T20:45:00Z', lease_expires_at: null }],
    });
    const derived = doc.derived as Obj[];
    expect(derived.map((d) => [d.kind, d.path, d.status, d.action])).toEqual([
      ...DERIVED.map((f) => ['file', f, 'derived', 'would remove']),
      ...HEARTBEAT_BRANCHES.map((b) => ['branch', b, 'obsolete', 'would remove']),
    ]);
    expect((doc.changes as Obj[]).map((c) => c.file)).toContain('shared/build_config.json');
    expect(await fingerprintTree(root)).toEqual(before);
    expect(commitCount(root)).toBe(commits);
    expect(branchesOf(origin)).toEqual(['heartbeat/build1', 'heartbeat/build3', 'main']);

    // The real run: builders and the trusted sender added in the same commit; everything validates.
    const run = await coord(root, 'migrate', '--remove-derived', '--add-builders', '--trust-senders');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^rewrote shared\/build_config\.json: .*builders added: build3, build4; trusted senders added: architect$/m);
    expect(commitCount(root)).toBe(commits + 1);
    const cfg = (await readJson(root, 'shared/build_config.json')) as { builders: Record<string, Obj>; trust: { senders: string[] } };
    expect(Object.keys(cfg.builders)).toEqual(['build1', 'build2', 'build3', 'build4']);
    expect(cfg.builders.build3).toEqual(cfg.builders.build1);
    expect(cfg.trust.senders).toEqual(['architect']);
    expect(branchesOf(origin)).toEqual(['main']);
    expect((await coord(root, 'validate')).exitCode).toBe(0);

    // Again: architect is trusted already, so nothing lists it as to trust.
    const again = await coord(root, 'migrate', '--trust-senders');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toMatch(/architect/);
    expect(commitCount(root)).toBe(commits + 1);
  });
});
