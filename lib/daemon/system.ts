/**
 * System figures for heartbeats, from systeminformation (DESIGN.md section 5): CPU load %,
 * memory used/total, disk free of the workspace, uptime. PLATFORM.md: the first
 * `currentLoad()` samples for ~500 ms, `fsSize()` runs `df` without a timeout (a dead
 * network mount can hang it), so every probe here is bounded.
 */
import os from 'node:os';
import si from 'systeminformation';
import type { SystemFigures } from '../schemas/types.gen.js';

function bounded<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return Promise.race([p.catch(() => null), new Promise<null>((r) => setTimeout(() => r(null), ms).unref())]);
}

/** Current figures; a probe that fails or times out gives null for its field. */
export async function readSystemFigures(workspace: string): Promise<SystemFigures> {
  const [load, mem, disks] = await Promise.all([
    bounded(si.currentLoad(), 2000),
    bounded(si.mem(), 2000),
    bounded(si.fsSize(), 3000),
  ]);
  let diskFree: number | null = null;
  if (disks && disks.length) {
    // The mount that holds the workspace: the longest mount point that prefixes it.
    const best = disks.filter((d) => workspace.startsWith(d.mount)).sort((a, b) => b.mount.length - a.mount.length)[0];
    if (best) diskFree = Math.round(best.available / 1048576);
  }
  return {
    cpu_percent: load ? Math.round(load.currentLoad * 10) / 10 : null,
    memory_used_mb: mem ? Math.round(mem.active / 1048576) : null,
    memory_total_mb: mem ? Math.round(mem.total / 1048576) : null,
    disk_free_mb: diskFree,
    uptime_s: Math.round(os.uptime()),
  };
}

/** Static facts of this machine for `capabilities`. */
export function machineFacts(): { cores: number; memory_mb: number; platform: string; node: string } {
  return { cores: os.cpus().length, memory_mb: Math.round(os.totalmem() / 1048576), platform: `${os.platform()} ${os.release()}`, node: process.version };
}
