/**
 * Deterministic formatting of coordination files: 2-space indent, trailing newline,
 * `$schema` first, then keys in the order of the file's JSON Schema `properties`, then
 * unknown keys in their existing order (unknown fields are kept, never dropped).
 */
import { rawSchemas, schemaFileOf } from '../schemas/registry.js';
import type { FileKind } from './kinds.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Node { schema: Obj; doc: string }

function resolve(node: Node): Node {
  let cur = node;
  for (let i = 0; i < 20 && typeof cur.schema.$ref === 'string'; i++) {
    const ref = cur.schema.$ref;
    const [file, frag = ''] = ref.split('#');
    const doc = file ? file : cur.doc;
    let target: unknown = rawSchemas().get(doc);
    for (const seg of frag.split('/').filter(Boolean)) target = isObj(target) ? target[seg] : undefined;
    if (!isObj(target)) return { schema: {}, doc };
    cur = { schema: target, doc };
  }
  return cur;
}

function child(node: Node, key: string | number, value: Obj): Node | null {
  const n = resolve(node);
  const s = n.schema;
  if (typeof key === 'number') return isObj(s.items) ? { schema: s.items, doc: n.doc } : null;
  // archive: records follow the then/else branch picked by "kind".
  if (key === 'records' && isObj(s.then) && isObj(s.else)) {
    const branch = (value.kind === 'jobs' ? s.then : s.else);
    const props = branch.properties as Obj | undefined;
    if (props && isObj(props.records)) return { schema: props.records, doc: n.doc };
  }
  const props = isObj(s.properties) ? s.properties : {};
  if (isObj(props[key])) return { schema: props[key], doc: n.doc };
  if (isObj(s.additionalProperties)) return { schema: s.additionalProperties, doc: n.doc };
  return null;
}

function order(value: unknown, node: Node | null): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => order(v, node ? child(node, i, {}) : null));
  }
  if (!isObj(value)) return value;
  const s = node ? resolve(node).schema : {};
  const known = isObj(s.properties) ? Object.keys(s.properties) : [];
  const keys = [
    ...('$schema' in value ? ['$schema'] : []),
    ...known.filter((k) => k !== '$schema' && k in value),
    ...Object.keys(value).filter((k) => k !== '$schema' && !known.includes(k)),
  ];
  const out: Obj = {};
  for (const k of keys) out[k] = order(value[k], node ? child(node, k, value) : null);
  return out;
}

/** The canonical text of a document of `kind` (no validation; callers validate first). */
export function serializeDocument(kind: FileKind, value: unknown): string {
  const file = schemaFileOf(kind);
  const root = rawSchemas().get(file);
  return JSON.stringify(order(value, root ? { schema: root, doc: file } : null), null, 2) + '\n';
}
