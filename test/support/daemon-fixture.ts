/**
 * Helpers for scenario tests with real daemon processes: seeding policy/job types/jobs by
 * plain git (as an agent would), starting daemons, waiting on the origin's state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, hermeticEnv, originJson, ROOT, type Fleet } from './git-fixture.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface JobOnDisk { id: string; status: string; priority: number; assigned_to: string | null; attempt: number; cancel_requested: boolean; error: string | null; history: { builder: string; attempt: number; status: string; claimed_at: string }[] }

/** Fast policy for tests: 1 s heartbeats, 4 s leases. */
export const FAST_POLICY = { heartbeat_interval_s: 1, lease_ttl_s: 4, main_heartbeat_every_s: 3600, clock_skew_s: 0, drain_timeout_s: 2 };

/** Edits build_config and jobs.json in a scratch clone and pushes with plain git. */
export function seed(f: Fleet, mutate: (cfg: Json, jobs: Json, schedules: Json) => void, name = 'seed-edit'): void {
  const c = path.join(f.dir, name);
  gitSync(f.dir, ['clone', '-q', f.origin, c]);
  const files = ['shared/build_config.json', 'coordination/jobs.json', 'coordination/schedules.json'].map((p) => path.join(c, p));
  const [cfg, jobs, schedules] = files.map((p) => JSON.parse(readFileSync(p, 'utf8')) as Json) as [Json, Json, Json];
  cfg.policy = { ...cfg.policy, ...FAST_POLICY };
  mutate(cfg, jobs, schedules);
  [cfg, jobs, schedules].forEach((d, i) => writeFileSync(files[i], JSON.stringify(d, null, 2) + '\n'));
  gitSync(c, ['commit', '-qam', 'seed']);
  gitSync(c, ['push', '-q', 'origin', 'main']);
}

/** A queued job record in its minimal hand-written form. */
export function job(id: string, type: string, priority: number, minute: number): Json {
  return { id, type, priority, status: 'queued', created_at: `2026-11-30T10:${String(minute).padStart(2, '0')}:00Z` };
}

/**
 * The environment of a fleet's daemons: TMPDIR is the fleet's folder, so their daemon locks
 * (`$TMPDIR/build-coord-<uid>/`) go with the fleet. Give it to any command that must see them.
 */
export function fleetEnv(clone: string): NodeJS.ProcessEnv {
  return hermeticEnv({ TMPDIR: path.dirname(clone) });
}

/** Starts `coord daemon` for `builder` in `clone`; stderr lines go to `log`. */
export function startDaemon(procs: ChildProcess[], clone: string, builder: string, log: string[], extra: string[] = []): ChildProcess {
  const p = spawn('node', [path.join(ROOT, 'bin/coord.js'), '--builder', builder, 'daemon', '--poll-interval', '0.3', ...extra], { cwd: clone, env: fleetEnv(clone), stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr.on('data', (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean)));
  procs.push(p);
  return p;
}

/** Polls `pred` every 300 ms until true or `ms` passes (then throws naming `what`). */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (pred()) return;
    } catch { /* origin may be moved away on purpose */ }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The jobs on the origin's main. */
export function jobsOnOrigin(f: Fleet): JobOnDisk[] {
  return (originJson(f.origin, 'coordination/jobs.json') as { jobs: JobOnDisk[] }).jobs;
}

/** Resolves when `p` has exited. */
export function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}
