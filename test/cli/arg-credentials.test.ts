/**
 * Bug (verification of the third trial): `jobs add --description/--param`, `lock acquire
 * --reason`, `builder ground --reason` pushed credentials unchecked, though the same text
 * typed into jobs.json by hand, or sent with sm, is refused. Each now refuses (exit 2),
 * names the option, never echoes the secret, and pushes nothing; COORD_ALLOW_SECRET=1 lets
 * a false alarm through.
 */
import { makeFleet, type Fleet } from '../support/git-fixture.js';
import { coord, originHead } from '../support/operator.js';

// Split so this file does not itself look like it holds a credential.
const AWS = ['AKIA', 'Z7Q2KXW4M9PLR3TB'].join('');
const PASSWORD = ['db pass', 'word = "hunter2super', 'secretvalue"'].join('');

let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(2); });
afterAll(() => fleet?.cleanup());

test.each([
  ['jobs add --description', ['jobs', 'add', '--type', 'noop', '--description', `deploy with ${AWS}`], '--description'],
  ['jobs add --param', ['jobs', 'add', '--type', 'noop', '--param', `DB=${PASSWORD}`], '--param DB'],
  ['lock acquire --reason', ['lock', 'acquire', 'deploy', '--reason', PASSWORD], '--reason'],
  ['builder ground --reason', ['builder', 'ground', 'build2', '--reason', `key ${AWS}`], '--reason'],
  ['queue pause --reason', ['queue', 'pause', '--reason', PASSWORD], '--reason'],
])('%s carrying a credential: exit 2, option named, secret not echoed, nothing pushed', async (_name, args, option) => {
  const head = originHead(fleet.origin);
  const r = await coord(fleet.clones.build1, args);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain(`${option} looks like it carries a credential`);
  expect(r.stderr).toContain('COORD_ALLOW_SECRET=1');
  expect(r.stderr).not.toContain(AWS);
  expect(r.stderr).not.toContain('hunter2');
  expect(originHead(fleet.origin)).toBe(head);
});

test('COORD_ALLOW_SECRET=1 lets it through', async () => {
  const r = await coord(fleet.clones.build1, ['jobs', 'add', '--type', 'noop', '--description', `deploy with ${AWS}`], { env: { COORD_ALLOW_SECRET: '1' } });
  expect(r.exitCode).toBe(0);
});
