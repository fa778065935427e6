/**
 * Stopping a job's whole process tree (DESIGN.md section 4): the job runs in its own
 * process group; SIGTERM goes to the group, SIGKILL after a grace period. A grandchild
 * that left the group (setsid, daemonising `nohup … &`) is still found by the
 * `COORD_JOB_ID=<id>` tag in its environment (Linux /proc), so none outlives its job.
 */
import { promises as fs } from 'node:fs';

/** Which attempt a process belongs to: the job, and optionally builder and attempt. */
export interface JobTag { jobId: string; builder?: string; attempt?: number }

/**
 * Pids whose environment carries `COORD_JOB_ID=<jobId>` (and, when given, the builder and
 * attempt: several builders may share one machine, as in `npm start`, and one attempt must
 * never kill another's processes). Empty where /proc is absent.
 */
export async function pidsTaggedWith(tagOrJob: JobTag | string): Promise<number[]> {
  const t: JobTag = typeof tagOrJob === 'string' ? { jobId: tagOrJob } : tagOrJob;
  const tags = [`COORD_JOB_ID=${t.jobId}`, ...(t.builder ? [`COORD_BUILDER=${t.builder}`] : []), ...(t.attempt !== undefined ? [`COORD_ATTEMPT=${t.attempt}`] : [])];
  const out: number[] = [];
  for await (const { pid, vars } of processEnvironments()) if (tags.every((x) => vars.includes(x))) out.push(pid);
  return out;
}

/** Every other process on this machine with its environment (`NAME=value` entries), from /proc. None where /proc is absent. */
async function* processEnvironments(): AsyncGenerator<{ pid: number; vars: string[] }> {
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const env = await fs.readFile(`/proc/${e}/environ`).catch(() => null);
    if (env) yield { pid: Number(e), vars: env.toString('utf8').split('\0') };
  }
}

/** Processes of one job attempt, found by their tags. */
export interface TaggedAttempt { jobId: string; attempt: number; pids: number[] }

/**
 * Every job attempt of `builder` with a live tagged process on this machine (one /proc
 * sweep), so a restarted daemon can find what an earlier run left behind. Empty where
 * /proc is absent.
 */
export async function attemptsRunningFor(builder: string): Promise<TaggedAttempt[]> {
  const byKey = new Map<string, TaggedAttempt>();
  for await (const { pid, vars } of processEnvironments()) {
    if (!vars.includes(`COORD_BUILDER=${builder}`)) continue;
    const jobId = vars.find((v) => v.startsWith('COORD_JOB_ID='))?.slice('COORD_JOB_ID='.length);
    const attempt = Number(vars.find((v) => v.startsWith('COORD_ATTEMPT='))?.slice('COORD_ATTEMPT='.length));
    if (!jobId || !Number.isInteger(attempt)) continue;
    const key = `${jobId}#${attempt}`;
    const a = byKey.get(key) ?? { jobId, attempt, pids: [] };
    a.pids.push(pid);
    byKey.set(key, a);
  }
  return [...byKey.values()];
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM to the group `pgid` and every tagged process; after `graceMs`, SIGKILL to what
 * is left. Resolves when nothing tagged remains (or after a last sweep).
 */
export async function killJobTree(pgid: number | undefined, jobId: JobTag | string, graceMs = 5000): Promise<void> {
  if (pgid) signal(-pgid, 'SIGTERM');
  for (const p of await pidsTaggedWith(jobId)) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    const left = await pidsTaggedWith(jobId);
    const groupAlive = pgid ? signal(-pgid, 0 as unknown as NodeJS.Signals) : false;
    if (!left.length && !groupAlive) return;
    await sleep(100);
  }
  if (pgid) signal(-pgid, 'SIGKILL');
  for (const p of await pidsTaggedWith(jobId)) signal(p, 'SIGKILL');
  await sleep(50);
}
