/**
 * `coord remote setup PATH`: hardens a self-hosted bare remote (DESIGN.md section 3):
 * a `pre-receive` hook running {@link checkPush}, `receive.denyNonFastForwards`,
 * `receive.denyDeletes`, `core.logAllRefUpdates=always` (an audit trail stamped by one
 * clock), and a `post-receive` hook that prunes old heartbeat objects at most hourly.
 * Idempotent: running it again rewrites the same hooks and settings.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordError } from '../errors.js';
import { git } from '../git/run.js';

export interface RemoteSetupResult {
  path: string;
  hooks: string[];
  config: Record<string, string>;
}

/** The `coord` entry script of this installation. */
export function coordBin(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/coord.js');
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** @throws CoordError E_USAGE when PATH is not a bare git repository */
export async function setupRemote(repoPath: string, branch = 'main'): Promise<RemoteSetupResult> {
  const abs = path.resolve(repoPath);
  const bare = await git(abs, ['rev-parse', '--is-bare-repository'], { allowFailure: true });
  if (!existsSync(abs) || bare.exitCode !== 0 || bare.stdout.trim() !== 'true') {
    throw new CoordError('E_USAGE', `${abs} is not a bare git repository; give the path of the remote (e.g. /srv/git/Build.git)`);
  }
  const config: Record<string, string> = {
    'receive.denyNonFastForwards': 'true',
    'receive.denyDeletes': 'true',
    'core.logAllRefUpdates': 'always',
    'gc.reflogExpire': 'never',
    'coord.branch': branch,
  };
  for (const [k, v] of Object.entries(config)) await git(abs, ['config', k, v]);
  const hooksDir = path.join(abs, 'hooks');
  await fs.mkdir(hooksDir, { recursive: true });
  const node = process.execPath;
  const pre = `#!/bin/sh\n# Installed by coord remote setup: refuse invalid coordination files.\nexec ${shQuote(node)} ${shQuote(coordBin())} hook pre-receive --branch ${shQuote(branch)}\n`;
  const post = [
    '#!/bin/sh',
    '# Installed by coord remote setup: drop old heartbeat objects (at most hourly, in the background).',
    'marker="$(git rev-parse --git-dir)/coord-last-prune"',
    'if [ -z "$(find "$marker" -mmin -60 2>/dev/null)" ]; then',
    '  touch "$marker"',
    '  ( for r in $(git for-each-ref --format="%(refname)" refs/coord/heartbeats/); do git reflog expire --expire=now --expire-unreachable=now "$r"; done',
    '    git prune --expire=1.hour.ago ) >/dev/null 2>&1 </dev/null &',
    'fi',
    '',
  ].join('\n');
  await fs.writeFile(path.join(hooksDir, 'pre-receive'), pre, { mode: 0o755 });
  await fs.writeFile(path.join(hooksDir, 'post-receive'), post, { mode: 0o755 });
  return { path: abs, hooks: ['pre-receive', 'post-receive'], config };
}
