/**
 * Parsing what an operator types (issue 6, "Bad input"): priorities, `--param k=v`,
 * `--requires k=v`, times (`--not-before`, `--since`), durations (`--ttl`, `--timeout`).
 * Pure; every rejection is a CoordError E_USAGE (exit 2) that names the flag, the value
 * and the accepted forms — these functions are called only from the command-line edge.
 */
import { CoordError } from '../errors.js';
import type { JobRequires } from '../schemas/types.gen.js';
import { formatTimestamp, parseTimestamp } from '../util/time.js';

/** A portable environment variable name (schema `envName`). */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Job statuses (schema `jobStatus`). */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'blocked'] as const;
export type JobStatusName = (typeof JOB_STATUSES)[number];

const usage = (message: string) => new CoordError('E_USAGE', message);

const show = (raw: unknown) => JSON.stringify(raw === undefined ? '' : raw);

/**
 * The one value of an option that takes one. yargs gathers a repeated option into an array
 * (`--priority 3 --priority 4`); taking either would silently drop the other.
 * @throws CoordError E_USAGE "--priority given twice"
 */
export function onlyOnce(raw: unknown, flag: string): unknown {
  if (!Array.isArray(raw)) return raw;
  if (raw.length === 1) return raw[0] as unknown;
  const times = raw.length === 2 ? 'twice' : `${raw.length} times`;
  throw new CoordError('E_USAGE', `${flag} given ${times} (${raw.map((v) => JSON.stringify(v)).join(', ')}); give it once`, { details: { argument: flag } });
}

/**
 * A whole number within `[min, max]`, written as plain digits (no `1e1`, `0x10`, `5.0`).
 * @throws CoordError E_USAGE
 */
export function parseWholeNumber(raw: unknown, flag: string, min: number, max: number): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^[0-9]+$/.test(text)) throw usage(`${flag} ${show(raw)}: give a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw usage(`${flag} ${text}: must be from ${min} to ${max}`);
  return n;
}

/** Job priority: 1 (runs first) to 10. @throws CoordError E_USAGE */
export function parsePriority(raw: unknown): number {
  return parseWholeNumber(raw, '--priority', 1, 10);
}

/**
 * `--param NAME=VALUE`, repeatable; the value may hold further `=`. Names are environment
 * variable names (params reach the job as its environment, never through a shell).
 * @throws CoordError E_USAGE for a missing `=`, a bad name, a repeated name, a value over 4096 characters
 */
export function parseParams(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq < 0) throw usage(`--param ${show(item)}: write NAME=VALUE (for example --param TARGET=release)`);
    const name = item.slice(0, eq), value = item.slice(eq + 1);
    if (!ENV_NAME_RE.test(name)) {
      throw usage(`--param ${show(item)}: ${show(name)} is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
    }
    if (name in out) throw usage(`--param ${name} is given twice`);
    if (value.length > 4096) throw usage(`--param ${name}: the value is ${value.length} characters, over the 4096 limit`);
    out[name] = value;
  }
  return out;
}

/**
 * `--requires arch=x86_64` (and `labels=a,b`), plus `--label L`… merged.
 * @throws CoordError E_USAGE for an unknown key or an empty value
 */
export function parseRequires(requires: readonly string[], labels: readonly string[]): JobRequires {
  const out: JobRequires = {};
  const allLabels: string[] = [];
  for (const item of requires) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (!value || (key !== 'arch' && key !== 'labels' && key !== 'label')) {
      throw usage(`--requires ${show(item)}: write arch=ARCH or labels=L1,L2 (for example --requires arch=x86_64)`);
    }
    if (key === 'arch') {
      if (value.length > 64) throw usage(`--requires arch: at most 64 characters`);
      out.arch = value;
    } else allLabels.push(...value.split(',').map((l) => l.trim()).filter(Boolean));
  }
  for (const l of labels) {
    if (!l.trim()) throw usage('--label needs a non-empty label');
    allLabels.push(l.trim());
  }
  for (const l of allLabels) if (l.length > 64) throw usage(`label ${show(l)}: at most 64 characters`);
  if (allLabels.length) out.labels = [...new Set(allLabels)];
  return out;
}

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A duration in seconds: `90` (seconds), `90s`, `5m`, `2h`, `1d`, `1w`, or a sum such as
 * `1h30m`. @returns seconds, or null when `text` is not a duration
 */
export function durationSeconds(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^[0-9]+$/.test(t)) return Number(t);
  if (!/^([0-9]+[smhdw])+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/([0-9]+)([smhdw])/g)) total += Number(m[1]) * UNIT_S[m[2]];
  return total;
}

/**
 * A duration flag (`--ttl`, `--timeout`, `--interval`) in seconds within `[min, max]`.
 * @throws CoordError E_USAGE
 */
export function parseDurationFlag(raw: unknown, flag: string, min: number, max: number): number {
  const s = typeof raw === 'number' ? raw : typeof raw === 'string' ? durationSeconds(raw) : null;
  if (s === null || !Number.isFinite(s) || !Number.isInteger(s)) {
    throw usage(`${flag} ${show(raw)}: give seconds (90) or a duration such as 90s, 5m, 2h, 1h30m`);
  }
  if (s < min || s > max) throw usage(`${flag} ${show(raw)}: must be from ${min} to ${max} seconds`);
  return s;
}

const TIME_FORMS = 'an ISO-8601 time (2026-11-30T19:37:28Z), a date (2026-11-30, midnight UTC), "now", or a delay such as +30m or in 2h';

/**
 * A point in time for `--not-before`: a timestamp in any form build-coord reads (without a
 * zone: UTC), a date (midnight UTC), `now`, or `+DURATION` / `in DURATION` from `now`.
 * @returns epoch ms
 * @throws CoordError E_USAGE naming the accepted forms
 */
export function parseTimeInput(raw: unknown, flag: string, now: number): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === 'now') return now;
  const rel = /^(?:\+|in\s+)(.+)$/i.exec(text);
  if (rel) {
    const s = durationSeconds(rel[1]);
    if (s !== null) return now + s * 1000;
  }
  const date = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  const t = parseTimestamp(date ? `${text}T00:00:00Z` : text);
  if (t === null) throw usage(`${flag} ${show(raw)}: not a time; give ${TIME_FORMS}`);
  return t;
}

/**
 * A lower time bound for `--since`: like {@link parseTimeInput}, and also a duration meaning
 * "that long ago" (`2h`, `3d`) and `today` (midnight UTC).
 * @throws CoordError E_USAGE
 */
export function parseSince(raw: unknown, now: number): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === 'today') return Math.floor(now / 86_400_000) * 86_400_000;
  const ago = /^(.+?)(?:\s+ago)?$/.exec(text);
  const s = ago ? durationSeconds(ago[1]) : null;
  if (s !== null && !/^[0-9]+$/.test(text)) return now - s * 1000;
  try {
    return parseTimeInput(raw, '--since', now);
  } catch {
    throw usage(`--since ${show(raw)}: give a time (2026-11-30T19:37:28Z, 2026-11-30, today) or how long ago (30m, 2h, 3d)`);
  }
}

/** Canonical timestamp of epoch ms (re-exported for the command modules). */
export const timestampOf = formatTimestamp;

/**
 * `--status S`, repeatable and comma-separable.
 * @throws CoordError E_USAGE naming the statuses
 */
export function parseStatuses(raw: readonly string[]): JobStatusName[] {
  const out: JobStatusName[] = [];
  for (const s of raw.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    if (!(JOB_STATUSES as readonly string[]).includes(s)) throw usage(`--status ${show(s)}: one of ${JOB_STATUSES.join(', ')}`);
    out.push(s as JobStatusName);
  }
  return [...new Set(out)];
}

/** A branch name for `--branch` (git's own rules, simplified: no spaces, no `..`, at most 255). */
export function parseBranch(raw: unknown): string {
  const t = typeof raw === 'string' ? raw.trim() : '';
  if (!t || t.length > 255 || /[\s~^:?*[\\]|\.\.|^-|\.lock$|\/$|@\{/.test(t)) {
    throw usage(`--branch ${show(raw)}: not a valid branch name`);
  }
  return t;
}

/** A commit id for `--commit`: 4 to 64 hex digits. */
export function parseCommitId(raw: unknown): string {
  const t = typeof raw === 'string' ? raw.trim() : '';
  if (!/^[0-9a-fA-F]{4,64}$/.test(t)) throw usage(`--commit ${show(raw)}: give a commit id (4 to 64 hex digits)`);
  return t;
}

/** Free text for `--description` / `--reason`, bounded. */
export function parseText(raw: unknown, flag: string, max: number): string {
  const t = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : '';
  if (t.length > max) throw usage(`${flag}: ${t.length} characters, over the ${max} limit`);
  return t;
}

/**
 * A builder filter (`jobs list --assigned-to B`, `history --about B`) against the build
 * config. A builder neither configured nor named by the data is a typo, refused like
 * `builder ground build9`; one removed from the config but named by old jobs or commits
 * still filters, with a warning.
 * @param configured the builders of shared/build_config.json (empty: unknown, nothing checked)
 * @param named the data (jobs, commits) names `builder`
 * @param data what `named` looked at, for the message ("no job", "no commit")
 * @returns a warning to show, or null
 * @throws CoordError E_NOT_FOUND (exit 5)
 */
export function checkBuilderFilter(builder: string, flag: string, configured: readonly string[], named: boolean, data: string): string | null {
  if (!configured.length || configured.includes(builder)) return null;
  const has = `shared/build_config.json has ${configured.join(', ')}`;
  if (!named) {
    throw new CoordError('E_NOT_FOUND', `${flag} ${builder}: ${builder} is not a configured builder (${has}), and ${data} names it`, { details: { argument: flag, builders: [...configured] } });
  }
  return `${flag} ${builder}: not a configured builder (${has}); only what it did before shows`;
}
