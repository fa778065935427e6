#!/usr/bin/env node
// The `sm` command (DESIGN.md section 7): runs the compiled CLI in dist/ (built by
// `npm ci` through the `prepare` script, or `npm run build`).
import { existsSync } from 'node:fs';
const entry = new URL('../dist/cli/sm-main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('sm: dist/ is missing; run `npm ci` (or `npm run build`) in the build-coord folder\n');
  process.exitCode = 1;
} else {
  await import(entry.href);
}
