/**
 * Builder identity (DESIGN.md section 2), resolved in this order: `--builder`,
 * `COORD_BUILDER`, `SERVER_ID`, `/etc/build_server_id`, `<repo>/.build_server_id`, a
 * hostname ending in `build<N>` or `builder<N>`. Never a silent default.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordError } from '../errors.js';

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
