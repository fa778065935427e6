/**
 * The messaging compatibility scripts (issue 11) with the upstream argument order, against
 * a bare origin and two clones (build1, build2) of a three-builder fleet: per-recipient
 * read state whatever the old script did, check_unread_messages.sh as a boolean that never
 * commits, errors first in read_messages.sh, and after each script a history the new
 * semantics allow.
 */
import { gitSync, makeFleet, type Fleet } from '../support/git-fixture.js';
import { editConfig, originHead } from '../support/operator.js';
import { expectNewSemantics, runScript } from './compat-support.js';

type Msg = { id: string; from: string; to: unknown; type: string; subject: string; ack_required: boolean; read_by: string[]; acked_by: string[] };

const messagesOnOrigin = (origin: string): Msg[] =>
  (JSON.parse(gitSync(origin, ['show', 'main:coordination/messages.json'])) as { messages: Msg[] }).messages;

describe('messaging compatibility scripts', () => {
  let fleet: Fleet;
  let b1: string;
  let b2: string;

  beforeAll(async () => {
    fleet = await makeFleet(3, { clones: ['build1', 'build2'] });
    b1 = fleet.clones.build1;
    b2 = fleet.clones.build2;
    // A person who sent messages with the old toolkit keeps sending as a trusted sender.
    await editConfig(b1, (cfg) => { cfg.trust = { senders: ['architect'] }; });
  });

  afterAll(() => fleet.cleanup());

  /** Runs a script in `clone` and asserts the history it left, returning its result. */
  async function script(clone: string, name: string, args: string[], env: Record<string, string> = {}) {
    const before = originHead(fleet.origin);
    const r = await runScript(name, args, clone, env);
    const commits = expectNewSemantics(fleet.origin, before, clone);
    return { r, commits, before };
  }

  test('send, read in severity order, check, mark read per recipient, ack — each with the old argument order', async () => {
    // send_message.sh FROM TO TYPE SUBJECT BODY [--require-ack]: one commit of messages.json each.
    const sent: Record<string, string> = {};
    for (const [from, to, type, subject, body, ...rest] of [
      ['build1', 'build2', 'info', 'FYI mirror', 'the mirror moved'],
      ['build1', 'all', 'warning', 'Disk low', '--disk at 91% (text that starts with dashes)', '--require-ack'],
      ['architect', 'build2', 'request', 'Please rebuild', 'rebuild main please'],
      ['build1', 'build2', 'error', 'Build broke', 'see the log'],
    ]) {
      const { r, commits } = await script(b1, 'send_message.sh', [from, to, type, subject, body, ...rest]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/^send_message\.sh: deprecated wrapper .*use: sm --from FROM --type TYPE --subject SUBJECT/m);
      expect(commits).toHaveLength(1);
      expect(commits[0].files).toEqual(['coordination/messages.json']);
      sent[subject] = r.stdout.trim();
    }
    const all = messagesOnOrigin(fleet.origin);
    expect(all.map((m) => [m.from, m.to, m.type, m.subject, m.ack_required])).toEqual([
      ['build1', 'build2', 'info', 'FYI mirror', false],
      ['build1', 'all', 'warning', 'Disk low', true],
      ['architect', 'build2', 'request', 'Please rebuild', false],
      ['build1', 'build2', 'error', 'Build broke', false],
    ]);
    expect(all.map((m) => m.id)).toEqual(Object.values(sent));

    // read_messages.sh buildN: unread for build2, errors first, then warnings, requests, info; no commit.
    const read = await script(b2, 'read_messages.sh', ['build2']);
    expect(read.r.exitCode).toBe(0);
    expect(read.commits).toEqual([]);
    const order = ['Build broke', 'Disk low', 'Please rebuild', 'FYI mirror'].map((s) => read.r.stdout.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // check_unread_messages.sh build2: exit 1 (unread), and no commit at all — not on the
    // origin, not in the clone (the old script committed unread_messages_status.json).
    const head2 = gitSync(b2, ['rev-parse', 'HEAD']);
    const check1 = await script(b2, 'check_unread_messages.sh', ['build2']);
    expect(check1.r.exitCode).toBe(1);
    expect(check1.r.stdout).toContain('Build broke');
    expect(originHead(fleet.origin)).toBe(check1.before);
    expect(gitSync(b2, ['rev-parse', 'HEAD'])).toBe(head2);

    // mark_messages_read.sh buildN ID: the broadcast is read by build2 only; build3 still has it unread.
    const mark = await script(b2, 'mark_messages_read.sh', ['build2', sent['Disk low']]);
    expect(mark.r.exitCode).toBe(0);
    expect(mark.commits.map((c) => c.files)).toEqual([['coordination/messages.json']]);
    let bc = messagesOnOrigin(fleet.origin).find((m) => m.id === sent['Disk low'])!;
    expect(bc.read_by).toEqual(['build2']);
    expect((await script(b2, 'check_unread_messages.sh', ['build2'])).r.exitCode).toBe(1);

    // ack_message.sh ID buildN: acknowledged by build2 only.
    const ack = await script(b2, 'ack_message.sh', [sent['Disk low'], 'build2']);
    expect(ack.r.exitCode).toBe(0);
    expect(ack.commits).toHaveLength(1);
    bc = messagesOnOrigin(fleet.origin).find((m) => m.id === sent['Disk low'])!;
    expect(bc).toMatchObject({ read_by: ['build2'], acked_by: ['build2'] });

    // mark_messages_read.sh buildN: every unread message of build2, one commit.
    const markAll = await script(b2, 'mark_messages_read.sh', ['build2']);
    expect(markAll.r.exitCode).toBe(0);
    expect(markAll.commits).toHaveLength(1);
    for (const m of messagesOnOrigin(fleet.origin)) if (m.to === 'build2' || m.to === 'all') expect(m.read_by).toEqual(['build2']);

    // Now build2 has nothing unread: exit 0 (quietly: COORD_QUIET_COMPAT=1), still no commit.
    const head2b = gitSync(b2, ['rev-parse', 'HEAD']);
    const check2 = await script(b2, 'check_unread_messages.sh', ['build2'], { COORD_QUIET_COMPAT: '1' });
    expect(check2.r.exitCode).toBe(0);
    expect(check2.r.stderr).not.toMatch(/deprecated/);
    expect(originHead(fleet.origin)).toBe(check2.before);
    expect(gitSync(b2, ['rev-parse', 'HEAD'])).toBe(head2b);

    // The broadcast stays unread for build3, whoever asks.
    expect((await script(b1, 'check_unread_messages.sh', ['build3'])).r.exitCode).toBe(1);

    // check_unread_messages.sh all (the old default): the fleet with unread counts, exit 0, no commit.
    const fleetCheck = await script(b1, 'check_unread_messages.sh', []);
    expect(fleetCheck.r.exitCode).toBe(0);
    expect(fleetCheck.r.stdout).toMatch(/Unread messages:.*build2 0.*build3 1/);
    expect(fleetCheck.r.stderr).toMatch(/use: coord status/);
    expect(originHead(fleet.origin)).toBe(fleetCheck.before);
  });
});
