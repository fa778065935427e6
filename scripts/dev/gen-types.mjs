#!/usr/bin/env node
// Generates lib/schemas/types.gen.ts from schemas/*.schema.json (the source of truth).
// Usage: node scripts/dev/gen-types.mjs [--check]
//   --check  exit 1 when the committed file differs from what the schemas give (drift).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { renderSchemaTypes } from './render-types.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const target = path.join(root, 'lib/schemas/types.gen.ts');
const text = await renderSchemaTypes(path.join(root, 'schemas'));
if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== text) {
    console.error(`${path.relative(root, target)} is out of date with schemas/: run npm run gen:types`);
    process.exitCode = 1;
  }
} else {
  await writeFile(target, text);
  console.log(`wrote ${path.relative(root, target)}`);
}
