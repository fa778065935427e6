/**
 * `coord doctor`: every check of a builder's set-up, in a fixed order, each isolated (a
 * check that throws becomes a `problem` naming the error; the others still run).
 * Read-only, except that heartbeat sightings are recorded as every observer records them
 * (`.git/coord/observations.json`) and the heartbeat refs are fetched.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ResolvedIdentity } from '../config/identity.js';
import { policyOf } from '../config/policy.js';
import { readFilesAt, resolveCommit, trackingRef, type RemoteSpec } from '../git/repo.js';
import type { BuildConfigFile } from '../schemas/types.gen.js';
import { PATHS, statusPath } from '../store/kinds.js';
import { checkDisk, checkFiles, checkGitIdentity, checkHooks, checkIdentity, checkLinks, checkMergeDriver } from './local-checks.js';
import { check, summarize, type CheckId, type DoctorCheck, type DoctorReport } from './model.js';
import { checkRemote } from './remote-checks.js';
import { liveDaemonPid } from '../daemon/daemon-lock.js';
import { checkCron, checkSystemd, unitNameOf } from './service-checks.js';
import { readSetupRecord } from './setup-record.js';

export interface DoctorOptions {
  repoRoot: string;
  /** The identity the usual sources give (lib/config/identity.ts); null when none. */
  identity: ResolvedIdentity | null;
  /** The error a source raised (a value that is not a builder id). */
  identityError: string | null;
  now: number;
  /** `--prefix`; null: the one setup recorded, else `/`. */
  prefix: string | null;
  /** `--bin-dir`; null: the one setup recorded, else `<prefix>/usr/local/bin`. */
  binDir: string | null;
  remote: RemoteSpec;
  /** Time allowed for `git ls-remote` and the heartbeat fetch (ms). */
  timeoutMs: number;
  /** This installation's `bin/coord.js`. */
  coordJs: string;
}

async function readConfig(repoRoot: string): Promise<BuildConfigFile | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(repoRoot, PATHS.buildConfig), 'utf8')) as BuildConfigFile;
  } catch {
    return null;
  }
}

/** This builder's status.json as last fetched (the remote-tracking main), else the working tree's. */
async function readOwnStatus(repoRoot: string, remote: RemoteSpec, builder: string): Promise<string | null> {
  const head = await resolveCommit(repoRoot, trackingRef(remote)).catch(() => null);
  const fromGit = head ? (await readFilesAt(repoRoot, head, [statusPath(builder)]).catch(() => null))?.get(statusPath(builder)) : null;
  if (fromGit) return fromGit.toString('utf8');
  return fs.readFile(path.join(repoRoot, statusPath(builder)), 'utf8').catch(() => null);
}

async function guarded(id: CheckId, fn: () => Promise<DoctorCheck>): Promise<DoctorCheck> {
  try {
    return await fn();
  } catch (err) {
    return check(id, 'problem', `the check itself failed: ${err instanceof Error ? err.message : String(err)}`, 'run it again; if it persists, report it');
  }
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const record = await readSetupRecord(o.repoRoot);
  const prefix = o.prefix ?? record?.prefix ?? '';
  const binDir = o.binDir ?? (o.prefix === null && record ? record.bin_dir : path.join(prefix || '/', 'usr/local/bin'));
  const builder = o.identity?.builder ?? null;
  const config = await readConfig(o.repoRoot);
  const policy = policyOf(config?.builders ? config : null);
  const configured = config?.builders && typeof config.builders === 'object' ? Object.keys(config.builders) : null;
  const packageDir = path.resolve(path.dirname(o.coordJs), '..');
  const ownStatus = builder ? await readOwnStatus(o.repoRoot, o.remote, builder) : null;
  const svc = { builder, prefix, coordJs: o.coordJs, record, drainTimeoutS: policy.drain_timeout_s, daemonPid: await liveDaemonPid(ownStatus) };

  const checks: DoctorCheck[] = [];
  checks.push(checkIdentity(o.identity, o.identityError, record, configured, o.repoRoot));
  checks.push(await guarded('git-identity', () => checkGitIdentity(o.repoRoot, builder)));
  checks.push(await guarded('hooks', () => checkHooks(o.repoRoot, o.coordJs, builder)));
  checks.push(await guarded('merge-driver', () => checkMergeDriver(o.repoRoot, o.coordJs)));
  checks.push(await guarded('links', () => checkLinks(binDir, packageDir, builder)));
  checks.push(await guarded('files', () => checkFiles(o.repoRoot, o.now)));
  const heartbeatFix = builder
    ? `check what should beat: the cron entry (coord heartbeat every minute) and ${unitNameOf(builder)} (systemctl status ${unitNameOf(builder)})`
    : 'set up this builder first';
  try {
    const r = await checkRemote({
      repoRoot: o.repoRoot, remote: o.remote, builder, now: o.now, timeoutMs: o.timeoutMs,
      intervalS: policy.heartbeat_interval_s, clockSkewS: policy.clock_skew_s, heartbeatFix,
    });
    checks.push(r.remote, r.heartbeat, r.clockSkew);
  } catch (err) {
    checks.push(check('remote', 'problem', `the check itself failed: ${(err as Error).message}`, 'run it again'));
  }
  checks.push(await guarded('cron', () => checkCron(svc)));
  checks.push(await guarded('systemd', () => checkSystemd(svc)));
  checks.push(await guarded('disk', () => checkDisk(o.repoRoot)));
  return summarize(o.repoRoot, builder, prefix || '/', checks);
}
