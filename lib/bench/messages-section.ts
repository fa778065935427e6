/**
 * Section `messages` (issue 9, bench 6): send-to-seen latency — from starting
 * `sm 2 "…"` on build1 until `coord messages watch --exec CMD` on build2 runs CMD for that
 * message (CMD stamps the time), over a local bare remote; p50/p95, at the watch's default
 * fetch interval (5 s) and at 1 s.
 */
import { promises as fs, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { pidsTagged, ProcessSet } from '../demo/processes.js';
import { cryptoRandomHex } from '../util/ids.js';
import { makeBenchRemote } from './remote.js';
import type { BenchOptions, BenchSection, SectionResult } from './section.js';
import { fmt1, median, quantile } from './stats.js';
import type { TempDirs } from './temp-dirs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LatencyRun { interval_s: number; p50_ms: number; p95_ms: number; max_ms: number; sm_p50_ms: number; n: number; lost: number }

async function seenAt(file: string, id: string): Promise<number | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith(id + ' '));
  return line ? Number(line.split(' ')[1]) : null;
}

async function sendSm(clone: string, body: string): Promise<{ id: string; ms: number }> {
  const t0 = performance.now();
  const r = await execa(process.execPath, [path.join(ROOT, 'bin/sm.js'), '2', body, '--json'], { cwd: clone, reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`sm failed (exit ${r.exitCode}): ${String(r.stderr).slice(0, 300)}`);
  return { id: String((JSON.parse(String(r.stdout)) as { message: { id: string } }).message.id), ms: performance.now() - t0 };
}

async function latencyRun(temp: TempDirs, intervalS: number, runs: number, log: (l: string) => void): Promise<LatencyRun> {
  const dir = temp.make(`msg-i${intervalS}`);
  const procs = new ProcessSet(cryptoRandomHex(6));
  try {
    const remote = await makeBenchRemote(dir, 2, ['build1', 'build2']);
    for (const b of ['build1', 'build2']) writeFileSync(path.join(remote.clones[b], '.build_server_id'), `${b.slice(5)}\n`);
    const seen = path.join(dir, 'seen.log');
    const stamp = `printf '%s %s\\n' "$COORD_MESSAGE_ID" "$(date +%s%3N)" >> '${seen}'`;
    procs.start('watch', process.execPath, [path.join(ROOT, 'bin/coord.js'), 'messages', 'watch', '--interval', String(intervalS), '--exec', '--', '/bin/sh', '-c', stamp], {
      cwd: remote.clones.build2, env: process.env, logFile: path.join(dir, 'watch.log'),
    });
    const lat: number[] = [], smMs: number[] = [];
    let lost = 0;
    for (let i = -1; i < runs; i++) {
      const t0 = Date.now();
      const { id, ms } = await sendSm(remote.clones.build1, `latency probe ${i}`);
      let at: number | null = null;
      const deadline = Date.now() + intervalS * 1000 * 4 + 15_000;
      while (at === null && Date.now() < deadline) {
        await sleep(20);
        at = await seenAt(seen, id);
      }
      if (i < 0) { log(`messages: watch (interval ${intervalS} s) is up`); continue; }
      if (at === null) { lost++; continue; }
      lat.push(at - t0);
      smMs.push(ms);
      // Send at a random phase of the watch's fetch timer, or every probe waits the same.
      await sleep(Math.random() * intervalS * 1000);
    }
    return { interval_s: intervalS, p50_ms: median(lat), p95_ms: quantile(lat, 0.95), max_ms: Math.max(...lat), sm_p50_ms: median(smMs), n: lat.length, lost };
  } finally {
    await procs.stopAll(3000);
    if ((await pidsTagged(procs.tag)).length) log('messages: warning: watch processes left behind');
    temp.remove(dir);
  }
}

async function runMessages(opts: BenchOptions, temp: TempDirs, log: (line: string) => void): Promise<SectionResult> {
  const runs: LatencyRun[] = [];
  for (const i of [5, 1]) {
    log(`messages: sm on build1 → coord messages watch --interval ${i} --exec on build2, ${opts.runs} sends`);
    runs.push(await latencyRun(temp, i, opts.runs, log));
  }
  return {
    tables: [{
      title: 'Send-to-seen latency (ms): sm on build1 until watch --exec runs on build2 (local bare remote)',
      head: ['watch --interval s', 'p50', 'p95', 'max', 'sm itself p50', 'n', 'lost'],
      rows: runs.map((r) => [String(r.interval_s), fmt1(r.p50_ms), fmt1(r.p95_ms), fmt1(r.max_ms), fmt1(r.sm_p50_ms), String(r.n), String(r.lost)]),
    }],
    data: { runs },
  };
}

export const messagesSection: BenchSection = {
  name: 'messages',
  description: 'send-to-seen latency: sm on build1 until coord messages watch --exec on build2, p50/p95',
  run: runMessages,
};
