/**
 * Findings of the third user trial, pure part (METHODOLOGY.md section 13, "Hardening after
 * the third trial"), each named after the input that broke:
 * - `builder ground 3 --until 2020-01-01` was accepted, and a second `builder ground` silently
 *   replaced the first grounding (decideGrounding);
 * - an expired grounding still showed as the builder's state (fleetStatus / displayState);
 * - a job no builder can run showed `#1 ~0s` and counted ahead of runnable jobs; a paused
 *   queue or grounded builders still gave estimates (queuePlaces);
 * - usage errors pointed at the command's help, not the subcommand's; a mistyped command said
 *   only "Did you mean messages?" (usageFailure);
 * - repeated single-value options, unknown history actions, unknown builder filters.
 */
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import { decideGrounding, makeJob, type GroundingEntry, type GroundRequest, type JobRecord } from '../../lib/jobs/model.js';
import type { LockJudge } from '../../lib/locks/model.js';
import { explainQueued } from '../../lib/ops/job-explain.js';
import { displayState, fleetStatus, type FleetInput, type HeartbeatSighting } from '../../lib/ops/fleet-status.js';
import { ACTION_FAMILIES, isKnownAction, KNOWN_ACTIONS } from '../../lib/ops/history.js';
import { checkBuilderFilter, onlyOnce } from '../../lib/ops/input.js';
import { queuePlaces } from '../../lib/ops/queue-stats.js';
import { positionalWords, usageFailure } from '../../lib/cli/main.js';
import type { BuildConfigFile, HeartbeatFile, JobsFile } from '../../lib/schemas/types.gen.js';
import { CoordError } from '../../lib/errors.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const HOUR = 3_600_000;

const queue = (over: Partial<JobsFile> = {}): JobsFile => ({ $schema: '../schemas/jobs.schema.json', paused: null, grounded: {}, jobs: [], ...over });
const entry = (over: Partial<GroundingEntry> = {}): GroundingEntry => ({ by: 'alice', at: iso(NOW - HOUR), reason: 'disk failing', until: iso(NOW + HOUR), ...over });
const req = (over: Partial<GroundRequest> = {}): GroundRequest => ({ by: 'bob', reason: 'grounded by hand by bob', until: null, newTerms: false, force: false, ...over });

describe('decideGrounding: builder ground re-checked on the fresh queue', () => {
  test('builder ground --until 2020-01-01 (a time that has passed): refused as usage, nothing written', () => {
    const d = decideGrounding(queue(), 'build3', req({ until: Date.parse('2020-01-01T00:00:00Z'), newTerms: true }), NOW);
    expect(d).toMatchObject({ kind: 'refuse', refusal: { code: 'E_USAGE', message: expect.stringContaining('2020-01-01T00:00:00Z, which has passed') } });
    expect(decideGrounding(queue(), 'build3', req({ until: NOW, newTerms: true }), NOW).kind).toBe('refuse'); // "now" has passed too
  });

  test('not grounded, or grounded with an until that has passed: grounded, nothing replaced', () => {
    for (const doc of [queue(), queue({ grounded: { build2: entry({ until: iso(NOW - 1000) }) } })]) {
      const d = decideGrounding(doc, 'build2', req({ reason: 'new disk', until: NOW + HOUR, newTerms: true }), NOW);
      expect(d).toMatchObject({ kind: 'ground', replaced: null, entry: { by: 'bob', at: iso(NOW), reason: 'new disk', until: iso(NOW + HOUR) } });
    }
  });

  test('second builder ground build2 with no terms of its own: already grounded, like a second queue pause', () => {
    const g = entry();
    expect(decideGrounding(queue({ grounded: { build2: g } }), 'build2', req(), NOW)).toEqual({ kind: 'already', entry: g });
    // The same terms again: nothing to change either.
    expect(decideGrounding(queue({ grounded: { build2: g } }), 'build2', req({ reason: g.reason, until: Date.parse(g.until!), newTerms: true }), NOW).kind).toBe('already');
    // An indefinite grounding (no until) counts as in force.
    expect(decideGrounding(queue({ grounded: { build2: entry({ until: null }) } }), 'build2', req(), NOW).kind).toBe('already');
  });

  test('second builder ground build2 with other terms silently replaced the first: now refused (3) naming who, since, why, until', () => {
    const d = decideGrounding(queue({ grounded: { build2: entry() } }), 'build2', req({ reason: 'reinstall', newTerms: true }), NOW);
    expect(d.kind).toBe('refuse');
    if (d.kind !== 'refuse') return;
    expect(d.refusal.code).toBe('E_INVALID_STATE');
    expect(d.refusal.message).toBe(`build2 is already grounded by alice since ${iso(NOW - HOUR)}: disk failing (until ${iso(NOW + HOUR)}); add --force to replace that grounding, or coord builder unground build2 first`);
  });

  test('--force replaces it and returns the replaced entry', () => {
    const old = entry();
    const d = decideGrounding(queue({ grounded: { build2: old, build3: entry({ by: 'carol' }) } }), 'build2', req({ reason: 'reinstall', until: NOW + 2 * HOUR, newTerms: true, force: true }), NOW);
    expect(d).toMatchObject({ kind: 'ground', replaced: old, entry: { by: 'bob', reason: 'reinstall', until: iso(NOW + 2 * HOUR) } });
    if (d.kind === 'ground') expect(d.doc.grounded?.build3).toMatchObject({ by: 'carol' }); // others untouched
  });
});

const config: BuildConfigFile = {
  $schema: '../schemas/build_config.schema.json',
  builders: { build1: { arch: 'x86_64', max_concurrent_jobs: 1 }, build2: { arch: 'x86_64', max_concurrent_jobs: 1 }, build3: { arch: 'aarch64', max_concurrent_jobs: 1 } },
  job_types: { build: { command: ['make'] } },
};
const job = (id: string, over: Partial<JobRecord> = {}): JobRecord => ({ ...makeJob({ type: 'build' }, id, 'alice', NOW - HOUR, DEFAULT_POLICY), ...over });
const done = (id: string, s: number): JobRecord => job(id, { status: 'completed', history: [{ attempt: 1, builder: 'build1', claimed_at: iso(NOW - 2 * HOUR), ended_at: iso(NOW - HOUR), status: 'completed', duration_seconds: s }] });

describe('queuePlaces: positions and waits follow who can run a job', () => {
  test('jobs add --requires arch=sparc showed #1 ~0s and counted ahead of runnable jobs', () => {
    const jobs = [done('d', 60), job('sparc', { priority: 1, requires: { arch: 'sparc' } }), job('a', { priority: 2 }), job('b', { priority: 3 })];
    const p = queuePlaces(jobs, config, NOW);
    expect(p.get('sparc')).toEqual({ position: null, estimated_wait_s: null, wait_reason: 'no_builder' });
    expect(p.get('a')).toEqual({ position: 1, estimated_wait_s: 0, wait_reason: null });
    expect(p.get('b')).toEqual({ position: 2, estimated_wait_s: 20, wait_reason: null }); // a's 60 s over 3 slots
  });

  test('a job only a grounded builder may run: no position, wait "grounded", not counted; an expired grounding holds nothing', () => {
    const jobs = [done('d', 60), job('arm', { priority: 1, requires: { arch: 'aarch64' } }), job('x', { priority: 2, requires: { arch: 'x86_64' } })];
    const grounded = { build3: entry() };
    const p = queuePlaces(jobs, config, NOW, jobs, { grounded });
    expect(p.get('arm')).toEqual({ position: null, estimated_wait_s: null, wait_reason: 'grounded' });
    expect(p.get('x')).toEqual({ position: 1, estimated_wait_s: 0, wait_reason: null });
    const expired = queuePlaces(jobs, config, NOW, jobs, { grounded: { build3: entry({ until: iso(NOW - 1) }) } });
    expect(expired.get('arm')).toEqual({ position: 1, estimated_wait_s: 0, wait_reason: null });
    // A job ahead that only build3 runs does not delay one for build1/build2.
    expect(expired.get('x')).toEqual({ position: 2, estimated_wait_s: 0, wait_reason: null });
  });

  test('queue paused: positions stay, no estimate', () => {
    const jobs = [done('d', 60), job('a', { priority: 1 }), job('b', { priority: 2 })];
    const p = queuePlaces(jobs, config, NOW, jobs, { paused: { by: 'alice', at: iso(NOW), reason: 'mirror down' } });
    expect([...p.values()]).toEqual([
      { position: 1, estimated_wait_s: null, wait_reason: 'paused' },
      { position: 2, estimated_wait_s: null, wait_reason: 'paused' },
    ]);
  });

  test('failed on every builder that may run it: never', () => {
    const p = queuePlaces([job('f', { requires: { arch: 'aarch64' }, failed_on: ['build3'] })], config, NOW);
    expect(p.get('f')?.wait_reason).toBe('no_builder');
  });
});

describe('status: an expired grounding is not shown as grounded', () => {
  const judge: LockJudge = () => ({ expired: false, remainingMs: 60_000, ttlS: 300, source: 'observed', lastChange: NOW, graceS: 0 });
  const sighting = (builder: string, state: HeartbeatFile['state']): HeartbeatSighting => ({
    heartbeat: { $schema: '../schemas/heartbeat.schema.json', builder, timestamp: iso(NOW), sequence: 5, state, interval_s: 60 },
    source: 'ref', seen: { value: `c-${builder}`, first_seen: NOW - 5000, source: 'observed' },
  });
  const input = (grounded: JobsFile['grounded'], jobs: JobRecord[] = []): FleetInput => ({
    now: NOW, config, policy: { ...DEFAULT_POLICY }, jobs: queue({ grounded, jobs }),
    locks: { $schema: '../schemas/locks.schema.json', locks: {} }, messages: null, statuses: {},
    heartbeats: { build1: sighting('build1', 'idle'), build2: sighting('build2', 'grounded'), build3: sighting('build3', 'grounded') }, lockJudge: judge,
  });

  test('builder ground 3 --until <past> left build3 "STATE grounded" while it claimed jobs', () => {
    const running = job('r', { status: 'running', assigned_to: 'build3', attempt: 1, started_at: iso(NOW - 1000) });
    const s = fleetStatus(input({ build2: entry({ until: iso(NOW - 1000) }), build3: entry({ until: iso(NOW - 1000) }) }, [running]));
    const by = Object.fromEntries(s.builders.map((b) => [b.builder, b]));
    expect(by.build2).toMatchObject({ health: 'healthy', grounded: null, state: 'idle' });
    expect(by.build3).toMatchObject({ health: 'healthy', grounded: null, state: 'building' });
    // In force, it shows as its heartbeat says.
    const live = fleetStatus(input({ build2: entry() }));
    expect(live.builders.find((b) => b.builder === 'build2')).toMatchObject({ health: 'grounded', state: 'grounded', grounded: { by: 'alice' } });
  });

  test('jobs show of a job no builder can run, while the queue is paused, blamed the pause', () => {
    const paused = { by: 'alice', at: iso(NOW), reason: 'mirror down' };
    const sparc = job('s', { requires: { arch: 'sparc' } });
    const i = { ...input({}), jobs: queue({ paused, jobs: [sparc] }) };
    expect(explainQueued(sparc, i, 0).summary).toMatch(/^no builder allows the type or meets its requirements: requires arch sparc, build1 is x86_64/);
    const failed = job('f', { requires: { arch: 'aarch64' }, failed_on: ['build3'] });
    expect(explainQueued(failed, i, 0).summary).toMatch(/^it failed on every builder that may run it \(build3\)/);
    // A job that could run waits for the resume.
    expect(explainQueued(job('ok'), i, 0).summary).toMatch(/^the queue is paused by alice/);
  });

  test.each([
    ['grounded', null, 0, 'idle'], ['grounded', null, 2, 'building'], ['grounded', { by: 'a', at: 'x', reason: 'r', until: null }, 0, 'grounded'],
    ['idle', null, 0, 'idle'], ['draining', null, 1, 'draining'], [null, null, 0, null],
  ] as const)('displayState(%s, %j, %d) → %s', (reported, g, running, shown) => {
    expect(displayState(reported, g, running)).toBe(shown);
  });
});

describe('command line parsing', () => {
  test.each([
    { argv: ['jobs', 'add', '--typo'], msg: 'Unknown argument: typo', commands: ['jobs', 'add'], subs: [], message: 'Unknown argument: typo', help: 'coord jobs add --help' },
    { argv: ['mesages'], msg: 'Did you mean messages?', commands: [], subs: ['jobs', 'messages'], message: 'unknown command mesages; did you mean messages?', help: 'coord --help' },
    { argv: ['--repo', '/x', 'jobs', 'frob'], msg: 'Did you mean show?', commands: ['jobs'], subs: ['add', 'show'], message: 'unknown jobs command frob; did you mean show?', help: 'coord jobs --help' },
    { argv: ['queue', 'zzz'], msg: 'Unknown argument: zzz', commands: ['queue'], subs: ['pause', 'resume', 'status', '__yargs-completion'], message: 'unknown queue command zzz; the commands are pause, resume, status', help: 'coord queue --help' },
    // status has no subcommands: an extra word stays yargs' own message.
    { argv: ['status', 'foo'], msg: 'Unknown argument: foo', commands: ['status'], subs: [], message: 'Unknown argument: foo', help: 'coord status --help' },
  ])('usageFailure for coord $argv', ({ argv, msg, commands, subs, message, help }) => {
    expect(usageFailure(msg, commands, positionalWords(argv), subs)).toEqual({ message, help });
  });

  test('jobs add --priority 3 --priority 4: "--priority given twice", not a silent pick', () => {
    expect(onlyOnce('3', '--priority')).toBe('3');
    expect(onlyOnce(['3'], '--priority')).toBe('3');
    expect(onlyOnce(undefined, '--priority')).toBeUndefined();
    expect(() => onlyOnce(['3', '4'], '--priority')).toThrow(new CoordError('E_USAGE', '--priority given twice ("3", "4"); give it once'));
    expect(() => onlyOnce(['a', 'b', 'c'], '--until')).toThrow(/--until given 3 times/);
  });

  test('history --action nosuch: only known actions and families (and manual)', () => {
    for (const a of ['job', 'lock', 'job.claim', 'builder.ground', 'manual', 'migrate', 'jobs.archive']) expect([a, isKnownAction(a)]).toEqual([a, true]);
    for (const a of ['nosuch', 'job.', 'jobs.claim', 'lock.acquired', '']) expect([a, isKnownAction(a)]).toEqual([a, false]);
    expect(ACTION_FAMILIES).toEqual(['builder', 'edit', 'job', 'jobs', 'lock', 'message', 'queue', 'schedule']);
    expect(KNOWN_ACTIONS).toContain('message.send');
  });

  test('a builder filter naming build9 (not configured, in no data): not found; a removed builder with data: a warning', () => {
    expect(checkBuilderFilter('build2', '--about', ['build1', 'build2'], false, 'no commit')).toBeNull();
    expect(checkBuilderFilter('build9', '--about', [], false, 'no commit')).toBeNull(); // no config: nothing to check against
    expect(() => checkBuilderFilter('build9', '--assigned-to', ['build1', 'build2'], false, 'no job')).toThrow(
      new CoordError('E_NOT_FOUND', '--assigned-to build9: build9 is not a configured builder (shared/build_config.json has build1, build2), and no job names it'));
    expect(checkBuilderFilter('build9', '--about', ['build1'], true, 'no commit')).toMatch(/^--about build9: not a configured builder .*only what it did before shows$/);
  });
});
