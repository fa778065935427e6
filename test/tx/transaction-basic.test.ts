import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { runTransaction } from '../../lib/tx/transaction.js';
import { cloneFor, gitSync, hermeticEnv, makeFleet, originJson, ROOT, type Fleet } from '../support/git-fixture.js';

const run = promisify(execFile);
let fleet: Fleet;
afterEach(() => fleet?.cleanup());

function appendMessage(id: string) {
  return (state: { files: ReadonlyMap<string, unknown> }, now: number) => {
    const doc = structuredClone(state.files.get('coordination/messages.json')) as { messages: unknown[] };
    doc.messages.push({
      id, from: 'build1', to: 'all', type: 'info', priority: 'normal', subject: id, body: id,
      timestamp: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [],
    });
    return { kind: 'commit' as const, writes: new Map([['coordination/messages.json', doc]]), summary: id, result: id };
  };
}

test('a transaction commits on top of the remote main and fast-forwards a clean clone', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const out = await runTransaction({ repoRoot: c, actor: 'build1', action: 'test.append', paths: ['coordination/messages.json'], mutate: appendMessage('m1') });
  expect(out.status).toBe('committed');
  const doc = originJson(fleet.origin, 'coordination/messages.json') as { messages: { id: string }[] };
  expect(doc.messages.map((m) => m.id)).toEqual(['m1']);
  expect(gitSync(c, ['rev-parse', 'HEAD'])).toBe(gitSync(fleet.origin, ['rev-parse', 'main']));
  expect(gitSync(fleet.origin, ['log', '-1', '--format=%B', 'main'])).toContain('Coord-Action: test.append');
});

test('N processes x M transactions: every record lands exactly once', async () => {
  fleet = await makeFleet(4);
  const worker = path.join(ROOT, 'test/support/tx-worker.mjs');
  const N = 4, M = 25;
  // Two processes share build1's clone (serialised by the local lock); the others have their own.
  const extra = cloneFor(fleet.dir, fleet.origin, 'build1', 'build1-b');
  const repos = [fleet.clones.build1, extra, fleet.clones.build2, fleet.clones.build3];
  const results = await Promise.all(repos.slice(0, N).map((r, i) => run('node', [worker, r, `build${i + 1}`, String(M)], { env: hermeticEnv() })));
  expect(results.length).toBe(N);
  const doc = originJson(fleet.origin, 'coordination/messages.json') as { messages: { id: string }[] };
  const ids = doc.messages.map((m) => m.id);
  expect(ids.length).toBe(N * M);
  expect(new Set(ids).size).toBe(N * M);
}, 180_000);
