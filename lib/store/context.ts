/**
 * The context every check needs: configured builders and policy from
 * `shared/build_config.json`, and the observer's clock.
 */
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { DEFAULT_POLICY, policyOf } from '../config/policy.js';
import type { CheckContext } from './check.js';
import { checkCoordinationFile } from './check.js';
import { PATHS } from './kinds.js';

/**
 * Builds a check context from the bytes of a build config (null when absent).
 * An invalid build config yields `builders: null` and `jobTypes: null` (cross-file checks
 * skipped) — its own problems are reported when the build config itself is checked.
 */
export function contextFromConfigBytes(bytes: Buffer | null, now: number): CheckContext & { config: BuildConfigFile | null } {
  if (bytes === null) return { builders: null, policy: { ...DEFAULT_POLICY }, now, config: null };
  const r = checkCoordinationFile(PATHS.buildConfig, bytes, { builders: null, policy: { ...DEFAULT_POLICY }, now });
  if (!r.ok) return { builders: null, policy: { ...DEFAULT_POLICY }, now, config: null };
  const config = r.value as BuildConfigFile;
  return { builders: Object.keys(config.builders ?? {}), jobTypes: Object.keys(config.job_types ?? {}), policy: policyOf(config), now, config };
}
