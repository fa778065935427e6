/**
 * What people and agents do to a running fleet, done the way they do it: the operator's
 * command line (`coord jobs add`, `coord jobs cancel`), `sm` on a builder, `coord messages`
 * on a recipient, and an agent's hand edit of coordination/jobs.json pushed with plain git.
 * Each is one small function, so a demo or chaos run reads as a transcript.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { NewJobInput } from '../jobs/model.js';
import { PATHS } from '../store/kinds.js';
import { formatTimestamp } from '../util/time.js';
import { cryptoRandomHex } from '../util/ids.js';
import { mustRun, runBin, type CommandResult } from './commands.js';
import { fleetGit } from './fleet.js';
import { identityFlags } from './env.js';

/** Where and as whom a command runs. */
export interface Seat {
  /** A clone of the fleet's origin. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The operator's seat: a clone that is no builder, acting as the person `name`. */
export function operatorSeat(clone: string, env: NodeJS.ProcessEnv, name = 'operator'): Seat {
  return { cwd: clone, env: { ...env, USER: name, LOGNAME: name } };
}

const JOB_ID_RE = /\bjob-[0-9]{8}-[0-9]{6}-[A-Za-z0-9_-]+\b/;

/** The `coord jobs add` arguments for a job input. */
export function jobsAddArgs(input: NewJobInput): string[] {
  const args = ['jobs', 'add', '--type', input.type];
  if (input.priority !== undefined) args.push('--priority', String(input.priority));
  if (input.commit) args.push('--commit', input.commit);
  if (input.branch) args.push('--branch', input.branch);
  for (const [k, v] of Object.entries(input.params ?? {})) args.push('--param', `${k}=${v}`);
  if (input.max_attempts !== undefined) args.push('--max-attempts', String(input.max_attempts));
  if (input.description) args.push('--description', input.description);
  return args;
}

/**
 * `coord jobs add …` from the seat.
 * @returns the new job's id (the command prints it)
 */
export async function queueJob(seat: Seat, input: NewJobInput): Promise<{ id: string; shown: string }> {
  const r = await mustRun('coord', jobsAddArgs(input), seat);
  const id = JOB_ID_RE.exec(r.stdout)?.[0];
  if (!id) throw new Error(`\`${r.shown}\` printed no job id: ${r.stdout.trim().slice(0, 200)}`);
  return { id, shown: r.shown };
}

/** `coord jobs cancel ID` from the seat (queued: cancelled at once; running: the owner stops it). */
export async function cancelJob(seat: Seat, id: string): Promise<CommandResult> {
  return runBin('coord', ['jobs', 'cancel', id], seat);
}

/**
 * `sm TARGETS BODY` on a builder's clone.
 * @returns the message id
 */
export async function sendMessage(seat: Seat, targets: string, body: string): Promise<{ id: string; shown: string }> {
  const r = await mustRun('sm', [targets, body, '--json'], seat);
  const doc = JSON.parse(r.stdout) as { message?: { id?: string } };
  const id = doc.message?.id;
  if (!id) throw new Error(`\`${r.shown}\` printed no message id`);
  return { id, shown: r.shown.replace(/ --json$/, '') };
}

/** Message ids `coord messages` lists as unread on a builder's seat. */
export async function unreadMessages(seat: Seat): Promise<string[]> {
  const r = await mustRun('coord', ['messages', '--json'], seat);
  const doc = JSON.parse(r.stdout) as { messages?: { id: string }[] };
  return (doc.messages ?? []).map((m) => m.id);
}

/** A job record as an agent writes it by hand: the fields that matter, the store fills the rest. */
export function handWrittenJob(input: NewJobInput, who: string, now: number): Record<string, unknown> {
  const stamp = formatTimestamp(now).replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
  return {
    id: `job-${stamp}-${who}-${cryptoRandomHex(6)}`,
    type: input.type,
    priority: input.priority ?? 5,
    description: input.description ?? '',
    ...(input.commit ? { commit: input.commit } : {}),
    params: input.params ?? {},
    status: 'queued',
    created_at: formatTimestamp(now),
    created_by: who,
  };
}

/**
 * An agent's edit: in its own clone, take the remote's main, append a job to
 * coordination/jobs.json with a text editor's means (parse, push a record, write 2-space
 * JSON), commit and `git push` — retrying from a fresh fetch when the push loses the race,
 * as a careful agent does (never a merge of someone else's queue by hand).
 * @returns the job id and how many pushes it took
 */
export async function agentAddsJob(clone: string, who: string, input: NewJobInput, now: number, maxTries = 10): Promise<{ id: string; pushes: number }> {
  const record = handWrittenJob(input, who, now);
  const file = path.join(clone, PATHS.jobs);
  for (let i = 1; i <= maxTries; i++) {
    await fleetGit(clone, ['fetch', '-q', 'origin']);
    await fleetGit(clone, ['reset', '-q', '--hard', 'origin/main']);
    const doc = JSON.parse(await fs.readFile(file, 'utf8')) as { jobs: unknown[] };
    doc.jobs.push(record);
    await fs.writeFile(file, JSON.stringify(doc, null, 2) + '\n');
    await fleetGit(clone, ['add', PATHS.jobs]);
    await fleetGit(clone, [...identityFlags(who), 'commit', '-q', '-m', `Add a ${input.type} job by hand (${String(record.id)})`]);
    try {
      await fleetGit(clone, ['push', '-q', 'origin', 'HEAD:main']);
      return { id: String(record.id), pushes: i };
    } catch (err) {
      if (i === maxTries) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
    }
  }
  throw new Error('unreachable');
}
