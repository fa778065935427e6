/**
 * The watcher's pause between passes: a timer, cut short by file events on the watched
 * folders (debounced, since a `git pull` writes several files in a burst) or by a stop.
 * File events only make the watcher look sooner; the content-hash poll after every pause
 * is what guarantees nothing is missed (PLATFORM.md "chokidar").
 */
import { existsSync } from 'node:fs';
import { watch as watchFiles, type FSWatcher } from 'chokidar';

export class Wakeup {
  private fsWatcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private waking: (() => void) | null = null;

  /**
   * @param signal a stop: wakes a pause at once, and later pauses do not wait
   * @param debounceMs quiet time after the last file event before waking
   * @param onError reports a failure of file watching (the poll carries on)
   */
  constructor(private readonly signal: AbortSignal, private readonly debounceMs: number, private readonly onError: (text: string) => void) {
    signal.addEventListener('abort', () => this.wake(), { once: true });
  }

  /** Watches these folders/files (those that exist), up to one level deep. */
  watch(paths: readonly string[]): void {
    const existing = paths.filter((p) => existsSync(p));
    if (!existing.length) return;
    this.fsWatcher = watchFiles(existing, { ignoreInitial: true, depth: 1, persistent: true });
    this.fsWatcher.on('all', () => this.poke());
    this.fsWatcher.on('error', (err) => this.onError(`file watching failed (${String(err)}); the poll goes on`));
  }

  private poke(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.wake();
    }, this.debounceMs);
  }

  /** Ends the current pause, if any. */
  wake(): void {
    this.waking?.();
  }

  /** Pauses up to `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.signal.aborted) { resolve(); return; }
      const done = () => {
        clearTimeout(timer);
        this.waking = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waking = done;
    });
  }

  /** Stops watching. Idempotent. */
  async close(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    const w = this.fsWatcher;
    this.fsWatcher = null;
    await w?.close().catch(() => undefined);
  }
}
