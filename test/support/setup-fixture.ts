/**
 * Running `scripts/setup_build.sh` for real in tests: a temp coordination repository (a
 * bare origin made by {@link makeFleet}) with a fresh clone that setup has never seen (no
 * `.build_server_id`), the script run from this package's scripts/ folder with `--repo`
 * pointing at the clone and `--prefix` at a temp folder, and its `[setup]`/`[check]` lines
 * parsed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cloneFor, gitSync, hermeticEnv, makeFleet, ROOT, type Fleet } from './git-fixture.js';
import { fingerprintTree } from './tree.js';

export const SETUP_SCRIPT = path.join(ROOT, 'scripts/setup_build.sh');

export interface SetupFixture {
  fleet: Fleet;
  /** The fresh clone (no identity file, no hooks). */
  clone: string;
  /** Where system files go (`--prefix`); not created. */
  prefix: string;
}

/** A fleet configured for `builders` builders and a fresh clone named `name`. */
export async function makeSetupFixture(builders = 3, name = 'clone'): Promise<SetupFixture> {
  const fleet = await makeFleet(builders, { clones: [] });
  const clone = path.join(fleet.dir, name);
  gitSync(fleet.dir, ['clone', '-q', fleet.origin, clone]);
  gitSync(clone, ['config', 'gc.auto', '0']);
  return { fleet, clone, prefix: path.join(fleet.dir, 'prefix') };
}

/** One more clone of the fixture's origin, set up by hand as `builder` (identity file only). */
export function extraClone(f: SetupFixture, builder: string): string {
  return cloneFor(f.fleet.dir, f.fleet.origin, builder);
}

export interface ScriptResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** `[setup] STEP: STATUS` and `[check] STEP: STATUS` lines: step → status text. */
  steps: Map<string, string>;
}

/** Parses the script's report lines. */
export function parseSteps(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of stdout.matchAll(/^\[(?:setup|check)\] ([^:]+): (.*)$/gm)) out.set(m[1], m[2]);
  return out;
}

export interface RunScriptOptions {
  /** PATH for the script (default: the test process's). */
  path?: string;
  env?: Record<string, string>;
  /** The script to run (default: setup_build.sh). */
  script?: string;
  timeoutMs?: number;
}

/** Runs `bash SCRIPT ARGS` with the hermetic environment; never throws on a non-zero exit. */
export function runScript(args: string[], o: RunScriptOptions = {}): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const env = hermeticEnv({ ...(o.path !== undefined ? { PATH: o.path } : {}), ...o.env });
    // bash by absolute path: a test PATH may hold neither bash nor env.
    const child = spawn('/bin/bash', [o.script ?? SETUP_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      resolve({ exitCode: code ?? 128, stdout, stderr: Buffer.concat(err).toString('utf8'), steps: parseSteps(stdout) });
    });
  });
}

/** `setup_build.sh N --prefix P --repo CLONE --no-install EXTRA…` (tests never run npm ci). */
export function runSetup(f: SetupFixture, n: number, extra: string[] = [], o: RunScriptOptions = {}): Promise<ScriptResult> {
  return runScript([String(n), '--prefix', f.prefix, '--repo', f.clone, '--no-install', ...extra], o);
}

/**
 * What setup may touch, fingerprinted (type, mode, size, inode, mtime, sha256 of every
 * entry): the prefix tree, and the clone's whole tree including `.git` (objects, config,
 * hooks, info/exclude, coord/). Equal fingerprints mean not even an identical rewrite.
 */
export async function fingerprintSetup(f: SetupFixture): Promise<Record<string, string>> {
  const prefix = existsSync(f.prefix) ? await fingerprintTree(f.prefix) : { '.': 'absent' };
  const clone = await fingerprintTree(f.clone);
  return { ...Object.fromEntries(Object.entries(prefix).map(([k, v]) => [`prefix/${k}`, v])), ...Object.fromEntries(Object.entries(clone).map(([k, v]) => [`clone/${k}`, v])) };
}

/** Runs git in `cwd` with the hermetic environment; returns status and output (hooks run). */
export function gitRun(cwd: string, args: string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('git', ['-c', 'gc.auto=0', ...args], { cwd, env: hermeticEnv(env), encoding: 'utf8' });
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
