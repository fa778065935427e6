/**
 * `sendmessages TARGETS BODY…` and its alias `sm` (DESIGN.md section 7): one shell line
 * sends one message — `sm 2 "acked"`, `sendmessages all "rollout done"`,
 * `echo "$report" | sm 13 - --type warning`.
 *
 * Its own strict parser: options may come anywhere, `--` ends them (everything after it
 * is body text), an unknown option is a usage error (exit 2) and never body text —
 * upstream once sent a real message whose text began with `--dry-run`.
 */
import yargs, { type Argv } from 'yargs';
import { explainNotAGitClone } from '../config/repo.js';
import { CoordError, exitCodeOf } from '../errors.js';
import { MESSAGE_TYPES, PRIORITIES, type MessageType, type Priority } from '../messages/model.js';
import { parseTargets } from '../messages/targets.js';
import type { SendOutcome } from '../messages/send.js';
import { decodeStdinBody } from '../messages/subject.js';
import { fullMessage } from '../messages/format.js';
import { makeContext } from './context.js';
import { printJson, printLines, processIO, reportError, type CliIO } from './io.js';
import { VERSION } from './version.js';

/** Stands for a `-` argument (yargs drops a bare `-`); argv cannot hold NUL, so no clash. */
const STDIN_TOKEN = '\u0000stdin';

/** Reads all of standard input as bytes. */
export type StdinReader = () => Promise<Buffer>;

/** The process's standard input. */
export const processStdin: StdinReader = async () => {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** True for `1`, `true`, `yes`, `on` (any case). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** The options a message is written with, shared by `sm` and `coord messages reply`. */
export function messageOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('type', { alias: 't', choices: MESSAGE_TYPES, default: 'info', describe: 'kind of message' })
    .option('priority', { alias: 'p', choices: PRIORITIES, default: 'normal', describe: 'how urgent' })
    .option('subject', { alias: 's', type: 'string', describe: 'subject (default: first line of the body, cut at a word); at most 100 characters' })
    .option('require-ack', { type: 'boolean', default: false, describe: 'ask each recipient to acknowledge (coord messages ack ID)' })
    .option('tag', { type: 'string', array: true, describe: 'a tag (repeatable)' })
    .option('from', { type: 'string', describe: "sender (default: this builder; others must be listed in build_config's trust.senders)" })
    .option('allow-secret', { type: 'boolean', default: false, describe: 'send even if the text looks like it carries a credential' })
    .option('auto', { type: 'boolean', default: false, describe: 'mark as sent by an automatic responder (default when COORD_AUTO=1)' })
    .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'show the record that would be sent; send nothing' });
}

/** Prints what a send did: the id (or the record with --json; the whole message for a dry run). */
export function printSendOutcome(io: CliIO, json: boolean, out: SendOutcome, builders: readonly string[]): void {
  if (out.droppedSelf) io.stderr(`note: ${out.message.from} is the sender; not sending to itself\n`);
  if (json) {
    printJson(io, { ok: true, status: out.status, dry_run: out.status === 'dry-run', message: out.message, recipients: out.recipients, commit: out.commit });
    return;
  }
  if (out.status === 'dry-run') {
    printLines(io, fullMessage(out.message, builders));
    io.stderr('dry run: nothing was sent\n');
    return;
  }
  printLines(io, out.message.id);
}

/**
 * The body from the words after TARGETS (`-` alone: standard input).
 * @throws CoordError E_USAGE for `-` mixed with words
 */
export async function bodyFromWords(words: readonly string[], readStdin: StdinReader): Promise<{ body: string; source: string }> {
  if (words.includes(STDIN_TOKEN)) {
    if (words.length > 1) throw new CoordError('E_USAGE', '- reads the body from standard input; give either - or words, not both (words after -- are always text)', { details: { argument: 'BODY' } });
    return { body: decodeStdinBody(await readStdin()), source: 'standard input' };
  }
  return { body: words.join(' '), source: 'BODY' };
}

function usageFailure(msg: string | null, err: Error | undefined): CoordError {
  if (err instanceof CoordError) return err;
  let text = msg ?? err?.message ?? 'bad command line';
  const invalid = /Invalid values:\s*Argument: ([\w-]+), Given: (.*), Choices: (.*)$/s.exec(text);
  if (invalid) text = `--${invalid[1]} ${invalid[2].trim()}: choose one of ${invalid[3].replace(/"/g, '').trim()}`;
  const unknown = /^Unknown arguments?: (.*)$/.exec(text);
  if (unknown) text = `unknown option ${unknown[1].split(', ').map((o) => (o.length === 1 ? `-${o}` : `--${o}`)).join(', ')}; options are listed by sm --help. Text that starts with - goes after --: sm 2 -- --text`;
  return new CoordError('E_USAGE', `${text.replace(/\n\s*/g, ' ')}\nRun sm --help for usage.`);
}

/**
 * Runs `sm`/`sendmessages` with `argv` (without the program name).
 * @returns the exit code
 */
export async function runSm(argv: string[], io: CliIO = processIO(), readStdin: StdinReader = processStdin, program = 'sm'): Promise<number> {
  const wantsJson = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  const dd = argv.indexOf('--');
  // A bare `-` before `--` means standard input; after `--` it is text like any word.
  const args = argv.map((t, i) => (t === '-' && (dd < 0 || i < dd) ? STDIN_TOKEN : t));
  let failure: unknown = null;
  const y = messageOptions(
    yargs(args)
      .scriptName(program)
      .parserConfiguration({ 'parse-positional-numbers': false, 'parse-numbers': false, 'populate--': true, 'dot-notation': false, 'camel-case-expansion': false, 'duplicate-arguments-array': true })
      .usage(`${program} TARGETS BODY…\n${program} TARGETS - < file\n\nSend a message to other builders (one transaction on the shared repository).\n` +
        'TARGETS: all; a run of digits, one builder each (12 = build1 and build2); or a comma list of numbers or names (1,12 or build3).')
      .command('$0 <targets> [body..]', false as unknown as string, (c) => c
        .positional('targets', { type: 'string', describe: 'all | digits | comma list' })
        .positional('body', { type: 'string', array: true, describe: 'the message words, or - for standard input' })),
  )
    .option('reply-to', { alias: 'r', type: 'string', describe: 'the id of the message this answers' })
    .option('repo', { type: 'string', describe: 'coordination repository (default: COORD_REPO, else the nearest parent holding coordination/)' })
    .option('builder', { type: 'string', describe: 'this builder (default: COORD_BUILDER, SERVER_ID, /etc/build_server_id, .build_server_id, hostname)' })
    .option('json', { type: 'boolean', describe: 'print the message record as one JSON document' })
    .example(`${program} 2 "acked"`, 'to build2')
    .example(`${program} all rollout done`, 'to every other builder')
    .example(`echo "$report" | ${program} 13 - --type warning`, 'to build1 and build3, body from standard input')
    .example(`${program} 1,12 --require-ack -- --dry-run is not an option here`, 'text after -- is never an option')
    .epilogue('Exit codes: 0 sent, 1 internal error, 2 usage (bad target, empty or too long body, credential found…), 3 invalid data on the remote, 4 contention, 5 --reply-to not found, 6 remote unreachable.\nDocs: README.md "Messages".')
    .strict()
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      failure = usageFailure(msg, err);
      throw failure;
    });
  try {
    const a = (await y.parseAsync()) as Record<string, unknown>;
    if (a.help || a.version) return 0;
    try {
      await sendFromArgs(a, io, readStdin);
    } catch (err) {
      // git's raw "fatal: not a git repository" → "DIR is not a git clone (no .git): …" (exit 2), as coord says it.
      let root: string | undefined;
      try { root = makeContext({ repo: a.repo as string | undefined }, io).repoRoot(); } catch { root = undefined; }
      throw explainNotAGitClone(err, root, io.env);
    }
  } catch (err) {
    reportError(io, failure ?? err, wantsJson, program);
    return exitCodeOf(failure ?? err);
  }
  return 0;
}

async function sendFromArgs(a: Record<string, unknown>, io: CliIO, readStdin: StdinReader): Promise<void> {
  const ctx = makeContext({ repo: a.repo as string | undefined, builder: a.builder as string | undefined, json: Boolean(a.json) }, io);
  const targetsRaw = String(a.targets);
  const spec = parseTargets(targetsRaw);
  const words = [...((a.body as string[] | undefined) ?? []), ...((a['--'] as string[] | undefined) ?? []).map(String)];
  const { body, source } = await bodyFromWords(words, readStdin);
  const auto = Boolean(a.auto) || envFlag(io.env.COORD_AUTO);
  const explicitReply = a['reply-to'] as string | undefined;
  if (explicitReply !== undefined && explicitReply.trim() === '') throw new CoordError('E_USAGE', '--reply-to needs a message id', { details: { argument: '--reply-to' } });
  const from = (a.from as string | undefined) ?? ctx.identity().builder;
  const repoRoot = ctx.repoRoot();
  // Loaded only now (git, the transaction engine, the schemas): usage errors and --help
  // stay fast.
  const { sendMessage } = await import('../messages/send.js');
  const out = await sendMessage({
    repoRoot, from, targets: { kind: 'spec', spec, raw: targetsRaw }, body, bodySource: source,
    subject: a.subject as string | undefined, type: a.type as MessageType, priority: a.priority as Priority,
    ackRequired: Boolean(a['require-ack']), tags: (a.tag as string[] | undefined) ?? [], auto,
    // Inside `watch --exec`, a reply chain is tracked even when the responder forgets
    // --reply-to: the loop guard's depth limit depends on it.
    inReplyTo: explicitReply ?? null,
    ...(explicitReply === undefined && auto && io.env.COORD_MESSAGE_ID ? { implicitReplyTo: io.env.COORD_MESSAGE_ID } : {}),
    allowSecret: Boolean(a['allow-secret']), dryRun: Boolean(a['dry-run']), clock: ctx.clock,
  });
  printSendOutcome(io, ctx.json, out, out.recipients);
}
