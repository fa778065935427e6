/**
 * The folder a demo or chaos run lives in: origin, clones, logs. Printed at the start;
 * removed at the end unless the run asked to keep it or failed (then its logs are the
 * evidence, and the run says where they are).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Workspace {
  root: string;
  logs: string;
  /** Removes the folder (idempotent). */
  remove(): void;
}

/** A new folder `<tmp>/coord-<kind>-XXXXXX`. */
export function makeWorkspace(kind: 'demo' | 'chaos' | 'bench', parent: string = os.tmpdir()): Workspace {
  const root = mkdtempSync(path.join(parent, `coord-${kind}-`));
  mkdirSync(path.join(root, 'logs'));
  return { root, logs: path.join(root, 'logs'), remove: () => rmSync(root, { recursive: true, force: true }) };
}
