/**
 * Helpers for transaction scenario tests (test/tx/invariants*.test.ts): mutations that
 * append a message or rewrite a builder's status, a snapshot of everything a transaction
 * could touch (refs, working tree bytes, index, diffs) to prove it touched nothing, and a
 * walk over the origin's history that runs `coord validate` on every commit of `main`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Issue } from '../../lib/errors.js';
import { validateRepository } from '../../lib/commands/validate.js';
import { checkCoordinationFile } from '../../lib/store/check.js';
import { contextFromConfigBytes } from '../../lib/store/context.js';
import { lostRecords } from '../../lib/store/record-loss.js';
import type { TxDecision, TxState } from '../../lib/tx/transaction.js';
import { formatTimestamp } from '../../lib/util/time.js';
import { gitSync, hermeticEnv } from './git-fixture.js';

export const MESSAGES = 'coordination/messages.json';

interface MessagesDoc { messages: { id: string }[] }

/** A message record as the schema wants it, timestamped at `now` (whole seconds). */
export function messageRecord(id: string, from: string, now: number): Record<string, unknown> {
  return {
    id, from, to: 'all', type: 'info', priority: 'normal', subject: id, body: id,
    timestamp: formatTimestamp(now), ack_required: false, read_by: [], acked_by: [], in_reply_to: null, tags: [],
  };
}

/** A mutation appending message `id` to coordination/messages.json. */
export function appendMessage(id: string, from = 'build1') {
  return (state: TxState, now: number): TxDecision<string> => {
    const doc = structuredClone(state.files.get(MESSAGES)) as MessagesDoc;
    doc.messages.push(messageRecord(id, from, now) as { id: string });
    return { kind: 'commit', writes: new Map([[MESSAGES, doc]]), summary: id, result: id };
  };
}

/** A complete, valid `build<N>/status.json` document. */
export function statusDoc(builder: string, now: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $schema: '../schemas/status.schema.json', builder, state: 'idle', updated_at: formatTimestamp(now),
    current_job: null, running_jobs: [], last_build: null, grounded: null, degraded: null,
    consecutive_failures: 0, capabilities: { arch: 'x86_64', labels: [] }, daemon: null, ...fields,
  };
}

/**
 * A builder-owned mutation: reads `builder`'s status and writes it back with
 * `consecutive_failures` one higher (so a lost update shows as a wrong count).
 */
export function bumpStatus(builder: string, summary: string) {
  const file = `${builder}/status.json`;
  return (state: TxState, now: number): TxDecision<number> => {
    const cur = state.files.get(file) as { consecutive_failures?: number } | null;
    const n = (cur?.consecutive_failures ?? 0) + 1;
    return { kind: 'commit', writes: new Map([[file, statusDoc(builder, now, { consecutive_failures: n })]]), summary, result: n };
  };
}

/** Ids of the messages on `ref` of the repository at `repo`. */
export function messageIds(repo: string, ref = 'main'): string[] {
  return (JSON.parse(gitSync(repo, ['show', `${ref}:${MESSAGES}`])) as MessagesDoc).messages.map((m) => m.id);
}

function hashTree(root: string, rel = '', out: Record<string, string> = {}): Record<string, string> {
  for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (r === '.git') continue;
    if (e.isDirectory()) hashTree(root, r, out);
    else out[r] = createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex');
  }
  return out;
}

/** Everything a transaction must leave alone in a clone, plus the origin's refs. */
export interface RepoSnapshot {
  originRefs: string;
  cloneRefs: string;
  files: Record<string, string>;
  status: string;
  diff: string;
  cached: string;
  /** Leftover temporary indexes under .git/coord. */
  tempIndexes: string[];
}

/** Snapshot of `clone` (and its origin) for before/after comparisons. */
export function snapshot(clone: string, origin: string): RepoSnapshot {
  const coordDir = path.join(clone, '.git', 'coord');
  let temp: string[] = [];
  try { temp = readdirSync(coordDir).filter((n) => n.startsWith('index-')); } catch { /* no state yet */ }
  return {
    originRefs: gitSync(origin, ['for-each-ref', '--format=%(refname) %(objectname)']),
    cloneRefs: gitSync(clone, ['for-each-ref', '--format=%(refname) %(objectname)']),
    files: hashTree(clone),
    status: gitSync(clone, ['status', '--porcelain=v1', '--untracked-files=all']),
    diff: gitSync(clone, ['diff']),
    cached: gitSync(clone, ['diff', '--cached']),
    tempIndexes: temp,
  };
}

/**
 * Runs `coord validate` (the same function) on the tree of every commit of `ref` in the
 * bare `origin`, and checks that no message vanished between a commit and its parent
 * (record loss). Stops at the first bad commit.
 * @returns the problems found, formatted as `commit: file: pointer: reason` (empty when all valid)
 */
export async function validateHistory(origin: string, ref = 'main'): Promise<{ commits: number; problems: string[] }> {
  const commits = gitSync(origin, ['log', '--reverse', '--format=%H %ct', ref]).split('\n').filter(Boolean).map((l) => l.split(' '));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'coord-history-'));
  const problems: string[] = [];
  let prevMessages: unknown = null;
  try {
    for (const [c, seconds] of commits) {
      const dir = path.join(scratch, c);
      mkdirSync(dir);
      const tar = execFileSync('git', ['archive', '--format=tar', c], { cwd: origin, env: hermeticEnv(), maxBuffer: 64 << 20 });
      execFileSync('tar', ['-x', '-C', dir], { input: tar });
      const now = Number(seconds) * 1000;
      const report = await validateRepository({ repoRoot: dir, files: [], staged: false, allowRemoval: false, cwd: dir, now });
      const issues: Issue[] = report.files.flatMap((f) => f.issues.filter((i) => i.severity === 'error'));
      const bytes = readFileSync(path.join(dir, MESSAGES));
      const ctx = contextFromConfigBytes(readFileSync(path.join(dir, 'shared/build_config.json')), now);
      const messages = checkCoordinationFile(MESSAGES, bytes, ctx).value ?? null;
      issues.push(...lostRecords('messages', MESSAGES, prevMessages, messages, new Set()));
      prevMessages = messages;
      rmSync(dir, { recursive: true, force: true });
      if (issues.length) {
        problems.push(...issues.map((i) => `${c.slice(0, 12)}: ${i.file}: ${i.pointer}: ${i.reason}`));
        break;
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { commits: commits.length, problems };
}
