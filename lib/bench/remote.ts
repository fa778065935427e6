/**
 * A local bare remote for benchmarks: a bare `origin.git` holding a fresh coordination
 * tree (what `coord init` makes) and one clone per writer, all under `dir`.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { initRepository } from '../commands/init.js';
import { git } from '../git/run.js';

/** Identity for the plain-git commits of the benchmark (not the transactions'). */
export const BENCH_IDENTITY = ['-c', 'user.name=coord bench', '-c', 'user.email=bench@build-coord.invalid'];

export interface BenchRemote {
  origin: string;
  /** clone name → path */
  clones: Record<string, string>;
}

/**
 * Creates the bare remote and the clones.
 * @param builders builders configured in the build config (writers act as build1..buildN)
 */
export async function makeBenchRemote(dir: string, builders: number, cloneNames: readonly string[]): Promise<BenchRemote> {
  const origin = path.join(dir, 'origin.git');
  await git(dir, ['init', '-q', '--bare', '-b', 'main', origin]);
  const seed = path.join(dir, 'seed');
  await git(dir, ['init', '-q', '-b', 'main', seed]);
  await initRepository({ root: seed, builders, now: Date.now() });
  await git(seed, ['add', '-A']);
  await git(seed, [...BENCH_IDENTITY, 'commit', '-q', '-m', 'coord init']);
  await git(seed, ['push', '-q', origin, 'main']);
  rmSync(seed, { recursive: true, force: true });
  const clones: Record<string, string> = {};
  for (const name of cloneNames) {
    const c = path.join(dir, name);
    await git(dir, ['clone', '-q', origin, c]);
    clones[name] = c;
  }
  return { origin, clones };
}
