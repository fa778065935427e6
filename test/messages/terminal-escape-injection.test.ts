/**
 * Finding: terminal escape injection. A message body, job description or lock reason with
 * ESC/BEL sequences or bidi overrides reached the reader's terminal raw. Human output now
 * shows them as visible escapes; --json and the stored bytes keep the exact text.
 */
import { useFleet, originJson } from '../support/git-fixture.js';
import { coord, sm } from './helpers.js';

const EVIL = 'x \x1b]0;PWNED\x07 \x1b[2J \u202eevil\u2066';
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const fx = useFleet(2);

function expectSafe(text: string): void {
  expect(text).not.toMatch(UNSAFE);
}

test('message body: messages -l, read and thread show escapes; --json and the stored record keep the bytes', async () => {
  const sent = await sm(fx.b1, ['2', EVIL]);
  expect(sent.code).toBe(0);
  const id = sent.stdout.trim();
  const stored = (originJson(fx.fleet.origin, 'coordination/messages.json') as { messages: { id: string; body: string }[] }).messages.find((m) => m.id === id)!;
  expect(stored.body).toBe(EVIL);

  const list = await coord(fx.b2, ['messages', '-l']);
  expect(list.code).toBe(0);
  expectSafe(list.stdout + list.stderr);
  expect(list.stdout).toContain('x \\x1b]0;PWNED\\x07 \\x1b[2J \\u202eevil\\u2066');

  const json = await coord(fx.b2, ['messages', '--json']);
  expect((JSON.parse(json.stdout) as { messages: { body: string }[] }).messages[0].body).toBe(EVIL);

  const thread = await coord(fx.b2, ['messages', 'thread', id]);
  expect(thread.code).toBe(0);
  expectSafe(thread.stdout);
  expect(thread.stdout).toContain('\\x1b[2J');

  const read = await coord(fx.b2, ['messages', 'read', id]);
  expect(read.code).toBe(0);
  expectSafe(read.stdout + read.stderr);
  expect(read.stdout).toContain('\\u202eevil');
});

test('job description (jobs show) and lock reason (lock list) show escapes; --json keeps the bytes', async () => {
  const add = await coord(fx.b1, ['jobs', 'add', '--type', 'noop', '--description', EVIL]);
  expect(add.code).toBe(0);
  const id = add.stdout.trim();
  const show = await coord(fx.b1, ['jobs', 'show', id]);
  expect(show.code).toBe(0);
  expectSafe(show.stdout + show.stderr);
  expect(show.stdout).toContain('\\x1b]0;PWNED\\x07');
  const showJson = await coord(fx.b1, ['jobs', 'show', id, '--json']);
  expect((JSON.parse(showJson.stdout) as { job: { description: string } }).job.description).toBe(EVIL);

  const lock = await coord(fx.b1, ['lock', 'acquire', 'deploy', '--reason', EVIL]);
  expect(lock.code).toBe(0);
  const locks = await coord(fx.b2, ['lock', 'list']);
  expect(locks.code).toBe(0);
  expectSafe(locks.stdout + locks.stderr);
  expect(locks.stdout).toContain('\\x1b[2J');
  const locksJson = await coord(fx.b2, ['lock', 'list', '--json']);
  expect((JSON.parse(locksJson.stdout) as { locks: { reason: string }[] }).locks[0].reason).toBe(EVIL);
});
