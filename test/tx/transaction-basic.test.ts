import { runTransaction } from '../../lib/tx/transaction.js';
import { gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';

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
