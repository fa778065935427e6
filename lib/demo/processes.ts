/**
 * The one door through which the demo, the chaos run and the claim benchmark start long-lived
 * processes (daemons, `git daemon`): each in its own process group, its output appended to
 * a log file, every one tagged with `<RUN_TAG_VAR>=<tag>` in its environment. The tag is
 * inherited by everything below it — git children, job processes (the runner passes the
 * daemon's environment on), their grandchildren — so {@link pidsTagged} finds every process
 * a run started, even one that left its group, and {@link ProcessSet.stopAll} leaves no orphan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, promises as fs, readdirSync, readFileSync } from 'node:fs';

/** The environment variable that marks every process of one run. */
export const RUN_TAG_VAR = 'COORD_DEMO_RUN';

export interface StartOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Output (stdout and stderr) is appended here. */
  logFile: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A process started through {@link ProcessSet.start}. */
export interface Managed {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** Set once exited. */
  exit: Exit | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signalGroup(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

function signalPid(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Pids (other than this process) whose environment holds `NAME=VALUE` (Linux /proc; empty
 * elsewhere). Zombies have an empty environ and are not counted: they run nothing.
 */
export async function pidsWithEnv(name: string, value: string): Promise<number[]> {
  const needle = `${name}=${value}`;
  const out: number[] = [];
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const env = await fs.readFile(`/proc/${e}/environ`).catch(() => null);
    if (env && env.toString('utf8').split('\0').includes(needle)) out.push(Number(e));
  }
  return out;
}

/** Every live process carrying the run tag `tag`. */
export function pidsTagged(tag: string): Promise<number[]> {
  return pidsWithEnv(RUN_TAG_VAR, tag);
}

/** The command line of a pid, for reports (`?` when gone). */
export async function commandLineOf(pid: number): Promise<string> {
  const raw = await fs.readFile(`/proc/${pid}/cmdline`).catch(() => null);
  return raw ? raw.toString('utf8').split('\0').filter(Boolean).join(' ').slice(0, 200) : '?';
}

/** The processes of one run. `stopAll` is idempotent; `killAllSync` is for exit handlers. */
export class ProcessSet {
  readonly tag: string;
  private readonly procs = new Set<Managed>();

  constructor(tag: string) {
    this.tag = tag;
  }

  /** Starts `file args…` in its own process group, tagged, output to `o.logFile`. */
  start(name: string, file: string, args: readonly string[], o: StartOptions): Managed {
    const fd = openSync(o.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: o.cwd, env: { ...o.env, [RUN_TAG_VAR]: this.tag }, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${name} (${file}): see ${o.logFile}`);
    const m: Managed = {
      name, pid: child.pid, logFile: o.logFile, child, exit: null,
      exited: new Promise<Exit>((resolve) => {
        child.once('exit', (code, signal) => { m.exit = { code, signal }; resolve(m.exit); });
        child.once('error', () => { m.exit ??= { code: null, signal: null }; resolve(m.exit); });
      }),
    };
    this.procs.add(m);
    return m;
  }

  /** Processes started here that are still running. */
  live(): Managed[] {
    return [...this.procs].filter((p) => !p.exit);
  }

  /** Sends `sig` to the process (not its group): what SIGSTOP/SIGCONT/SIGKILL chaos uses. */
  signal(p: Managed, sig: NodeJS.Signals): boolean {
    return !p.exit && signalPid(p.pid, sig);
  }

  /**
   * Stops one process: `sig` (SIGTERM) to the process itself — its own git children finish
   * or fail cleanly — again after `againMs` when given (a daemon's second signal stops its
   * jobs at once), SIGKILL to its whole group after `graceMs`, and SIGKILL to the group
   * once it has exited (nothing of its group may stay behind).
   * @returns how it exited
   */
  async stop(p: Managed, graceMs: number, o: { sig?: NodeJS.Signals; againMs?: number } = {}): Promise<Exit> {
    const sig = o.sig ?? 'SIGTERM';
    if (!p.exit) {
      signalPid(p.pid, 'SIGCONT'); // a stopped process cannot handle SIGTERM
      signalPid(p.pid, sig);
      const again = o.againMs !== undefined ? setTimeout(() => { if (!p.exit) signalPid(p.pid, sig); }, o.againMs) : null;
      let graceTimer: NodeJS.Timeout | undefined;
      const timer = new Promise<'timeout'>((r) => { graceTimer = setTimeout(() => r('timeout'), graceMs); });
      if ((await Promise.race([p.exited, timer])) === 'timeout') signalGroup(p.pid, 'SIGKILL');
      clearTimeout(graceTimer);
      if (again) clearTimeout(again);
    }
    const exit = await p.exited;
    signalGroup(p.pid, 'SIGKILL');
    return exit;
  }

  /**
   * Stops every process of the run: `sig` to each group, SIGKILL after `graceMs`, then
   * SIGKILL to any process still carrying the run tag (job processes in groups of their
   * own, grandchildren that left their group).
   * @returns pids that had to be killed by the tag sweep
   */
  async stopAll(graceMs: number, o: { sig?: NodeJS.Signals; againMs?: number } = {}): Promise<number[]> {
    await Promise.all(this.live().map((p) => this.stop(p, graceMs, o)));
    return this.sweep();
  }

  /** SIGKILLs every process still tagged with this run, until none is left (≤ 5 s). */
  async sweep(): Promise<number[]> {
    const killed = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const left = await pidsTagged(this.tag);
      if (!left.length) break;
      for (const pid of left) { killed.add(pid); signalPid(pid, 'SIGKILL'); }
      await sleep(100);
    }
    return [...killed];
  }

  /**
   * Last resort (`process.on('exit')`, a second Ctrl-C): SIGKILL every group started here
   * and every process carrying the run tag, synchronously.
   */
  killAllSync(): void {
    for (const p of this.procs) signalGroup(p.pid, 'SIGKILL');
    const needle = `${RUN_TAG_VAR}=${this.tag}`;
    let entries: string[];
    try { entries = readdirSync('/proc'); } catch { return; }
    for (const e of entries) {
      if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(needle)) signalPid(Number(e), 'SIGKILL');
      } catch { /* gone */ }
    }
  }
}
