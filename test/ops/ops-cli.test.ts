/**
 * Fleet-level operator commands against a bare origin and two clones with the real command
 * line (issue 6): status (health judged by the observer's clock, heartbeat source), history,
 * queue pause/resume, builder ground/unground/list, schedules, completion.
 */
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { beat, claimAs, coord, coordJson, expectReadmeShape, originHead, queueJob, runJobAs } from '../support/operator.js';
import { runTransaction } from '../../lib/tx/transaction.js';
import { formatTimestamp } from '../../lib/util/time.js';

let fleet: Fleet;
let b1: string, b2: string;

beforeAll(async () => {
  // Four configured builders, two clones: build3 and build4 exist only as config and heartbeats.
  fleet = await makeFleet(4, { clones: ['build1', 'build2'] });
  b1 = fleet.clones.build1!;
  b2 = fleet.clones.build2!;
});
afterAll(() => fleet?.cleanup());

async function sendMessage(to: string, id: string): Promise<void> {
  const out = await runTransaction({
    repoRoot: b1, actor: 'build1', action: 'message.send', paths: ['coordination/messages.json'],
    mutate: (s, now) => {
      const doc = structuredClone(s.files.get('coordination/messages.json')) as { messages: unknown[] };
      doc.messages.push({ id, from: 'build1', to, type: 'info', priority: 'normal', subject: id, body: id, timestamp: formatTimestamp(now), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [] });
      return { kind: 'commit', writes: new Map([['coordination/messages.json', doc]]), summary: id, result: true };
    },
  });
  expect(out.status).toBe('committed');
}

describe('status', () => {
  let running: string;
  beforeAll(async () => {
    await beat(b1, 'build1', 0);
    await beat(b1, 'build2', 200); // older than 3 intervals of 60 s: stale
    await beat(b1, 'build3', 700); // older than 10 intervals: offline
    // build4 never beat on a ref: its heartbeat.json on main (written by init, state offline) counts.
    const done = await queueJob(b1, 'build1');
    await runJobAs(b2, 'build2', done, 'completed');
    running = await queueJob(b1, 'build1');
    await claimAs(b2, 'build2', running);
    await sendMessage('build2', 'msg-1');
    await sendMessage('all', 'msg-2');
    expect((await coord(b1, ['lock', 'acquire', 'deploy', '--ttl', '10m', '--reason', 'release'])).exitCode).toBe(0);
  });

  test('per builder health and heartbeat source, job, figures, today; queue, locks, unread messages', async () => {
    const { r, doc } = await coordJson(b2, ['status']);
    expect(r.exitCode).toBe(0);
    expectReadmeShape('coord status', doc);
    const by = Object.fromEntries(doc.builders.map((b: { builder: string }) => [b.builder, b]));
    expect(Object.keys(by)).toEqual(['build1', 'build2', 'build3', 'build4']);
    expect(by.build1).toMatchObject({ health: 'healthy', heartbeat: { source: 'ref' }, system: { cpu_percent: 12.5, memory_percent: 25, disk_free_mb: 50000 } });
    expect(by.build2).toMatchObject({ health: 'stale', heartbeat: { source: 'ref', age_from: 'timestamp' }, current_job: { id: running, type: 'noop', attempt: 1 }, running_jobs: 1, jobs_today: { completed: 1, failed: 0 } });
    expect(by.build2.heartbeat.age_s).toBeGreaterThanOrEqual(200);
    expect(by.build2.reason).toMatch(/no heartbeat for .* \(stale after 3m\)/);
    expect(by.build3).toMatchObject({ health: 'offline', heartbeat: { source: 'ref' } });
    expect(by.build4).toMatchObject({ health: 'offline', heartbeat: { source: 'main' }, state: 'offline' });
    expect(doc.queue.by_status).toMatchObject({ running: 1, completed: 1 });
    expect(doc.queue.by_type).toEqual({ noop: { running: 1, completed: 1 } });
    expect(doc.locks).toEqual([expect.objectContaining({ name: 'deploy', holder: 'build1', expired: false })]);
    expect(doc.unread_messages).toEqual({ build1: 0, build2: 2, build3: 1, build4: 1 });
  });

  test('ages are judged by the observer\'s own clock: a new beat is seen change, an old one keeps aging', async () => {
    await beat(b1, 'build1', 0);
    await new Promise((r) => setTimeout(r, 1100));
    const { doc } = await coordJson(b2, ['status']);
    const by = Object.fromEntries(doc.builders.map((b: { builder: string }) => [b.builder, b]));
    expect(by.build1.heartbeat).toMatchObject({ source: 'ref', age_from: 'observed' });
    // build2's beat did not change: its age grew by this observer's clock since the first look.
    expect(by.build2.heartbeat.age_s).toBeGreaterThanOrEqual(201);
  });

  test('grounded shows as the health of a live builder; human table and --watch', async () => {
    expect((await coord(b1, ['builder', 'ground', 'build1', '--reason', 'disk failing'])).exitCode).toBe(0);
    const { doc } = await coordJson(b2, ['status']);
    expect(doc.builders[0]).toMatchObject({ builder: 'build1', health: 'grounded', reason: 'grounded by build1: disk failing', grounded: { reason: 'disk failing' } });
    const human = await coord(b2, ['status']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/build1\s+│ grounded/);
    expect(human.stdout).toMatch(/build2 \(me\)\s+│ stale/);
    expect(human.stdout).toMatch(/Locks: deploy by build1 \(expires in/);
    expect(human.stdout).toMatch(/Unread messages: build1 0, build2 2/);
    const watch = await coord(b2, ['status', '--watch', '--interval', '1', '--count', '2']);
    expect(watch.exitCode).toBe(0);
    expect(watch.stdout.match(/coord status —/g)).toHaveLength(2);
    expect((await coord(b2, ['--json', 'status', '--watch'])).exitCode).toBe(2);
    expect((await coord(b1, ['builder', 'unground', 'build1'])).exitCode).toBe(0);
  });
});

test('history: who did what when, from the commit messages; filters by job, builder, action, since', async () => {
  const id = await queueJob(b1, 'build1');
  await runJobAs(b2, 'build2', id, 'completed');
  const { r, doc } = await coordJson(b1, ['history', '--job', id]);
  expect(r.exitCode).toBe(0);
  expectReadmeShape('coord history', doc);
  expect(doc.entries.map((e: { action: string; actor: string }) => `${e.actor} ${e.action}`)).toEqual(['build2 job.complete', 'build2 job.claim', 'build1 job.add']);
  expect(doc.entries[2]).toMatchObject({ coord: true, files: ['coordination/jobs.json'], trailers: { job: id } });
  const b2only = await coordJson(b1, ['history', '--about', '2', '--limit', '3']);
  expect(b2only.doc.entries.every((e: { actor: string }) => e.actor === 'build2')).toBe(true);
  const locks = await coordJson(b1, ['history', '--action', 'lock']);
  expect(locks.doc.entries.length).toBeGreaterThan(0);
  expect(locks.doc.entries.every((e: { action: string }) => e.action.startsWith('lock.'))).toBe(true);
  const future = await coordJson(b1, ['history', '--since', '2099-01-01']);
  expect(future.doc.entries).toEqual([]);
  const all = await coordJson(b1, ['history', '--limit', '500']);
  expect(all.doc.entries.at(-1)).toMatchObject({ action: 'manual', coord: false, summary: 'coord init' });
  const human = await coord(b1, ['history', '--job', id]);
  expect(human.stdout).toMatch(/build1 +│ job\.add/);
  const before = originHead(fleet.origin);
  const bad = await coordJson(b1, ['history', '--since', 'the other day']);
  expect(bad.r.exitCode).toBe(2);
  expect(bad.doc.error.message).toMatch(/--since "the other day"/);
  expect(originHead(fleet.origin)).toBe(before);
});

test('queue pause / status / resume; a second pause changes nothing', async () => {
  const p = await coordJson(b1, ['queue', 'pause', '--reason', 'mirror down']);
  expect(p.r.exitCode).toBe(0);
  expect(p.doc).toMatchObject({ paused: true, by: 'build1', reason: 'mirror down', changed: true });
  expectReadmeShape('coord queue pause', p.doc);
  expect((originJson(fleet.origin, 'coordination/jobs.json') as { paused: unknown }).paused).toMatchObject({ by: 'build1', reason: 'mirror down' });
  const before = originHead(fleet.origin);
  const again = await coord(b2, ['queue', 'pause']);
  expect(again.exitCode).toBe(0);
  expect(again.stdout).toMatch(/already paused by build1/);
  expect(originHead(fleet.origin)).toBe(before);
  const s = await coordJson(b2, ['queue', 'status']);
  expect(s.doc.paused).toMatchObject({ by: 'build1' });
  expectReadmeShape('coord queue status', s.doc);
  const r = await coordJson(b2, ['queue', 'resume']);
  expect(r.doc).toMatchObject({ paused: false, changed: true });
  expectReadmeShape('coord queue resume', r.doc);
  expect(gitSync(fleet.origin, ['log', '-1', '--format=%B', 'main'])).toMatch(/^coord\(build2\): queue\.resume/);
});

test('builder ground / list / unground; unknown and malformed builders', async () => {
  const g = await coordJson(b1, ['builder', 'ground', '2', '--reason', 'disk failing', '--for', '4h']);
  expect(g.r.exitCode).toBe(0);
  expect(g.doc).toMatchObject({ builder: 'build2', grounded: true, entry: { by: 'build1', reason: 'disk failing' } });
  expect(Date.parse(g.doc.entry.until) - Date.now()).toBeGreaterThan(3.9 * 3600_000);
  expectReadmeShape('coord builder ground', g.doc);
  const list = await coordJson(b1, ['builder', 'list']);
  expectReadmeShape('coord builder list', list.doc);
  expect(list.doc.builders.find((b: { builder: string }) => b.builder === 'build2').grounded).toMatchObject({ reason: 'disk failing' });
  const u = await coordJson(b1, ['builder', 'unground', 'build2']);
  expect(u.doc).toMatchObject({ builder: 'build2', grounded: false, changed: true });
  expectReadmeShape('coord builder unground', u.doc);
  const before = originHead(fleet.origin);
  const unknown = await coordJson(b1, ['builder', 'ground', 'build9']);
  expect(unknown.r.exitCode).toBe(5);
  expect(unknown.doc.error.message).toMatch(/build9 is not a configured builder/);
  expect((await coord(b1, ['builder', 'ground', 'printer'])).exitCode).toBe(2);
  expect((await coord(b1, ['builder', 'ground', 'build2', '--for', 'ever'])).exitCode).toBe(2);
  expect(originHead(fleet.origin)).toBe(before);
});

describe('schedules', () => {
  test('add / list / disable / enable / remove, with the next five slots', async () => {
    const a = await coordJson(b1, ['schedule', 'add', 'nightly', '--cron', '0 3 * * *', '--type', 'noop', '--priority', '2', '--param', 'TARGET=nightly']);
    expect(a.r.exitCode).toBe(0);
    expectReadmeShape('coord schedule add', a.doc);
    expect(a.doc.schedule).toMatchObject({ id: 'nightly', enabled: true, job: { type: 'noop', priority: 2, params: { TARGET: 'nightly' } } });
    expect(a.doc.schedule.next_slots).toHaveLength(5);
    expect(a.doc.schedule.next_slots.every((t: string) => t.endsWith('T03:00:00Z'))).toBe(true);
    const list = await coordJson(b2, ['schedule', 'list']);
    expectReadmeShape('coord schedule list', list.doc);
    expect(list.doc.schedules.map((s: { id: string }) => s.id)).toEqual(['nightly']);
    const d = await coordJson(b2, ['schedule', 'disable', 'nightly']);
    expect(d.doc.schedule).toMatchObject({ enabled: false, next_slots: [] });
    expectReadmeShape('coord schedule disable', d.doc);
    const e = await coordJson(b2, ['schedule', 'enable', 'nightly']);
    expect(e.doc.schedule.enabled).toBe(true);
    expectReadmeShape('coord schedule enable', e.doc);
    const human = await coord(b2, ['schedule', 'list']);
    expect(human.stdout).toMatch(/nightly .*0 3 \* \* \*/);
    const r = await coordJson(b1, ['schedule', 'remove', 'nightly']);
    expect(r.doc).toMatchObject({ ok: true, removed: 'nightly' });
    expectReadmeShape('coord schedule remove', r.doc);
    expect((originJson(fleet.origin, 'coordination/schedules.json') as { schedules: unknown[] }).schedules).toEqual([]);
  });

  test.each([
    { name: 'a cron with four fields', args: ['schedule', 'add', 's1', '--cron', '0 3 * *', '--type', 'noop'], code: 2, message: /has 4 field\(s\)/ },
    { name: 'a cron with an impossible value', args: ['schedule', 'add', 's1', '--cron', '61 * * * *', '--type', 'noop'], code: 2, message: /61/ },
    { name: 'a cron with seconds', args: ['schedule', 'add', 's1', '--cron', '0 0 3 * * *', '--type', 'noop'], code: 2, message: /has 6 field\(s\)/ },
    { name: 'an unknown type', args: ['schedule', 'add', 's1', '--cron', '@daily', '--type', 'nope'], code: 2, message: /unknown job type "nope"/ },
    { name: 'a bad schedule id', args: ['schedule', 'add', 'bad id', '--cron', '@daily', '--type', 'noop'], code: 2, message: /schedule id "bad id"/ },
    { name: 'removing an unknown schedule', args: ['schedule', 'remove', 'nope'], code: 5, message: /no schedule nope/ },
    { name: 'enabling an unknown schedule', args: ['schedule', 'enable', 'nope'], code: 5, message: /no schedule nope/ },
  ])('bad input: $name → exit $code, nothing written', async ({ args, code, message }) => {
    const before = originHead(fleet.origin);
    const r = await coordJson(b1, args);
    expect(r.r.exitCode).toBe(code);
    expect(r.doc.error.message).toMatch(message);
    expect(originHead(fleet.origin)).toBe(before);
  });

  test('an existing schedule id is refused with exit 3 and nothing written', async () => {
    expect((await coord(b1, ['schedule', 'add', 'hourly', '--cron', '@hourly', '--type', 'noop'])).exitCode).toBe(0);
    const before = originHead(fleet.origin);
    const r = await coordJson(b2, ['schedule', 'add', 'hourly', '--cron', '@daily', '--type', 'noop']);
    expect(r.r.exitCode).toBe(3);
    expect(r.doc.error.message).toMatch(/schedule hourly exists already/);
    expect(originHead(fleet.origin)).toBe(before);
  });
});

test('completion prints the yargs script; yargs answers the completions it asks for', async () => {
  const r = await coord(b1, ['completion']);
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toMatch(/###-begin-coord-completions-###/);
  expect(r.stdout).toMatch(/coord --get-yargs-completions/);
  const j = await coordJson(b1, ['completion', '--shell', 'zsh']);
  expect(j.doc.script).toMatch(/#compdef coord/);
  expectReadmeShape('coord completion', j.doc);
  const words = await coord(b1, ['--get-yargs-completions', 'coord', 'jobs', '']);
  expect(words.stdout.split('\n')).toEqual(expect.arrayContaining(['add', 'list', 'show', 'cancel', 'retry', 'logs', 'wait']));
});
