/**
 * Builder identity (DESIGN.md section 2), resolved in this order: `--builder`,
 * `COORD_BUILDER`, `SERVER_ID`, `/etc/build_server_id`, `<repo>/.build_server_id`, a
 * hostname ending in `build<N>` or `builder<N>`. Never a silent default.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';
import { git } from '../git/run.js';

export const BUILDER_ID_RE = /^build[1-9][0-9]{0,3}$/;

export interface IdentitySources {
  flag?: string | undefined;
  env: NodeJS.ProcessEnv;
  repoRoot?: string | undefined;
  /** Defaults to /etc/build_server_id; tests point it elsewhere. */
  etcFile?: string;
  hostname?: string;
}

export interface ResolvedIdentity {
  builder: string;
  /** Where it came from, for `coord doctor` and error messages. */
  source: string;
}

/** `2` → `build2`; `build2` stays; `Build2`/`BUILD2` → `build2`; else null. */
export function normalizeBuilderId(raw: string): string | null {
  const t = raw.trim();
  if (/^[1-9][0-9]{0,3}$/.test(t)) return `build${t}`;
  const lower = t.toLowerCase();
  return BUILDER_ID_RE.test(lower) ? lower : null;
}

function readId(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * @returns the identity, or null when no source names one
 * @throws CoordError E_IDENTITY when a source names something that is not a builder id
 */
export function findIdentity(src: IdentitySources): ResolvedIdentity | null {
  const candidates: [string, string | null | undefined][] = [
    ['--builder', src.flag],
    ['COORD_BUILDER', src.env.COORD_BUILDER],
    ['SERVER_ID', src.env.SERVER_ID],
    [src.etcFile ?? '/etc/build_server_id', readId(src.etcFile ?? '/etc/build_server_id')],
    ...(src.repoRoot ? [[path.join(src.repoRoot, '.build_server_id'), readId(path.join(src.repoRoot, '.build_server_id'))] as [string, string | null]] : []),
  ];
  for (const [source, raw] of candidates) {
    if (raw === undefined || raw === null || raw === '') continue;
    const id = normalizeBuilderId(raw);
    if (!id) throw new CoordError('E_IDENTITY', `${source} says "${raw}", which is not a builder id (build<N>, N >= 1)`);
    return { builder: id, source };
  }
  const host = src.hostname ?? os.hostname();
  const m = /(?:build|builder)([1-9][0-9]{0,3})$/i.exec(host.split('.')[0] ?? '');
  if (m) return { builder: `build${m[1]}`, source: `hostname ${host}` };
  return null;
}

/**
 * Like {@link findIdentity} but for commands that write.
 * @throws CoordError E_IDENTITY naming every source when none gives an identity
 */
export function requireIdentity(src: IdentitySources): ResolvedIdentity {
  const id = findIdentity(src);
  if (id) return id;
  throw new CoordError(
    'E_IDENTITY',
    'cannot tell which builder this is: pass --builder buildN, set COORD_BUILDER, write N to ' +
      `${src.repoRoot ? path.join(src.repoRoot, '.build_server_id') : '<repo>/.build_server_id'} (scripts/setup_build.sh does), or use a hostname ending in buildN`,
  );
}

/** A person's actor name: what `created_by`, `locked_by` and `Coord-Actor` may hold. */
export const ACTOR_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The person an operator command acts as on a machine that is not a builder: `$USER`,
 * else `$LOGNAME`, used as written — never mangled into another name.
 * @throws CoordError E_IDENTITY (exit 2) when neither is set, or the one set is not a valid
 *   actor name (letters, digits, `.`, `_`, `-`; up to 64; first a letter or digit)
 */
export function personActor(env: NodeJS.ProcessEnv): string {
  const [name, raw] = env.USER ? ['USER', env.USER] : env.LOGNAME ? ['LOGNAME', env.LOGNAME] : [null, ''];
  if (name === null) {
    throw new CoordError('E_IDENTITY', 'cannot tell who acts: this machine is not a builder (pass --builder buildN or set COORD_BUILDER) and neither USER nor LOGNAME is set');
  }
  if (!ACTOR_RE.test(raw)) {
    throw new CoordError('E_IDENTITY',
      `${name} is ${JSON.stringify(raw)}, which is not a valid actor name (letters, digits, '.', '_', '-'; at most 64; starting with a letter or digit): ` +
      `run with a valid ${name} (e.g. ${name}=alice coord ...), or pass --builder buildN on a builder`, { details: { argument: name } });
  }
  return raw;
}

/** Where {@link configuredBuilders} found the builder list. */
export interface ConfiguredBuilders {
  builders: string[];
  /** `origin/main:shared/build_config.json` or the working-tree path. */
  source: string;
}

const BUILD_CONFIG = 'shared/build_config.json';

async function gitText(repoRoot: string, args: string[]): Promise<string | null> {
  const r = await git(repoRoot, args, { allowFailure: true });
  return r.exitCode === 0 ? r.stdout : null;
}

function buildersOf(text: string | null): string[] | null {
  if (text === null) return null;
  try {
    const b = (JSON.parse(text) as { builders?: unknown }).builders;
    return b && typeof b === 'object' && !Array.isArray(b) ? Object.keys(b) : null;
  } catch {
    return null;
  }
}

/**
 * The builders `shared/build_config.json` configures: read from the remote-tracking branch
 * (`<remote>/main`) when the clone has one, else from the working tree.
 * @returns null when no readable build config with a `builders` object is found
 */
export async function configuredBuilders(repoRoot: string, remote = 'origin', branch = 'main'): Promise<ConfiguredBuilders | null> {
  const ref = `refs/remotes/${remote}/${branch}`;
  if (await gitText(repoRoot, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]) !== null) {
    const b = buildersOf(await gitText(repoRoot, ['show', `${ref}:${BUILD_CONFIG}`]));
    return b ? { builders: b, source: `${remote}/${branch}:${BUILD_CONFIG}` } : null;
  }
  let text: string | null;
  try { text = readFileSync(path.join(repoRoot, BUILD_CONFIG), 'utf8'); } catch { text = null; }
  const b = buildersOf(text);
  return b ? { builders: b, source: path.join(repoRoot, BUILD_CONFIG) } : null;
}

/**
 * Refuses, before anything is written, to act as a builder the build config does not list
 * (`coord daemon`, `coord heartbeat`, `coord jobs claim|complete`). When the local view
 * does not list it, the remote is fetched once (a builder just added elsewhere) and asked
 * again. A missing or unreadable build config is left to the command (it reports it).
 * @throws CoordError E_IDENTITY (exit 2) naming the builder, where its id came from, and the
 *   configured builders
 */
export async function assertConfiguredBuilder(repoRoot: string, id: { builder: string; source?: string | undefined }, remote = 'origin', branch = 'main'): Promise<void> {
  let cfg = await configuredBuilders(repoRoot, remote, branch);
  if (!cfg || cfg.builders.includes(id.builder)) return;
  await gitText(repoRoot, ['fetch', '--quiet', '--no-write-fetch-head', remote, `+refs/heads/${branch}:refs/remotes/${remote}/${branch}`]);
  cfg = await configuredBuilders(repoRoot, remote, branch);
  if (!cfg || cfg.builders.includes(id.builder)) return;
  throw new CoordError('E_IDENTITY',
    `${id.builder} is not a configured builder (${BUILD_CONFIG} has ${cfg.builders.join(', ') || 'none'}${id.source ? `; ${id.builder} came from ${id.source}` : ''}): ` +
    `fix --builder / COORD_BUILDER / .build_server_id, or add it to ${BUILD_CONFIG}`,
    { details: { builder: id.builder, source: id.source ?? null, configured: cfg.builders, config: cfg.source } });
}
