/**
 * Helpers for the operator-command scenario tests (issue 6): run `coord` in a builder's
 * clone, act as a builder's daemon through the real transitions (claim, log, complete), and
 * check `--json` documents against the examples in README "Operator commands".
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- a --json document is read field by field in the tests; its shape is checked against README by shapeDiff */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HeartbeatFile, JobsFile } from '../../lib/schemas/types.gen.js';
import { claimJob, completeJob, renewLease } from '../../lib/jobs/model.js';
import { runTransaction } from '../../lib/tx/transaction.js';
import { publishHeartbeat } from '../../lib/heartbeat/refs.js';
import { formatTimestamp, systemClock } from '../../lib/util/time.js';
import { addJobTx } from '../../lib/ops/job-tx.js';
import { newRecordId } from '../../lib/util/ids.js';
import type { NewJobInput } from '../../lib/jobs/model.js';
import { gitSync, ROOT } from './git-fixture.js';
import { parseSingleJson, runCoordCli, type CliResult } from './cli.js';

const JOBS = 'coordination/jobs.json';

/** Runs `coord ARGS` with the clone as working folder (identity from its .build_server_id). */
export function coord(clone: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCoordCli(args, { cwd: clone, ...(opts.env ? { env: opts.env } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
}

/** Runs `coord --json ARGS` and parses the one document it must print. */
export async function coordJson(clone: string, args: string[]): Promise<{ r: CliResult; doc: Record<string, any> }> {
  const r = await coord(clone, ['--json', ...args]);
  let doc: Record<string, any>;
  try {
    doc = parseSingleJson(r.stdout);
  } catch {
    throw new Error(`coord --json ${args.join(' ')} did not print one JSON document (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
  return { r, doc };
}

/** The commit of the origin's main. */
export function originHead(origin: string): string {
  return gitSync(origin, ['rev-parse', 'main']);
}

/** Queues a job as `actor` in-process (test set-up; `coord jobs add` itself is tested on its own). */
export async function queueJob(clone: string, actor: string, input: NewJobInput = { type: 'noop' }): Promise<string> {
  const out = await addJobTx({ repoRoot: clone, actor }, newRecordId('job', actor, systemClock), input);
  if (out.status !== 'committed') throw new Error(`add: ${out.status}`);
  return out.result.job.id;
}

/** As builder `b` (in its clone): claim job `id` (it must be queued). */
export async function claimAs(clone: string, b: string, id: string): Promise<number> {
  const out = await runTransaction<number>({
    repoRoot: clone, actor: b, action: 'job.claim', paths: [JOBS],
    mutate: (s, now) => {
      const t = claimJob(s.files.get(JOBS) as JobsFile, id, b, now, s.policy.lease_ttl_s);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      return { kind: 'commit', writes: new Map([[JOBS, t.doc]]), summary: `${id} attempt ${t.job.attempt}`, trailers: { Job: id, Attempt: String(t.job.attempt) }, result: t.job.attempt };
    },
  });
  if (out.status !== 'committed') throw new Error(`claim of ${id} by ${b}: ${out.status}`);
  return out.result;
}

/** As builder `b`: renew the lease of its claim and commit `log` as the job's log tail. */
export async function logAs(clone: string, b: string, id: string, attempt: number, log: string): Promise<void> {
  const file = `${b}/logs/${id}.log`;
  const out = await runTransaction({
    repoRoot: clone, actor: b, action: 'job.renew', paths: [JOBS],
    mutate: (s, now) => {
      const t = renewLease(s.files.get(JOBS) as JobsFile, { id, builder: b, attempt }, now, s.policy.lease_ttl_s);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      const doc = { ...t.doc, jobs: t.doc.jobs.map((j) => (j.id === id ? { ...j, log: file } : j)) };
      return { kind: 'commit', writes: new Map([[JOBS, doc]]), rawWrites: new Map([[file, log]]), summary: id, trailers: { Job: id }, result: true };
    },
  });
  if (out.status !== 'committed') throw new Error(`log of ${id}: ${out.status}`);
}

/** As builder `b`: end its attempt with `outcome` (and a final log tail). */
export async function completeAs(clone: string, b: string, id: string, attempt: number, outcome: 'completed' | 'failed', log = `${outcome}\n`): Promise<void> {
  const file = `${b}/logs/${id}.log`;
  const out = await runTransaction({
    repoRoot: clone, actor: b, action: 'job.complete', paths: [JOBS],
    mutate: (s, now) => {
      const t = completeJob(s.files.get(JOBS) as JobsFile, { id, builder: b, attempt }, { outcome, exitCode: outcome === 'completed' ? 0 : 2, error: outcome === 'failed' ? 'exit 2' : null, durationS: 3, log: file }, now);
      if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
      return { kind: 'commit', writes: new Map([[JOBS, t.doc]]), rawWrites: new Map([[file, log]]), summary: `${id} ${t.job.status}`, trailers: { Job: id, Result: t.job.status }, result: true };
    },
  });
  if (out.status !== 'committed') throw new Error(`complete of ${id}: ${out.status}`);
}

/** As builder `b`: claim and run `id` to `outcome` at once. */
export async function runJobAs(clone: string, b: string, id: string, outcome: 'completed' | 'failed'): Promise<void> {
  const attempt = await claimAs(clone, b, id);
  await completeAs(clone, b, id, attempt, outcome);
}

/** Publishes a heartbeat ref for `builder` whose timestamp is `ageS` seconds old. */
export async function beat(clone: string, builder: string, ageS: number, extra: Partial<HeartbeatFile> = {}): Promise<void> {
  const now = Date.now();
  const hb: HeartbeatFile = {
    $schema: '../schemas/heartbeat.schema.json', builder, timestamp: formatTimestamp(now - ageS * 1000), sequence: Math.floor(now / 1000),
    state: 'idle', current_job: null, interval_s: 60, system: { cpu_percent: 12.5, memory_used_mb: 2048, memory_total_mb: 8192, disk_free_mb: 50_000, uptime_s: 3600 },
    ...extra,
  };
  const r = await publishHeartbeat(clone, { remote: 'origin', branch: 'main' }, hb, now);
  if (!r.pushed) throw new Error(`heartbeat of ${builder} not pushed: ${r.reason}`);
}

/** Changes the build config on the origin by a transaction (as `actor`). */
export async function editConfig(clone: string, edit: (cfg: Record<string, any>) => void): Promise<void> {
  const out = await runTransaction({
    repoRoot: clone, actor: 'build1', action: 'config.edit', paths: [],
    mutate: (s) => {
      const cfg = structuredClone(s.config) as Record<string, any>;
      edit(cfg);
      return { kind: 'commit', writes: new Map([['shared/build_config.json', cfg]]), summary: 'test setup', result: true };
    },
  });
  if (out.status !== 'committed') throw new Error(`config edit: ${out.status}`);
}

// --- README "Operator commands": one --json example per command --------------------------

let examples: Map<string, unknown> | null = null;

/** The JSON examples of README "Operator commands", by the command in the heading above each. */
export function readmeExamples(): Map<string, unknown> {
  if (examples) return examples;
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('## Operator commands');
  if (start < 0) throw new Error('README.md has no "## Operator commands" section');
  const end = text.indexOf('\n## ', start + 5);
  const section = text.slice(start, end < 0 ? undefined : end);
  examples = new Map();
  const re = /^#### `(coord [^`]+)`[\s\S]*?```json\n([\s\S]*?)```/gm;
  for (const m of section.matchAll(re)) examples.set(m[1].trim(), JSON.parse(m[2]));
  return examples;
}

/** Object keys whose keys are data (builder names, statuses, types), not fields. */
const MAP_KEYS = new Set(['by_type', 'unread_messages', 'trailers', 'params', 'requires', 'details']);

/** Differences in shape between `actual` and `example` (null matches anything; arrays compare first items). */
export function shapeDiff(actual: unknown, example: unknown, at = '$'): string[] {
  if (actual === null || example === null || actual === undefined) return [];
  if (Array.isArray(example)) {
    if (!Array.isArray(actual)) return [`${at}: array expected, got ${typeof actual}`];
    return example.length && actual.length ? shapeDiff(actual[0], example[0], `${at}[0]`) : [];
  }
  if (typeof example === 'object') {
    if (typeof actual !== 'object' || Array.isArray(actual)) return [`${at}: object expected`];
    const a = actual as Record<string, unknown>, e = example as Record<string, unknown>;
    const out: string[] = [];
    for (const k of Object.keys(e)) if (!(k in a)) out.push(`${at}.${k}: missing from the output`);
    for (const k of Object.keys(a)) if (!(k in e)) out.push(`${at}.${k}: not in the README example`);
    // A schedule's job template holds only the options given: its keys are data too.
    const isMap = (k: string) => MAP_KEYS.has(k) || (k === 'job' && at.includes('schedule'));
    for (const k of Object.keys(e)) if (k in a && !isMap(k)) out.push(...shapeDiff(a[k], e[k], `${at}.${k}`));
    return out;
  }
  return typeof actual === typeof example ? [] : [`${at}: ${typeof example} expected, got ${typeof actual}`];
}

/** Asserts that `doc` has the shape of README's example for `command`. */
export function expectReadmeShape(command: string, doc: unknown): void {
  const ex = readmeExamples().get(command);
  if (ex === undefined) throw new Error(`README "Operator commands" has no JSON example under #### \`${command}\``);
  expect(shapeDiff(doc, ex)).toEqual([]);
}
