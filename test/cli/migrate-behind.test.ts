/**
 * `coord migrate` findings: `--dry-run` judged a stale working tree ("nothing to migrate"
 * while the remote had legacy shapes), and the real run said "committed <sha>" with no word
 * that the commit is local only. Now it fetches first and refuses (exit 4, nothing changed)
 * when the clone is behind the remote's main, and says the commit still has to be pushed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, useFleet } from '../support/git-fixture.js';
import { coord, originHead, queueJob } from '../support/operator.js';
import { fingerprintTree } from '../support/tree.js';

const JOBS = 'coordination/jobs.json';
const fx = useFleet(2);

test('behind the remote: migrate and migrate --dry-run refuse with exit 4 and change nothing', async () => {
  // build2 pushes a non-canonical (minified) jobs.json: something to migrate that build1 has not fetched.
  await queueJob(fx.b2, 'build2');
  gitSync(fx.b2, ['pull', '-q', '--ff-only', 'origin', 'main']);
  writeFileSync(path.join(fx.b2, JOBS), JSON.stringify(JSON.parse(readFileSync(path.join(fx.b2, JOBS), 'utf8'))));
  gitSync(fx.b2, ['commit', '-q', '--no-verify', '-am', 'minified']);
  gitSync(fx.b2, ['push', '-q', 'origin', 'main']);
  const head = originHead(fx.fleet.origin);

  for (const args of [['migrate', '--dry-run'], ['migrate']]) {
    const before = await fingerprintTree(fx.b1, { exclude: ['.git'] });
    const localHead = gitSync(fx.b1, ['rev-parse', 'HEAD']);
    const r = await coord(fx.b1, args);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain("your clone is behind the remote's main");
    expect(r.stderr).toContain('run coord sync first');
    expect(await fingerprintTree(fx.b1, { exclude: ['.git'] })).toEqual(before);
    expect(gitSync(fx.b1, ['rev-parse', 'HEAD'])).toBe(localHead);
  }
  expect(originHead(fx.fleet.origin)).toBe(head);

  expect((await coord(fx.b1, ['sync'])).exitCode).toBe(0);
  const dry = await coord(fx.b1, ['migrate', '--dry-run']);
  expect(dry.exitCode).toBe(0);
  expect(dry.stdout).toContain(`would rewrite ${JOBS}`);
  const run = await coord(fx.b1, ['migrate']);
  expect(run.exitCode).toBe(0);
  const sha = gitSync(fx.b1, ['rev-parse', 'HEAD']);
  expect(run.stdout).toContain(`committed ${sha.slice(0, 12)}\nthe commit is local only, not pushed yet: push it with git push (or coord sync)`);
  expect(originHead(fx.fleet.origin)).toBe(head);
});
