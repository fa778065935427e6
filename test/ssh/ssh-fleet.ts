/**
 * A fleet for the direct-read tests: bare origin, an observer clone (build1) and a peer
 * clone (build2) whose `ssh` settings in shared/build_config.json point at the test's sshd
 * (127.0.0.1, the sshd's port, the test's user key, repo_path = the peer clone). Edits go
 * to the origin by plain git, as an agent would make them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gitSync, hermeticEnv, makeFleet, type Fleet } from '../support/git-fixture.js';
import { runCoordCli, type CliResult } from '../support/cli.js';
import type { Sshd } from '../support/sshd.js';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SshFleet {
  fleet: Fleet;
  observer: string;
  peer: string;
  /** Environment for coord runs: hermetic git, the sshd's known_hosts, no ~/.ssh/config. */
  env: Record<string, string>;
  /** Runs the real CLI in the observer's clone. */
  coord(args: string[], extraEnv?: Record<string, string>, timeoutMs?: number): Promise<CliResult>;
  cleanup(): void;
}

/** The `ssh` settings of build2 for `sshd`. */
export function sshEntry(sshd: Sshd, peer: string, over: Json = {}): Json {
  return { host: '127.0.0.1', port: sshd.port, user: sshd.user, repo_path: peer, identity_file: sshd.userKey, connect_timeout_s: 10, ...over };
}

/** Edits shared files in a scratch clone and pushes to the origin. */
export function editOrigin(f: Fleet, edit: (files: Record<string, Json>) => void, paths = ['shared/build_config.json', 'coordination/jobs.json', 'shared/artifacts.json']): void {
  const c = path.join(f.dir, `edit-${Math.random().toString(16).slice(2)}`);
  gitSync(f.dir, ['clone', '-q', f.origin, c]);
  const files: Record<string, Json> = {};
  for (const p of paths) files[p] = JSON.parse(readFileSync(path.join(c, p), 'utf8')) as Json;
  edit(files);
  for (const p of paths) writeFileSync(path.join(c, p), JSON.stringify(files[p], null, 2) + '\n');
  gitSync(c, ['commit', '-qam', 'test edit']);
  gitSync(c, ['push', '-q', 'origin', 'main']);
}

/** A fleet of two whose build2 is reachable through `sshd`. */
export async function makeSshFleet(sshd: Sshd, policy: Json = {}): Promise<SshFleet> {
  const fleet = await makeFleet(2);
  const observer = fleet.clones.build1;
  const peer = fleet.clones.build2;
  editOrigin(fleet, (f) => {
    f['shared/build_config.json'].builders.build2.ssh = sshEntry(sshd, peer);
    f['shared/build_config.json'].policy = { ...f['shared/build_config.json'].policy, ...policy };
  }, ['shared/build_config.json']);
  const env = {
    ...(hermeticEnv() as Record<string, string>),
    COORD_SSH_KNOWN_HOSTS: sshd.knownHosts,
    COORD_SSH_CONFIG: '/dev/null',
  };
  return {
    fleet, observer, peer, env,
    coord: (args, extraEnv = {}, timeoutMs = 90_000) => runCoordCli(args, { cwd: observer, env: { ...env, ...extraEnv }, timeoutMs }),
    cleanup: () => fleet.cleanup(),
  };
}

/** A job record as the daemon leaves it while running on `builder`. */
export function runningJob(id: string, builder: string, now = Date.now()): Json {
  const at = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const lease = new Date(now + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    id, type: 'noop', priority: 5, status: 'running', created_at: at, created_by: 'build1',
    assigned_to: builder, attempt: 1, max_attempts: 3, lease_expires_at: lease, started_at: at,
    history: [{ attempt: 1, builder, claimed_at: at, status: 'running' }],
  };
}
