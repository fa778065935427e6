/**
 * `npm run chaos` (issue 9): a soak with invariants. A local fleet of real daemons (see
 * lib/demo/fleet.ts) drains jobs of random length while the actors (actors.ts) crash,
 * freeze and restart daemons, take the remote away twice, cancel jobs, send messages and
 * hand-edit the queue. Then the disturbances stop, the fleet drains what is left, stops,
 * and the invariants (invariants.ts) are checked on the origin's whole history.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { addJob, makeJob } from '../jobs/model.js';
import type { JobsFile, MessagesFile } from '../schemas/types.gen.js';
import { PATHS } from '../store/kinds.js';
import { runTransaction } from '../tx/transaction.js';
import { cryptoRandomHex, newRecordId } from '../util/ids.js';
import { systemClock } from '../util/time.js';
import { git } from '../git/run.js';
import { PROJECT_ROOT } from '../demo/commands.js';
import { HERMETIC_GIT_ENV } from '../demo/env.js';
import { cloneFor, setUpFleet, startDaemon, type Fleet } from '../demo/fleet.js';
import { FleetReader } from '../demo/fleet-reader.js';
import { queueLine } from '../demo/live-view.js';
import { commandLineOf, pidsTagged, ProcessSet } from '../demo/processes.js';
import { makeWorkspace } from '../demo/workspace.js';
import { cancelLoop, crashLoop, freezeOnce, handEditLoop, messageLoop, outageOnce, type ChaosContext } from './actors.js';
import { BlobReader, walkCommits } from './history-walk.js';
import { checkFinalJobs, checkMessages, HistoryChecker, type Violation } from './invariants.js';
import { seededRng } from './rng.js';

export interface ChaosOptions {
  durationS: number;
  jobs: number;
  daemons: number;
  seed: number;
  /** Longest job (s); each is uniform in [0.2, max]. */
  maxJobS: number;
  /** How long the fleet may take to finish after the chaos period (s). */
  settleS: number;
  keep: boolean;
  harden: boolean;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
}

export interface ChaosReport {
  ok: boolean;
  violations: Violation[];
  workspace: string;
  kept: boolean;
  figures: Record<string, number | string>;
}

/** Short leases so that a frozen daemon loses its job within the run. */
export const CHAOS_POLICY = Object.freeze({
  heartbeat_interval_s: 2, lease_ttl_s: 10, main_heartbeat_every_s: 60, drain_timeout_s: 3, clock_skew_s: 1,
  max_attempts: 6, ground_after_failures: 50, ground_cooldown_s: 10,
});
const POLL_S = 0.5;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function originJson<T>(bare: string, file: string): Promise<T | null> {
  const r = await git(bare, ['show', `main:${file}`], { env: HERMETIC_GIT_ENV, allowFailure: true });
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as T) : null;
}

/** Processes of this run that carry a job tag, with their command lines. */
async function jobProcesses(tag: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await pidsTagged(tag)) {
    const env = await fs.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    const job = env.split('\0').find((v) => v.startsWith('COORD_JOB_ID='));
    if (job) out.push(`pid ${pid} ${job} ${await commandLineOf(pid)}`);
  }
  return out;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const ws = makeWorkspace('chaos');
  const procs = new ProcessSet(cryptoRandomHex(8));
  const onExit = () => procs.killAllSync();
  process.on('exit', onExit);
  // Ctrl-C: nothing of the run may outlive it; the workspace (logs) stays.
  const onSignal = () => {
    procs.killAllSync();
    o.out(`\ninterrupted: every process of the run killed; workspace and logs kept: ${ws.root}`);
    process.exitCode = 130;
    process.kill(process.pid, 'SIGKILL');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rng = seededRng(o.seed);
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1)}s]`;
  const say = (l: string) => o.out(`${stamp()} ${l}`);
  const violations: Violation[] = [];
  const figures: Record<string, number | string> = { seed: o.seed, daemons: o.daemons, duration_s: o.durationS };
  let ok = false;
  try {
    say(`workspace ${ws.root}; seed ${o.seed}; ${o.daemons} daemons, ${o.jobs} jobs of 0.2–${o.maxJobS} s, ${o.durationS} s of chaos`);
    const f: Fleet = await setUpFleet({
      root: ws.root, builders: o.daemons, transport: 'git', baseEnv: o.env, procs, harden: o.harden, say,
      configure: (cfg) => {
        cfg.job_types = { ...(cfg.job_types ?? {}), sleepy: { command: [path.join(PROJECT_ROOT, 'scripts/jobs/sleepy.sh')], timeout_s: 60, description: 'sleeps param seconds, with a grandchild in its own session' } };
        cfg.policy = { ...(cfg.policy ?? {}), ...CHAOS_POLICY };
      },
    });
    say(`origin ${f.url}${f.transportNote ? ` (${f.transportNote})` : ''}`);
    const seconds = () => (0.2 + rng.next() * (o.maxJobS - 0.2)).toFixed(1);

    // The operator's bulk import: all jobs in one transaction.
    const queued = await runTransaction({
      repoRoot: f.operator, actor: 'operator', action: 'job.add',
      paths: [PATHS.jobs],
      mutate: (s, now) => {
        let doc = s.files.get(PATHS.jobs) as JobsFile;
        const ids: string[] = [];
        for (let i = 0; i < o.jobs; i++) {
          const t = addJob(doc, makeJob({ type: 'sleepy', priority: rng.int(1, 9), params: { seconds: seconds() }, description: `chaos job ${i + 1}` }, newRecordId('job', 'operator', systemClock), 'operator', now, s.policy));
          if (!t.ok) return { kind: 'refuse', refusal: t.refusal };
          doc = t.doc;
          ids.push(t.job.id);
        }
        return { kind: 'commit', writes: new Map([[PATHS.jobs, doc]]), summary: `${o.jobs} chaos jobs`, result: ids };
      },
    });
    const jobIds = queued.status === 'committed' ? queued.result : [];
    say(`queued ${jobIds.length} jobs in one transaction`);
    const agentClone = await cloneFor(f, path.join(ws.root, 'agent'), 'agent');
    const reader = new FleetReader(await cloneFor(f, path.join(ws.root, 'watch'), 'watcher'));
    for (const b of f.builders) startDaemon(f, procs, b, POLL_S);
    say(`started ${f.builders.join(', ')}`);

    const ctx: ChaosContext = {
      f, procs, reader, rng, pollS: POLL_S, leaseWindowS: CHAOS_POLICY.lease_ttl_s + Math.max(CHAOS_POLICY.clock_skew_s, Math.ceil(CHAOS_POLICY.lease_ttl_s / 5)),
      until: Date.now() + o.durationS * 1000, startedAt: t0, agentClone, events: [], sent: [], agentJobs: [], cancelled: [], busy: new Set(), log: o.out,
    };
    const progress = setInterval(() => { void reader.read().then((v) => say(`queue: ${queueLine(v.jobs)}${v.fresh ? '' : ' (remote unreachable)'}`)).catch(() => undefined); }, 15_000);
    const actors = await Promise.allSettled([
      crashLoop(ctx), freezeOnce(ctx, 0.25), outageOnce(ctx, 0.4, 'stop-daemon', 6), outageOnce(ctx, 0.7, 'move-repo', 6),
      cancelLoop(ctx), messageLoop(ctx), handEditLoop(ctx, seconds),
    ]);
    for (const a of actors) if (a.status === 'rejected') say(`actor failed: ${(a.reason as Error).message}`);
    say('chaos over: every daemon running, remote up; letting the fleet finish');

    // Settle: all daemons up and running (none frozen), wait until every job is terminal.
    for (const b of f.builders) {
      const p = f.daemons.get(b);
      if (p) procs.signal(p, 'SIGCONT');
      else startDaemon(f, procs, b, POLL_S);
    }
    const expected = [...jobIds, ...ctx.agentJobs];
    const settleEnd = Date.now() + o.settleS * 1000;
    for (;;) {
      const v = await reader.read().catch(() => null);
      if (v && expected.every((id) => v.jobs.some((j) => j.id === id)) && v.jobs.every((j) => ['completed', 'failed', 'cancelled', 'blocked'].includes(j.status))) break;
      if (Date.now() > settleEnd) { say(`settle time (${o.settleS} s) is over with jobs left`); break; }
      await sleep(1000);
    }
    clearInterval(progress);
    const settled = (Date.now() - t0) / 1000;

    say('stopping the daemons (SIGTERM: drain, requeue, offline)');
    await Promise.all([...f.daemons.values()].map((p) => procs.stop(p, 20_000)));
    await sleep(500);
    for (const p of await jobProcesses(procs.tag)) violations.push({ invariant: 'processes', detail: `still running after the fleet stopped: ${p}` });

    say('checking the invariants on the origin\'s history');
    const commits = await walkCommits(f.bare);
    const blobs = new BlobReader(f.bare);
    const checker = new HistoryChecker();
    for (const c of commits) {
      const files = new Map<string, Buffer | null>();
      for (const [p, sha] of c.changed) files.set(p, sha ? await blobs.read(sha) : null);
      checker.add(c.sha, c.action, c.actor, files);
    }
    blobs.close();
    violations.push(...checker.violations);
    const finalJobs = (await originJson<JobsFile>(f.bare, PATHS.jobs))?.jobs ?? [];
    violations.push(...checkFinalJobs(finalJobs, expected));
    const messages = (await originJson<MessagesFile>(f.bare, PATHS.messages))?.messages ?? [];
    const m = checkMessages(messages, ctx.sent);
    violations.push(...m.violations);

    const count = (k: string) => ctx.events.filter((e) => e.kind === k).length;
    const st = (s: string) => finalJobs.filter((j) => j.status === s).length;
    Object.assign(figures, {
      jobs: finalJobs.length, completed: st('completed'), failed: st('failed'), cancelled: st('cancelled'), blocked: st('blocked'),
      reclaimed: finalJobs.filter((j) => (j.attempt ?? 0) > 1).length, lease_lost_attempts: finalJobs.reduce((n, j) => n + (j.history ?? []).filter((h) => h.status === 'lease_lost').length, 0),
      kills: count('kill'), freezes: count('freeze'), outages: count('outage'), cancels_requested: ctx.cancelled.length,
      messages_sent: ctx.sent.filter((s) => s.ok).length, messages_failed: ctx.sent.filter((s) => !s.ok).length, failed_sends_that_landed: m.landedDespiteFailure,
      hand_edited_jobs: ctx.agentJobs.length, main_commits: commits.length, jobs_json_versions: checker.jobVersions, settled_after_s: Math.round(settled),
    });
    ok = violations.length === 0;
  } catch (err) {
    violations.push({ invariant: 'terminal', detail: `harness error: ${(err as Error).stack ?? String(err)}` });
  } finally {
    const swept = await procs.stopAll(5000);
    if (swept.length) say(`swept ${swept.length} leftover process(es) of this run`);
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const kept = o.keep || !ok;
  if (!kept) ws.remove();
  return { ok, violations, workspace: ws.root, kept, figures };
}
