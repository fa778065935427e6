/**
 * A writer process of the throughput benchmark: `node dist/bench/tx-worker.js REPO ACTOR COUNT`.
 * Prints `ready`, waits for a line on standard input (the start barrier, so process
 * start-up is not timed), runs COUNT transactions appending one message each, then prints
 * one JSON line: {@link WorkerReport}.
 */
import { createInterface } from 'node:readline';
import { isCoordError } from '../errors.js';
import { runTransaction } from '../tx/transaction.js';
import { appendMessage } from './append-message.js';

export interface WorkerReport {
  actor: string;
  committed: number;
  failed: number;
  /** Attempts of each transaction, in order. */
  attempts: number[];
  /** Wall time of each transaction (ms). */
  latencies_ms: number[];
}

async function main(): Promise<void> {
  const [repoRoot, actor, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (!repoRoot || !actor || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: tx-worker.js REPO ACTOR COUNT\n');
    process.exitCode = 2;
    return;
  }
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  lines.close();
  const report: WorkerReport = { actor, committed: 0, failed: 0, attempts: [], latencies_ms: [] };
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    try {
      const out = await runTransaction({
        repoRoot, actor, action: 'bench.append', paths: ['coordination/messages.json'], maxAttempts: 50,
        mutate: appendMessage(`bench-${actor}-${i}`, actor),
      });
      report.attempts.push(out.attempts);
      report.committed++;
    } catch (err) {
      if (!isCoordError(err, 'E_CONTENTION')) throw err;
      report.attempts.push(Number(err.details.attempts ?? 0));
      report.failed++;
    }
    report.latencies_ms.push(performance.now() - t0);
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

await main();
