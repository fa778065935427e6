/**
 * The environment of everything a demo, chaos or benchmark run starts: hermetic git (the
 * user's own configuration — signing, hooks, `insteadOf`, credential helpers — must neither
 * block nor change a local fleet), UTC, no colour, and the same `node` first on PATH so job
 * scripts run with the interpreter that runs us. Built from the environment the command
 * line passes in; nothing here reads `process.env` itself.
 */
import path from 'node:path';

/** Settings that make git ignore the machine's configuration. */
export const HERMETIC_GIT_ENV: Readonly<Record<string, string>> = Object.freeze({
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_SYSTEM: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  TZ: 'UTC',
});

/**
 * `base` without git/coord variables that would redirect a child (GIT_DIR, COORD_REPO,
 * COORD_BUILDER, SERVER_ID…), plus the hermetic settings and `extra`.
 */
export function childEnv(base: NodeJS.ProcessEnv, nodePath: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith('GIT_') || (k.startsWith('COORD_') && k !== 'COORD_DEMO_RUN') || k === 'SERVER_ID') continue;
    env[k] = v;
  }
  const bin = path.dirname(nodePath);
  const pathList = (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(path.delimiter).filter((p) => p !== bin);
  return { ...env, ...HERMETIC_GIT_ENV, NO_COLOR: '1', PATH: [bin, ...pathList].join(path.delimiter), ...extra };
}

/** Git `-c` flags giving a commit identity (plain-git commits of operators and agents). */
export function identityFlags(name: string): string[] {
  const email = `${name.replace(/[^A-Za-z0-9._-]/g, '') || 'someone'}@build-coord.invalid`;
  return ['-c', `user.name=${name}`, '-c', `user.email=${email}`];
}
