/**
 * The job, status and validation compatibility scripts (issue 11) with the upstream
 * argument order, against a bare origin and two clones: job_queue.sh add / get-next /
 * complete / list, create_job.sh, heartbeat.sh and update_status.sh (cron entries: a
 * heartbeat ref, never a heartbeat branch), validate_json.sh and validate_all.sh.
 */
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { editConfig, originHead } from '../support/operator.js';
import { expectNewSemantics, runScript } from './compat-support.js';

type Job = { id: string; type: string; status: string; priority: number; branch: string | null; commit: string | null; description: string; assigned_to: string | null; attempt: number; history: { builder: string; status: string; duration_seconds: number | null }[] };

const jobsOnOrigin = (origin: string): Job[] =>
  (JSON.parse(gitSync(origin, ['show', 'main:coordination/jobs.json'])) as { jobs: Job[] }).jobs;

describe('job, status and validation compatibility scripts', () => {
  let fleet: Fleet;
  let b1: string;
  let b2: string;

  beforeAll(async () => {
    fleet = await makeFleet(2);
    b1 = fleet.clones.build1;
    b2 = fleet.clones.build2;
    // The upstream queue held builds: the fleet defines the type the wrappers queue.
    await editConfig(b1, (cfg) => { cfg.job_types.build = { command: ['true'], timeout_s: 60 }; });
  });

  afterAll(() => fleet.cleanup());

  async function script(clone: string, name: string, args: string[]) {
    const before = originHead(fleet.origin);
    const r = await runScript(name, args, clone);
    const commits = expectNewSemantics(fleet.origin, before, clone);
    return { r, commits, before };
  }

  test('add, create, list, get-next claims as this builder, complete ends only its own claim', async () => {
    const add = await script(b1, 'job_queue.sh', ['add', 'main', 'abc1234', '2']);
    expect(add.r.exitCode).toBe(0);
    expect(add.r.stderr).toMatch(/^job_queue\.sh: deprecated wrapper .*use: coord jobs add/m);
    expect(add.commits.map((c) => c.files)).toEqual([['coordination/jobs.json']]);
    const id1 = add.r.stdout.trim();

    const create = await script(b1, 'create_job.sh', ['feature/x', 'deadbeef', '1', 'nightly build']);
    expect(create.r.exitCode).toBe(0);
    const id2 = create.r.stdout.trim();
    expect(jobsOnOrigin(fleet.origin).map((j) => [j.id, j.type, j.status, j.priority, j.branch, j.commit, j.description])).toEqual([
      [id1, 'build', 'queued', 2, 'main', 'abc1234', ''],
      [id2, 'build', 'queued', 1, 'feature/x', 'deadbeef', 'nightly build'],
    ]);

    const list = await script(b2, 'job_queue.sh', ['list', 'queued']);
    expect(list.r.exitCode).toBe(0);
    expect(list.r.stdout).toContain(id1);
    expect(list.r.stdout).toContain(id2);
    expect(list.commits).toEqual([]);

    // get-next: build2 claims the highest-priority job, as the daemon would (attempt 1, lease).
    const next = await script(b2, 'job_queue.sh', ['get-next']);
    expect(next.r.exitCode).toBe(0);
    expect(next.r.stdout.trim()).toBe(id2);
    expect(next.commits).toHaveLength(1);
    expect(next.commits[0].subject).toMatch(/^coord\(build2\): job\.claim /);
    expect(jobsOnOrigin(fleet.origin).find((j) => j.id === id2)).toMatchObject({ status: 'running', assigned_to: 'build2', attempt: 1 });

    // build2 runs one job at a time (max_concurrent_jobs 1): nothing more to claim, exit 5, no commit.
    const none = await script(b2, 'job_queue.sh', ['get-next']);
    expect(none.r.exitCode).toBe(5);
    expect(none.r.stderr).toMatch(/nothing for build2 to claim: build2 runs 1 of 1 allowed jobs/);
    expect(none.commits).toEqual([]);

    // complete by another builder, or of a job that is not running: refused (exit 3), nothing written.
    const foreign = await script(b1, 'job_queue.sh', ['complete', id2, 'completed']);
    expect(foreign.r.exitCode).toBe(3);
    expect(foreign.r.stderr).toMatch(/is running on build2, not running on build1: only the builder that claimed it ends it/);
    expect(foreign.commits).toEqual([]);

    const done = await script(b2, 'job_queue.sh', ['complete', id2, 'completed', '42']);
    expect(done.r.exitCode).toBe(0);
    expect(done.commits).toHaveLength(1);
    expect(done.commits[0].subject).toMatch(/^coord\(build2\): job\.complete /);
    const j2 = jobsOnOrigin(fleet.origin).find((j) => j.id === id2)!;
    expect(j2).toMatchObject({ status: 'completed', assigned_to: 'build2' });
    expect(j2.history).toEqual([expect.objectContaining({ builder: 'build2', status: 'completed', duration_seconds: 42 })]);

    // A failure with attempts left goes back to the queue (the daemon's rule), not "failed" for good.
    const again = await script(b1, 'job_queue.sh', ['get-next']);
    expect(again.r.stdout.trim()).toBe(id1);
    const failed = await script(b1, 'job_queue.sh', ['complete', id1, 'failed']);
    expect(failed.r.exitCode).toBe(0);
    expect(jobsOnOrigin(fleet.origin).find((j) => j.id === id1)).toMatchObject({ status: 'queued', attempt: 1, assigned_to: null });
  });

  test('heartbeat.sh and update_status.sh publish the heartbeat ref (no branch); validate scripts check files', async () => {
    const hb = await script(b1, 'heartbeat.sh', ['build1']);
    expect(hb.r.exitCode).toBe(0);
    expect(hb.r.stderr).toMatch(/use: coord heartbeat/);
    expect(gitSync(fleet.origin, ['for-each-ref', '--format=%(refname)', 'refs/coord/heartbeats'])).toContain('refs/coord/heartbeats/build1');
    // Only builder-owned files may change on main (status/heartbeat of build1).
    for (const c of hb.commits) for (const f of c.files) expect(f).toMatch(/^build1\//);

    const st = await script(b2, 'update_status.sh', ['build2', 'building', 'job_123']);
    expect(st.r.exitCode).toBe(0);
    expect(gitSync(fleet.origin, ['for-each-ref', '--format=%(refname)', 'refs/coord/heartbeats'])).toContain('refs/coord/heartbeats/build2');
    for (const c of st.commits) for (const f of c.files) expect(f).toMatch(/^build2\//);

    const one = await script(b1, 'validate_json.sh', ['coordination/jobs.json', 'coordination/messages.json']);
    expect(one.r.exitCode).toBe(0);
    expect(one.r.stderr).toMatch(/2 file\(s\) checked, 0 error/);
    const all = await script(b1, 'validate_all.sh', []);
    expect(all.r.exitCode).toBe(0);
    expect(all.commits).toEqual([]);
  });
});
