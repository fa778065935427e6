/**
 * Finding: id abbreviations did not work as documented. `messages read 9027` (the start of
 * the random tail) said "not found", a part of several ids said "not found" instead of
 * "matches several", and job ids took no abbreviation at all. Now both accept any unique
 * part of at least 4 characters; ambiguous or too short is exit 2 (listing candidates),
 * no match exit 5, and a refused command changes nothing.
 */
import { makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { coord, originHead, queueJob } from '../support/operator.js';
import { sm } from '../messages/helpers.js';

let fleet: Fleet;
let b1: string, b2: string;
let msgA: string, msgB: string, jobA: string, jobB: string;
beforeAll(async () => {
  fleet = await makeFleet(2);
  b1 = fleet.clones.build1!;
  b2 = fleet.clones.build2!;
  msgA = (await sm(b1, ['2', 'first'])).stdout.trim();
  msgB = (await sm(b1, ['2', 'second'])).stdout.trim();
  jobA = await queueJob(b1, 'build1');
  jobB = await queueJob(b1, 'build1');
});
afterAll(() => fleet?.cleanup());

const tail = (id: string) => id.slice(-12);
const day = (id: string) => id.split('-')[1]; // shared by every id made today

type Msg = { id: string; read_by: string[] };
const readBy = (id: string) => (originJson(fleet.origin, 'coordination/messages.json') as { messages: Msg[] }).messages.find((m) => m.id === id)!.read_by;

test('messages read: the start of the random tail; ambiguous → 2 listing both; too short → 2; none → 5; nothing changes on refusal', async () => {
  const before = originHead(fleet.origin);
  const amb = await coord(b2, ['messages', 'read', day(msgA)]);
  expect(amb.exitCode).toBe(2);
  expect(amb.stderr).toContain('matches several messages');
  expect(amb.stderr).toContain(msgA);
  expect(amb.stderr).toContain(msgB);
  const short = await coord(b2, ['messages', 'read', tail(msgA).slice(0, 3)]);
  expect(short.exitCode).toBe(2);
  expect(short.stderr).toContain('at least 4 characters');
  const none = await coord(b2, ['messages', 'read', 'zzzzzz']);
  expect(none.exitCode).toBe(5);
  expect(originHead(fleet.origin)).toBe(before);

  const ok = await coord(b2, ['messages', 'read', tail(msgA).slice(0, 4)]);
  expect(ok.exitCode).toBe(0);
  expect(ok.stdout).toContain(`id:       ${msgA}`);
  expect(readBy(msgA)).toEqual(['build2']);
  expect(readBy(msgB)).toEqual([]);
});

test('messages thread takes a fragment too', async () => {
  const r = await coord(b2, ['messages', 'thread', tail(msgB).slice(2, 8)]);
  expect(r.exitCode).toBe(0);
  expect(r.stdout).toContain(msgB);
});

test('jobs show / cancel take a unique part; ambiguous → 2, too short → 2, none → 5, nothing changes on refusal', async () => {
  const show = await coord(b1, ['jobs', 'show', tail(jobA)]);
  expect(show.exitCode).toBe(0);
  expect(show.stdout).toContain(jobA);

  const before = originHead(fleet.origin);
  const amb = await coord(b1, ['jobs', 'cancel', day(jobA)]);
  expect(amb.exitCode).toBe(2);
  expect(amb.stderr).toContain('matches several jobs');
  expect(amb.stderr).toContain(jobB);
  expect((await coord(b1, ['jobs', 'show', 'abc'])).exitCode).toBe(2);
  expect((await coord(b1, ['jobs', 'cancel', 'ffffffffff99'])).exitCode).toBe(5);
  expect((await coord(b1, ['jobs', 'wait', 'ffffffffff99'])).exitCode).toBe(5);
  expect(originHead(fleet.origin)).toBe(before);

  const cancel = await coord(b1, ['jobs', 'cancel', tail(jobB).slice(0, 6)]);
  expect(cancel.exitCode).toBe(0);
  expect(cancel.stdout).toContain(`cancelled ${jobB}`);
  const wait = await coord(b1, ['jobs', 'wait', tail(jobB).slice(0, 6), '--timeout', '5']);
  expect(wait.exitCode).toBe(3); // cancelled: not completed
  expect(wait.stdout).toContain(`${jobB} cancelled`);
  const retry = await coord(b1, ['jobs', 'retry', tail(jobB)]);
  expect(retry.exitCode).toBe(0);
  expect(retry.stdout).toContain(`requeued ${jobB}`);
});
