/**
 * The pure parts of set-up: doctor's judgements (disk, heartbeat, clock skew), the hook
 * script and how an existing hook is classified, the added-lines parser of the credential
 * scan. Table-driven, no I/O.
 */
import { classifyHook, hookScript, HOOK_MARKER, parseHookCall } from '../../lib/hooks/client-hooks.js';
import { addedLines } from '../../lib/hooks/staged-secrets.js';
import { doctorExitCode, judgeClockSkew, judgeDisk, judgeHeartbeat, summarize, check, type PeerHeartbeat } from '../../lib/doctor/model.js';

const GiB = 1024 ** 3;
const NOW = Date.UTC(2025, 10, 4, 20, 45, 0);

describe('judgeDisk', () => {
  test.each([
    [0.5 * GiB, 100 * GiB, 'problem'],
    [0.99 * GiB, 2 * GiB, 'problem'],
    [3 * GiB, 10 * GiB, 'warning'], // under 5 GiB
    [20 * GiB, 400 * GiB, 'warning'], // 5 %
    [80 * GiB, 252 * GiB, 'ok'],
    [6 * GiB, 50 * GiB, 'ok'],
  ])('%d bytes free of %d: %s', (free, total, status) => {
    const c = judgeDisk('/srv/Build', free, total);
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(/^\/srv\/Build: [\d.]+ GiB free of [\d.]+ GiB \(\d+%\)$/);
    expect(c.fix === null).toBe(status === 'ok');
  });
});

describe('judgeHeartbeat (observer rule: 3 intervals stale, 10 offline)', () => {
  const base = { builder: 'build3', remoteCommit: 'c1', state: 'idle', intervalS: 60, now: NOW };
  test.each([
    ['never published', { remoteCommit: null, seen: null }, 'problem', /is not on the remote/],
    ['fetch failed', { seen: null }, 'problem', /could not be read/],
    ['fresh, observed', { seen: { value: 'c1', first_seen: NOW - 30_000, source: 'observed' as const } }, 'ok', /30 s old \(by this machine's observation\)/],
    ['fresh, by timestamp', { seen: { value: 'c1', first_seen: NOW - 150_000, source: 'timestamp' as const } }, 'ok', /150 s old \(by its timestamp\)/],
    ['stale', { seen: { value: 'c1', first_seen: NOW - 200_000, source: 'observed' as const } }, 'problem', /stale: more than 3 heartbeat intervals of 60 s/],
    ['offline', { seen: { value: 'c1', first_seen: NOW - 700_000, source: 'observed' as const } }, 'problem', /offline: more than 10/],
    ['clean shutdown', { state: 'offline', seen: { value: 'c1', first_seen: NOW - 5_000, source: 'observed' as const } }, 'problem', /stopped cleanly/],
    ['a writer stamp in our future counts as age 0', { seen: { value: 'c1', first_seen: NOW + 60_000, source: 'timestamp' as const } }, 'ok', /0 s old/],
  ])('%s', (_name, over, status, detail) => {
    const c = judgeHeartbeat({ ...base, ...over }, 'check the cron entry');
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(detail);
    if (status === 'problem') expect(c.fix).toBeTruthy();
  });
});

describe('judgeClockSkew', () => {
  const peer = (over: Partial<PeerHeartbeat>): PeerHeartbeat => ({ builder: 'build1', commit: 'c1', timestampMs: NOW, seenBefore: null, ...over });
  test.each<[string, PeerHeartbeat[], string, RegExp]>([
    ['no peers', [], 'ok', /no peer heartbeats/],
    ['in step', [peer({}), peer({ builder: 'build2', timestampMs: NOW - 20_000 })], 'ok', /compared with build1, build2 \(allowed: 30 s\)/],
    ['ahead within allowance', [peer({ timestampMs: NOW + 25_000 })], 'ok', /compared with build1/],
    ['ahead beyond allowance', [peer({ timestampMs: NOW + 95_000 })], 'warning', /build1's clock is about 95 s ahead of this machine's/],
    ['an old stamp never observed changing says nothing (a stopped peer)', [peer({ timestampMs: NOW - 3_600_000 })], 'ok', /compared/],
    ['behind, by what this machine observed', [peer({ timestampMs: NOW - 600_000, seenBefore: { value: 'c1', first_seen: NOW - 60_000, source: 'observed' } })], 'warning', /may be about 540 s behind .*or it pushes late/],
    ['an estimate from a timestamp is not evidence', [peer({ timestampMs: NOW - 600_000, seenBefore: { value: 'c1', first_seen: NOW - 60_000, source: 'timestamp' } })], 'ok', /compared/],
    ['an observation of an older commit is not evidence', [peer({ timestampMs: NOW - 600_000, seenBefore: { value: 'c0', first_seen: NOW - 60_000, source: 'observed' } })], 'ok', /compared/],
  ])('%s', (_name, peers, status, detail) => {
    const c = judgeClockSkew(peers, NOW, 30, 60);
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(detail);
  });
});

test('a report is ok unless a check is a problem; the exit code follows (0 or 3)', () => {
  const warn = summarize('/r', 'build1', '/', [check('disk', 'warning', 'low', 'free some'), check('cron', 'skipped', '--no-cron'), check('hooks', 'ok', 'fine')]);
  expect(warn).toMatchObject({ ok: true, counts: { ok: 1, warning: 1, problem: 0, skipped: 1 } });
  expect(doctorExitCode(warn)).toBe(0);
  const bad = summarize('/r', null, '/', [check('identity', 'problem', 'none', 'run setup')]);
  expect(bad.ok).toBe(false);
  expect(doctorExitCode(bad)).toBe(3);
});

describe('the pre-commit hook script', () => {
  const node = "/opt/node v20/bin/node";
  const coordJs = "/srv/it's/Build/bin/coord.js";
  const text = hookScript('pre-commit', node, coordJs);

  test('calls the absolute node and coord.js, quoted for sh, then the kept earlier hook', () => {
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toContain(HOOK_MARKER);
    expect(text).toContain(`'/opt/node v20/bin/node' '/srv/it'\\''s/Build/bin/coord.js' hook pre-commit "$@" || exit $?`);
    expect(text).toContain('chained="${0%/*}/pre-commit.pre-coord"');
    expect(parseHookCall(text)).toEqual({ node, coordJs });
  });

  test.each([
    ['missing', null, 'missing'],
    ['identical', text, 'current'],
    ['ours for another installation', hookScript('pre-commit', '/usr/bin/node', '/old/bin/coord.js'), 'ours-outdated'],
    ['someone else\'s', '#!/bin/sh\nnpx lint-staged\n', 'foreign'],
  ])('an existing hook that is %s', (_name, existing, kind) => {
    expect(classifyHook(existing, text).kind).toBe(kind);
  });
});

describe('addedLines (git diff -U0 hunks)', () => {
  test.each([
    ['a new file', '@@ -0,0 +1,3 @@\n+a\n+b\n+c\n', [1, 2, 3]],
    ['one changed line (count omitted)', '@@ -4 +4 @@\n-x\n+y\n', [4]],
    ['a pure deletion adds nothing', '@@ -7,2 +6,0 @@\n-x\n-y\n', []],
    ['several hunks', '@@ -1 +1,2 @@ ctx\n+a\n+b\n@@ -10,0 +12 @@\n+z\n', [1, 2, 12]],
    ['a "+@@" inside content is not a header', '@@ -0,0 +1 @@\n+@@ -1 +99 @@\n', [1]],
  ])('%s', (_name, diff, lines) => {
    expect([...addedLines(diff)].sort((a, b) => a - b)).toEqual(lines);
  });
});
