/**
 * TARGETS of `sendmessages`/`sm` (DESIGN.md section 7): `all`; a run of digits, each digit
 * one builder (`12` → build1 and build2); or a comma list of numbers or names (`1,12` →
 * build1 and build12, `build3`). Parsing the syntax is pure and needs no configuration;
 * resolving checks the builders against `shared/build_config.json`.
 */
import { CoordError } from '../errors.js';
import type { Message } from '../schemas/types.gen.js';
import { sortBuilders } from './model.js';

/** Parsed TARGETS: everybody, or named builders (ids, in the order given, no duplicates). */
export type TargetSpec = { kind: 'all' } | { kind: 'builders'; builders: string[] };

/** What a send is addressed to once the configuration is known. */
export interface ResolvedTargets {
  /** The `to` field: `all`, one id, or a list of ids (two or more). */
  to: Message['to'];
  /** Every recipient (for `all`: each configured builder except the sender). */
  recipients: string[];
  /** True when the sender named itself among several targets and was left out. */
  droppedSelf: boolean;
}

const HINT = 'give all, a run of digits (12 = build1 and build2), or a comma list of numbers or names (1,12 or build3)';

function bad(raw: string, why: string): CoordError {
  return new CoordError('E_USAGE', `TARGETS "${raw}": ${why}; ${HINT}`, { details: { argument: 'TARGETS', value: raw } });
}

function builderNumber(raw: string, item: string): number {
  const m = /^(?:build)?([0-9]+)$/i.exec(item);
  if (!m) {
    if (/^build$/i.test(item)) throw bad(raw, '"build" has no number (build1, build2, …)');
    throw bad(raw, `"${item}" is not a builder`);
  }
  const digits = m[1];
  if (/^0+$/.test(digits)) throw bad(raw, `builder ${item} does not exist: builders are numbered from 1`);
  if (digits.startsWith('0')) throw bad(raw, `"${item}" has a leading zero`);
  if (digits.length > 4) throw bad(raw, `"${item}" is not a builder number`);
  return Number(digits);
}

/**
 * Parses the TARGETS argument (syntax only).
 * @throws CoordError E_USAGE naming TARGETS: empty, `build`, `0`, empty list items (`1,,2`),
 *   `all` combined with others (`all,1`), anything that is not a number or `build<N>`
 */
export function parseTargets(raw: string): TargetSpec {
  const text = raw.trim();
  if (text === '') throw bad(raw, 'no target given');
  if (/^all$/i.test(text)) return { kind: 'all' };
  const ids: string[] = [];
  const add = (n: number) => {
    const id = `build${n}`;
    if (!ids.includes(id)) ids.push(id);
  };
  if (text.includes(',')) {
    const items = text.split(',').map((s) => s.trim());
    items.forEach((item, i) => {
      if (item === '') throw bad(raw, `item ${i + 1} of the comma list is empty`);
      if (/^all$/i.test(item)) throw bad(raw, '"all" cannot be combined with other targets');
      add(builderNumber(raw, item));
    });
    return { kind: 'builders', builders: ids };
  }
  if (/^[0-9]+$/.test(text)) {
    // A run of digits names one builder per digit; builders 10 and up need a name or a list.
    for (const d of text) {
      if (d === '0') {
        throw bad(raw, text === '0' ? 'builder 0 does not exist: builders are numbered from 1'
          : 'a run of digits names one builder per digit and there is no builder 0 (for build10 and up write build10, or a comma list such as 1,10)');
      }
      add(Number(d));
    }
    return { kind: 'builders', builders: ids };
  }
  add(builderNumber(raw, text));
  return { kind: 'builders', builders: ids };
}

export interface ResolveOptions {
  /** Configured builders (shared/build_config.json). */
  builders: readonly string[];
  /** Who sends: left out of `all`, and dropped from a list that names it. */
  sender: string;
  /** Extra names accepted as recipients (a reply to a trusted non-builder sender). */
  alsoAllowed?: readonly string[];
}

/**
 * Resolves parsed targets against the configuration.
 * @throws CoordError E_USAGE when a target is not a configured builder (the message lists
 *   the valid ones), or when nobody is left to receive the message
 */
export function resolveTargets(spec: TargetSpec, raw: string, opts: ResolveOptions): ResolvedTargets {
  const configured = sortBuilders(opts.builders);
  const valid = `configured builders: ${configured.join(', ') || 'none'} (shared/build_config.json)`;
  if (spec.kind === 'all') {
    const recipients = configured.filter((b) => b !== opts.sender);
    if (!recipients.length) {
      throw new CoordError('E_USAGE', `TARGETS "${raw}": no builder besides ${opts.sender} is configured; ${valid}`, { details: { argument: 'TARGETS', valid: configured } });
    }
    return { to: 'all', recipients, droppedSelf: false };
  }
  const allowed = new Set([...configured, ...(opts.alsoAllowed ?? [])]);
  const unknown = spec.builders.filter((b) => !allowed.has(b));
  if (unknown.length) {
    throw new CoordError('E_USAGE', `TARGETS "${raw}": ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a configured builder' : 'are not configured builders'}; ${valid}`, {
      details: { argument: 'TARGETS', unknown, valid: configured },
    });
  }
  const others = spec.builders.filter((b) => b !== opts.sender);
  if (!others.length) {
    throw new CoordError('E_USAGE', `TARGETS "${raw}": ${opts.sender} is the sender; a message needs another recipient (${valid})`, { details: { argument: 'TARGETS', valid: configured } });
  }
  const recipients = sortBuilders(others);
  return { to: recipients.length === 1 ? recipients[0] : (recipients as [string, ...string[]]), recipients, droppedSelf: others.length !== spec.builders.length };
}
