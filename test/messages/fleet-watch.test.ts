/**
 * Scenario (issue 4 "Done when"): 4 builders send 25 messages each at the same moment
 * (real `sm` processes) and none is lost; meanwhile `coord messages watch --exec` on build2
 * hands each message for build2 to its command exactly once — also across a crash
 * (SIGKILL mid-way) and restart of the watcher. A second watcher is refused, naming the
 * first; auto messages and build2's own are not handed over; text arrives byte-exact.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeFleet, ROOT, type Fleet } from '../support/git-fixture.js';
import { COORD_BIN, coord, exited, originMessages, sm, startBin, waitFor } from './helpers.js';

const RECORD = path.join(ROOT, 'test/messages/fixtures/record-delivery.mjs');
const PER_BUILDER = 25;
const BUILDERS = ['build1', 'build2', 'build3', 'build4'];

let fleet: Fleet;
beforeAll(async () => { fleet = await makeFleet(4); });
afterAll(() => fleet?.cleanup());

interface Delivery { id: string; auto: string; builder: string; same: boolean; body: string; stdin_ends_with_newline: boolean }

function deliveries(file: string): Delivery[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Delivery);
}

test('4 × 25 concurrent sends lose none; watch --exec on build2 delivers each once, across a crash and restart', async () => {
  const file = path.join(fleet.dir, 'deliveries.jsonl');
  const watchArgs = ['messages', 'watch', '--interval', '1', '--poll', '0.5', '--exec', '--', process.execPath, RECORD, file, '40'];
  const start = () => startBin(COORD_BIN, watchArgs, fleet.clones.build2);
  let watcher = start();
  await waitFor(() => watcher.output().stderr.includes('watch: messages for build2'), 30_000, 'the watcher to start');

  // One watcher per builder: a second one is refused, naming the first.
  const second = await coord(fleet.clones.build2, ['messages', 'watch', '--once']);
  expect(second.code).toBe(4);
  expect(second.stderr).toMatch(new RegExp(`another watcher for build2 is running: pid ${watcher.pid}`));

  const nasty = '$(touch /tmp/coord-pwned) `id` ; | & > /tmp/x "q" \'s\' \\n';
  const special = await sm(fleet.clones.build4, ['2', '--', nasty]);
  const auto = await sm(fleet.clones.build3, ['2', '--auto', 'canned reply']);
  expect([special.code, auto.code]).toEqual([0, 0]);

  // Crash the watcher mid-way (SIGKILL, no chance to clean up), then start a new one.
  let atCrash = -1;
  const crash = (async () => {
    await waitFor(() => deliveries(file).length >= 15, 150_000, '15 deliveries before the crash');
    watcher.kill('SIGKILL');
    await exited(watcher);
    atCrash = deliveries(file).length;
    watcher = start();
  })();

  // The fleet sends at once: one sequence of real `sm` processes per builder.
  const sends = BUILDERS.map(async (b) => {
    const ids: string[] = [];
    for (let i = 0; i < PER_BUILDER; i++) {
      const r = await sm(fleet.clones[b], ['all', `${b} message ${i}`], { timeoutMs: 60_000 });
      // The SIGKILLed watcher may have held build2's clone lock: sm then says it waits for it.
      const stderr = r.stderr.split('\n').filter((l) => l && !/^waiting for the clone lock .*\(held by pid \d+/.test(l)).join('\n');
      expect({ b, i, code: r.code, stderr }).toEqual({ b, i, code: 0, stderr: '' });
      ids.push(r.stdout.trim());
    }
    return ids;
  });
  const sentBy = await Promise.all(sends);
  await crash;

  // None lost: every id on the origin exactly once.
  const onOrigin = originMessages(fleet.origin).map((m) => m.id);
  const all = sentBy.flat();
  expect(all).toHaveLength(4 * PER_BUILDER);
  for (const id of all) expect(onOrigin.filter((x) => x === id)).toHaveLength(1);

  // Every message for build2 (all but its own 25, plus the special one) handed over once.
  const expected = [...sentBy[0], ...sentBy[2], ...sentBy[3], special.stdout.trim()];
  expect(atCrash).toBeGreaterThan(0);
  expect(atCrash).toBeLessThan(expected.length); // the crash came mid-way
  await waitFor(() => new Set(deliveries(file).map((d) => d.id)).size >= expected.length, 60_000, `${expected.length} deliveries`);
  await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up
  watcher.kill('SIGTERM');
  const code = await exited(watcher);
  expect({ code, stderr: watcher.output().stderr }).toEqual({ code: 0, stderr: expect.any(String) });

  const got = deliveries(file);
  const counts = new Map<string, number>();
  for (const d of got) counts.set(d.id, (counts.get(d.id) ?? 0) + 1);
  expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(new Set(counts.keys())).toEqual(new Set(expected));
  expect(counts.has(auto.stdout.trim())).toBe(false); // auto messages are not handed to --exec
  for (const id of sentBy[1]) expect(counts.has(id)).toBe(false); // nor build2's own
  for (const d of got) expect(d).toMatchObject({ auto: '1', builder: 'build2', same: true, stdin_ends_with_newline: true });
  expect(got.find((d) => d.id === special.stdout.trim())!.body).toBe(nasty);
  expect(existsSync('/tmp/coord-pwned')).toBe(false);
}, 300_000);
