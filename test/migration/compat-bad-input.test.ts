/**
 * Bad input to every compatibility script (issue 11): missing arguments, a bad builder, an
 * unknown subcommand or option, a bad value — each a usage error, exit 2, with a message
 * naming what is wrong, and nothing changed: the origin's main, the clone's HEAD, its
 * index and working tree are as before.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { originHead } from '../support/operator.js';
import { fingerprintTree } from '../support/tree.js';
import { runScript, SCRIPTS } from './compat-support.js';

/** [script, arguments, what stderr must say] */
const CASES: [string, string[], RegExp][] = [
  ['send_message.sh', [], /usage error: expected 5 or 6 arguments, got 0/],
  ['send_message.sh', ['build1', 'build2', 'info', 'subject'], /expected 5 or 6 arguments, got 4/],
  ['send_message.sh', ['build1', 'build2', 'info', 'subject', 'body', '--bogus'], /unknown option "--bogus"/],
  ['send_message.sh', ['build1', '', 'info', 'subject', 'body'], /TO is missing or empty/],
  ['send_message.sh', ['build1', 'build9', 'info', 'subject', 'body'], /TARGETS "build9"/],
  ['send_message.sh', ['build1', 'build2', 'urgent', 'subject', 'body'], /--type "urgent": choose one of info, warning, error, request/],
  ['send_message.sh', ['mallory', 'build2', 'info', 'subject', 'body'], /--from mallory: not a configured builder and not listed in trust\.senders/],
  ['read_messages.sh', ['build1', 'build2'], /expected at most 1 argument, got 2/],
  ['read_messages.sh', ['build9'], /--to build9: not a configured builder/],
  ['mark_messages_read.sh', [], /expected 1 or 2 arguments, got 0/],
  ['mark_messages_read.sh', ['foo'], /--builder says "foo", which is not a builder id/],
  ['mark_messages_read.sh', ['build9'], /build9 is not a configured builder/],
  ['ack_message.sh', ['msg-1'], /expected 2 arguments, got 1/],
  ['ack_message.sh', ['msg-1', ''], /buildN is missing or empty/],
  ['check_unread_messages.sh', ['build1', 'build2'], /expected at most 1 argument, got 2/],
  ['check_unread_messages.sh', ['build9'], /--to build9: not a configured builder/],
  ['job_queue.sh', [], /name a subcommand: add, get-next, complete, list/],
  ['job_queue.sh', ['frobnicate'], /unknown subcommand "frobnicate"/],
  ['job_queue.sh', ['add', 'main'], /add takes BRANCH COMMIT \[PRIORITY\], got 1 argument/],
  ['job_queue.sh', ['add', 'main', 'not-a-commit'], /--commit "not-a-commit": give a commit id/],
  ['job_queue.sh', ['add', 'main', 'abc1234', '99'], /--priority 99/],
  ['job_queue.sh', ['get-next', 'extra'], /get-next takes no argument/],
  ['job_queue.sh', ['complete', 'job-1'], /complete takes JOB_ID STATUS \[DURATION_S\], got 1 argument/],
  ['job_queue.sh', ['complete', 'job-1', 'bogus'], /Argument: status, Given: "bogus", Choices: "completed", "failed", "cancelled"/],
  ['job_queue.sh', ['list', 'queued', 'extra'], /list takes at most one STATUS/],
  ['create_job.sh', ['main'], /expected 2 to 4 arguments, got 1/],
  ['heartbeat.sh', ['build1', 'extra'], /expected at most 1 argument, got 2/],
  ['heartbeat.sh', ['foo'], /--builder says "foo", which is not a builder id/],
  ['update_status.sh', ['build1'], /expected 2 or 3 arguments, got 1/],
  ['update_status.sh', ['build1', 'dancing'], /STATUS "dancing": give idle, building, success or failed/],
  ['validate_json.sh', [], /name at least one file/],
  ['validate_json.sh', ['.gitattributes'], /not a coordination file/],
  ['validate_all.sh', ['extra'], /takes no argument/],
  // Values starting with "-" are values, never options passed on to coord (finding 2).
  ['job_queue.sh', ['add', '--help', 'abc1234'], /BRANCH "--help" starts with "-": give a value, not an option/],
  ['job_queue.sh', ['add', 'main', '--not-before=+5h'], /COMMIT "--not-before=\+5h" starts with "-"/],
  ['job_queue.sh', ['complete', '--help', 'completed'], /JOB_ID "--help" starts with "-"/],
  ['job_queue.sh', ['list', '--json'], /--status "--json": one of queued/],
  ['create_job.sh', ['--not-before=+5h', 'abc1234'], /BRANCH "--not-before=\+5h" starts with "-"/],
  ['create_job.sh', ['main', 'abc1234', '-5'], /--priority "-5": give a whole number from 1 to 10/],
  ['validate_json.sh', ['--'], /name at least one file/],
  ['validate_json.sh', ['-x'], /FILE "-x" starts with "-": options are not accepted \(for a file of that name write \.\/-x\)/],
  ['validate_json.sh', ['--', '--staged'], /FILE "--staged" starts with "-"/],
  ['check_unread_messages.sh', ['--json'], /buildN "--json" starts with "-": give a value, not an option/],
  ['read_messages.sh', ['--all'], /buildN "--all" starts with "-"/],
  ['read_messages.sh', ['0'], /--to 0: not a configured builder/],
  ['heartbeat.sh', ['--help'], /buildN "--help" starts with "-"/],
  ['update_status.sh', ['--json', 'idle'], /buildN "--json" starts with "-"/],
  ['update_status.sh', ['build1', 'idle', '--help'], /JOB_ID "--help" starts with "-"/],
  ['send_message.sh', ['build1', '--all', 'info', 'subject', 'body'], /TO "--all" starts with "-"/],
  ['ack_message.sh', ['--all', 'build1'], /MESSAGE_ID "--all" starts with "-"/],
  ['mark_messages_read.sh', ['build1', '--all-unread'], /MESSAGE_ID "--all-unread" starts with "-"/],
];

describe('compatibility scripts refuse bad input with exit 2 and change nothing', () => {
  let fleet: Fleet;
  let clone: string;
  let head: string;
  let originMain: string;
  let files: Record<string, string>;

  beforeAll(async () => {
    fleet = await makeFleet(2);
    clone = fleet.clones.build1;
    gitSync(clone, ['fetch', '-q', 'origin']);
    head = gitSync(clone, ['rev-parse', 'HEAD']);
    originMain = originHead(fleet.origin);
    files = await fingerprintTree(clone, { exclude: ['.git'] });
  });

  afterAll(() => fleet.cleanup());

  test.each(CASES)('%s %j', async (name, args, says) => {
    const r = await runScript(name, args, clone);
    expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({ exit: 2, stderr: expect.stringMatching(says) });
    expect(r.stdout).toBe('');
    expect(originHead(fleet.origin)).toBe(originMain);
    expect(gitSync(clone, ['rev-parse', 'HEAD'])).toBe(head);
    expect(gitSync(clone, ['status', '--porcelain', '--untracked-files=no'])).toBe('');
    expect(await fingerprintTree(clone, { exclude: ['.git'] })).toEqual(files);
  });
});

describe('the wrappers themselves', () => {
  const names = [...new Set(CASES.map(([name]) => name))];

  test('every wrapper is executable bash with strict mode, sourcing the shared helper', () => {
    expect(names).toHaveLength(11);
    for (const n of names) {
      const file = path.join(SCRIPTS, n);
      accessSync(file, constants.X_OK);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
      expect(text).toMatch(/^set -euo pipefail$/m);
      expect(text).toMatch(/lib\/compat\.sh"$/m);
    }
  });

  test('shellcheck finds nothing (npm test installs shellcheck when it is missing)', () => {
    const r = spawnSync('shellcheck', ['-x', ...names, 'lib/compat.sh'], { cwd: SCRIPTS, encoding: 'utf8' });
    expect(r.error ? `shellcheck could not run: ${r.error.message} (apt-get install shellcheck)` : '').toBe('');
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
