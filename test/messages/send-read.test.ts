/**
 * Scenario: sending and reading against a bare origin with clones for build1..build4, with
 * the real `sm` and `coord` programs (issue 4 "Done when").
 */
import { jest } from '@jest/globals';
import type { Message } from '../../lib/messages/model.js';
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { coord, coordJson, inbox, MESSAGES, originHead, originMessages, pushRawFile, runBin, SENDMESSAGES_BIN, sm } from './helpers.js';

// Real processes on a shared 2-core machine: generous, so load does not fail a correct run.
jest.setTimeout(120_000);

let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(4); });
afterAll(() => fleet?.cleanup());
const c = (b: string) => fleet.clones[b];

test('sm 2 "acked" from build1 appears exactly once in build2\'s coord messages, not in build3\'s', async () => {
  const r = await sm(c('build1'), ['2', 'acked']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const id = r.stdout.trim();
  expect(id).toMatch(/^msg-\d{8}-\d{6}-build1-[0-9a-f]+$/);
  const two = await inbox(c('build2'));
  expect(two.filter((m) => m.id === id)).toHaveLength(1);
  expect(two.find((m) => m.id === id)).toMatchObject({ from: 'build1', to: 'build2', subject: 'acked', body: 'acked', type: 'info', priority: 'normal', read_by: [] });
  expect((await inbox(c('build3'))).map((m) => m.id)).not.toContain(id);
  // The commit names the id and the target, never the text.
  const log = gitSync(fleet.origin, ['log', '-1', '--format=%B', 'main']);
  expect(log).toContain(`message.send ${id} to build2`);
  expect(log).toContain(`Coord-Message-Id: ${id}`);
  expect(log).not.toMatch(/acked/);
});

test('sm all reaches every builder, and each reads it independently (per-recipient read_by)', async () => {
  const id = (await sendmessages(c('build1'), ['all', 'rollout', 'done'])).trim();
  for (const b of ['build2', 'build3', 'build4']) expect((await inbox(c(b))).map((m) => m.id)).toContain(id);
  expect((await inbox(c('build1'))).map((m) => m.id)).not.toContain(id); // not to its sender
  const read = await coord(c('build2'), ['messages', 'read', id.slice(-8)]);
  expect(read.code).toBe(0);
  expect(read.stdout).toContain('rollout done');
  expect((await inbox(c('build2'))).map((m) => m.id)).not.toContain(id);
  expect((await inbox(c('build3'))).map((m) => m.id)).toContain(id);
  await coordJson(c('build3'), ['messages', 'read', id]);
  expect(originMessages(fleet.origin).find((m) => m.id === id)!.read_by).toEqual(['build2', 'build3']);
  expect((await inbox(c('build4'))).map((m) => m.id)).toContain(id);
});

async function sendmessages(cwd: string, args: string[]): Promise<string> {
  const r = await runBin(SENDMESSAGES_BIN, args, { cwd });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return r.stdout;
}

test('shell metacharacters arrive byte-exact, as words and through standard input', async () => {
  const nasty = '$(rm -rf ~) `touch /tmp/pwned` ; | & && || > /tmp/x < /etc/passwd "dq" \'sq\' \\ * ? [a] {b,c} ~ # !';
  const asWords = await sm(c('build1'), ['3', '--', nasty]);
  expect(asWords.code).toBe(0);
  const stdinText = `${nasty}\n  second line\t tab\n`;
  const viaStdin = await sm(c('build1'), ['3', '-'], { input: stdinText });
  expect(viaStdin.code).toBe(0);
  const got = new Map((await inbox(c('build3'))).map((m) => [m.id, m]));
  expect(got.get(asWords.stdout.trim())!.body).toBe(nasty);
  expect(got.get(viaStdin.stdout.trim())!.body).toBe(stdinText.replace(/\n$/, ''));
});

test('options anywhere, -- ends them; --json prints the record; --dry-run writes nothing', async () => {
  const json = await sm(c('build2'), ['--type', 'warning', '14', 'disk', '--priority', 'high', 'almost', 'full', '--require-ack', '--json', '--', '--dry-run', 'is', 'text']);
  expect(json.code).toBe(0);
  const doc = JSON.parse(json.stdout) as { ok: boolean; message: Message; recipients: string[] };
  expect(doc.message).toMatchObject({ to: ['build1', 'build4'], type: 'warning', priority: 'high', ack_required: true, body: 'disk almost full --dry-run is text' });
  const before = originHead(fleet.origin);
  const dry = await sm(c('build2'), ['1', 'not', 'sent', '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('not sent');
  expect(dry.stderr).toContain('nothing was sent');
  expect(originHead(fleet.origin)).toBe(before);
});

test('reply, thread and ack', async () => {
  const q = (await sm(c('build1'), ['2', 'deploy?', '--require-ack', '--type', 'request'])).stdout.trim();
  const reply = await coordJson<{ message: Message }>(c('build2'), ['messages', 'reply', q, 'deploying', 'now']);
  expect(reply.message).toMatchObject({ from: 'build2', to: 'build1', in_reply_to: q, subject: 'deploying now' });
  // Replying marked the question read by build2 (it is no longer unread there).
  expect((await inbox(c('build2'))).map((m) => m.id)).not.toContain(q);
  const viaSm = (await sm(c('build1'), ['2', 'thanks', '--reply-to', reply.message.id])).stdout.trim();
  const thread = await coordJson<{ messages: (Message & { depth: number })[] }>(c('build3'), ['messages', 'thread', viaSm]);
  expect(thread.messages.map((m) => [m.id, m.depth])).toEqual([[q, 0], [reply.message.id, 1], [viaSm, 2]]);
  // Words after -- are text, as for sm (they were silently dropped).
  const dashed = await coord(c('build2'), ['--json', 'messages', 'reply', q, 'done', '--', '--force', 'was', 'not', 'needed']);
  expect(dashed.code).toBe(0);
  expect((JSON.parse(dashed.stdout) as { message: Message }).message.body).toBe('done --force was not needed');
  const ack = await coordJson<{ acked: string[] }>(c('build2'), ['messages', 'ack', q]);
  expect(ack.acked).toEqual([q]);
  expect(originMessages(fleet.origin).find((m) => m.id === q)).toMatchObject({ acked_by: ['build2'], read_by: ['build2'] });
});

test('a legacy record with a single read flag counts as read by its addressee', async () => {
  const current = JSON.parse(gitSync(fleet.origin, ['show', `main:${MESSAGES}`])) as { messages: unknown[] };
  current.messages.push(
    { id: 'legacy-read', from: 'build1', to: 'build4', subject: 'old', body: 'old', timestamp: '2025-11-04 20:45', read: true },
    { id: 'legacy-unread', from: 'build1', to: 'build4', subject: 'old2', body: 'old2', timestamp: '2025-11-04 20:46', read: false },
  );
  pushRawFile(fleet.dir, fleet.origin, MESSAGES, JSON.stringify(current, null, 2) + '\n');
  const ids = (await inbox(c('build4'))).map((m) => m.id);
  expect(ids).toContain('legacy-unread');
  expect(ids).not.toContain('legacy-read');
});

test('retention: coord messages archive moves old messages read by all; --archived finds them', async () => {
  const current = JSON.parse(gitSync(fleet.origin, ['show', `main:${MESSAGES}`])) as { messages: Record<string, unknown>[] };
  const old = (id: string, readBy: string[]) => ({
    id, from: 'build3', to: 'all', type: 'info', priority: 'normal', subject: `${id} subject`, body: `${id} findme`,
    timestamp: '2025-01-15T10:00:00Z', ack_required: false, read_by: readBy, acked_by: [], in_reply_to: null, tags: [],
  });
  current.messages.push(old('old-read', ['build1', 'build2', 'build4']), old('old-unread', ['build1']));
  pushRawFile(fleet.dir, fleet.origin, MESSAGES, JSON.stringify(current, null, 2) + '\n');
  const dry = await coordJson<{ moved: string[] }>(c('build1'), ['messages', 'archive', '--dry-run']);
  expect(dry.moved).toContain('old-read');
  const r = await coordJson<{ moved: string[]; files: string[] }>(c('build1'), ['messages', 'archive']);
  expect(r.moved).toContain('old-read');
  expect(r.moved).not.toContain('old-unread');
  expect(r.files).toContain('coordination/archive/messages-2025-01.json');
  const ids = originMessages(fleet.origin).map((m) => m.id);
  expect(ids).toContain('old-unread');
  expect(ids).not.toContain('old-read');
  const archive = JSON.parse(gitSync(fleet.origin, ['show', 'main:coordination/archive/messages-2025-01.json'])) as Record<string, unknown>;
  expect(archive).toMatchObject({ $schema: '../../schemas/archive.schema.json', kind: 'messages', month: '2025-01' });
  const found = await coordJson<{ messages: Message[] }>(c('build2'), ['messages', '--archived', '--grep', 'FINDME']);
  expect(found.messages.map((m) => m.id)).toEqual(['old-read']);
  const validate = await coord(c('build1'), ['validate']);
  expect(validate.code).toBe(0);
});
