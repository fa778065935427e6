/**
 * A daemon process of the claim-throughput benchmark:
 * `node dist/bench/claim-worker.js CLONE BUILDER EVENTS_FILE LOG_FILE POLL_MS`.
 *
 * The real builder daemon (lib/daemon), in process, with one addition: every transaction
 * it runs is appended to EVENTS_FILE as one JSON line ({@link TxEvent}), so the benchmark
 * can count attempts per transaction. Prints `ready`, waits for a line on standard input
 * (the start barrier: start-up is not timed), runs until SIGTERM (drain) — a second
 * SIGTERM stops at once.
 */
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Daemon } from '../daemon/daemon.js';
import { observeTransactions } from '../tx/transaction.js';

async function main(): Promise<void> {
  const [repoRoot, builder, events, logFile, pollText] = process.argv.slice(2);
  if (!repoRoot || !builder || !events || !logFile) {
    process.stderr.write('usage: claim-worker.js CLONE BUILDER EVENTS_FILE LOG_FILE [POLL_MS]\n');
    process.exitCode = 2;
    return;
  }
  observeTransactions((e) => appendFileSync(events, JSON.stringify(e) + '\n'));
  const daemon = new Daemon({ repoRoot, builder, pollMs: Number(pollText ?? 200), log: (line) => appendFileSync(logFile, line + '\n') });
  let signals = 0;
  process.on('SIGTERM', () => { signals++; if (signals === 1) daemon.requestStop(); else daemon.forceStop(); });
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  lines.close();
  await daemon.run();
}

await main();
