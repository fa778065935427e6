/**
 * What every command gets: the global options resolved lazily (repository, builder
 * identity), the clock and the IO door. Layering: defaults < file < environment < flags.
 */
import { requireIdentity, findIdentity, type ResolvedIdentity } from '../config/identity.js';
import { resolveRepoRoot } from '../config/repo.js';
import { systemClock, type Clock } from '../util/time.js';
import type { CliIO } from './io.js';

export interface GlobalArgs {
  repo?: string | undefined;
  builder?: string | undefined;
  json?: boolean | undefined;
}

export interface CommandContext {
  io: CliIO;
  json: boolean;
  clock: Clock;
  /** The repository root; throws E_USAGE when none is found. */
  repoRoot(): string;
  /** This builder's identity; throws E_IDENTITY when it cannot be told. */
  identity(): ResolvedIdentity;
  /** The identity when one is known, else null (for read-only commands). */
  maybeIdentity(): ResolvedIdentity | null;
}

export function makeContext(args: GlobalArgs, io: CliIO, clock: Clock = systemClock): CommandContext {
  let root: string | undefined;
  const repoRoot = () => (root ??= resolveRepoRoot(args.repo, io.env, io.cwd));
  const sources = () => {
    let r: string | undefined;
    try { r = repoRoot(); } catch { r = undefined; }
    return { flag: args.builder, env: io.env, repoRoot: r, ...(io.env.COORD_ETC_BUILD_SERVER_ID ? { etcFile: io.env.COORD_ETC_BUILD_SERVER_ID } : {}) };
  };
  return {
    io,
    json: Boolean(args.json),
    clock,
    repoRoot,
    identity: () => requireIdentity(sources()),
    maybeIdentity: () => findIdentity(sources()),
  };
}
