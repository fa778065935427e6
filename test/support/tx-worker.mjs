// A real process that runs transactions through the compiled engine (dist/), for
// concurrency scenarios: appends `count` distinct messages as `actor`.
// Usage: node tx-worker.mjs REPO ACTOR COUNT
import { runTransaction } from '../../dist/tx/transaction.js';

const [repo, actor, countText] = process.argv.slice(2);
const count = Number(countText);
let retries = 0;
for (let i = 0; i < count; i++) {
  const id = `msg-${actor}-${i}`;
  const out = await runTransaction({
    repoRoot: repo, actor, action: 'test.append', paths: ['coordination/messages.json'],
    maxAttempts: 50,
    mutate: (state, now) => {
      const doc = structuredClone(state.files.get('coordination/messages.json'));
      doc.messages.push({
        id, from: actor, to: 'all', type: 'info', priority: 'normal', subject: `n ${i}`, body: `n ${i}`,
        timestamp: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
        ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [],
      });
      return { kind: 'commit', writes: new Map([['coordination/messages.json', doc]]), summary: id, result: id };
    },
  });
  retries += out.attempts - 1;
}
process.stdout.write(JSON.stringify({ actor, count, retries }) + '\n');
