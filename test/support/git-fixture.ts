/**
 * Real git fixtures for scenario tests: a bare origin and one clone per builder in a temp
 * folder, hermetic (no global/system config, UTC, gc off, loopback only).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initRepository } from '../../lib/commands/init.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Environment for git and coord child processes: hermetic, never the machine's config. */
export function hermeticEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GIT_') || k.startsWith('COORD_')) delete env[k];
  return {
    ...env,
    GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_SYSTEM: '/dev/null',
    GIT_TERMINAL_PROMPT: '0', TZ: 'UTC', NO_COLOR: '1',
    GIT_AUTHOR_NAME: 'coord test', GIT_AUTHOR_EMAIL: 'test@coord.invalid',
    GIT_COMMITTER_NAME: 'coord test', GIT_COMMITTER_EMAIL: 'test@coord.invalid',
    ...extra,
  };
}

/** Runs git synchronously in `cwd`; returns trimmed stdout. */
export function gitSync(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', ['-c', 'gc.auto=0', ...args], { cwd, env: hermeticEnv(), encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

export interface Fleet {
  dir: string;
  origin: string;
  /** builder id → clone path */
  clones: Record<string, string>;
  cleanup(): void;
}

/**
 * A bare origin holding an initialised coordination tree for `builders` builders, and a
 * clone per builder (`.build_server_id` written, gc off).
 */
export async function makeFleet(builders = 2, opts: { clones?: string[]; now?: number } = {}): Promise<Fleet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coord-fleet-'));
  const origin = path.join(dir, 'origin.git');
  gitSync(dir, ['init', '-q', '--bare', '-b', 'main', origin]);
  gitSync(origin, ['config', 'gc.auto', '0']);
  const seed = path.join(dir, 'seed');
  gitSync(dir, ['init', '-q', '-b', 'main', seed]);
  await initRepository({ root: seed, builders, now: opts.now ?? Date.now() });
  gitSync(seed, ['add', '-A']);
  gitSync(seed, ['commit', '-q', '-m', 'coord init']);
  gitSync(seed, ['remote', 'add', 'origin', origin]);
  gitSync(seed, ['push', '-q', 'origin', 'main']);
  rmSync(seed, { recursive: true, force: true });
  const names = opts.clones ?? Array.from({ length: builders }, (_, i) => `build${i + 1}`);
  const clones: Record<string, string> = {};
  for (const b of names) clones[b] = cloneFor(dir, origin, b);
  return { dir, origin, clones, cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }) };
}

/** A new clone of `origin` for builder `b` under `dir`. */
export function cloneFor(dir: string, origin: string, b: string, name = b): string {
  const c = path.join(dir, name);
  gitSync(dir, ['clone', '-q', origin, c]);
  gitSync(c, ['config', 'gc.auto', '0']);
  writeFileSync(path.join(c, '.build_server_id'), b.replace('build', '') + '\n');
  return c;
}

/** The content of `file` on the origin's main, parsed. */
export function originJson(origin: string, file: string, ref = 'main'): unknown {
  return JSON.parse(gitSync(origin, ['show', `${ref}:${file}`]));
}

/**
 * One fleet for a whole test file: made in beforeAll, removed in afterAll. Read `.fleet`,
 * `.b1`, `.b2` inside tests (they are set once beforeAll has run).
 */
export function useFleet(builders = 2): { fleet: Fleet; b1: string; b2: string } {
  const ctx = {} as { fleet: Fleet; b1: string; b2: string };
  beforeAll(async () => {
    ctx.fleet = await makeFleet(builders);
    ctx.b1 = ctx.fleet.clones.build1;
    ctx.b2 = ctx.fleet.clones.build2;
  });
  afterAll(() => ctx.fleet?.cleanup());
  return ctx;
}
