/**
 * shared/health_dashboard.json: built from the model, valid against its schema, written
 * atomically and only when something other than `generated_at` changed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildHealthDashboard, validateHealthDashboard, writeHealthDashboard } from '../../lib/dashboard/aggregate.js';
import { buildDashboardModel } from '../../lib/dashboard/model.js';
import { checkCoordinationFile } from '../../lib/store/check.js';
import { DEFAULT_POLICY } from '../../lib/config/policy.js';
import type { HealthDashboardFile } from '../../lib/schemas/types.gen.js';
import { fingerprintTree, makeCoordTree, removeTree } from '../support/tree.js';
import { fixtureData, NOW, sighting } from './fixture.js';

const REL = 'shared/health_dashboard.json';

describe('health_dashboard.json', () => {
  let root: string;
  beforeEach(async () => { root = await makeCoordTree({ builders: 4, prefix: 'coord-dash-agg-' }); });
  afterEach(async () => { await removeTree(root); });

  const docAt = (now: number, over: Parameters<typeof fixtureData>[0] = {}) => {
    const d = fixtureData(over);
    d.fleet.now = now;
    for (const h of Object.values(d.fleet.heartbeats)) if (h) h.seen = { ...h.seen, first_seen: h.seen.first_seen + (now - NOW) };
    return buildHealthDashboard(buildDashboardModel(d));
  };

  test('the document of the fixture fleet validates against schemas/health_dashboard.schema.json', () => {
    const doc = docAt(NOW);
    expect(doc).toMatchObject({
      $schema: '../schemas/health_dashboard.schema.json', generated_at: '2026-11-30T12:00:00Z',
      builders: {
        build1: { health: 'healthy', state: 'building', current_job: 'job-run', cpu_percent: 38, memory_percent: 25, disk_free_mb: 40000, reason: null },
        build2: { health: 'stale', reason: 'no heartbeat change seen since the one stamped 2026-11-30T12:00:00Z' },
        build3: { health: 'offline' },
        build4: { health: 'grounded', reason: 'grounded by alice: disk <b>failing</b>' },
      },
      queue: { blocked: 1, completed: 2, failed: 1, queued: 2, running: 1 }, locks_held: 1, unread_messages: 1,
    });
    const r = checkCoordinationFile(REL, Buffer.from(JSON.stringify(doc)), { builders: ['build1', 'build2', 'build3', 'build4'], policy: DEFAULT_POLICY, now: NOW });
    expect(r.issues).toEqual([]);
    expect(r.ok).toBe(true);
  });

  test('an invalid document is refused with E_INVALID and nothing is written', async () => {
    const before = await fingerprintTree(root);
    const bad = { ...docAt(NOW), builders: { build1: { health: 'splendid' } } } as unknown as HealthDashboardFile;
    expect(() => validateHealthDashboard(bad)).toThrow(expect.objectContaining({ code: 'E_INVALID' }));
    await expect(writeHealthDashboard(root, bad)).rejects.toMatchObject({ code: 'E_INVALID' });
    expect(await fingerprintTree(root)).toEqual(before);
  });

  test('written when the content changes; not rewritten when only generated_at would change', async () => {
    const first = await writeHealthDashboard(root, docAt(NOW));
    expect(first).toEqual({ path: REL, written: true, replacedUnreadable: false });
    const text = await fs.readFile(path.join(root, REL), 'utf8');
    expect(JSON.parse(text)).toEqual(docAt(NOW));
    expect(text.endsWith('}\n')).toBe(true);
    const before = await fingerprintTree(root);
    // A minute later, same fleet: ages moved on, the summary did not.
    expect(await writeHealthDashboard(root, docAt(NOW + 60_000))).toMatchObject({ written: false });
    expect(await fingerprintTree(root)).toEqual(before);
    // A builder's health changed: written.
    const changed = docAt(NOW + 120_000, { fleet: { heartbeats: { build1: sighting('build1', 5), build2: sighting('build2', 5), build3: sighting('build3', 900), build4: sighting('build4', 10) } } });
    expect(await writeHealthDashboard(root, changed)).toMatchObject({ written: true });
    expect(JSON.parse(await fs.readFile(path.join(root, REL), 'utf8'))).toMatchObject({ generated_at: '2026-11-30T12:02:00Z', builders: { build2: { health: 'healthy' } } });
  });

  test('key order in a hand-edited file is no change; an unreadable file is replaced and said so', async () => {
    const doc = docAt(NOW);
    const reordered = Object.fromEntries(Object.entries(doc).reverse());
    await fs.writeFile(path.join(root, REL), JSON.stringify(reordered, null, 4));
    expect(await writeHealthDashboard(root, docAt(NOW + 5000))).toMatchObject({ written: false });
    await fs.writeFile(path.join(root, REL), '{ not json');
    expect(await writeHealthDashboard(root, doc)).toEqual({ path: REL, written: true, replacedUnreadable: true });
  });

  test('a symbolic link in its place is refused (E_INVALID) and left alone', async () => {
    const target = path.join(root, 'elsewhere.json');
    await fs.writeFile(target, '{}\n');
    await fs.rm(path.join(root, REL));
    await fs.symlink(target, path.join(root, REL));
    const before = await fingerprintTree(root);
    await expect(writeHealthDashboard(root, docAt(NOW))).rejects.toMatchObject({ code: 'E_INVALID' });
    expect(await fingerprintTree(root)).toEqual(before);
  });
});
