/**
 * Section `history` (issue 9, bench 3): how much `main` and the origin grow from liveness
 * alone — 10 builders × 7 days of 1-minute heartbeats, time compressed.
 *
 * The daemon's own heartbeat/status code decides, driven by a fake clock (no waiting):
 * `buildHeartbeat` makes each beat, `buildStatus` + `statusNeedsWrite` (policy
 * `main_heartbeat_every_s`, default 3600) decide whether `main` gets a status commit. The
 * objects are written with `git fast-import` instead of 100,800 pushes (a push is ~100 ms:
 * hours of waiting for the same bytes), in the shapes the daemon writes: each beat a
 * parentless commit replacing the builder's ref `refs/coord/heartbeats/build<N>`; each
 * status write a commit on main with `build<N>/status.json` and `heartbeat.json`.
 * Compared with the design it replaces: every beat a commit on main. Bytes are the origin's
 * `.git/objects` after `git gc --prune=now` (old beats are unreachable and go; the reflog
 * is off, as on a plain bare repository — `coord remote setup` turns the reflog on and its
 * post-receive hook expires heartbeat reflogs for the same reason).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { git } from '../git/run.js';
import { buildHeartbeat, buildStatus, statusNeedsWrite, type StatusInput } from '../daemon/status.js';
import { serializeDocument } from '../store/canonical.js';
import { heartbeatPath, statusPath } from '../store/kinds.js';
import type { StatusFile } from '../schemas/types.gen.js';
import { manualClock } from '../util/time.js';
import { makeBenchRemote } from './remote.js';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1 } from './stats.js';
import type { TempDirs } from './temp-dirs.js';

const BUILDERS = 10;
const DAYS = 7;
const BEAT_S = 60;
const MAIN_EVERY_S = 3600;

export interface Scenario {
  design: string;
  main_commits_added: number;
  heartbeat_commits_written: number;
  heartbeat_commits_kept: number;
  bytes_before: number;
  bytes_after_gc: number;
  bytes_added: number;
  seconds: number;
}

/** Bytes of a repository's objects (packs + loose), from `git count-objects -v`. */
async function objectBytes(repo: string): Promise<number> {
  const r = await git(repo, ['count-objects', '-v']);
  const kib = (k: string) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(r.stdout)?.[1] ?? 0);
  return (kib('size') + kib('size-pack')) * 1024;
}

/** Streams commands into `git fast-import` in `repo`. */
class FastImport {
  private readonly child;
  private readonly done: Promise<unknown>;
  constructor(repo: string) {
    this.child = spawn('git', ['-c', 'gc.auto=0', 'fast-import', '--quiet', '--done'], { cwd: repo, stdio: ['pipe', 'ignore', 'inherit'] });
    this.done = once(this.child, 'close');
  }
  async write(text: string): Promise<void> {
    if (!this.child.stdin.write(text)) await once(this.child.stdin, 'drain');
  }
  async commit(ref: string, o: { parentless?: boolean; from?: string; whenS: number; who: string; message: string; files: [string, string][] }): Promise<void> {
    let s = o.parentless ? `reset ${ref}\n` : '';
    const msg = Buffer.from(o.message);
    s += `commit ${ref}\ncommitter ${o.who} <${o.who}@build-coord.invalid> ${o.whenS} +0000\ndata ${msg.length}\n${o.message}\n`;
    if (o.from) s += `from ${o.from}\n`;
    for (const [p, text] of o.files) s += `M 100644 inline ${p}\ndata ${Buffer.byteLength(text)}\n${text}\n`;
    await this.write(s + '\n');
  }
  async close(): Promise<void> {
    this.child.stdin.end('done\n');
    const [code] = (await this.done) as [number | null];
    if (code !== 0) throw new Error(`git fast-import exited ${code}`);
  }
}

function statusInput(builder: string, seq: number, t: number): StatusInput {
  // Figures move every beat, as real ones do (so each beat is a new blob).
  const wave = Math.sin(seq / 17 + Number(builder.slice(5)));
  return {
    builder, state: 'idle', running: [], lastBuild: null, grounded: null, degraded: null, consecutiveFailures: 0,
    capabilities: { arch: 'x86_64', labels: [] },
    system: { cpu_percent: Math.round((30 + 25 * wave) * 10) / 10, memory_used_mb: 4000 + (seq % 97), memory_total_mb: 16000, disk_free_mb: 90_000 - (seq % 500), uptime_s: 86_400 + Math.round(t / 1000) },
    daemon: { pid: 4000 + Number(builder.slice(5)), version: '0.1.0', started_at: '2026-11-01T00:00:00Z' }, sequence: seq, intervalS: BEAT_S,
  };
}

/** Simulates the week into `repo` (a bare origin). `everyBeatOnMain`: the old design. */
async function simulate(repo: string, everyBeatOnMain: boolean): Promise<{ mainCommits: number; beatCommits: number }> {
  const start = Date.parse('2026-11-02T00:00:00Z');
  const clock = manualClock(start);
  const names = Array.from({ length: BUILDERS }, (_, i) => `build${i + 1}`);
  const onMain = new Map<string, StatusFile | null>(names.map((b) => [b, null]));
  const head = (await git(repo, ['rev-parse', 'main'])).stdout.trim();
  const fi = new FastImport(repo);
  let mainCommits = 0, beatCommits = 0;
  const beats = (DAYS * 86_400) / BEAT_S;
  for (let seq = 1; seq <= beats; seq++) {
    for (const [i, b] of names.entries()) {
      const now = clock.now() + i * 1000;
      const input = statusInput(b, seq, now - start);
      const hb = serializeDocument('heartbeat', buildHeartbeat(input, now));
      const whenS = Math.floor(now / 1000);
      const from = mainCommits === 0 ? head : undefined;
      if (everyBeatOnMain) {
        await fi.commit('refs/heads/main', { from, whenS, who: b, message: `heartbeat ${b} ${seq}`, files: [[heartbeatPath(b), hb]] });
        mainCommits++;
        continue;
      }
      await fi.commit(`refs/coord/heartbeats/${b}`, { parentless: true, whenS, who: b, message: `coord(${b}): heartbeat ${seq}\n\nCoord-Action: heartbeat\nCoord-Actor: ${b}\n`, files: [[heartbeatPath(b), hb]] });
      beatCommits++;
      const status = buildStatus(input, now);
      if (statusNeedsWrite(onMain.get(b) ?? null, status, MAIN_EVERY_S, now)) {
        await fi.commit('refs/heads/main', { from, whenS, who: b, message: `coord(${b}): builder.status idle\n\nCoord-Action: builder.status\nCoord-Actor: ${b}\n`, files: [[statusPath(b), serializeDocument('status', status)], [heartbeatPath(b), hb]] });
        onMain.set(b, status);
        mainCommits++;
      }
    }
    clock.advance(BEAT_S * 1000);
  }
  await fi.close();
  return { mainCommits, beatCommits };
}

async function scenario(temp: TempDirs, design: string, everyBeatOnMain: boolean, log: (l: string) => void): Promise<Scenario> {
  const dir = temp.make('history');
  try {
    const { origin } = await makeBenchRemote(dir, BUILDERS, []);
    await git(origin, ['gc', '-q', '--prune=now']);
    const before = await objectBytes(origin);
    const t0 = performance.now();
    log(`history: ${design}: ${BUILDERS} builders × ${DAYS} days of ${BEAT_S}-s beats`);
    const r = await simulate(origin, everyBeatOnMain);
    await git(origin, ['gc', '-q', '--prune=now'], { timeoutMs: 1_800_000 });
    const after = await objectBytes(origin);
    const kept = Number((await git(origin, ['rev-list', '--count', '--glob=refs/coord/heartbeats/*'], { allowFailure: true })).stdout.trim()) || 0;
    return {
      design, main_commits_added: r.mainCommits, heartbeat_commits_written: r.beatCommits, heartbeat_commits_kept: kept,
      bytes_before: before, bytes_after_gc: after, bytes_added: after - before, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    temp.remove(dir);
  }
}

const kib = (n: number) => `${fmt1(n / 1024)} KiB`;

async function runHistory(_opts: BenchOptions, temp: TempDirs, log: (line: string) => void): Promise<SectionResult> {
  const refs = await scenario(temp, 'heartbeat refs + status on main hourly (build-coord)', false, log);
  const main = await scenario(temp, 'every beat a commit on main (upstream)', true, log);
  return {
    tables: [{
      title: `History growth: ${BUILDERS} builders × ${DAYS} days of ${BEAT_S}-s heartbeats (${(BUILDERS * DAYS * 86_400) / BEAT_S} beats), idle fleet, main_heartbeat_every_s ${MAIN_EVERY_S}; bytes of the bare origin after git gc --prune=now`,
      head: ['design', 'commits added to main', 'beat commits written', 'beat commits kept', 'bytes after gc', 'bytes added', 'time s'],
      rows: [refs, main].map((s) => [s.design, String(s.main_commits_added), String(s.heartbeat_commits_written), String(s.heartbeat_commits_kept), kib(s.bytes_after_gc), kib(s.bytes_added), fmt1(s.seconds)]),
    }],
    data: { builders: BUILDERS, days: DAYS, beat_s: BEAT_S, main_heartbeat_every_s: MAIN_EVERY_S, scenarios: [refs, main] },
  };
}

export const historySection: BenchSection = {
  name: 'history',
  description: '10 builders × 7 days of 1-minute heartbeats (fake clock): commits on main and origin bytes, heartbeat refs vs every beat on main',
  run: runHistory,
};
