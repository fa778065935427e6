/**
 * Policy defaults (DESIGN.md section 1, `shared/build_config.json` → `policy`).
 * Units are in the names: `_s` seconds, `_days` days.
 */
import type { BuildConfigFile } from '../schemas/types.gen.js';

export interface Policy {
  /** Seconds between heartbeats on the builder's heartbeat ref. Default 60. */
  heartbeat_interval_s: number;
  /** At most this often (s) a heartbeat alone changes `main`. Default 3600. */
  main_heartbeat_every_s: number;
  /** Job lease / lock time (s). Default 300. */
  lease_ttl_s: number;
  /** Attempts before a job fails for good. Default 3. */
  max_attempts: number;
  /** Consecutive failures that ground a builder. Default 3. */
  ground_after_failures: number;
  /** Seconds a self-grounded builder waits before claiming again. Default 1800. */
  ground_cooldown_s: number;
  /** Seconds running jobs may finish after SIGTERM before they are killed and requeued. Default 600. */
  drain_timeout_s: number;
  /** Tolerated clock difference (s) before a peer's timestamps are reported. Default 30. */
  clock_skew_s: number;
  /** Finished jobs older than this move to the archive. Default 30. */
  job_retention_days: number;
  /** Read messages older than this move to the archive. Default 30. */
  message_retention_days: number;
  /** Tries of one transaction before a contention error. Default 8. */
  transaction_attempts: number;
  /** Bytes of a job's output committed as its log tail. Default 65536. */
  log_tail_bytes: number;
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  heartbeat_interval_s: 60,
  main_heartbeat_every_s: 3600,
  lease_ttl_s: 300,
  max_attempts: 3,
  ground_after_failures: 3,
  ground_cooldown_s: 1800,
  drain_timeout_s: 600,
  clock_skew_s: 30,
  job_retention_days: 30,
  message_retention_days: 30,
  transaction_attempts: 8,
  log_tail_bytes: 65536,
});

/** Policy of a build config, defaults filled in. */
export function policyOf(config: BuildConfigFile | null | undefined): Policy {
  return { ...DEFAULT_POLICY, ...(config?.policy ?? {}) };
}
