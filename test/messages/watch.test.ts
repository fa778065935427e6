/**
 * Scenario: `coord messages watch` behaviour on real clones — the backlog on first start,
 * exactly once across runs, `--since`, `--mark-read`, local working-tree edits, and an
 * auto-responder whose replies (sent with `sm` inside `--exec`) carry `auto: true` and the
 * reply chain.
 */
import { jest } from '@jest/globals';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Message } from '../../lib/messages/model.js';
import { makeFleet, ROOT, type Fleet } from '../support/git-fixture.js';
import { COORD_BIN, coord, exited, MESSAGES, originMessages, sm, SM_BIN, startBin, waitFor } from './helpers.js';

// Real processes on a shared 2-core machine: generous, so load does not fail a correct run.
jest.setTimeout(120_000);

let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(3); });
afterAll(() => fleet?.cleanup());
const c = (b: string) => fleet.clones[b];

/** `coord messages watch --once --json` in print mode: the messages printed, one JSON per line. */
async function watchOnce(b: string, ...extra: string[]): Promise<Message[]> {
  const r = await coord(c(b), ['messages', 'watch', '--once', '--json', ...extra]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('watch: ') });
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Message);
}

test('first start skips the backlog; later runs deliver each new message once; own messages never', async () => {
  const backlog = (await sm(c('build1'), ['2', 'from before the watcher'])).stdout.trim();
  expect(await watchOnce('build2')).toEqual([]);
  const fresh = (await sm(c('build1'), ['2', 'new one'])).stdout.trim();
  const own = (await sm(c('build2'), ['all', 'my own broadcast'])).stdout.trim();
  const first = await watchOnce('build2');
  expect(first.map((m) => m.id)).toEqual([fresh]);
  expect(await watchOnce('build2')).toEqual([]); // exactly once across restarts
  expect([backlog, own]).not.toContain(first[0].id);
});

test('--since on first start delivers the backlog after it', async () => {
  const old = (await sm(c('build1'), ['3', 'waiting for build3'])).stdout.trim();
  const got = (await watchOnce('build3', '--since', '1h')).map((m) => m.id);
  expect(got).toContain(old); // and build2's broadcast of the first test
  expect(got).toHaveLength(2);
  expect(await watchOnce('build3')).toEqual([]);
});

test('--mark-read marks handed-over messages read on the remote', async () => {
  const id = (await sm(c('build3'), ['1', 'please mark me'])).stdout.trim();
  await watchOnce('build1', '--since', '1m', '--mark-read');
  expect(originMessages(fleet.origin).find((m) => m.id === id)!.read_by).toEqual(['build1']);
});

test('a message added to the working-tree messages.json by hand (atomic rename) is picked up', async () => {
  const file = path.join(c('build3'), MESSAGES);
  const watcher = startBin(COORD_BIN, ['messages', 'watch', '--json', '--interval', '30', '--poll', '0.5'], c('build3'));
  try {
    await waitFor(() => watcher.output().stderr.includes('watch: messages for build3'), 30_000, 'the watcher to start');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { messages: Message[] };
    doc.messages.push({
      id: 'msg-hand-edit-1', from: 'build1', to: 'build3', type: 'info', priority: 'normal', subject: 'by hand', body: 'added by an agent',
      timestamp: new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z'), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [],
    });
    writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
    await waitFor(() => watcher.output().stdout.includes('msg-hand-edit-1'), 15_000, 'the hand-added message');
  } finally {
    watcher.kill('SIGTERM');
    const code = await exited(watcher);
    expect({ code, stderr: watcher.output().stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  }
  expect(watcher.output().stdout.split('\n').filter((l) => l.includes('msg-hand-edit-1'))).toHaveLength(1);
});

test('an auto-responder answers once: its reply is auto with the reply chain, and is not answered back', async () => {
  const responder = ['--exec', '--', process.execPath, path.join(ROOT, 'test/messages/fixtures/reply-with-sm.mjs'), SM_BIN];
  // Both builders run the responder; build1's watcher must not answer build2's auto reply.
  await coord(c('build1'), ['messages', 'watch', '--once', ...responder]);
  await coord(c('build2'), ['messages', 'watch', '--once', ...responder]);
  const q = (await sm(c('build1'), ['2', 'status?'])).stdout.trim();
  const r2 = await coord(c('build2'), ['messages', 'watch', '--once', ...responder]);
  expect(r2.code).toBe(0);
  const reply = originMessages(fleet.origin).find((m) => m.in_reply_to === q);
  expect(reply).toMatchObject({ from: 'build2', to: 'build1', auto: true, subject: 're: status?' });
  const r1 = await coord(c('build1'), ['messages', 'watch', '--once', ...responder]);
  expect(r1.stderr).toMatch(new RegExp(`not handing ${reply!.id} from build2 to the command: sent automatically`));
  expect(originMessages(fleet.origin).filter((m) => m.in_reply_to === reply!.id)).toEqual([]);
});
