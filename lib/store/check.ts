/**
 * The validation pipeline for one coordination file: bytes → parse → legacy
 * normalization → JSON Schema → semantic checks. Used by the store, `coord validate`,
 * the transaction engine and the git hooks, so every door judges a file the same way.
 */
import type { ErrorObject } from 'ajv';
import { findNodeAtLocation, parseTree, type Node as JsonNode } from 'jsonc-parser';
import type { Issue } from '../errors.js';
import type { Policy } from '../config/policy.js';
import { schemaErrors, schemaFileOf } from '../schemas/registry.js';
import { serializeDocument } from './canonical.js';
import { kindOfPath, schemaRefFor, type FileKind } from './kinds.js';
import { normalizeDocument } from './legacy.js';
import { lineOfOffset, parseCoordinationBytes } from './parse.js';
import { semanticIssues } from './semantics.js';

export interface CheckContext {
  /** Configured builder ids, or null when unknown (skips cross-file checks). */
  builders: readonly string[] | null;
  /** Job types of the build config, or null/absent when unknown (skips the unknown-type warnings). */
  jobTypes?: readonly string[] | null;
  policy: Policy;
  /** Observer's now, epoch ms. */
  now: number;
}

export interface CheckResult {
  kind: FileKind;
  /** True when no issue has severity 'error'. */
  ok: boolean;
  /** The canonical value (when parsing got that far). */
  value: unknown;
  issues: Issue[];
  /** Legacy shapes found; `coord migrate` rewrites them. */
  legacy: string[];
  /** Canonical text of the value (only when ok). */
  canonical?: string;
}

type Obj = Record<string, unknown>;

function valueAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[seg];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 60 ? s.slice(0, 57) + '…' : s}`;
}

function reasonOf(e: ErrorObject, doc: unknown): { pointer: string; reason: string } {
  if (e.propertyName !== undefined) {
    // A bad key (propertyNames): point at the key's own entry and name it; the value it
    // holds is not what is wrong.
    const key = e.propertyName;
    const pointer = `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (/uilderId/.test(e.schemaPath)) return { pointer, reason: `key ${JSON.stringify(key)} is not a builder id; builders are named build<N>` };
    return { pointer, reason: `key ${JSON.stringify(key)} ${e.message ?? 'is not allowed'}` };
  }
  const value = valueAt(doc, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { pointer: `${e.instancePath}/${String(p.missingProperty)}`, reason: 'required field is missing' };
    case 'type':
      return { pointer: e.instancePath, reason: `must be ${String(p.type).replace(/,/g, ' or ')} (found ${describe(value)})` };
    case 'enum':
      return { pointer: e.instancePath, reason: `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')} (found ${describe(value)})` };
    case 'const':
      return { pointer: e.instancePath, reason: `must be ${JSON.stringify(p.allowedValue)} (found ${describe(value)})` };
    case 'pattern':
    case 'format':
      if (/imestamp/.test(e.schemaPath)) {
        return { pointer: e.instancePath, reason: `not a timestamp: ${describe(value)}; write ISO-8601 UTC such as 2026-11-30T19:37:28Z` };
      }
      if (/uilderId/.test(e.schemaPath)) {
        return { pointer: e.instancePath, reason: `not a builder id: ${describe(value)}; builders are named build<N>` };
      }
      return { pointer: e.instancePath, reason: `${describe(value)} ${e.message ?? 'is malformed'}` };
    case 'false schema': {
      const key = e.instancePath.split('/').pop() ?? '';
      if (['command', 'cmd', 'script'].includes(key)) {
        return { pointer: e.instancePath, reason: `a job never carries a "${key}": what runs is the job type's command in shared/build_config.json; remove this field` };
      }
      return { pointer: e.instancePath, reason: 'field not allowed here' };
    }
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return { pointer: e.instancePath, reason: `${e.message ?? 'out of range'} (found ${describe(value)})` };
    default:
      return { pointer: e.instancePath, reason: `${e.message ?? 'is invalid'}${value !== undefined && typeof value !== 'object' ? ` (found ${describe(value)})` : ''}` };
  }
}

/** Ajv errors → issues, with the noise of alternatives removed (one line per place and reason). */
function schemaIssues(file: string, kind: FileKind, doc: unknown): Issue[] {
  const errors = schemaErrors(kind, doc);
  const out: Issue[] = [];
  const seen = new Set<string>();
  const timestampPaths = new Set(errors.filter((e) => e.keyword === 'pattern' && /imestamp/.test(e.schemaPath)).map((e) => e.instancePath));
  for (const e of errors) {
    // Summaries of errors reported on their own (the failing branch, the bad key).
    if (e.keyword === 'if' || e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'propertyNames') continue;
    if (e.keyword === 'format' && timestampPaths.has(e.instancePath)) continue;
    const { pointer, reason } = reasonOf(e, doc);
    const key = `${pointer}\0${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file, pointer, reason, severity: 'error' });
  }
  return out;
}

/** Adds 1-based line numbers to issues whose pointer exists in the original text. */
function addLines(text: string, issues: Issue[]): void {
  if (!issues.some((i) => i.line === undefined && i.pointer !== '')) return;
  const tree = parseTree(text);
  if (!tree) return;
  for (const issue of issues) {
    if (issue.line !== undefined || issue.pointer === '') continue;
    const segs = issue.pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: JsonNode | undefined;
    for (let n = segs.length; n > 0 && !node; n--) {
      const path = segs.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      node = findNodeAtLocation(tree, path);
    }
    if (node) issue.line = lineOfOffset(text, node.offset);
  }
}

/**
 * Checks one coordination file.
 * @param file repository-relative path ('/'-separated); decides the kind
 * @param bytes the file content as stored
 * @throws Error when `file` is not a coordination file (callers check {@link kindOfPath} first)
 */
export function checkCoordinationFile(file: string, bytes: Buffer, ctx: CheckContext): CheckResult {
  const kind = kindOfPath(file);
  if (!kind) throw new Error(`${file} is not a coordination file`);
  const parsed = parseCoordinationBytes(file, bytes);
  if (!parsed.ok) return { kind, ok: false, value: undefined, issues: parsed.issues, legacy: [] };
  const norm = normalizeDocument(kind, file, parsed.value, { builders: ctx.builders ?? [], policy: ctx.policy });
  if (norm.issues.length) return { kind, ok: false, value: undefined, issues: norm.issues, legacy: norm.legacy };
  const legacy = [...norm.legacy];
  let value = norm.value;
  const expectedRef = schemaRefFor(file, schemaFileOf(kind));
  if (value && typeof value === 'object' && !Array.isArray(value) && !('$schema' in value)) {
    legacy.push('no "$schema"');
    value = { $schema: expectedRef, ...(value as Obj) };
  }
  const issues = schemaIssues(file, kind, value);
  if (!issues.length) issues.push(...semanticIssues(kind, file, value, { builders: ctx.builders, jobTypes: ctx.jobTypes ?? null, now: ctx.now }));
  addLines(bytes.toString('utf8'), issues);
  const ok = !issues.some((i) => i.severity === 'error');
  return { kind, ok, value, issues, legacy, ...(ok ? { canonical: serializeDocument(kind, value) } : {}) };
}

/**
 * Checks a value about to be written (after a transaction's mutation): schema and semantic
 * checks only, since it did not come from text.
 */
export function checkCoordinationValue(file: string, value: unknown, ctx: CheckContext): CheckResult {
  const kind = kindOfPath(file);
  if (!kind) throw new Error(`${file} is not a coordination file`);
  const issues = schemaIssues(file, kind, value);
  if (!issues.length) issues.push(...semanticIssues(kind, file, value, { builders: ctx.builders, jobTypes: ctx.jobTypes ?? null, now: ctx.now }));
  const ok = !issues.some((i) => i.severity === 'error');
  return { kind, ok, value, issues, legacy: [], ...(ok ? { canonical: serializeDocument(kind, value) } : {}) };
}
