/**
 * The fleet's remote served over the network by a real `git daemon` on 127.0.0.1 with push
 * enabled (PLATFORM.md "git daemon"), started through the run's {@link ProcessSet}. The
 * daemon forks one child per connection; they share its process group, so stopping the
 * group stops them all.
 */
import net from 'node:net';
import { git } from '../git/run.js';
import { HERMETIC_GIT_ENV } from './env.js';
import type { Managed, ProcessSet } from './processes.js';

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface GitDaemon {
  proc: Managed;
  port: number;
  /** `git://127.0.0.1:<port>/` — append the repository's path under the base path. */
  baseUrl: string;
}

export interface GitDaemonOptions {
  /** Folder whose repositories are served (`--base-path`). */
  basePath: string;
  /** A repository under basePath that must answer before the daemon counts as up. */
  probeRepo: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
  /** Reuse this port (a restart); default: a free one. */
  port?: number;
  /** How long to wait for the first answer (ms). Default 10000. */
  readyMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts `git daemon` and waits until `git ls-remote` through it answers.
 * @throws Error naming the log file when it does not come up (the caller falls back to a path)
 */
export async function startGitDaemon(procs: ProcessSet, o: GitDaemonOptions): Promise<GitDaemon> {
  const port = o.port ?? (await freePort());
  const proc = procs.start('git-daemon', 'git', [
    'daemon', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${o.basePath}`, '--export-all',
    '--enable=receive-pack', '--reuseaddr', '--informative-errors', '--verbose', o.basePath,
  ], { cwd: o.basePath, env: o.env, logFile: o.logFile });
  const baseUrl = `git://127.0.0.1:${port}/`;
  const deadline = Date.now() + (o.readyMs ?? 10_000);
  while (Date.now() < deadline) {
    if (proc.exit) break;
    const r = await git(o.basePath, ['ls-remote', `${baseUrl}${o.probeRepo}`], { allowFailure: true, timeoutMs: 5000, env: HERMETIC_GIT_ENV });
    if (r.exitCode === 0) return { proc, port, baseUrl };
    await sleep(100);
  }
  await procs.stop(proc, 1000);
  throw new Error(`git daemon on 127.0.0.1:${port} did not answer within ${Math.round((o.readyMs ?? 10_000) / 1000)} s (exit ${JSON.stringify(proc.exit)}; see ${o.logFile})`);
}
