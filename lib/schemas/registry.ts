/**
 * The compiled JSON Schemas (2020-12) of every coordination file, loaded once from the
 * package's `schemas/` folder — the source of truth for formats (DESIGN.md section 1).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FileKind } from '../store/kinds.js';

/** Absolute path of the package's `schemas/` folder (works from lib/ and from dist/). */
export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

const FILE_OF_KIND: Record<FileKind, string> = {
  jobs: 'jobs.schema.json',
  locks: 'locks.schema.json',
  messages: 'messages.schema.json',
  schedules: 'schedules.schema.json',
  archive: 'archive.schema.json',
  status: 'status.schema.json',
  heartbeat: 'heartbeat.schema.json',
  build_config: 'build_config.schema.json',
  health_dashboard: 'health_dashboard.schema.json',
  artifacts: 'artifacts.schema.json',
};

/** The schema file name (in `schemas/`) for a file kind. */
export function schemaFileOf(kind: FileKind): string {
  return FILE_OF_KIND[kind];
}

type JsonObject = Record<string, unknown>;
let cache: { ajv: Ajv2020; validators: Map<FileKind, ValidateFunction>; raw: Map<string, JsonObject> } | null = null;

function load(): NonNullable<typeof cache> {
  if (cache) return cache;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  // ajv-formats is CommonJS; under NodeNext its function arrives as `.default` (PLATFORM.md).
  (addFormatsModule as unknown as { default: (a: Ajv2020) => void }).default(ajv);
  const raw = new Map<string, JsonObject>();
  for (const name of readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.schema.json'))) {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, name), 'utf8')) as JsonObject;
    raw.set(name, schema);
    ajv.addSchema(schema);
  }
  cache = { ajv, validators: new Map<FileKind, ValidateFunction>(), raw };
  return cache;
}

/**
 * The validator of one kind, compiled on first use: compiling all ten costs ~150 ms, most
 * of a short command's start-up (`sm` needs two).
 */
function validatorOf(kind: FileKind): ValidateFunction {
  const c = load();
  let fn = c.validators.get(kind);
  if (!fn) {
    fn = c.ajv.getSchema(FILE_OF_KIND[kind]);
    if (!fn) throw new Error(`schema ${FILE_OF_KIND[kind]} missing from ${SCHEMA_DIR}`);
    c.validators.set(kind, fn);
  }
  return fn;
}

/**
 * Validates a parsed document against the schema of its kind.
 * @returns ajv's errors (empty when valid)
 */
export function schemaErrors(kind: FileKind, value: unknown): ErrorObject[] {
  const fn = validatorOf(kind);
  return fn(value) ? [] : [...(fn.errors ?? [])];
}

/** The raw schema documents by file name (for key ordering and `coord init`). */
export function rawSchemas(): ReadonlyMap<string, JsonObject> {
  return load().raw;
}
