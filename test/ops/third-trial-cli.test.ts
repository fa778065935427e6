/**
 * Findings of the third user trial on the real command line (a bare origin, clones, real
 * git; METHODOLOGY.md section 13, "Hardening after the third trial"). Each test is named
 * after the input that broke; every refused input asserts its exit code and that the
 * origin's main did not move.
 */
import { runTransaction } from '../../lib/tx/transaction.js';
import { formatTimestamp } from '../../lib/util/time.js';
import type { JobsFile } from '../../lib/schemas/types.gen.js';
import { makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { beat, coord, coordJson, editConfig, expectReadmeShape, originHead, queueJob, runJobAs } from '../support/operator.js';

let fleet: Fleet;
let b1: string;

beforeAll(async () => {
  fleet = await makeFleet(3, { clones: ['build1', 'build2'] });
  b1 = fleet.clones.build1!;
});
afterAll(() => fleet?.cleanup());

/** Sets jobs.json `grounded` on the origin directly (as a daemon's circuit breaker would). */
async function setGrounded(grounded: JobsFile['grounded']): Promise<void> {
  const out = await runTransaction({
    repoRoot: b1, actor: 'build1', action: 'builder.ground', paths: ['coordination/jobs.json'],
    mutate: (s) => ({ kind: 'commit', writes: new Map([['coordination/jobs.json', { ...(s.files.get('coordination/jobs.json') as JobsFile), grounded }]]), summary: 'test setup', result: true }),
  });
  expect(out.status).toBe('committed');
}

describe('builder ground', () => {
  test('builder ground 3 --until 2020-01-01 was accepted (exit 0): now a usage error, nothing written', async () => {
    const before = originHead(fleet.origin);
    const r = await coord(b1, ['builder', 'ground', '3', '--until', '2020-01-01']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--until "2020-01-01": 2020-01-01T00:00:00Z has passed \(now .*\); give a future time, or --for DURATION/);
    const j = await coordJson(b1, ['builder', 'ground', 'build3', '--until', 'now']);
    expect(j.r.exitCode).toBe(2);
    expect(j.doc.error.code).toBe('E_USAGE');
    expect(originHead(fleet.origin)).toBe(before);
  });

  test('a second builder ground build2 silently replaced the first: same terms change nothing, other terms need --force, which says what it replaced', async () => {
    const first = await coordJson(b1, ['builder', 'ground', 'build2', '--reason', 'disk failing', '--for', '4h']);
    expect(first.r.exitCode).toBe(0);
    expect(first.doc).toMatchObject({ changed: true, previous: null, entry: { by: 'build1', reason: 'disk failing' } });
    expectReadmeShape('coord builder ground', first.doc);
    const { at, until } = first.doc.entry as { at: string; until: string };
    const before = originHead(fleet.origin);

    // Like a second `queue pause`: nothing new asked, nothing changed; it says what is in force.
    const again = await coord(b1, ['builder', 'ground', '2']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`build2 already grounded by build1 since ${at}: disk failing (until ${until}); nothing changed`);
    const againJson = await coordJson(b1, ['builder', 'ground', '2']);
    expect(againJson.doc).toMatchObject({ ok: true, commit: null, changed: false, grounded: true, entry: { reason: 'disk failing', until } });

    // Other terms: refused (exit 3), naming who, since when, why and until when.
    const other = await coord(b1, ['builder', 'ground', 'build2', '--reason', 'reinstall', '--for', '1h']);
    expect(other.exitCode).toBe(3);
    expect(other.stderr).toContain(`build2 is already grounded by build1 since ${at}: disk failing (until ${until}); add --force to replace that grounding, or coord builder unground build2 first`);
    expect(originHead(fleet.origin)).toBe(before);

    const forced = await coord(b1, ['builder', 'ground', 'build2', '--reason', 'reinstall', '--for', '1h', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(new RegExp(`^build2 was grounded by build1 since ${at}: disk failing \\(until ${until}\\); now grounded by build1: reinstall \\(until \\S+\\)$`, 'm'));
    expect((originJson(fleet.origin, 'coordination/jobs.json') as JobsFile).grounded?.build2).toMatchObject({ reason: 'reinstall' });

    const u = await coordJson(b1, ['builder', 'unground', 'build2']);
    expect(u.doc).toMatchObject({ changed: true, previous: { reason: 'reinstall' } });
    expectReadmeShape('coord builder unground', u.doc);
  });

  test('an expired grounding showed "STATE grounded" in coord status while the builder claimed jobs', async () => {
    const past = formatTimestamp(Date.now() - 60_000);
    await setGrounded({ build3: { by: 'build1', at: formatTimestamp(Date.now() - 3_600_000), reason: 'was failing', until: past } });
    await beat(b1, 'build3', 0, { state: 'grounded' }); // its own status not caught up yet
    const s = await coordJson(b1, ['status']);
    expect(s.r.exitCode).toBe(0);
    expect(s.doc.builders.find((b: { builder: string }) => b.builder === 'build3')).toMatchObject({ health: 'healthy', state: 'idle', grounded: null });
    const human = await coord(b1, ['status']);
    const row = human.stdout.split('\n').find((l) => /\bbuild3\b/.test(l)) ?? '';
    expect(row).not.toContain('grounded');
    const list = await coordJson(b1, ['builder', 'list']);
    expect(list.doc.builders.find((b: { builder: string }) => b.builder === 'build3')).toMatchObject({ grounded: null, state: 'idle' });
    await setGrounded({});
  });
});

describe('queue position and estimated wait', () => {
  let sparc: string, runnable: string;
  beforeAll(async () => {
    const done = await queueJob(b1, 'build1');
    await runJobAs(b1, 'build1', done, 'completed'); // noop took 3 s: estimates have a basis
    sparc = await queueJob(b1, 'build1', { type: 'noop', priority: 1, requires: { arch: 'sparc' } });
    runnable = await queueJob(b1, 'build1', { type: 'noop', priority: 2 });
  });

  test('jobs add --requires arch=sparc showed "#1 ~0s" and counted ahead of runnable jobs', async () => {
    const list = await coordJson(b1, ['jobs', 'list', '--status', 'queued']);
    expect(list.r.exitCode).toBe(0);
    expectReadmeShape('coord jobs list', list.doc);
    const by = Object.fromEntries(list.doc.jobs.map((j: { id: string }) => [j.id, j]));
    expect(by[sparc]).toMatchObject({ queue_position: null, estimated_wait_s: null, wait_reason: 'no_builder' });
    expect(by[runnable]).toMatchObject({ queue_position: 1, estimated_wait_s: 0, wait_reason: null });
    const human = await coord(b1, ['jobs', 'list', '--status', 'queued']);
    expect(human.stdout.split('\n').find((l) => l.includes(sparc))).toContain('never (no builder can run it)');
    expect(human.stdout.split('\n').find((l) => l.includes(runnable))).toMatch(/#1 ~0s/);
    const show = await coordJson(b1, ['jobs', 'show', sparc]);
    expect(show.doc.queue).toEqual({ position: null, estimated_wait_s: null, wait_reason: 'no_builder' });
    expectReadmeShape('coord jobs show', show.doc);
  });

  test('jobs show gave an estimated wait while the queue was paused', async () => {
    expect((await coord(b1, ['queue', 'pause', '--reason', 'mirror down'])).exitCode).toBe(0);
    try {
      const show = await coordJson(b1, ['jobs', 'show', runnable]);
      expect(show.doc.queue).toEqual({ position: 1, estimated_wait_s: null, wait_reason: 'paused' });
      const human = await coord(b1, ['jobs', 'show', runnable]);
      expect(human.stdout).toMatch(/queue\s+#1; no estimate while the queue is paused/);
      const list = await coordJson(b1, ['jobs', 'list', '--status', 'queued']);
      expect(list.doc.jobs.find((j: { id: string }) => j.id === runnable)).toMatchObject({ queue_position: 1, estimated_wait_s: null, wait_reason: 'paused' });
    } finally {
      expect((await coord(b1, ['queue', 'resume'])).exitCode).toBe(0);
    }
  });

  test('jobs show gave an estimated wait while every eligible builder was grounded', async () => {
    for (const b of ['1', '2', '3']) expect((await coord(b1, ['builder', 'ground', b, '--for', '1h'])).exitCode).toBe(0);
    try {
      const show = await coordJson(b1, ['jobs', 'show', runnable]);
      expect(show.doc.queue).toEqual({ position: null, estimated_wait_s: null, wait_reason: 'grounded' });
      const human = await coord(b1, ['jobs', 'list', '--status', 'queued']);
      expect(human.stdout.split('\n').find((l) => l.includes(runnable))).toContain('held (builders grounded)');
    } finally {
      for (const b of ['1', '2', '3']) expect((await coord(b1, ['builder', 'unground', b])).exitCode).toBe(0);
    }
  });
});

describe('papercuts', () => {
  test('history --action nosuch: a usage error listing the actions; a family and a known action work; history --job zzzz is empty, exit 0', async () => {
    const r = await coord(b1, ['history', '--action', 'nosuch']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--action "nosuch": no such action; give a family \(builder, edit, job, jobs, lock, message, queue, schedule\) or an action \(job\.add, .*manual\)/);
    const near = await coordJson(b1, ['history', '--action', 'lok']);
    expect(near.r.exitCode).toBe(2);
    expect(near.doc.error.message).toMatch(/no such action \(did you mean lock\?\)/);
    expect((await coord(b1, ['history', '--action', 'builder'])).exitCode).toBe(0);
    expect((await coord(b1, ['history', '--action', 'schedule.add'])).exitCode).toBe(0); // known, no commit yet
    const job = await coord(b1, ['history', '--job', 'zzzz']);
    expect(job.exitCode).toBe(0);
    expect(job.stdout.trim()).toBe('no matching history');
  });

  test('status --interval 5 without --watch was ignored: a usage error, as is --count', async () => {
    for (const args of [['status', '--interval', '5'], ['status', '--count', '2']]) {
      const r = await coord(b1, args);
      expect([args, r.exitCode]).toEqual([args, 2]);
      expect(r.stderr).toMatch(/--(interval|count) needs --watch/);
    }
    expect((await coord(b1, ['status', '--watch', '--interval', '1', '--count', '1'])).exitCode).toBe(0);
  });

  test('jobs add --priority 3 --priority 4: "--priority given twice", nothing queued', async () => {
    const before = originHead(fleet.origin);
    const r = await coord(b1, ['jobs', 'add', '--type', 'noop', '--priority', '3', '--priority', '4']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--priority given twice ("3", "4"); give it once');
    const g = await coord(b1, ['builder', 'ground', '2', '--reason', 'a', '--reason', 'b']);
    expect(g.exitCode).toBe(2);
    expect(g.stderr).toContain('--reason given twice');
    expect(originHead(fleet.origin)).toBe(before);
  });

  test('coord jobs add --typo pointed at coord jobs --help; coord mesages said only "Did you mean messages?"', async () => {
    const before = originHead(fleet.origin);
    const typo = await coord(b1, ['jobs', 'add', '--type', 'noop', '--typo']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('Unknown argument: typo\nRun coord jobs add --help for usage.');
    const cmd = await coordJson(b1, ['mesages']);
    expect(cmd.r.exitCode).toBe(2);
    expect(cmd.doc.error.message).toBe('unknown command mesages; did you mean messages?\nRun coord --help for usage.');
    const sub = await coord(b1, ['queue', 'stauts']);
    expect(sub.exitCode).toBe(2);
    expect(sub.stderr).toContain('unknown queue command stauts; did you mean status?\nRun coord queue --help for usage.');
    expect(originHead(fleet.origin)).toBe(before);
  });

  test('coord heartbeat --json used camelCase keys; daemon --help said --once runs one cycle', async () => {
    const hb = await coordJson(b1, ['heartbeat']);
    expect(hb.r.exitCode).toBe(0);
    expect(Object.keys(hb.doc).sort()).toEqual(['builder', 'daemon_alive', 'ok', 'published', 'status_written']);
    expect(hb.doc).toMatchObject({ ok: true, builder: 'build1', published: true, daemon_alive: false });
    const help = await coord(b1, ['daemon', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('run until nothing is left that it can claim');
    expect(help.stdout).not.toContain('one cycle');
  });

  // Last: it removes build3 from the build config.
  test('jobs list --assigned-to 9 / history --about 9 with build9 not configured: exit 5; a builder removed from the config keeps its past', async () => {
    const before = originHead(fleet.origin);
    const list9 = await coordJson(b1, ['jobs', 'list', '--assigned-to', '9']);
    expect(list9.r.exitCode).toBe(5);
    expect(list9.doc.error.message).toMatch(/--assigned-to build9: build9 is not a configured builder \(shared\/build_config\.json has build1, build2, build3\), and no job in the queue or the archive names it/);
    const hist9 = await coord(b1, ['history', '--about', '9']);
    expect(hist9.exitCode).toBe(5);
    expect(hist9.stderr).toMatch(/--about build9: build9 is not a configured builder .*and no commit in the history names it/);
    // A filter that hides build9's commits does not make it known either; an actor name is no builder.
    expect((await coord(b1, ['history', '--about', '9', '--action', 'lock'])).exitCode).toBe(5);
    expect((await coord(b1, ['history', '--about', 'alice'])).exitCode).toBe(0);
    expect(originHead(fleet.origin)).toBe(before);

    const ran = await queueJob(b1, 'build1');
    await runJobAs(b1, 'build3', ran, 'completed');
    await editConfig(b1, (cfg) => { delete cfg.builders.build3; });
    const list3 = await coordJson(b1, ['jobs', 'list', '--assigned-to', '3']);
    expect([list3.r.exitCode, list3.doc.error?.message]).toEqual([0, undefined]);
    expect(list3.doc.jobs.map((j: { id: string }) => j.id)).toEqual([ran]);
    expect(list3.doc.warnings.join('\n')).toMatch(/--assigned-to build3: not a configured builder \(shared\/build_config\.json has build1, build2\); only what it did before shows/);
    const hist3 = await coordJson(b1, ['history', '--about', 'build3']);
    expect(hist3.r.exitCode).toBe(0);
    expect(hist3.doc.entries.length).toBeGreaterThan(0);
    expect(hist3.doc.warnings.join('\n')).toMatch(/--about build3: not a configured builder/);
  });
});
