/**
 * `coord demo` (issue 9, "npm start"): the whole product on real parts, in one command.
 *
 * A workspace; a bare origin served by `git daemon` on 127.0.0.1 (a file path only when it
 * cannot start); `coord init` for N builders, committed and pushed; the job types `build`
 * and `test` of this project's own repository, and `smoke`; real jobs queued with
 * `coord jobs add` and one by an agent's hand edit pushed with plain git; N `coord daemon`
 * processes, each with its own clone and identity; `sm` from build1 to all; a live view;
 * a summary that re-hashes every artifact on its builder. Every process started carries the
 * run's tag and is stopped at the end, on failure and on Ctrl-C (see processes.ts).
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { cryptoRandomHex } from '../util/ids.js';
import { jobRecords, jobsDoc, readSnapshot } from '../ops/snapshot.js';
import { PATHS } from '../store/kinds.js';
import type { ArtifactsFile } from '../schemas/types.gen.js';
import { PROJECT_ROOT } from './commands.js';
import { cloneFor, setUpFleet, startDaemon, type Fleet, type Transport } from './fleet.js';
import { FleetReader } from './fleet-reader.js';
import { LiveView, secs } from './live-view.js';
import { agentAddsJob, jobsAddArgs, operatorSeat, queueJob, sendMessage, unreadMessages } from './operator.js';
import { configureDemo, demoJobTypes, planJobs } from './plan.js';
import { pidsTagged, ProcessSet } from './processes.js';
import { findSource, suitesAt } from './source.js';
import { factsOf, judgeJobs, renderSummary, repoFigures, type JobOutcome, type MessageOutcome, type QueuedJob } from './summary.js';
import { makeWorkspace, type Workspace } from './workspace.js';

export interface DemoIO {
  /** Progress and results (stdout). */
  out: (text: string) => void;
  /** Warnings (stderr). */
  err: (text: string) => void;
  /** Redraw the live view in place. */
  tty: boolean;
  columns: () => number;
}

export interface DemoOptions {
  builders: number;
  /** Extra smoke jobs. */
  extraJobs: number;
  /** Commits of this project to build (HEAD and earlier ones). Default 3. */
  builds: number;
  /** Also queue the `test` job. */
  test: boolean;
  keep: boolean;
  transport: Transport;
  /** Give up when the jobs have not ended after this many seconds. */
  timeoutS: number;
  /** Install the origin's validation hook (`coord remote setup`). */
  harden: boolean;
  /** The command line's environment (children get a hermetic copy). */
  env: NodeJS.ProcessEnv;
  io: DemoIO;
  /** Parent folder of the workspace (default: the system temp folder). */
  parentDir?: string;
}

export interface DemoResult {
  ok: boolean;
  interrupted: boolean;
  workspace: string;
  kept: boolean;
  jobs: JobOutcome[];
  message: MessageOutcome | null;
  seconds: number;
  problems: string[];
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'blocked']);
const POLL_S = 1;

class Interrupted extends Error {
  constructor() { super('interrupted'); }
}

/** One demo run. `interrupt()` once: stop everything cleanly; twice: kill at once. */
export class DemoRun {
  private readonly ac = new AbortController();
  private procs: ProcessSet | null = null;
  private interrupts = 0;

  constructor(private readonly o: DemoOptions) {}

  interrupt(): void {
    this.interrupts++;
    if (this.interrupts === 1) {
      this.o.io.err('\ninterrupted: stopping every process this demo started (Ctrl-C again to kill them at once)\n');
      this.ac.abort();
    } else {
      this.procs?.killAllSync();
    }
  }

  private async pause(ms: number): Promise<void> {
    if (this.ac.signal.aborted) throw new Interrupted();
    const signal = this.ac.signal;
    await new Promise<void>((resolve) => {
      const done = () => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
    if (this.ac.signal.aborted) throw new Interrupted();
  }

  private check(): void {
    if (this.ac.signal.aborted) throw new Interrupted();
  }

  async run(): Promise<DemoResult> {
    const { o } = this;
    const started = Date.now();
    const ws: Workspace = makeWorkspace('demo', o.parentDir);
    const procs = (this.procs = new ProcessSet(cryptoRandomHex(8)));
    const onExit = () => procs.killAllSync();
    process.on('exit', onExit);
    const logFile = () => path.join(ws.logs, 'demo.log');
    const say = (label: string, text: string) => {
      const line = `${label.padEnd(9)} ${text}`;
      o.io.out(line + '\n');
      try { appendFileSync(logFile(), line + '\n'); } catch { /* logs folder not made yet */ }
    };
    say('workspace', `${ws.root} (${o.keep ? 'kept at the end' : 'removed at the end; --keep keeps it'})`);
    let jobs: JobOutcome[] = [];
    let message: MessageOutcome | null = null;
    const problems: string[] = [];
    let interrupted = false;
    try {
      const src = await findSource(PROJECT_ROOT, o.builds);
      const head = src.commits[0];
      const suites = o.test ? await suitesAt(src.root, head.sha) : [];
      say('source', `${src.root} (git dir ${src.gitDir}): build ${src.commits.map((c) => c.short).join(', ')}${suites.length ? `; test ${suites.length} suites at ${head.short}` : ''}`);
      if (src.note) say('note', src.note);
      this.check();

      const f: Fleet = await setUpFleet({
        root: ws.root, builders: o.builders, transport: o.transport, baseEnv: o.env, procs, harden: o.harden,
        say: (l) => o.io.err(l + '\n'),
        configure: (cfg) => configureDemo(cfg, demoJobTypes(src, path.join(PROJECT_ROOT, 'scripts/jobs'))),
      });
      say('origin', f.gitDaemon ? `${f.url} (git daemon pid ${f.gitDaemon.proc.pid}, serving ${path.dirname(f.bare)})` : `${f.url} (file path${f.transportNote ? `: ${f.transportNote}` : ''})`);
      say('init', `coord init --builders ${o.builders} → ${f.commits.init.slice(0, 7)} pushed; job types build, test, smoke and a short policy → ${f.commits.config.slice(0, 7)} pushed`);
      if (o.harden) say('hook', 'coord remote setup: the origin\'s pre-receive hook validates every push');
      this.check();

      // Queue before the daemons start, so claims follow priority.
      const plan = planJobs(src, { extraJobs: o.extraJobs, suites });
      const queued: QueuedJob[] = [];
      const seat = operatorSeat(f.operator, f.env);
      for (const p of plan.filter((x) => x.via === 'operator')) {
        const { id } = await queueJob(seat, p.input);
        queued.push({ plan: p, id });
        say('queued', `$ coord ${jobsAddArgs(p.input).join(' ').replace(/--commit ([0-9a-f]{12})[0-9a-f]+/, '--commit $1…').slice(0, 140)} → ${id}`);
        this.check();
      }
      const agentClone = await cloneFor(f, path.join(ws.root, 'agent'), 'agent');
      for (const p of plan.filter((x) => x.via === 'agent')) {
        const r = await agentAddsJob(agentClone, 'agent', p.input, Date.now());
        queued.push({ plan: p, id: r.id });
        say('agent', `edited coordination/jobs.json by hand in ${agentClone}, git commit, git push (${r.pushes} push${r.pushes > 1 ? 'es' : ''}) → ${r.id}`);
      }
      this.check();

      for (const b of f.builders) startDaemon(f, procs, b, POLL_S);
      say('fleet', `${f.builders.map((b) => `${b} pid ${f.daemons.get(b)!.pid}`).join(' · ')} (coord daemon; logs in ${f.logs})`);

      const from = f.builders[0];
      const sent = await sendMessage({ cwd: f.clones[from], env: f.env }, 'all', `Demo fleet is up: ${queued.length} jobs queued. Builds of ${src.commits.map((c) => c.short).join(', ')} are on their way.`);
      say('message', `$ ${sent.shown.slice(0, 100)} (on ${from}) → ${sent.id}`);
      message = { id: sent.id, from, how: 'sm all', recipients: f.builders.filter((b) => b !== from), seenBy: [] };

      // Live view until every job has ended.
      const watch = await cloneFor(f, path.join(ws.root, 'watch'), 'watcher');
      const reader = new FleetReader(watch);
      const labels = new Map(queued.map((q) => [q.id, q.plan.label]));
      const view = new LiveView(o.io.out, o.io.tty, labels, started, o.io.columns);
      o.io.out('\n');
      const deadline = Date.now() + o.timeoutS * 1000;
      for (;;) {
        const v = await reader.read();
        view.update(v);
        const ours = v.jobs.filter((j) => labels.has(j.id));
        if (ours.length === queued.length && ours.every((j) => TERMINAL.has(j.status))) break;
        const dead = f.builders.filter((b) => !f.daemons.has(b));
        if (dead.length) throw new Error(`daemon ${dead.join(', ')} exited early; see ${f.logs}`);
        if (Date.now() > deadline) throw new Error(`jobs still not finished after ${o.timeoutS} s (--timeout): ${ours.filter((j) => !TERMINAL.has(j.status)).map((j) => `${labels.get(j.id)} ${j.status}`).join(', ')}`);
        await this.pause(1000);
      }
      view.finish();

      // Stop the fleet (drain, offline beat), then judge from the origin and the builders' disks.
      say('stopping', `coord daemon × ${f.builders.length} (SIGTERM: drain, offline heartbeat)`);
      await Promise.all([...f.daemons.values()].map((p) => procs.stop(p, 20_000)));
      const snap = await readSnapshot(f.operator, [PATHS.jobs, PATHS.artifacts], { now: Date.now() });
      const manifest = ((snap.files.get(PATHS.artifacts) as ArtifactsFile | null)?.artifacts ?? []);
      const records = jobRecords(jobsDoc(snap));
      const facts = await factsOf(manifest.filter((a) => queued.some((q) => q.id === a.job_id) && a.path).map((a) => a.path!));
      jobs = judgeJobs(queued, records, manifest, facts);
      for (const b of message.recipients) {
        if ((await unreadMessages({ cwd: f.clones[b], env: f.env })).includes(message.id)) message.seenBy.push(b);
      }
      const repo = await repoFigures(f.bare);
      for (const l of renderSummary(jobs, message, repo)) o.io.out(l + '\n');
      problems.push(...jobs.flatMap((j) => j.problems.map((p) => `${j.label}: ${p}`)));
      const missing = message.recipients.filter((r) => !message!.seenBy.includes(r));
      if (missing.length) problems.push(`message ${message.id} not seen by ${missing.join(', ')}`);
    } catch (err) {
      if (err instanceof Interrupted || this.ac.signal.aborted) interrupted = true;
      else problems.push((err as Error).message);
    } finally {
      const stopped = await procs.stopAll(interrupted ? 8000 : 5000, interrupted ? { againMs: 1000 } : {});
      if (stopped.length) o.io.err(`note: ${stopped.length} stray process(es) of this run were killed at the end\n`);
      const left = await pidsTagged(procs.tag);
      if (left.length) problems.push(`${left.length} process(es) of this run still alive: ${left.join(', ')}`);
      process.off('exit', onExit);
    }
    const ok = !interrupted && problems.length === 0;
    const seconds = (Date.now() - started) / 1000;
    const kept = o.keep || !ok;
    if (!ok) {
      for (const p of problems) o.io.err(`✗ ${p}\n`);
      o.io.err(`${interrupted ? 'interrupted' : 'failed'} after ${secs(seconds * 1000)}; every process it started is stopped. Logs: ${ws.logs} (daemons: build<N>.log, git-daemon.log, demo.log); workspace kept: ${ws.root}\n`);
    } else {
      const arts = jobs.filter((j) => j.artifact?.verified).length;
      o.io.out(`\nOK: ${jobs.length} jobs ended as expected, ${arts} artifact(s) verified, message delivered to ${message?.seenBy.length ?? 0}/${message?.recipients.length ?? 0} — ${secs(seconds * 1000)}${kept ? `; workspace kept: ${ws.root} (logs in ${ws.logs})` : ''}\n`);
    }
    if (!kept) ws.remove();
    return { ok, interrupted, workspace: ws.root, kept, jobs, message, seconds, problems };
  }
}
