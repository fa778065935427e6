/** What a benchmark ran on, printed at the top and stored with the results. */
import os from 'node:os';
import { git } from '../git/run.js';

export interface MachineInfo {
  cpus: number;
  cpu_model: string;
  node: string;
  git: string;
  platform: string;
  /** 1-minute load average when the run started: a busy machine skews every figure. */
  load_1m: number;
  memory_mb: number;
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  const v = await git(os.tmpdir(), ['--version']);
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    git: v.stdout.trim().replace(/^git version /, ''),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    load_1m: Number(os.loadavg()[0].toFixed(2)),
    memory_mb: Math.round(os.totalmem() / 2 ** 20),
  };
}
