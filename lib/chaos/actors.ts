/**
 * The chaos actors: each is an async loop that disturbs the running fleet until the chaos
 * period ends — a crash (SIGKILL) and restart of a random daemon every few seconds, one
 * daemon frozen (SIGSTOP) past its lease and resumed, the remote made unreachable twice
 * (git daemon stopped; the bare repository moved away), random running jobs cancelled, and
 * "agents" sending messages with `sm` and adding jobs by hand-editing jobs.json in a clone.
 * Every action is recorded as an event; none may crash the harness.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../demo/fleet.js';
import { startDaemon } from '../demo/fleet.js';
import type { FleetReader } from '../demo/fleet-reader.js';
import { startGitDaemon } from '../demo/git-daemon.js';
import { agentAddsJob, cancelJob, operatorSeat, sendMessage } from '../demo/operator.js';
import type { ProcessSet } from '../demo/processes.js';
import type { SentMessage } from './invariants.js';
import type { Rng } from './rng.js';

export interface ChaosEvent { at: number; kind: string; detail: string }

export interface ChaosContext {
  f: Fleet;
  procs: ProcessSet;
  reader: FleetReader;
  rng: Rng;
  pollS: number;
  /** Seconds after which a silent holder's lease is judged expired (ttl + grace). */
  leaseWindowS: number;
  /** Chaos period: actors stop acting at this time (ms). */
  until: number;
  startedAt: number;
  agentClone: string;
  events: ChaosEvent[];
  sent: SentMessage[];
  agentJobs: string[];
  cancelled: string[];
  /** Builders an actor is working on (frozen, being restarted): others leave them alone. */
  busy: Set<string>;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function record(c: ChaosContext, kind: string, detail: string): void {
  c.events.push({ at: Date.now() - c.startedAt, kind, detail });
  c.log(`[${((Date.now() - c.startedAt) / 1000).toFixed(1)}s] ${kind}: ${detail}`);
}

/** Sleeps `ms` unless the chaos period ends first. @returns false when it ended */
async function wait(c: ChaosContext, ms: number): Promise<boolean> {
  const left = c.until - Date.now();
  if (left <= 0) return false;
  await sleep(Math.min(ms, left));
  return Date.now() < c.until;
}

/** A builder with a live daemon nobody else is working on, preferring one that runs a job. */
async function pickBuilder(c: ChaosContext, preferBusy: boolean): Promise<string | null> {
  const free = c.f.builders.filter((b) => c.f.daemons.has(b) && !c.busy.has(b));
  if (!free.length) return null;
  if (preferBusy) {
    const v = await c.reader.read().catch(() => null);
    const running = free.filter((b) => v?.jobs.some((j) => j.status === 'running' && j.assigned_to === b));
    if (running.length) return c.rng.pick(running);
  }
  return c.rng.pick(free);
}

/** SIGKILL a random daemon every 4–8 s; restart it 0.5–2 s later. */
export async function crashLoop(c: ChaosContext): Promise<void> {
  while (await wait(c, c.rng.between(4000, 8000))) {
    const b = await pickBuilder(c, c.rng.next() < 0.7);
    if (!b) continue;
    const p = c.f.daemons.get(b);
    if (!p) continue;
    c.busy.add(b);
    try {
      c.procs.signal(p, 'SIGKILL');
      await p.exited;
      record(c, 'kill', `${b} (pid ${p.pid}) SIGKILL`);
      await sleep(c.rng.between(500, 2000));
      const n = startDaemon(c.f, c.procs, b, c.pollS);
      record(c, 'restart', `${b} (pid ${n.pid})`);
    } finally {
      c.busy.delete(b);
    }
  }
}

/** Once, at `atFraction` of the period: SIGSTOP a daemon that runs a job, past its lease, then SIGCONT. */
export async function freezeOnce(c: ChaosContext, atFraction: number): Promise<void> {
  if (!(await wait(c, (c.until - c.startedAt) * atFraction))) return;
  const b = await pickBuilder(c, true);
  const p = b ? c.f.daemons.get(b) : undefined;
  if (!b || !p) return;
  c.busy.add(b);
  try {
    c.procs.signal(p, 'SIGSTOP');
    const holdMs = (c.leaseWindowS + 6) * 1000;
    record(c, 'freeze', `${b} (pid ${p.pid}) SIGSTOP for ${(holdMs / 1000).toFixed(0)} s (lease window ${c.leaseWindowS} s)`);
    await sleep(holdMs);
    c.procs.signal(p, 'SIGCONT');
    record(c, 'thaw', `${b} SIGCONT`);
  } finally {
    c.busy.delete(b);
  }
}

/** Once: the remote goes away for `downS` seconds — git daemon stopped, or the bare repository moved. */
export async function outageOnce(c: ChaosContext, atFraction: number, how: 'stop-daemon' | 'move-repo', downS: number): Promise<void> {
  if (!(await wait(c, (c.until - c.startedAt) * atFraction))) return;
  const mode = how === 'stop-daemon' && !c.f.gitDaemon ? 'move-repo' : how;
  if (mode === 'stop-daemon') {
    const gd = c.f.gitDaemon!;
    await c.procs.stop(gd.proc, 2000);
    record(c, 'outage', `git daemon stopped (port ${gd.port}) for ${downS} s`);
    await sleep(downS * 1000);
    c.f.gitDaemon = await startGitDaemon(c.procs, { basePath: path.dirname(c.f.bare), probeRepo: 'fleet.git', logFile: path.join(c.f.logs, 'git-daemon.log'), env: c.f.env, port: gd.port, readyMs: 20_000 });
    record(c, 'recover', `git daemon back on port ${gd.port} (pid ${c.f.gitDaemon.proc.pid})`);
  } else {
    const away = `${c.f.bare}.away`;
    await fs.rename(c.f.bare, away);
    record(c, 'outage', `bare repository moved away for ${downS} s`);
    await sleep(downS * 1000);
    await fs.rename(away, c.f.bare);
    record(c, 'recover', 'bare repository back');
  }
}

/** Every 8–14 s: `coord jobs cancel` a random running job. */
export async function cancelLoop(c: ChaosContext): Promise<void> {
  const seat = operatorSeat(c.f.operator, c.f.env);
  while (await wait(c, c.rng.between(8000, 14000))) {
    const v = await c.reader.read().catch(() => null);
    const running = v?.jobs.filter((j) => j.status === 'running') ?? [];
    if (!running.length) continue;
    const j = c.rng.pick(running);
    const r = await cancelJob(seat, j.id);
    if (r.exitCode === 0) c.cancelled.push(j.id);
    record(c, 'cancel', `${j.id} on ${j.assigned_to ?? '?'}: ${r.exitCode === 0 ? 'requested' : `refused (exit ${r.exitCode}: ${(r.stderr.trim().split('\n')[0] ?? '').slice(0, 120)})`}`);
  }
}

/** Every 5–9 s an agent on a random builder runs `sm all "…"`. */
export async function messageLoop(c: ChaosContext): Promise<void> {
  let n = 0;
  while (await wait(c, c.rng.between(5000, 9000))) {
    const from = c.rng.pick(c.f.builders);
    const token = `chaos-msg-${++n}-${Math.floor(c.rng.next() * 1e9).toString(36)}`;
    try {
      const r = await sendMessage({ cwd: c.f.clones[from], env: c.f.env }, 'all', `Agent note ${token}: all good on ${from}.`);
      c.sent.push({ token, from, ok: true, id: r.id });
      record(c, 'message', `${from} → all: ${r.id}`);
    } catch (err) {
      c.sent.push({ token, from, ok: false, id: null });
      record(c, 'message', `${from} → all failed: ${(err as Error).message.split('\n')[0].slice(0, 160)}`);
    }
  }
}

/** Every 7–12 s an agent adds a job by editing jobs.json in its clone and pushing with git. */
export async function handEditLoop(c: ChaosContext, seconds: () => string): Promise<void> {
  while (await wait(c, c.rng.between(7000, 12000))) {
    try {
      const r = await agentAddsJob(c.agentClone, 'agent', { type: 'sleepy', priority: c.rng.int(1, 9), params: { seconds: seconds() }, description: 'added by hand by an agent during chaos' }, Date.now(), 4);
      c.agentJobs.push(r.id);
      record(c, 'hand-edit', `agent pushed ${r.id} (${r.pushes} push${r.pushes > 1 ? 'es' : ''})`);
    } catch (err) {
      record(c, 'hand-edit', `agent's push failed: ${(err as Error).message.split('\n')[0].slice(0, 160)}`);
    }
  }
}
