/**
 * Bug (found by `coord demo`): `sm` on a builder failed with E_GIT "cannot lock ref
 * 'refs/remotes/origin/main': is at X but expected Y" because the builder's daemon fetched
 * into the same tracking ref at the same moment (its tick fetches outside the local lock).
 * Concurrent fetches of one clone must all succeed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fetchBranch, DEFAULT_REMOTE } from '../../lib/git/repo.js';
import { cloneFor, gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';

let fleet: Fleet;
afterEach(() => fleet?.cleanup());

test('concurrent fetches into one tracking ref while the remote moves: none fails (cannot lock ref)', async () => {
  fleet = await makeFleet(1);
  const writer = cloneFor(fleet.dir, fleet.origin, 'build1', 'writer');
  const clone = fleet.clones.build1;
  const failures: string[] = [];
  for (let round = 0; round < 15; round++) {
    writeFileSync(path.join(writer, 'build1/logs/x.log'), `round ${round}\n`);
    gitSync(writer, ['add', '-A']);
    gitSync(writer, ['commit', '-qm', `round ${round}`]);
    gitSync(writer, ['push', '-q', 'origin', 'main']);
    const results = await Promise.all(Array.from({ length: 6 }, () => fetchBranch(clone, DEFAULT_REMOTE)));
    for (const r of results) if (r) failures.push(r.stderr.trim());
  }
  expect(failures).toEqual([]);
  expect(gitSync(clone, ['rev-parse', 'refs/remotes/origin/main'])).toBe(gitSync(writer, ['rev-parse', 'HEAD']));
}, 60_000);
