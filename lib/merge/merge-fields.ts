/**
 * Generic three-way merge of JSON values, the field-level half of the merge driver for
 * coordination files (DESIGN.md section 3, "A semantic merge driver"). Pure: no I/O.
 *
 * The rule everywhere: a value changed on one side only takes that side; the same change
 * on both sides is fine; a value changed differently on both sides goes to a field rule
 * (set union, history by attempt, …) or, without one, is a conflict that keeps ours.
 * "Absent" is `undefined` (JSON never holds it), so removing a key is a change like any other.
 */

/** A conflict or a note, located in the merged document. */
export interface MergeConflict {
  /** RFC 6901 JSON pointer into the merged document (`/jobs/3/status`); '' is the whole document. */
  pointer: string;
  /** What happened, naming the record (`job "job-1"`) and the field. */
  reason: string;
}

/** Where conflicts (the caller exits non-zero) and notes (reported only) are collected. */
export interface MergeSink {
  conflicts: MergeConflict[];
  notes: MergeConflict[];
}

/** Where a merge is: pointer in the merged document, dotted field path, record named for people. */
export interface MergeAt {
  pointer: string;
  /** Dotted path inside the record (`params.FOO`); '' at the record itself. */
  field: string;
  /** The record, as people name it: `job "job-1"`, `lock "deploy"`, `jobs.json`. */
  subject: string;
}

/**
 * A rule for one field, called only when both sides changed it differently.
 * @returns the merged value; `undefined` drops the key.
 */
export type FieldRule = (base: unknown, ours: unknown, theirs: unknown, at: MergeAt, sink: MergeSink) => unknown;

export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Structural equality of JSON values; key order does not matter (a hand edit may reorder keys). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (!isObj(a) || !isObj(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** The own value of `key`, or `undefined` when absent (never an inherited property). */
export function own(obj: JsonObject | undefined, key: string): unknown {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets `key` as an own data property, so a `__proto__` key from JSON stays data. */
export function setOwn(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Keys of ours in order, then keys only theirs has, in theirs' order. */
export function unionKeys(ours: JsonObject, theirs: JsonObject): string[] {
  return [...Object.keys(ours), ...Object.keys(theirs).filter((k) => !Object.hasOwn(ours, k))];
}

/**
 * The location of `key` below `at` (RFC 6901 escaping: `~` → `~0`, `/` → `~1`). With a
 * `subject`, the child is a record of its own and its field path starts afresh.
 */
export function childAt(at: MergeAt, key: string | number, subject?: string): MergeAt {
  const token = String(key).replace(/~/g, '~0').replace(/\//g, '~1');
  const field = subject !== undefined ? '' : at.field ? `${at.field}.${key}` : String(key);
  return { pointer: `${at.pointer}/${token}`, field, subject: subject ?? at.subject };
}

/** A short rendering of a value for a reason text. */
export function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Records a conflict at `at`; the caller keeps ours. */
export function conflict(sink: MergeSink, at: MergeAt, what: string): void {
  sink.conflicts.push({ pointer: at.pointer, reason: `${at.subject}: ${what}` });
}

/** Records a note (a decision worth logging, not a conflict) at `at`. */
export function note(sink: MergeSink, at: MergeAt, what: string): void {
  sink.notes.push({ pointer: at.pointer, reason: `${at.subject}: ${what}` });
}

/**
 * Three-way merge of one value. Changed on one side → that side; same change → it;
 * both changed differently → `rule` if given, else {@link resolveBothChanged}.
 */
export function mergeValue(base: unknown, ours: unknown, theirs: unknown, at: MergeAt, sink: MergeSink, rule?: FieldRule): unknown {
  if (jsonEqual(ours, theirs)) return ours;
  if (jsonEqual(base, ours)) return theirs;
  if (jsonEqual(base, theirs)) return ours;
  return (rule ?? resolveBothChanged)(base, ours, theirs, at, sink);
}

/**
 * The default for a value both sides changed differently: two objects (with an object or
 * no base) merge key by key; anything else is a conflict that keeps ours.
 */
export function resolveBothChanged(base: unknown, ours: unknown, theirs: unknown, at: MergeAt, sink: MergeSink): unknown {
  if (isObj(ours) && isObj(theirs) && (base === undefined || isObj(base))) {
    return mergeObject(base, ours, theirs, at, sink);
  }
  const name = at.field ? `field "${at.field}"` : 'value';
  conflict(sink, at, `${name} changed differently on both sides (ours ${show(ours)}, theirs ${show(theirs)}); kept ours`);
  return ours;
}

/**
 * Merges two objects key by key against `base` (undefined: added on both sides).
 * Key order: ours, then keys new in theirs. A key removed on one side and unchanged on the
 * other is removed. `rules` give per-key rules for keys both sides changed differently.
 */
export function mergeObject(
  base: JsonObject | undefined, ours: JsonObject, theirs: JsonObject, at: MergeAt, sink: MergeSink,
  rules: Readonly<Record<string, FieldRule>> = {},
): JsonObject {
  const out: JsonObject = {};
  for (const key of unionKeys(ours, theirs)) {
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    const v = mergeValue(own(base, key), own(ours, key), own(theirs, key), childAt(at, key), sink, rule);
    if (v !== undefined) setOwn(out, key, v);
  }
  return out;
}

/**
 * Field rule for arrays that are sets (messages `read_by`, `acked_by`, `tags`; jobs
 * `failed_on`): union in stable order (ours, then theirs' new items), except that an item
 * of base one side removed stays removed — a deliberate removal is a change like any other.
 */
export const mergeSet: FieldRule = (base, ours, theirs, at, sink) => {
  if (!Array.isArray(ours) || !Array.isArray(theirs) || !(base === undefined || Array.isArray(base))) {
    return resolveBothChanged(base, ours, theirs, at, sink);
  }
  const [b, o, t] = [(base ?? []) as unknown[], ours as unknown[], theirs as unknown[]];
  const has = (list: unknown[], x: unknown): boolean => list.some((y) => jsonEqual(x, y));
  const out: unknown[] = [];
  for (const x of [...o, ...t]) {
    const removed = has(b, x) && (!has(o, x) || !has(t, x));
    if (!removed && !has(out, x)) out.push(x);
  }
  return out;
};

/** The attempt number of a history entry, or null when it has none. */
function attemptOf(entry: unknown): number | null {
  return isObj(entry) && typeof entry.attempt === 'number' ? entry.attempt : null;
}

/**
 * Field rule for jobs `history` (one entry per attempt, DESIGN.md section 4): entries are
 * merged by `attempt`, the union sorted by attempt (an attempt is never lost). The same
 * attempt changed differently on both sides: the entry with an `ended_at` wins (that
 * attempt is over); both or neither ended → conflict, ours kept.
 */
export const mergeHistory: FieldRule = (base, ours, theirs, at, sink) => {
  const lists = [base ?? [], ours, theirs];
  if (!lists.every((l) => Array.isArray(l) && l.every((e) => attemptOf(e) !== null))) {
    return resolveBothChanged(base, ours, theirs, at, sink);
  }
  const [b, o, t] = lists.map((l) => new Map((l as unknown[]).map((e) => [attemptOf(e) as number, e])));
  const attempts = [...new Set([...o.keys(), ...t.keys()])].sort((x, y) => x - y);
  return attempts.map((n, i) => {
    const [bo, oo, to] = [b.get(n), o.get(n), t.get(n)];
    if (oo === undefined || to === undefined) return oo ?? to;
    if (jsonEqual(oo, to) || jsonEqual(bo, to)) return oo;
    if (jsonEqual(bo, oo)) return to;
    const ended = (e: unknown): boolean => isObj(e) && e.ended_at !== undefined && e.ended_at !== null;
    if (ended(oo) !== ended(to)) return ended(oo) ? oo : to;
    conflict(sink, childAt(at, i), `attempt ${n} in "${at.field}" changed differently on both sides; kept ours`);
    return oo;
  });
};
