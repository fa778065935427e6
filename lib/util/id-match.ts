/**
 * Resolving what a person typed to one record id. Record ids look like
 * `msg-20261130-193728-build1-4f9a2c1d0b7e` (lib/util/ids.ts); any part of at least
 * {@link MIN_ID_FRAGMENT} characters that occurs in exactly one id names that record,
 * normally the start of the random tail (`4f9a`). One rule for messages and jobs
 * (README "Ids"). Pure.
 */
import { CoordError } from '../errors.js';

/** Shortest id fragment accepted as an abbreviation. */
export const MIN_ID_FRAGMENT = 4;

/** How many candidates an ambiguity error lists. */
const SHOWN_CANDIDATES = 5;

export interface IdFragmentOptions {
  /** What the ids name, for messages: `message`, `job`. */
  noun: string;
  /** The argument the text came from (`ID`, `--reply-to`), for the error. */
  argument: string;
}

/**
 * The one id of `ids` that `typed` names: `typed` itself when it is an id, else the only id
 * containing `typed` as a substring.
 * @returns the full id, or null when no id contains `typed`
 * @throws CoordError E_USAGE (exit 2) when `typed` is shorter than {@link MIN_ID_FRAGMENT}
 *   and not a whole id, or when several ids contain it (listing up to 5 of them;
 *   `details.candidates` holds all)
 */
export function resolveIdFragment(ids: Iterable<string>, typed: string, o: IdFragmentOptions): string | null {
  const all = [...ids];
  if (all.includes(typed)) return typed;
  if (typed.length < MIN_ID_FRAGMENT) {
    throw new CoordError('E_USAGE', `${o.argument} "${typed}" is too short: give the whole ${o.noun} id or a unique part of at least ${MIN_ID_FRAGMENT} characters (e.g. the start of its random tail)`, { details: { argument: o.argument, id: typed } });
  }
  const hits = [...new Set(all.filter((id) => id.includes(typed)))];
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) {
    const shown = hits.slice(0, SHOWN_CANDIDATES).join(', ') + (hits.length > SHOWN_CANDIDATES ? `, … (${hits.length} in all)` : '');
    throw new CoordError('E_USAGE', `${o.argument} "${typed}" matches several ${o.noun}s (${shown}); give more of the id`, { details: { argument: o.argument, id: typed, candidates: hits } });
  }
  return null;
}
