/**
 * A local fleet on real parts, shared by `coord demo`, `npm run chaos` and the claim
 * benchmark: a bare origin (served by `git daemon`, or a plain path), the coordination tree
 * made by `coord init`, one clone per builder with its own identity, an operator clone, and
 * real `coord daemon` processes.
 *
 * Layout under the workspace root:
 * `remote/fleet.git` (the bare origin; `remote/` is the git daemon's base path),
 * `operator/` (the clone that seeded the tree), `builders/build<N>/`, `logs/`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { git } from '../git/run.js';
import { PATHS } from '../store/kinds.js';
import { mustRun, binPath } from './commands.js';
import { childEnv, HERMETIC_GIT_ENV, identityFlags } from './env.js';
import { startGitDaemon, type GitDaemon } from './git-daemon.js';
import type { Managed, ProcessSet } from './processes.js';

export type Transport = 'git' | 'file';

export interface FleetOptions {
  root: string;
  builders: number;
  transport: Transport;
  /** The environment the command line was started with. */
  baseEnv: NodeJS.ProcessEnv;
  procs: ProcessSet;
  /** Progress lines for people. */
  say: (line: string) => void;
  /** Install the remote's validation hook (`coord remote setup`). */
  harden: boolean;
  /** Edits the build config `coord init` wrote (job types, policy) before it is committed. */
  configure: (cfg: BuildConfigFile) => void;
}

export interface Fleet {
  root: string;
  bare: string;
  /** What clones push to: `git://127.0.0.1:<port>/fleet.git`, or the bare path. */
  url: string;
  transport: Transport;
  /** Why the transport is not what was asked for (git daemon could not start). */
  transportNote: string | null;
  gitDaemon: GitDaemon | null;
  operator: string;
  logs: string;
  builders: string[];
  clones: Record<string, string>;
  /** The running daemon of each builder (absent while stopped). */
  daemons: Map<string, Managed>;
  /** Environment of daemons and commands run in the fleet. */
  env: NodeJS.ProcessEnv;
  commits: { init: string; config: string };
}

/** Plain git in the fleet, hermetic; throws on failure. */
export async function fleetGit(cwd: string, args: readonly string[]): Promise<string> {
  const r = await git(cwd, args, { env: HERMETIC_GIT_ENV, timeoutMs: 60_000 });
  return r.stdout.trim();
}

/** Clones the origin for `who`, with its identity in the clone's config and gc off. */
export async function cloneFor(f: Pick<Fleet, 'url'>, dir: string, who: string): Promise<string> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fleetGit(path.dirname(dir), ['clone', '-q', f.url, dir]);
  await fleetGit(dir, ['config', 'user.name', who]);
  await fleetGit(dir, ['config', 'user.email', `${who}@build-coord.invalid`]);
  await fleetGit(dir, ['config', 'gc.auto', '0']);
  return dir;
}

/**
 * Creates the origin, seeds it with `coord init` (one commit) and the configured job
 * types and policy (a second commit, as an operator would), and clones it per builder.
 * Daemons are not started: see {@link startDaemon}.
 */
export async function setUpFleet(o: FleetOptions): Promise<Fleet> {
  const remoteDir = path.join(o.root, 'remote');
  const logs = path.join(o.root, 'logs');
  await fs.mkdir(remoteDir, { recursive: true });
  await fs.mkdir(logs, { recursive: true });
  const bare = path.join(remoteDir, 'fleet.git');
  await fleetGit(remoteDir, ['init', '-q', '--bare', '-b', 'main', bare]);
  await fleetGit(bare, ['config', 'gc.auto', '0']);
  const env = childEnv(o.baseEnv, process.execPath);

  let gitDaemon: GitDaemon | null = null;
  let transportNote: string | null = null;
  let url = bare;
  if (o.transport === 'git') {
    try {
      gitDaemon = await startGitDaemon(o.procs, { basePath: remoteDir, probeRepo: 'fleet.git', logFile: path.join(logs, 'git-daemon.log'), env });
      url = `${gitDaemon.baseUrl}fleet.git`;
    } catch (err) {
      transportNote = `git daemon could not start (${(err as Error).message}); falling back to the file path ${bare}`;
      o.say(`warning: ${transportNote}`);
    }
  }

  // The operator's clone seeds the tree: `coord init`, committed and pushed with plain git.
  const operator = path.join(o.root, 'operator');
  await fleetGit(o.root, ['init', '-q', '-b', 'main', operator]);
  await fleetGit(operator, ['config', 'gc.auto', '0']);
  await fleetGit(operator, ['remote', 'add', 'origin', url]);
  await mustRun('coord', ['init', '--builders', String(o.builders)], { cwd: operator, env });
  await fleetGit(operator, ['add', '-A']);
  await fleetGit(operator, [...identityFlags('operator'), 'commit', '-q', '-m', `coord init --builders ${o.builders}`]);
  await fleetGit(operator, ['push', '-q', '-u', 'origin', 'main']);
  const init = await fleetGit(operator, ['rev-parse', 'HEAD']);
  if (o.harden) await mustRun('coord', ['remote', 'setup', bare], { cwd: operator, env });

  const cfgFile = path.join(operator, PATHS.buildConfig);
  const cfg = JSON.parse(await fs.readFile(cfgFile, 'utf8')) as BuildConfigFile;
  o.configure(cfg);
  await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
  await mustRun('coord', ['validate', PATHS.buildConfig], { cwd: operator, env });
  await fleetGit(operator, ['add', PATHS.buildConfig]);
  await fleetGit(operator, [...identityFlags('operator'), 'commit', '-q', '-m', 'Job types and policy of the local fleet']);
  await fleetGit(operator, ['push', '-q', 'origin', 'main']);
  const config = await fleetGit(operator, ['rev-parse', 'HEAD']);
  await fleetGit(operator, ['config', 'user.name', 'operator']);
  await fleetGit(operator, ['config', 'user.email', 'operator@build-coord.invalid']);

  const builders = Array.from({ length: o.builders }, (_, i) => `build${i + 1}`);
  const clones: Record<string, string> = {};
  for (const b of builders) {
    const c = await cloneFor({ url }, path.join(o.root, 'builders', b), b);
    // The identity a builder's tools find (DESIGN.md section 2), as scripts/setup_build.sh writes it.
    await fs.writeFile(path.join(c, '.build_server_id'), `${b.slice('build'.length)}\n`);
    clones[b] = c;
  }
  return {
    root: o.root, bare, url, transport: gitDaemon ? 'git' : 'file', transportNote, gitDaemon, operator, logs,
    builders, clones, daemons: new Map(), env, commits: { init, config },
  };
}

/** Starts `coord daemon` for `builder` in its clone (output to logs/<builder>.log). */
export function startDaemon(f: Fleet, procs: ProcessSet, builder: string, pollS: number): Managed {
  const p = procs.start(builder, process.execPath, [binPath('coord'), 'daemon', '--poll-interval', String(pollS)], {
    cwd: f.clones[builder], env: f.env, logFile: path.join(f.logs, `${builder}.log`),
  });
  f.daemons.set(builder, p);
  void p.exited.then(() => { if (f.daemons.get(builder) === p) f.daemons.delete(builder); });
  return p;
}
