/**
 * Record ids: globally unique, sortable by creation time, never derived from a count
 * (the upstream tooling produced the same id on two hosts in the same second).
 *
 * Shape: `<prefix>-<YYYYMMDD>-<HHMMSS>-<actor>-<12 hex random>`,
 * e.g. `job-20261130-193728-build1-4f9a2c1d0b7e`.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from './time.js';

/** Source of randomness; the one door, so tests can make ids reproducible. */
export type RandomHex = (bytes: number) => string;
export const cryptoRandomHex: RandomHex = (bytes) => randomBytes(bytes).toString('hex');

/**
 * A new record id.
 * @param prefix record kind: `job`, `msg`, …
 * @param actor the builder or person creating it (sanitised to `[A-Za-z0-9_-]`)
 */
export function newRecordId(prefix: string, actor: string, clock: Clock, random: RandomHex = cryptoRandomHex): string {
  const iso = new Date(clock.now()).toISOString();
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  const who = actor.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32) || 'anon';
  return `${prefix}-${stamp}-${who}-${random(6)}`;
}

/** A fencing/lock token: 128 random bits as hex. */
export function newToken(random: RandomHex = cryptoRandomHex): string {
  return random(16);
}
