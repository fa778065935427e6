/**
 * Every bad input of issue 4 ("Bad input"), through the real programs: a clear error naming
 * the argument, the documented exit code, and nothing written (the origin's main does not
 * move).
 */
import { jest } from '@jest/globals';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cloneFor, gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { coord, MESSAGES, originHead, pushRawFile, sm, type Ran } from './helpers.js';

// Real processes on a shared 2-core machine: generous, so load does not fail a correct run.
jest.setTimeout(120_000);

let fleet: Fleet;
let sent: string;
beforeAll(async () => {
  fleet = await makeFleet(4);
  sent = (await sm(fleet.clones.build1, ['2', 'a', 'real', 'message'])).stdout.trim();
});
afterAll(() => fleet?.cleanup());
const b1 = () => fleet.clones.build1;
const j = (...parts: string[]) => parts.join('');

/** Runs, then checks exit code, message and that nothing reached the origin. */
async function refused(run: () => Promise<Ran>, code: number, message: RegExp): Promise<Ran> {
  const before = originHead(fleet.origin);
  const r = await run();
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(message) });
  expect(r.stdout).toBe('');
  expect(originHead(fleet.origin)).toBe(before);
  return r;
}

describe('sm: usage errors exit 2 and name the argument', () => {
  test.each<[string, string[], RegExp]>([
    ['empty body', ['2', ''], /BODY is empty/],
    ['no body at all', ['2'], /BODY is empty/],
    ['blank body', ['2', '  ', '\t'], /BODY is empty/],
    ['body of 10,001 characters', ['2', 'x'.repeat(10_001)], /BODY is 10001 characters, over the 10000-character limit/],
    ['subject of 101 characters given with --subject', ['2', 'hi', '--subject', 's'.repeat(101)], /--subject is 101 characters, over the 100-character limit/],
    ['target 0', ['0', 'hi'], /TARGETS "0": builder 0 does not exist/],
    ['target 9 in a fleet of 4', ['9', 'hi'], /TARGETS "9": build9 is not a configured builder; configured builders: build1, build2, build3, build4/],
    ['target build', ['build', 'hi'], /TARGETS "build": "build" has no number/],
    ['target 1,,2', ['1,,2', 'hi'], /TARGETS "1,,2": item 2 of the comma list is empty/],
    ['target all,1', ['all,1', 'hi'], /TARGETS "all,1": "all" cannot be combined/],
    ['only the sender itself', ['1', 'hi'], /build1 is the sender/],
    ['unknown --type', ['2', 'hi', '--type', 'nope'], /--type "nope": choose one of info, warning, error, request/],
    ['unknown --priority', ['2', 'hi', '--priority', 'asap'], /--priority "asap": choose one of low, normal, high, urgent/],
    ['unknown option (never body text)', ['2', '--dryrun', 'deploy', 'now'], /unknown option --dryrun.*after --/],
    ['unknown short option', ['2', '-x', 'hi'], /unknown option -x/],
    ['- mixed with words', ['2', '-', 'and', 'words'], /give either - or words/],
    ['untrusted --from', ['2', 'hi', '--from', 'mallory'], /--from mallory: not a configured builder and not listed in trust\.senders/],
    ['a tag over 64 characters', ['2', 'hi', '--tag', 't'.repeat(65)], /--tag .*1 to 64 characters/],
  ])('%s', async (_name, args, message) => {
    await refused(() => sm(b1(), args), 2, message);
  });

  test('--reply-to an id that does not exist: exit 5', async () => {
    await refused(() => sm(b1(), ['2', 'hi', '--reply-to', 'msg-20200101-000000-build9-deadbeef']), 5, /--reply-to msg-20200101-000000-build9-deadbeef: no such message/);
  });

  test('standard input closed', async () => {
    await refused(() => sm(b1(), ['2', '-'], { closedStdin: true }), 2, /standard input is empty \(closed, or nothing was piped\)/);
  });
  test('standard input empty', async () => {
    await refused(() => sm(b1(), ['2', '-'], { input: '' }), 2, /standard input is empty/);
  });
  test('standard input binary', async () => {
    await refused(() => sm(b1(), ['2', '-'], { input: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]) }), 2, /standard input is binary \(NUL byte at offset 6\)/);
  });
  test('standard input not UTF-8', async () => {
    await refused(() => sm(b1(), ['2', '-'], { input: Buffer.from([0x68, 0x69, 0xff, 0xfe]) }), 2, /standard input is not UTF-8 text/);
  });

  test('no identity: never a silent default (E_IDENTITY, exit 2)', async () => {
    const anon = cloneFor(fleet.dir, fleet.origin, 'build1', 'anonymous');
    rmSync(path.join(anon, '.build_server_id'));
    await refused(() => sm(anon, ['2', 'hi']), 2, /cannot tell which builder this is/);
  });
});

describe('sm: each credential kind is refused (exit 2) with its kind and place, unless --allow-secret', () => {
  test.each<[string, string, RegExp]>([
    ['password assignment', 'db password=hunter2', /body line 1, column 4: password assignment/],
    ['secret assignment', 'CLIENT_SECRET: "9f8e7d6c5b4a3921"', /secret or token assignment/],
    ['token assignment', 'ci token=abcdef0123456789', /secret or token assignment/],
    ['bearer token', 'Authorization: Bearer abcdefghij0123456789', /bearer token/],
    ['private key block', j('-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIE...'), /private key block/],
    ['cloud access key', j('key ', 'AKIA', 'QWERTYUIOPASDFGH'), /AWS access key id/],
    ['API token format', j('tok ', 'ghp_', '123456789012345678901234567890123456'), /GitHub token/],
  ])('%s', async (_name, body, kind) => {
    const r = await refused(() => sm(b1(), ['2', '--', body]), 2, /looks like it carries a credential/);
    expect(r.stderr).toMatch(kind);
    expect(r.stderr).toContain('--allow-secret');
  });

  test('--allow-secret sends it anyway', async () => {
    const r = await sm(b1(), ['2', 'password=example-only', '--allow-secret']);
    expect(r.code).toBe(0);
  });
});

describe('coord messages: bad input', () => {
  test.each<[string, string[], number, RegExp]>([
    ['read without ids', ['messages', 'read'], 2, /give the id\(s\) of the message\(s\) to read/],
    ['read an unknown id', ['messages', 'read', 'msg-nope'], 5, /message msg-nope not found/],
    ['ack an unknown id', ['messages', 'ack', 'msg-nope'], 5, /message msg-nope not found/],
    ['reply to an unknown id', ['messages', 'reply', 'msg-nope', 'hi'], 5, /no such message/],
    ['thread of an unknown id', ['messages', 'thread', 'msg-nope'], 5, /message msg-nope not found/],
    ['--since that is no time', ['messages', '--since', 'yesterday'], 2, /--since "yesterday": give a time/],
    ['--type that does not exist', ['messages', '--type', 'nope'], 2, /Invalid values|nope/],
    ['watch --exec of a missing program', ['messages', 'watch', '--once', '--exec', './no-such-responder.sh'], 127, /--exec \.\/no-such-responder\.sh: not an executable file/],
    ['watch with words after -- but no --exec', ['messages', 'watch', '--once', '--', 'cat'], 2, /add --exec/],
    ['archive --older-than -1', ['messages', 'archive', '--older-than', '-1'], 2, /--older-than -1/],
  ])('%s', async (_name, args, code, message) => {
    await refused(() => coord(b1(), args), code, message);
  });

  test('read a message addressed to another builder: exit 2', async () => {
    await refused(() => coord(fleet.clones.build3, ['messages', 'read', sent]), 2, new RegExp(`message ${sent} is addressed to build2, not to build3`));
  });
});

test('remote unreachable: a send fails with exit 6; reading shows the last fetched state with a warning', async () => {
  const offline = cloneFor(fleet.dir, fleet.origin, 'build2', 'offline-build2');
  gitSync(offline, ['remote', 'set-url', 'origin', path.join(fleet.dir, 'gone.git')]);
  await refused(() => sm(offline, ['1', 'hello']), 6, /unreachable/);
  const list = await coord(offline, ['messages']);
  expect(list.code).toBe(0);
  expect(list.stderr).toMatch(/warning: .*showing the last fetched state/);
  expect(list.stdout).toContain(sent);
});

test('a messages.json that is invalid on the remote: the send refuses (exit 3), names the problem, and never rewrites it', async () => {
  const bad = JSON.stringify({ $schema: '../schemas/messages.schema.json', messages: [{ id: 'x', from: 'build1', to: 'build2', type: 'gossip' }] }, null, 2) + '\n';
  pushRawFile(fleet.dir, fleet.origin, MESSAGES, bad);
  const head = originHead(fleet.origin);
  const r = await refused(() => sm(b1(), ['2', 'hello']), 3, /coordination\/messages\.json.*invalid/);
  expect(r.stderr).toMatch(/coordination\/messages\.json: \/messages\/0\/type: must be one of: info, warning, error, request/);
  expect(originHead(fleet.origin)).toBe(head);
  expect(gitSync(fleet.origin, ['show', `main:${MESSAGES}`]) + '\n').toBe(bad);
  // Reading refuses the same way rather than guessing.
  const list = await coord(fleet.clones.build2, ['messages']);
  expect(list.code).toBe(3);
});
