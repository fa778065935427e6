/**
 * Stopping a job's whole process tree (DESIGN.md section 4): the job runs in its own
 * process group; SIGTERM goes to the group, SIGKILL after a grace period. A grandchild
 * that left the group (setsid, daemonising `nohup … &`) is still found by the
 * `COORD_JOB_ID=<id>` tag in its environment (Linux /proc), so none outlives its job.
 */
import { promises as fs } from 'node:fs';

/** Pids whose environment carries `COORD_JOB_ID=<jobId>` (empty where /proc is absent). */
export async function pidsTaggedWith(jobId: string): Promise<number[]> {
  const tag = `COORD_JOB_ID=${jobId}`;
  const out: number[] = [];
  const entries = await fs.readdir('/proc').catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const env = await fs.readFile(`/proc/${e}/environ`).catch(() => null);
    if (env && env.toString('utf8').split('\0').includes(tag)) out.push(pid);
  }
  return out;
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
export async function killJobTree(pgid: number | undefined, jobId: string, graceMs = 5000): Promise<void> {
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
