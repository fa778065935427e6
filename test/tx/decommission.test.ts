/**
 * Bug (third trial): removing a builder from shared/build_config.json was committed by
 * `coord sync --commit`, then made coordination/jobs.json invalid on main (jobs naming the
 * removed builder) and every transaction of the fleet refused. Finished jobs are history now;
 * a change that would strand a running job is refused before anything is pushed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { claimAs, completeAs, coord, originHead, queueJob } from '../support/operator.js';

const CONFIG = 'shared/build_config.json';
let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(3); });
afterAll(() => fleet?.cleanup());

const removeBuilder = (clone: string, b: string): void => {
  const file = path.join(clone, CONFIG);
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as { builders: Record<string, unknown> };
  delete cfg.builders[b];
  writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
};

test('a config change that would leave a running job on an unconfigured builder is refused, nothing pushed', async () => {
  const b1 = fleet.clones.build1;
  const id = await queueJob(b1, 'build1');
  await claimAs(b1, 'build3', id);
  expect((await coord(b1, ['sync'])).exitCode).toBe(0);
  removeBuilder(b1, 'build3');
  const head = originHead(fleet.origin);
  const r = await coord(b1, ['sync', '--commit']);
  expect(r.exitCode).toBe(3);
  expect(r.stderr).toMatch(/coordination\/jobs\.json: \/jobs\/\d+\/assigned_to: .*"build3" is not a configured builder.*\(made invalid by this change to shared\/build_config\.json\)/);
  expect(originHead(fleet.origin)).toBe(head);
  gitSync(b1, ['checkout', '--', CONFIG]);
});

test('once its jobs have ended, the builder is removed and the fleet goes on (jobs still add and validate)', async () => {
  const b1 = fleet.clones.build1;
  const running = JSON.parse(gitSync(fleet.origin, ['show', 'main:coordination/jobs.json'])) as { jobs: { id: string; status: string; attempt: number }[] };
  for (const j of running.jobs.filter((x) => x.status === 'running')) await completeAs(b1, 'build3', j.id, j.attempt, 'completed');
  expect((await coord(b1, ['sync'])).exitCode).toBe(0);
  removeBuilder(b1, 'build3');
  const r = await coord(b1, ['sync', '--commit']);
  expect(r.exitCode).toBe(0);
  expect((await coord(b1, ['validate'])).exitCode).toBe(0);
  expect((await coord(b1, ['jobs', 'add', '--type', 'noop'])).exitCode).toBe(0);
  expect((await coord(b1, ['status'])).exitCode).toBe(0);
});
