/**
 * Transaction invariants (issue 3, DESIGN.md section 3), each against real git: a bare
 * origin and one clone per builder in a temp folder, no mocks. The offline queue and the
 * concurrent-writers invariants are in invariants-fleet.test.ts.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { CoordError, formatIssue } from '../../lib/errors.js';
import { runTransaction, type TxRequest } from '../../lib/tx/transaction.js';
import { cloneFor, gitSync, makeFleet, originJson, type Fleet } from '../support/git-fixture.js';
import { appendMessage, MESSAGES, messageIds, messageRecord, snapshot, validateHistory } from '../support/tx-scenario.js';

let fleet: Fleet;
afterEach(() => fleet?.cleanup());

/** The CoordError `p` rejects with (fails the test when it resolves or throws anything else). */
async function coordError(p: Promise<unknown>): Promise<CoordError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CoordError) return err;
    throw err;
  }
  throw new Error('expected the transaction to throw a CoordError');
}

function append(repoRoot: string, id: string, extra: Partial<TxRequest<string>> = {}) {
  return runTransaction<string>({ repoRoot, actor: 'build1', action: 'test.append', paths: [MESSAGES], mutate: appendMessage(id), ...extra });
}

function writeHook(dir: string, name: string, body: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(path.join(dir, name), 0o755);
}

/** A plain-git commit pushed from `clone`: the competing writer of the contention tests. */
function pushCompetingCommit(clone: string, subject: string): void {
  gitSync(clone, ['pull', '-q', '--ff-only', 'origin', 'main']);
  gitSync(clone, ['commit', '-q', '--allow-empty', '-m', subject]);
  gitSync(clone, ['push', '-q', 'origin', 'HEAD:main']);
}

test('a transaction whose mutation refuses writes nothing and pushes nothing', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const before = snapshot(c, fleet.origin);
  const objectsBefore = gitSync(c, ['count-objects', '-v']);
  const out = await runTransaction({
    repoRoot: c, actor: 'build1', action: 'test.refuse', paths: [MESSAGES],
    mutate: () => ({ kind: 'refuse', refusal: { code: 'E_LOCK_HELD', message: 'lock deploy is held by build2' } }),
  });
  expect(out).toEqual({ status: 'refused', refusal: { code: 'E_LOCK_HELD', message: 'lock deploy is held by build2' }, attempts: 1 });
  expect(snapshot(c, fleet.origin)).toEqual(before);
  expect(gitSync(c, ['count-objects', '-v'])).toBe(objectsBefore);
});

test("a person's uncommitted edits survive 10 transactions byte for byte; the tree fast-forwards only once clean", async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const start = gitSync(c, ['rev-parse', 'HEAD']);
  // Modified tracked file (the very file the transactions change), a staged change, an untracked file.
  writeFileSync(path.join(c, MESSAGES), readFileSync(path.join(c, MESSAGES), 'utf8').replace('"messages": []', '"messages": [] '));
  writeFileSync(path.join(c, 'coordination/jobs.json'), readFileSync(path.join(c, 'coordination/jobs.json'), 'utf8') + '\n');
  gitSync(c, ['add', 'coordination/jobs.json']);
  mkdirSync(path.join(c, 'notes'));
  writeFileSync(path.join(c, 'notes/todo.txt'), 'half-written thought\n');
  const before = snapshot(c, fleet.origin);
  expect(before.diff).not.toBe('');
  expect(before.cached).not.toBe('');

  for (let i = 0; i < 10; i++) {
    const out = await append(c, `dirty-${i}`);
    expect(out.status).toBe('committed');
    if (out.status === 'committed') expect(out.worktree).toEqual({ moved: false, reason: expect.stringContaining('local changes') });
  }
  const after = snapshot(c, fleet.origin);
  expect(after.files).toEqual(before.files);
  expect(after.diff).toBe(before.diff);
  expect(after.cached).toBe(before.cached);
  expect(after.status).toBe(before.status);
  expect(after.tempIndexes).toEqual([]);
  expect(gitSync(c, ['rev-parse', 'HEAD'])).toBe(start);
  expect(messageIds(fleet.origin)).toHaveLength(10);

  // Clean again (the untracked file stays: it does not make the tree dirty).
  gitSync(c, ['reset', '-q', '--', 'coordination/jobs.json']);
  gitSync(c, ['checkout', '-q', '--', MESSAGES, 'coordination/jobs.json']);
  const out = await append(c, 'clean');
  expect(out.status === 'committed' && out.worktree).toEqual({ moved: true });
  expect(gitSync(c, ['rev-parse', 'HEAD'])).toBe(gitSync(fleet.origin, ['rev-parse', 'main']));
  // (.build_server_id is ignored: coord init's .gitignore)
  expect(gitSync(c, ['status', '--porcelain=v1'])).toBe('?? notes/');
  expect(JSON.parse(readFileSync(path.join(c, MESSAGES), 'utf8')).messages).toHaveLength(11);
  expect(readFileSync(path.join(c, 'notes/todo.txt'), 'utf8')).toBe('half-written thought\n');
});

test('HEAD moved by a person (reset --hard HEAD~1) is not undone by the next transaction', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const first = await append(c, 'm1');
  expect(first.status === 'committed' && first.worktree).toEqual({ moved: true });
  gitSync(c, ['reset', '-q', '--hard', 'HEAD~1']);
  const chosen = gitSync(c, ['rev-parse', 'HEAD']);
  const second = await append(c, 'm2');
  expect(second.status === 'committed' && second.worktree).toEqual({ moved: false, reason: expect.stringContaining('moved by someone else') });
  expect(gitSync(c, ['rev-parse', 'HEAD'])).toBe(chosen);
  expect(gitSync(c, ['status', '--porcelain=v1', '--untracked-files=no'])).toBe('');
  expect(messageIds(fleet.origin)).toEqual(['m1', 'm2']);
});

test('an invalid file already on main makes a transaction that reads it refuse, naming file and pointer; the file stays', async () => {
  fleet = await makeFleet(2);
  const hand = fleet.clones.build2;
  const bad = { ...messageRecord('hand-1', 'build2', Date.now()), timestamp: 'yesterday evening' };
  const text = JSON.stringify({ $schema: '../schemas/messages.schema.json', messages: [bad] }, null, 2) + '\n';
  writeFileSync(path.join(hand, MESSAGES), text);
  gitSync(hand, ['commit', '-q', '-am', 'hand edit']);
  gitSync(hand, ['push', '-q', 'origin', 'main']);
  const head = gitSync(fleet.origin, ['rev-parse', 'main']);

  const err = await coordError(append(fleet.clones.build1, 'm1'));
  expect(err.code).toBe('E_INVALID');
  expect(err.exitCode).toBe(3);
  expect(err.message).toContain(MESSAGES);
  expect(err.issues).toContainEqual(expect.objectContaining({ file: MESSAGES, pointer: '/messages/0/timestamp', severity: 'error' }));
  // The line the command line prints for it.
  expect(err.issues.map(formatIssue)).toContainEqual(expect.stringMatching(/^coordination\/messages\.json: \/messages\/0\/timestamp: not a timestamp/));
  expect(gitSync(fleet.origin, ['rev-parse', 'main'])).toBe(head);
  expect(gitSync(fleet.origin, ['show', `main:${MESSAGES}`]) + '\n').toBe(text);
  // The history walk of the concurrency test catches exactly this (its negative control).
  expect((await validateHistory(fleet.origin)).problems).toEqual([expect.stringContaining(`${MESSAGES}: /messages/0/timestamp: not a timestamp`)]);
});

test('a mutation producing invalid data throws E_INVALID and pushes nothing', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  const before = snapshot(c, fleet.origin);
  const err = await coordError(runTransaction({
    repoRoot: c, actor: 'build1', action: 'test.bad', paths: [MESSAGES],
    mutate: (state, now) => {
      const doc = structuredClone(state.files.get(MESSAGES)) as { messages: unknown[] };
      doc.messages.push({ ...messageRecord('x', 'build1', now), priority: 'whenever' });
      return { kind: 'commit', writes: new Map([[MESSAGES, doc]]), summary: 'x', result: null };
    },
  }));
  expect(err.code).toBe('E_INVALID');
  expect(err.issues).toContainEqual(expect.objectContaining({ file: MESSAGES, pointer: '/messages/0/priority' }));
  expect(snapshot(c, fleet.origin)).toEqual(before);
});

test('a mutation that drops a message is refused (record loss) unless allowRemoval', async () => {
  fleet = await makeFleet(2);
  const c = fleet.clones.build1;
  await append(c, 'keep');
  await append(c, 'lose');
  const drop = (state: { files: ReadonlyMap<string, unknown> }) => {
    const doc = structuredClone(state.files.get(MESSAGES)) as { messages: { id: string }[] };
    doc.messages = doc.messages.filter((m) => m.id !== 'lose');
    return { kind: 'commit' as const, writes: new Map([[MESSAGES, doc]]), summary: 'drop', result: null };
  };
  const before = snapshot(c, fleet.origin);
  const err = await coordError(runTransaction({ repoRoot: c, actor: 'build1', action: 'test.drop', paths: [MESSAGES], mutate: drop }));
  expect(err.code).toBe('E_INVALID');
  expect(err.issues).toContainEqual(expect.objectContaining({ file: MESSAGES, pointer: '/messages', reason: expect.stringContaining('lose') }));
  expect(snapshot(c, fleet.origin)).toEqual(before);

  const ok = await runTransaction({ repoRoot: c, actor: 'build1', action: 'test.drop', paths: [MESSAGES], mutate: drop, allowRemoval: true });
  expect(ok.status).toBe('committed');
  expect(messageIds(fleet.origin)).toEqual(['keep']);
});

test("a pre-receive hook's refusal is E_HOOK_DECLINED carrying the remote's message", async () => {
  fleet = await makeFleet(2);
  writeHook(path.join(fleet.origin, 'hooks'), 'pre-receive', 'echo "coord-hook: messages.json is frozen for the release" >&2\nexit 1');
  const head = gitSync(fleet.origin, ['rev-parse', 'main']);
  const err = await coordError(append(fleet.clones.build1, 'm1'));
  expect(err.code).toBe('E_HOOK_DECLINED');
  expect(err.exitCode).toBe(3);
  expect(err.message).toContain('coord-hook: messages.json is frozen for the release');
  expect(gitSync(fleet.origin, ['rev-parse', 'main'])).toBe(head);
});

test('a bare origin with receive.denyNonFastForwards still takes transactions, also after a lost race', async () => {
  fleet = await makeFleet(2);
  gitSync(fleet.origin, ['config', 'receive.denyNonFastForwards', 'true']);
  let raced = false;
  const out = await append(fleet.clones.build1, 'm1', {
    mutate: (state, now) => {
      if (!raced) { raced = true; pushCompetingCommit(fleet.clones.build2, 'competing'); }
      return appendMessage('m1')(state, now);
    },
    sleep: () => Promise.resolve(),
  });
  expect(out).toMatchObject({ status: 'committed', attempts: 2 });
  expect(messageIds(fleet.origin)).toEqual(['m1']);
  expect(gitSync(fleet.origin, ['log', '--format=%s', '-2', 'main']).split('\n')[1]).toBe('competing');
});

test('contention: E_CONTENTION (exit 4) once attempts run out', async () => {
  fleet = await makeFleet(2);
  // mutate is synchronous, and so is the competing push: every attempt loses the race.
  const err = await coordError(append(fleet.clones.build1, 'm1', {
    maxAttempts: 1,
    mutate: (state, now) => { pushCompetingCommit(fleet.clones.build2, 'competing'); return appendMessage('m1')(state, now); },
  }));
  expect(err.code).toBe('E_CONTENTION');
  expect(err.exitCode).toBe(4);
  expect(err.details).toEqual({ attempts: 1 });
  expect(messageIds(fleet.origin)).toEqual([]);
});

test('contention: jittered back-off is slept between attempts, with growing windows', async () => {
  fleet = await makeFleet(2);
  const slept: number[] = [];
  let randoms = 0, attempts = 0;
  const out = await append(fleet.clones.build1, 'm1', {
    maxAttempts: 5,
    mutate: (state, now) => {
      if (++attempts <= 3) pushCompetingCommit(fleet.clones.build2, `competing ${attempts}`);
      return appendMessage('m1')(state, now);
    },
    random: () => { randoms++; return 0.999; },
    sleep: (ms) => { slept.push(ms); return Promise.resolve(); },
  });
  expect(out).toMatchObject({ status: 'committed', attempts: 4 });
  expect(randoms).toBe(3);
  // Full jitter with random≈1 sleeps just under each window: 20, 40, 80 ms (backoff.ts).
  expect(slept).toEqual([19, 39, 79]);
  const half = await append(fleet.clones.build1, 'm2', {
    maxAttempts: 3,
    mutate: (state, now) => { pushCompetingCommit(fleet.clones.build2, 'again'); return appendMessage('m2')(state, now); },
    random: () => 0.5,
    sleep: (ms) => { slept.push(ms); return Promise.resolve(); },
  }).catch((e: unknown) => e);
  expect(half).toBeInstanceOf(CoordError);
  expect(slept.slice(3)).toEqual([10, 20]);
});

test('user settings never block: commit.gpgsign, push.gpgSign, failing hooks in .git/hooks and core.hooksPath', async () => {
  fleet = await makeFleet(2);
  const marker = path.join(fleet.dir, 'hook-ran');
  const failing = `echo "$0" >> ${marker}\nexit 1`;
  const hookNames = ['pre-commit', 'commit-msg', 'post-commit', 'pre-push', 'reference-transaction', 'post-checkout', 'post-merge', 'post-index-change'];
  const a = fleet.clones.build1;
  for (const h of hookNames) writeHook(path.join(a, '.git/hooks'), h, failing);
  const b = cloneFor(fleet.dir, fleet.origin, 'build2', 'build2-hookspath');
  for (const h of hookNames) writeHook(path.join(fleet.dir, 'user-hooks'), h, failing);
  gitSync(b, ['config', 'core.hooksPath', path.join(fleet.dir, 'user-hooks')]);
  for (const c of [a, b]) {
    gitSync(c, ['config', 'commit.gpgsign', 'true']);
    gitSync(c, ['config', 'push.gpgSign', 'true']);
    gitSync(c, ['config', 'user.signingkey', 'DEADBEEF']);
    gitSync(c, ['config', 'gpg.program', 'false']);
  }
  for (const [i, c] of [a, b, a, b].entries()) {
    const out = await append(c, `s${i}`, { actor: i % 2 ? 'build2' : 'build1' });
    expect(out.status === 'committed' && out.worktree).toEqual({ moved: true });
    // The clone's own branch and tree followed, without running a single user hook.
    expect(out.status === 'committed' && gitSync(c, ['rev-parse', 'HEAD'])).toBe(out.status === 'committed' && out.commit);
  }
  expect(messageIds(fleet.origin)).toEqual(['s0', 's1', 's2', 's3']);
  expect(gitSync(fleet.origin, ['cat-file', 'commit', 'main'])).not.toContain('gpgsig');
  expect(existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe('');
  expect((originJson(fleet.origin, MESSAGES) as { messages: unknown[] }).messages).toHaveLength(4);
});
