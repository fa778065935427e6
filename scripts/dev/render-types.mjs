// Renders TypeScript types for every coordination schema in one module.
// Shared by gen-types.mjs and the drift test (test/schemas/types-drift.test.ts).
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { compile } from 'json-schema-to-typescript';

/** TypeScript names for the file-level schemas (on-disk shapes end in `File`). */
const FILE_TYPES = {
  'jobs.schema.json': 'JobsFile',
  'locks.schema.json': 'LocksFile',
  'messages.schema.json': 'MessagesFile',
  'schedules.schema.json': 'SchedulesFile',
  'archive.schema.json': 'ArchiveFile',
  'status.schema.json': 'StatusFile',
  'heartbeat.schema.json': 'HeartbeatFile',
  'artifacts.schema.json': 'ArtifactsFile',
  'health_dashboard.schema.json': 'HealthDashboardFile',
  'build_config.schema.json': 'BuildConfigFile',
};

/** TypeScript names for the shared definitions in common.schema.json. */
const DEF_TYPES = {
  timestamp: 'Timestamp', builderId: 'BuilderId', actorId: 'ActorId', recordId: 'RecordId',
  jobStatus: 'JobStatus', envName: 'EnvName', stringMap: 'StringMap', requires: 'JobRequires',
  artifactRef: 'ArtifactRef', attempt: 'AttemptRecord', job: 'Job', message: 'Message',
  systemFigures: 'SystemFigures', builderState: 'BuilderState',
};

function toPascal(s) {
  return s.replace(/(^|[_-])([a-z])/g, (_m, _p, c) => c.toUpperCase());
}

/**
 * @param {string} schemaDir absolute path of schemas/
 * @returns {Promise<string>} the module text
 */
export async function renderSchemaTypes(schemaDir) {
  const names = (await readdir(schemaDir)).filter((n) => n.endsWith('.schema.json')).sort();
  const schemas = {};
  for (const n of names) schemas[n] = JSON.parse(await readFile(path.join(schemaDir, n), 'utf8'));
  // Inline every schema into one document so each type is declared once.
  const common = schemas['common.schema.json'];
  const defs = {};
  for (const [k, v] of Object.entries(common.$defs)) defs[DEF_TYPES[k] ?? toPascal(k)] = { ...v, title: DEF_TYPES[k] ?? toPascal(k) };
  // `inProps`: the keys of this node are property names (a "$schema" property is data, kept).
  const rewrite = (node, inProps = false) => {
    if (Array.isArray(node)) return node.map((n) => rewrite(n));
    if (node && typeof node === 'object') {
      const out = {};
      for (const [k, v] of Object.entries(node)) {
        if (!inProps && k === '$ref' && typeof v === 'string') {
          const m = /^(?:common\.schema\.json)?#\/\$defs\/(.+)$/.exec(v);
          out[k] = m ? `#/$defs/${DEF_TYPES[m[1]] ?? toPascal(m[1])}` : v;
        } else if (!inProps && (k === '$id' || k === '$schema')) {
          continue;
        } else {
          out[k] = rewrite(v, !inProps && k === 'properties');
        }
      }
      return out;
    }
    return node;
  };
  for (const k of Object.keys(defs)) defs[k] = rewrite(defs[k]);
  const props = {};
  for (const [file, typeName] of Object.entries(FILE_TYPES)) {
    const s = rewrite(schemas[file]);
    defs[typeName] = { ...s, title: typeName };
    props[typeName] = { $ref: `#/$defs/${typeName}` };
  }
  const rootSchema = {
    title: 'CoordSchemas', type: 'object', properties: props, additionalProperties: false, $defs: defs,
  };
  const body = await compile(rootSchema, 'CoordSchemas', {
    bannerComment: '',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: false,
    format: true,
    style: { singleQuote: true, printWidth: 100 },
  });
  return `// GENERATED from schemas/*.schema.json by scripts/dev/gen-types.mjs — do not edit.\n// test/schemas/types-drift.test.ts fails when this file and the schemas disagree.\n\n${body}`;
}
