/**
 * The job options `coord jobs add` and `coord schedule add` share, and their parsing into a
 * job input (every bad value is exit 2 naming the flag; see lib/ops/input.ts).
 */
import type { Argv } from 'yargs';
import type { NewJobInput } from '../jobs/model.js';
import {
  onlyOnce, parseBranch, parseCommitId, parseParams, parsePriority, parseRequires, parseText, parseTimeInput, parseWholeNumber, timestampOf,
} from '../ops/input.js';

/** Adds --type, --priority, --branch, --commit, --param, --requires, --label, --max-attempts, --description. */
export function jobTemplateOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('type', { type: 'string', demandOption: true, describe: 'job type from shared/build_config.json job_types' })
    .option('priority', { type: 'string', describe: '1 (runs first) to 10; default 5' })
    .option('branch', { type: 'string', describe: 'branch to build (with the type\'s source_repo)' })
    .option('commit', { type: 'string', describe: 'commit id to build (4-64 hex digits)' })
    .option('param', { type: 'string', array: true, describe: 'NAME=VALUE, repeatable; passed to the job as environment variables' })
    .option('requires', { type: 'string', array: true, describe: 'arch=ARCH or labels=L1,L2 the builder must offer' })
    .option('label', { type: 'string', array: true, describe: 'a label the builder must have, repeatable' })
    .option('max-attempts', { type: 'string', describe: 'attempts before the job fails for good (1-100; default policy.max_attempts)' })
    .option('description', { type: 'string', describe: 'free text shown in listings (at most 2000 characters)' });
}

const strings = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

/**
 * The job input the options give.
 * @param now for `--not-before` relative times
 * @throws CoordError E_USAGE for any bad value
 */
export function jobInputFromArgs(args: Record<string, unknown>, now: number): NewJobInput {
  // Each of these takes one value: a repeated one is refused, never half taken.
  const a: Record<string, unknown> = { ...args };
  for (const k of ['type', 'priority', 'branch', 'commit', 'max-attempts', 'description', 'not-before']) a[k] = onlyOnce(a[k], `--${k}`);
  const type = typeof a.type === 'string' ? a.type.trim() : '';
  const input: NewJobInput = { type };
  if (a.priority !== undefined) input.priority = parsePriority(a.priority);
  if (a.branch !== undefined) input.branch = parseBranch(a.branch);
  if (a.commit !== undefined) input.commit = parseCommitId(a.commit);
  const params = parseParams(strings(a.param));
  if (Object.keys(params).length) input.params = params;
  const requires = parseRequires(strings(a.requires), strings(a.label));
  if (Object.keys(requires).length) input.requires = requires;
  if (a['max-attempts'] !== undefined) input.max_attempts = parseWholeNumber(a['max-attempts'], '--max-attempts', 1, 100);
  if (a.description !== undefined) input.description = parseText(a.description, '--description', 2000);
  if (a['not-before'] !== undefined) input.not_before = timestampOf(parseTimeInput(a['not-before'], '--not-before', now));
  return input;
}
