/**
 * Deterministic formatting (lib/store/canonical.ts): `$schema` first, then keys in the
 * order of the file's schema `properties` (through `$ref`s and the archive's then/else),
 * unknown keys kept after them in their own order, 2-space indent, trailing newline,
 * idempotent.
 */
import { serializeDocument } from '../../lib/store/canonical.js';
import type { FileKind } from '../../lib/store/kinds.js';

type Obj = Record<string, unknown>;
const keysOf = (text: string, ...path: (string | number)[]): string[] => {
  let v: unknown = JSON.parse(text);
  for (const p of path) v = (v as Obj)[p as string];
  return Object.keys(v as Obj);
};

describe('serializeDocument', () => {
  test('top-level keys: $schema first, then the schema order, then unknown keys', () => {
    const text = serializeDocument('jobs', { zzz_site: 1, jobs: [], paused: null, $schema: '../schemas/jobs.schema.json', aaa_site: 2 });
    expect(keysOf(text)).toEqual(['$schema', 'paused', 'jobs', 'zzz_site', 'aaa_site']);
  });

  test('records follow the record schema (through $ref into common.schema.json)', () => {
    const job = { status: 'queued', x_note: 'kept', created_at: '2025-11-04T20:45:00Z', priority: 1, type: 'noop', id: 'j1', history: [{ status: 'failed', claimed_at: '2025-11-04T20:45:00Z', builder: 'build1', attempt: 1 }] };
    const text = serializeDocument('jobs', { $schema: 's', jobs: [job] });
    expect(keysOf(text, 'jobs', 0)).toEqual(['id', 'type', 'priority', 'status', 'created_at', 'history', 'x_note']);
    expect(keysOf(text, 'jobs', 0, 'history', 0)).toEqual(['attempt', 'builder', 'claimed_at', 'status']);
  });

  test('map values follow additionalProperties (locks by name, builders by id)', () => {
    const locks = serializeDocument('locks', { $schema: 's', locks: { deploy: { token: 't', reason: 'r', expires_at: 'e', locked_at: 'a', locked_by: 'build1', x: 1 } } });
    expect(keysOf(locks, 'locks', 'deploy')).toEqual(['locked_by', 'locked_at', 'expires_at', 'token', 'reason', 'x']);
    const cfg = serializeDocument('build_config', { policy: {}, builders: { build2: { labels: [], arch: 'x86_64' }, build1: { ssh: { repo_path: '/r', host: 'h' }, arch: 'aarch64' } }, $schema: 's' });
    // map keys keep their order (build2 before build1); each value's keys follow the schema
    expect(keysOf(cfg, 'builders')).toEqual(['build2', 'build1']);
    expect(keysOf(cfg, 'builders', 'build2')).toEqual(['arch', 'labels']);
    expect(keysOf(cfg, 'builders', 'build1', 'ssh')).toEqual(['host', 'repo_path']);
    expect(keysOf(cfg)).toEqual(['$schema', 'builders', 'policy']);
  });

  test('archive records follow the branch chosen by "kind"', () => {
    const jobs = serializeDocument('archive', { records: [{ status: 'completed', id: 'j1' }], month: '2025-11', kind: 'jobs', $schema: 's' });
    expect(keysOf(jobs)).toEqual(['$schema', 'kind', 'month', 'records']);
    expect(keysOf(jobs, 'records', 0)).toEqual(['id', 'status']);
    const msgs = serializeDocument('archive', { records: [{ body: 'b', from: 'build1', id: 'm1' }], month: '2025-11', kind: 'messages', $schema: 's' });
    expect(keysOf(msgs, 'records', 0)).toEqual(['id', 'from', 'body']);
  });

  test('arrays keep their order; values are untouched', () => {
    const doc = { $schema: 's', messages: [{ id: 'b', read_by: ['build3', 'build1'] }, { id: 'a' }] };
    const out = JSON.parse(serializeDocument('messages', doc)) as typeof doc;
    expect(out).toEqual(doc);
    expect(out.messages.map((m) => m.id)).toEqual(['b', 'a']);
  });

  test('2-space indent and exactly one trailing newline', () => {
    const text = serializeDocument('locks', { $schema: 's', locks: {} });
    expect(text).toBe('{\n  "$schema": "s",\n  "locks": {}\n}\n');
  });

  test.each<[FileKind, Obj]>([
    ['jobs', { jobs: [{ id: 'j', x: { b: 1, a: 2 }, type: 't' }], $schema: 's', extra: true }],
    ['messages', { messages: [{ tags: [], id: 'm', to: ['build2'] }], $schema: 's' }],
    ['status', { running_jobs: [{ attempt: 1, id: 'j' }], builder: 'build1', $schema: 's', grounded: null }],
    ['heartbeat', { system: { uptime_s: 1, cpu_percent: 2 }, timestamp: 't', builder: 'build1' }],
    ['schedules', { schedules: [{ id: 's1', z: 1 }] }],
    ['health_dashboard', { queue: {}, generated_at: 't' }],
    ['artifacts', { artifacts: [{ sha256: 'x', name: 'n' }] }],
  ])('idempotent for %s: formatting the output again changes nothing', (kind, doc) => {
    const once = serializeDocument(kind, doc);
    expect(serializeDocument(kind, JSON.parse(once))).toBe(once);
    expect(JSON.parse(once)).toEqual(doc);
  });

  test('a document without $schema gets none added (the caller adds it)', () => {
    expect(keysOf(serializeDocument('schedules', { schedules: [] }))).toEqual(['schedules']);
  });
});
