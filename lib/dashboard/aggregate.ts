/**
 * `shared/health_dashboard.json` (DESIGN.md section 1: the derived fleet summary): built from
 * the dashboard model, validated against schemas/health_dashboard.schema.json, and written
 * atomically (lib/store/files.ts) only when something other than `generated_at` changed —
 * so a page regenerated every minute does not make a new file (or commit) every minute.
 *
 * Fields that would change on every run without news are kept stable: a stale or offline
 * builder's reason names the last heartbeat time, not "no heartbeat for 4m"; CPU and memory
 * are whole percent.
 */
import { CoordError } from '../errors.js';
import { schemaErrors } from '../schemas/registry.js';
import type { HealthDashboardFile } from '../schemas/types.gen.js';
import { serializeDocument } from '../store/canonical.js';
import { readRepoFile, writeFileAtomic } from '../store/files.js';
import { PATHS, schemaRefFor } from '../store/kinds.js';
import type { BuilderCard, DashboardModel } from './model.js';

function stableReason(b: BuilderCard): string | null {
  if (!b.configured) return 'not in shared/build_config.json';
  switch (b.health) {
    case 'healthy': return null;
    case 'grounded': return b.grounded ? `grounded by ${b.grounded.by}: ${b.grounded.reason}${b.grounded.until ? ` (until ${b.grounded.until})` : ''}` : b.reason;
    case 'degraded': return b.degraded?.reason ?? b.reason;
    case 'stale':
    case 'offline':
      if (b.heartbeat.timestamp === null) return 'no heartbeat ever seen';
      if (b.state === 'offline') return `shut down cleanly (last heartbeat ${b.heartbeat.timestamp})`;
      return `no heartbeat change seen since the one stamped ${b.heartbeat.timestamp}`;
    default: return b.reason;
  }
}

const whole = (n: number | null) => (n === null ? null : Math.round(n));

/** The health_dashboard.json document of a model (not yet validated). */
export function buildHealthDashboard(m: DashboardModel): HealthDashboardFile {
  const builders: HealthDashboardFile['builders'] = {};
  for (const b of m.builders) {
    builders[b.builder] = {
      health: b.health, state: b.state, current_job: b.current_job?.id ?? null, last_heartbeat: b.heartbeat.timestamp,
      cpu_percent: whole(b.system.cpu_percent), memory_percent: whole(b.system.memory_percent),
      disk_free_mb: b.system.disk_free_mb === null ? null : Math.round(b.system.disk_free_mb), reason: stableReason(b),
    };
  }
  const queue: Record<string, number> = {};
  for (const st of Object.keys(m.queue.totals).sort()) if (m.queue.totals[st] > 0) queue[st] = m.queue.totals[st];
  return {
    $schema: schemaRefFor(PATHS.healthDashboard, 'health_dashboard.schema.json'),
    generated_at: m.generated_at, builders, queue, locks_held: m.summary.locks_held,
    ...(m.summary.unread_messages !== null ? { unread_messages: m.summary.unread_messages } : {}),
  };
}

/**
 * Checks a health_dashboard document against its schema.
 * @throws CoordError E_INVALID naming each JSON pointer and reason (nothing is written)
 */
export function validateHealthDashboard(doc: HealthDashboardFile): void {
  const errors = schemaErrors('health_dashboard', doc);
  if (errors.length) {
    const issues = errors.map((er) => ({ file: PATHS.healthDashboard, pointer: er.instancePath, reason: er.message ?? 'invalid', severity: 'error' as const }));
    throw new CoordError('E_INVALID', `${PATHS.healthDashboard}: the summary built from the fleet does not match schemas/health_dashboard.schema.json (a bug; nothing was written)`, { issues });
  }
}

/** JSON with object keys sorted at every level (key order of a hand-edited file is no change). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The document without `generated_at`: what "changed" is judged on. */
function contentKey(doc: unknown): string {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return JSON.stringify(doc);
  const rest: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  delete rest.generated_at;
  return stableJson(rest);
}

/** What {@link writeHealthDashboard} did. */
export interface AggregateWrite {
  path: string;
  /** False when the file already said the same (timestamps aside). */
  written: boolean;
  /** The previous file was not valid JSON (it was replaced). */
  replacedUnreadable: boolean;
}

/**
 * Validates `doc` and writes it to `repoRoot/shared/health_dashboard.json` atomically,
 * unless the file there already holds the same content apart from `generated_at`.
 * The working-tree file is written (not committed): `coord sync --commit` commits it.
 * @throws CoordError E_INVALID when `doc` does not match the schema, or when the existing
 *   path is a symbolic link or not a regular file (it is then left alone)
 */
export async function writeHealthDashboard(repoRoot: string, doc: HealthDashboardFile): Promise<AggregateWrite> {
  validateHealthDashboard(doc);
  const rel = PATHS.healthDashboard;
  const before = await readRepoFile(repoRoot, rel);
  let replacedUnreadable = false;
  if (before) {
    let old: unknown;
    try { old = JSON.parse(before.toString('utf8')); } catch { old = undefined; replacedUnreadable = true; }
    if (!replacedUnreadable && contentKey(old) === contentKey(doc)) return { path: rel, written: false, replacedUnreadable: false };
  }
  await writeFileAtomic(repoRoot, rel, serializeDocument('health_dashboard', doc));
  return { path: rel, written: true, replacedUnreadable };
}
