/**
 * Checks a schema cannot express: unique ids, references to configured builders,
 * builder files in their own folder, timestamps far in the future (DESIGN.md sections 1, 4).
 */
import type { Issue } from '../errors.js';
import { rawSchemas } from '../schemas/registry.js';
import { parseTimestamp } from '../util/time.js';
import type { FileKind } from './kinds.js';

export interface SemanticContext {
  /** Configured builders; null when unknown (the build config is itself invalid). */
  builders: readonly string[] | null;
  /**
   * Job types of the build config; null or absent when unknown (no build config, or an
   * invalid one): the unknown-type warnings are then skipped.
   */
  jobTypes?: readonly string[] | null;
  /** Observer's now (epoch ms). */
  now: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const DAY_MS = 86_400_000;
/** Timestamps that name the future on purpose. */
const FUTURE_OK = new Set(['expires_at', 'lease_expires_at', 'not_before', 'until']);
const TS_KEYS = /(_at|^timestamp|^since|^at|_slot)$/;

function duplicateIds(file: string, list: unknown, base: string, what: string): Issue[] {
  if (!Array.isArray(list)) return [];
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  list.forEach((r, i) => {
    if (!isObj(r) || typeof r.id !== 'string') return;
    const prev = seen.get(r.id);
    if (prev !== undefined) {
      issues.push({ file, pointer: `${base}/${i}/id`, reason: `duplicate ${what} id "${r.id}" (also at ${base}/${prev}); ids must be unique`, severity: 'error' });
    } else seen.set(r.id, i);
  });
  return issues;
}

function futureTimestamps(file: string, node: unknown, ptr: string, now: number, out: Issue[]): void {
  if (Array.isArray(node)) { node.forEach((n, i) => futureTimestamps(file, n, `${ptr}/${i}`, now, out)); return; }
  if (!isObj(node)) return;
  for (const [k, v] of Object.entries(node)) {
    const p = `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (typeof v === 'string' && TS_KEYS.test(k) && !FUTURE_OK.has(k)) {
      const t = parseTimestamp(v);
      if (t !== null && t > now + DAY_MS) {
        out.push({ file, pointer: p, reason: `timestamp ${v} is more than a day in the future; check the writer's clock`, severity: 'warning' });
      }
    } else if (typeof v === 'object') futureTimestamps(file, v, p, now, out);
  }
}

/** Levenshtein distance, capped: only small distances matter for "did you mean". */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The closest of `known` to `key` (a likely misspelling), or null when none is within
 * `maxEdits` edits (default: 2, or a quarter of the key's length when longer), case ignored.
 */
export function closestKey(key: string, known: readonly string[], maxEdits = Math.max(2, Math.floor(key.length / 4))): string | null {
  let best: string | null = null;
  let bestD = maxEdits + 1;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) { best = k; bestD = d; }
  }
  return best;
}

/** Property names the build-config schema knows at `path` (a chain of schema keys). */
function schemaKeys(...path: string[]): string[] {
  let node: unknown = rawSchemas().get('build_config.schema.json');
  for (const p of path) node = isObj(node) ? node[p] : undefined;
  return isObj(node) && isObj(node.properties) ? Object.keys(node.properties) : [];
}

/**
 * Warnings for keys a closed part of the build config does not know: the schema keeps and
 * ignores them, so a misspelled policy key silently leaves the default in force.
 */
function unknownKeys(file: string, base: string, obj: unknown, known: readonly string[], what: string): Issue[] {
  if (!isObj(obj) || !known.length) return [];
  const out: Issue[] = [];
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue;
    const near = closestKey(k, known);
    out.push({
      file, pointer: `${base}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, severity: 'warning',
      reason: `unknown ${what} key ${k}${near ? ` (did you mean ${near}?)` : ''}; it is ignored${near ? '' : ` (known: ${known.join(', ')})`}`,
    });
  }
  return out;
}

/** Warning for a job (or schedule) whose type the build config does not define. */
function checkJobType(file: string, ptr: string, type: unknown, types: readonly string[] | null | undefined, consequence: string): Issue[] {
  if (!types || typeof type !== 'string' || types.includes(type)) return [];
  const near = closestKey(type, types);
  return [{
    file, pointer: ptr, severity: 'warning',
    reason: `unknown job type "${type}"${near ? ` (did you mean ${near}?)` : ''} (shared/build_config.json has ${types.join(', ') || 'none'}); ${consequence}`,
  }];
}

/** Job statuses that end a job (lib/jobs/model.ts TERMINAL_STATUSES, plus blocked: it waits for a person, not a builder). */
const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'blocked']);

function checkBuilderRef(file: string, ptr: string, value: unknown, builders: readonly string[] | null, what: string): Issue[] {
  if (builders === null || typeof value !== 'string' || builders.includes(value)) return [];
  return [{ file, pointer: ptr, reason: `${what} "${value}" is not a configured builder (configured: ${builders.join(', ') || 'none'}; see shared/build_config.json)`, severity: 'error' }];
}

/** Semantic issues of a schema-valid, normalized document. */
export function semanticIssues(kind: FileKind, file: string, doc: unknown, ctx: SemanticContext): Issue[] {
  const issues: Issue[] = [];
  if (!isObj(doc)) return issues;
  const b = ctx.builders;
  switch (kind) {
    case 'jobs':
    case 'archive': {
      const list = kind === 'jobs' ? doc.jobs : doc.records;
      const base = kind === 'jobs' ? '/jobs' : '/records';
      if (kind === 'archive') {
        const m = /archive\/(jobs|messages)-([0-9]{4}-[0-9]{2})\.json$/.exec(file);
        if (m && doc.kind !== m[1]) issues.push({ file, pointer: '/kind', reason: `file name says "${m[1]}" but kind is "${String(doc.kind)}"`, severity: 'error' });
        if (m && doc.month !== m[2]) issues.push({ file, pointer: '/month', reason: `file name says month ${m[2]} but month is "${String(doc.month)}"`, severity: 'error' });
        if (doc.kind !== 'jobs') { issues.push(...duplicateIds(file, list, base, 'message')); break; }
      }
      issues.push(...duplicateIds(file, list, base, 'job'));
      if (!Array.isArray(list)) break;
      list.forEach((j, i) => {
        if (!isObj(j)) return;
        // A finished job (or an archived one) naming a builder since removed from the config
        // is history, not a problem: an error here would make jobs.json invalid — and stop
        // every transaction of the fleet — the moment a builder is decommissioned.
        const history = kind === 'archive' || (typeof j.status === 'string' && TERMINAL_JOB_STATUSES.has(j.status));
        if (!history) {
          issues.push(...checkBuilderRef(file, `${base}/${i}/assigned_to`, j.assigned_to, b, 'assigned_to').map((x) => ({
            ...x, reason: `${x.reason}; a ${String(j.status)} job needs a configured builder: if ${String(j.assigned_to)} was just removed, put it back until its jobs end, or cancel them (coord jobs cancel ${String(j.id)})`,
          })));
        }
        if (kind === 'jobs' && j.status === 'queued') {
          issues.push(...checkJobType(file, `${base}/${i}/type`, j.type, ctx.jobTypes, 'no builder will claim it: it will stay queued (define the type, or cancel the job)'));
        }
        if (j.status === 'running' && (j.assigned_to === null || j.assigned_to === undefined)) {
          issues.push({ file, pointer: `${base}/${i}/assigned_to`, reason: `job "${String(j.id)}" is running but assigned to nobody; set assigned_to or requeue it (status "queued")`, severity: 'error' });
        }
        if (typeof j.attempt === 'number' && typeof j.max_attempts === 'number' && j.attempt > j.max_attempts) {
          issues.push({ file, pointer: `${base}/${i}/attempt`, reason: `attempt ${j.attempt} is over max_attempts ${j.max_attempts}`, severity: 'warning' });
        }
      });
      if (kind === 'jobs' && b !== null && isObj(doc.grounded)) {
        for (const g of Object.keys(doc.grounded)) {
          if (b.includes(g)) continue;
          issues.push({
            file, pointer: `/grounded/${g}`, severity: 'warning',
            reason: `"${g}" is not a configured builder (configured: ${b.join(', ') || 'none'}; see shared/build_config.json): this entry grounds nobody; remove it, or configure the builder`,
          });
        }
      }
      break;
    }
    case 'messages':
      issues.push(...duplicateIds(file, doc.messages, '/messages', 'message'));
      break;
    case 'schedules':
      issues.push(...duplicateIds(file, doc.schedules, '/schedules', 'schedule'));
      if (Array.isArray(doc.schedules)) {
        doc.schedules.forEach((sch, i) => {
          if (isObj(sch) && isObj(sch.job)) issues.push(...checkJobType(file, `/schedules/${i}/job/type`, sch.job.type, ctx.jobTypes, 'the schedule cannot queue it'));
        });
      }
      break;
    case 'status':
    case 'heartbeat': {
      const dir = file.split('/')[0];
      if (typeof doc.builder === 'string' && doc.builder !== dir) {
        issues.push({ file, pointer: '/builder', reason: `"${doc.builder}" in ${dir}/: a builder writes only its own folder`, severity: 'error' });
      }
      break;
    }
    case 'build_config': {
      const names = isObj(doc.builders) ? Object.keys(doc.builders) : [];
      const types = isObj(doc.job_types) ? doc.job_types : {};
      for (const [t, def] of Object.entries(types)) {
        if (!isObj(def) || !Array.isArray(def.allowed_builders)) continue;
        def.allowed_builders.forEach((x, i) => {
          issues.push(...checkBuilderRef(file, `/job_types/${t}/allowed_builders/${i}`, x, names, 'allowed builder'));
        });
      }
      issues.push(...unknownKeys(file, '/policy', doc.policy, schemaKeys('properties', 'policy'), 'policy'));
      for (const [t, def] of Object.entries(types)) {
        issues.push(...unknownKeys(file, `/job_types/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`, def, schemaKeys('properties', 'job_types', 'additionalProperties'), 'job type'));
      }
      if (isObj(doc.builders)) {
        for (const [name, def] of Object.entries(doc.builders)) {
          issues.push(...unknownKeys(file, `/builders/${name}`, def, schemaKeys('properties', 'builders', 'additionalProperties'), 'builder'));
        }
      }
      break;
    }
    default:
      break;
  }
  futureTimestamps(file, doc, '', ctx.now, issues);
  return issues;
}
