/**
 * Temp folders of a benchmark run, all removed at the end — also when a section throws or
 * the run is interrupted (main calls {@link TempDirs.removeAll} from its signal handler).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TempDirs {
  private readonly dirs = new Set<string>();

  /** A new empty folder under the system temp folder, named `coord-bench-<prefix>…`. */
  make(prefix: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), `coord-bench-${prefix}-`));
    this.dirs.add(dir);
    return dir;
  }

  /** Removes one folder made here (idempotent). */
  remove(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  /** Removes every folder still present (idempotent; synchronous so signal handlers can use it). */
  removeAll(): void {
    for (const d of [...this.dirs]) this.remove(d);
  }
}
