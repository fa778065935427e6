/**
 * What every command gets: the global options resolved lazily (repository, builder
 * identity), the clock and the IO door. Layering: defaults < file < environment < flags.
 */
import { assertConfiguredBuilder, findIdentity, personActor, requireIdentity, type ResolvedIdentity } from '../config/identity.js';
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
  /**
   * This builder's identity for a command that acts AS the builder (daemon, heartbeat):
   * like {@link identity}, and the builder must be listed in shared/build_config.json.
   * @throws CoordError E_IDENTITY (exit 2) when it cannot be told or is not configured
   */
  builderIdentity(): Promise<ResolvedIdentity>;
  /**
   * Who an operator command acts as: this builder when the machine is one, else the
   * person ($USER, else $LOGNAME, used as written).
   * @throws CoordError E_IDENTITY (exit 2) when neither is known or the name is not valid
   */
  actor(): string;
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
    builderIdentity: async () => {
      const id = requireIdentity(sources());
      await assertConfiguredBuilder(repoRoot(), id);
      return id;
    },
    actor: () => findIdentity(sources())?.builder ?? personActor(io.env),
  };
}
