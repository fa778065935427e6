/**
 * Bugs found by a fresh user: `coord --builder build9 heartbeat` (build9 not in
 * shared/build_config.json) exited 0 and committed build9/status.json, heartbeat.json and
 * refs/coord/heartbeats/build9 to the origin for good; `daemon --once` as build7 wrote
 * build7/ and then looped on "job.claim would write invalid data". And an operator whose
 * USER was not a valid name acted as a silently mangled name ("a b;$(id)" → "abid").
 * Commands that act AS a builder now refuse an unconfigured one before writing anything
 * (exit 2); an invalid USER is refused (exit 2), naming it.
 */
import path from 'node:path';
import { runCoordCli, type CliResult } from '../support/cli.js';
import { gitSync, hermeticEnv, makeFleet, type Fleet } from '../support/git-fixture.js';
import { fingerprintTree } from '../support/tree.js';

let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(3); });
afterAll(() => fleet?.cleanup());

/** Every ref of the origin with its commit: a push of anything changes it. */
const originRefs = () => gitSync(fleet.origin, ['for-each-ref', '--format=%(refname) %(objectname)']);

function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  // No /etc/build_server_id of the machine: identity only from what the test gives.
  return runCoordCli(args, { cwd: fleet.clones.build2, env: { ...hermeticEnv(), COORD_ETC_BUILD_SERVER_ID: path.join(fleet.dir, 'no-such-file'), ...env } });
}

const NOT_CONFIGURED = (b: string) => new RegExp(`${b} is not a configured builder \\(shared/build_config.json has build1, build2, build3; ${b} came from [^)]+\\): fix --builder / COORD_BUILDER / .build_server_id, or add it to shared/build_config.json`);

test.each([
  ['heartbeat', ['--builder', 'build9', 'heartbeat'], {}, 'build9'],
  ['daemon --once', ['--builder', 'build7', 'daemon', '--once'], {}, 'build7'],
  ['daemon --once (COORD_BUILDER)', ['daemon', '--once'], { COORD_BUILDER: 'build8' }, 'build8'],
])('%s as a builder that is not configured: exit 2, nothing written on the origin or in the clone', async (_name, args, env, b) => {
  const refs = originRefs();
  const before = await fingerprintTree(fleet.clones.build2);
  const r = await run(args, env);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(NOT_CONFIGURED(b));
  expect(originRefs()).toBe(refs);
  expect(await fingerprintTree(fleet.clones.build2)).toEqual(before);
});

test.each([
  ['jobs claim', ['--builder', 'build9', 'jobs', 'claim']],
  ['jobs complete', ['--builder', 'build9', 'jobs', 'complete', 'job-x', '--status', 'completed']],
])('%s as a builder that is not configured: exit 2, nothing written', async (_name, args) => {
  const refs = originRefs();
  const before = await fingerprintTree(fleet.clones.build2);
  const r = await run(args);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toMatch(/build9 is not a configured builder \(shared\/build_config.json has build1, build2, build3; build9 came from --builder\): fix --builder/);
  expect(originRefs()).toBe(refs);
  expect(await fingerprintTree(fleet.clones.build2)).toEqual(before);
});

describe('an operator on a machine that is not a builder acts as $USER', () => {
  let clone: string;
  beforeAll(() => {
    clone = path.join(fleet.dir, 'person');
    gitSync(fleet.dir, ['clone', '-q', fleet.origin, clone]);
  });
  const asPerson = (args: string[], user: string) => runCoordCli(args, { cwd: clone, env: { ...hermeticEnv(), COORD_ETC_BUILD_SERVER_ID: path.join(fleet.dir, 'no-such-file'), USER: user, LOGNAME: user } });

  test('a USER that is not a valid actor name is refused (exit 2) naming it; nothing written', async () => {
    const refs = originRefs();
    const before = await fingerprintTree(clone);
    const r = await asPerson(['jobs', 'add', '--type', 'noop'], 'a b;$(id)');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('USER is "a b;$(id)", which is not a valid actor name');
    expect(r.stderr).toMatch(/run with a valid USER .*or pass --builder buildN on a builder/);
    expect(originRefs()).toBe(refs);
    expect(await fingerprintTree(clone)).toEqual(before);
  });

  test('a valid USER is recorded as written', async () => {
    const r = await asPerson(['--json', 'jobs', 'add', '--type', 'noop'], 'alice.o-b');
    expect(r.exitCode).toBe(0);
    const id = (JSON.parse(r.stdout) as { id?: string; job?: { id: string } }).id ?? (JSON.parse(r.stdout) as { job: { id: string } }).job.id;
    const jobs = JSON.parse(gitSync(fleet.origin, ['show', 'main:coordination/jobs.json'])) as { jobs: { id: string; created_by: string }[] };
    expect(jobs.jobs.find((j) => j.id === id)?.created_by).toBe('alice.o-b');
  });
});
