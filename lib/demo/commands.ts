/**
 * Running this installation's own command-line programs as a user would (`coord …`, `sm …`)
 * in a child process, and finding them. Short-lived commands only: long-lived ones go
 * through {@link ProcessSet}.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The folder holding package.json, bin/ and dist/ of this installation. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `bin/<name>.js` of this installation (coord, sm, sendmessages). */
export function binPath(name: 'coord' | 'sm' | 'sendmessages'): string {
  return path.join(PROJECT_ROOT, 'bin', `${name}.js`);
}

/** True when the `sm` program exists in this installation (the messaging work may not have landed). */
export function hasBin(name: 'coord' | 'sm' | 'sendmessages'): boolean {
  return existsSync(binPath(name));
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command as typed, for logs. */
  shown: string;
}

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/**
 * Runs `node bin/<name>.js ARGS` (never through a shell). Never throws on a non-zero
 * exit: callers judge the result.
 */
export async function runBin(name: 'coord' | 'sm' | 'sendmessages', args: readonly string[], o: CommandOptions): Promise<CommandResult> {
  const r = await execa(process.execPath, [binPath(name), ...args], {
    cwd: o.cwd, env: o.env, extendEnv: false, reject: false, timeout: o.timeoutMs ?? 120_000,
    ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
  });
  return {
    exitCode: r.exitCode ?? (r.timedOut ? 124 : 1),
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    shown: `${name} ${args.map((a) => (/^[\w./:=@,+-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
  };
}

/** Like {@link runBin} but throws, with the command's own words, when it fails. */
export async function mustRun(name: 'coord' | 'sm' | 'sendmessages', args: readonly string[], o: CommandOptions): Promise<CommandResult> {
  const r = await runBin(name, args, o);
  if (r.exitCode !== 0) throw new Error(`\`${r.shown}\` in ${o.cwd} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n').slice(0, 6).join(' | ')}`);
  return r;
}
