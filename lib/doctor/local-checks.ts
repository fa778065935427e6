/**
 * `coord doctor` checks of this clone and machine (no network): identity, the clone's git
 * identity, hooks, merge driver, command links, the coordination files, disk space.
 * Each returns one {@link DoctorCheck}; none writes anything.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ResolvedIdentity } from '../config/identity.js';
import { GITATTRIBUTES_LINES } from '../commands/init.js';
import { validateRepository } from '../commands/validate.js';
import { git } from '../git/run.js';
import { inspectClientHooks } from '../hooks/client-hooks.js';
import { check, judgeDisk, type DoctorCheck } from './model.js';
import type { SetupRecord } from './setup-record.js';

/** `scripts/setup_build.sh N`, for fixes. */
export function setupCommand(builder: string | null): string {
  return `scripts/setup_build.sh ${builder ? builder.replace(/^build/, '') : 'N'}`;
}

/** Whether git tracks `.build_server_id` in `repoRoot` (false outside git). Synchronous: `git ls-files`. */
export function trackedIdentityFile(repoRoot: string): boolean {
  const r = spawnSync('git', ['ls-files', '--error-unmatch', '--', '.build_server_id'], { cwd: repoRoot, stdio: 'ignore' });
  return r.status === 0;
}

/**
 * @param identity what the sources gave (null: none), or the error a source raised
 * @param repoRoot the clone: a committed `.build_server_id` there is a problem (every new clone would share it)
 * @param configured builders of shared/build_config.json, null when unreadable
 */
export function checkIdentity(identity: ResolvedIdentity | null, identityError: string | null, record: SetupRecord | null, configured: readonly string[] | null, repoRoot?: string): DoctorCheck {
  if (identityError) return check('identity', 'problem', identityError, `correct that source, or re-run ${setupCommand(record?.builder ?? null)}`);
  if (repoRoot && trackedIdentityFile(repoRoot)) {
    return check('identity', 'problem', '.build_server_id is committed to the repository: every new clone starts with the same builder identity',
      'git rm --cached .build_server_id && git commit -m "untrack .build_server_id" && git push (coord migrate --remove-derived does the same; .gitignore should list .build_server_id)');
  }
  if (!identity) {
    return check('identity', 'problem', 'no source says which builder this is (--builder, COORD_BUILDER, SERVER_ID, /etc/build_server_id, .build_server_id, hostname)',
      `run ${setupCommand(null)} (it writes .build_server_id)`);
  }
  const detail = `${identity.builder} (from ${identity.source})`;
  if (record && record.builder !== identity.builder) {
    return check('identity', 'problem', `${detail}, but setup made this clone ${record.builder}: the cron entry and the unit run as ${record.builder}`,
      `remove the override (${identity.source}), or re-run ${setupCommand(identity.builder)} --force`);
  }
  if (configured && !configured.includes(identity.builder)) {
    return check('identity', 'warning', `${detail}, but shared/build_config.json does not list ${identity.builder}, so no job type allows it`,
      `add it: coord init --builders ${identity.builder.replace('build', '')} (adds missing builders), then commit shared/build_config.json`);
  }
  return check('identity', 'ok', detail);
}

export async function checkGitIdentity(repoRoot: string, builder: string | null): Promise<DoctorCheck> {
  const get = async (k: string) => (await git(repoRoot, ['config', '--local', '--get', k], { allowFailure: true })).stdout.trim();
  const name = await get('user.name');
  const email = await get('user.email');
  if (name && email) return check('git-identity', 'ok', `${name} <${email}>`);
  const n = builder?.replace('build', '') ?? 'N';
  return check('git-identity', 'problem', `the clone has no local git ${!name ? 'user.name' : 'user.email'}: hand commits would carry whatever identity the machine has`,
    `git -C ${repoRoot} config user.name "Build${n} daemon" && git -C ${repoRoot} config user.email build${n}@$(hostname) (or re-run ${setupCommand(builder)})`);
}

export async function checkHooks(repoRoot: string, coordJs: string, builder: string | null): Promise<DoctorCheck> {
  const hooks = await inspectClientHooks(repoRoot, coordJs);
  const bad = hooks.filter((h) => !h.ok);
  if (!bad.length) return check('hooks', 'ok', hooks.map((h) => `${h.name} (${h.path})`).join(', '));
  return check('hooks', 'problem', bad.map((h) => h.problem).join('; '), `coord hook install (or re-run ${setupCommand(builder)})`);
}

export async function checkMergeDriver(repoRoot: string, coordJs: string): Promise<DoctorCheck> {
  const driver = (await git(repoRoot, ['config', '--get', 'merge.coord-json.driver'], { allowFailure: true })).stdout.trim();
  const attrs = await fs.readFile(path.join(repoRoot, '.gitattributes'), 'utf8').catch(() => '');
  const missing = GITATTRIBUTES_LINES.filter((l) => !attrs.split('\n').includes(l));
  if (!driver) return check('merge-driver', 'problem', 'merge.coord-json.driver is not registered: a git pull that merges coordination files falls back to text merges', 'coord merge-driver install');
  if (!driver.includes(coordJs) || !driver.includes('merge-driver run')) {
    return check('merge-driver', 'problem', `merge.coord-json.driver runs "${driver}", not this installation (${coordJs})`, 'coord merge-driver install');
  }
  if (missing.length) {
    return check('merge-driver', 'problem', `.gitattributes lacks ${missing.map((l) => `"${l}"`).join(', ')}, so git never calls the driver`, 'coord init (adds the lines), then commit .gitattributes');
  }
  return check('merge-driver', 'ok', 'merge.coord-json registered; .gitattributes routes coordination/*.json to it');
}

/**
 * The command links setup makes (`coord`, `sendmessages`, `sm`) point at this
 * installation's bin/ scripts; a script this installation does not have is not asked for.
 */
export async function checkLinks(binDir: string, packageDir: string, builder: string | null): Promise<DoctorCheck> {
  const names = ['coord', 'sendmessages', 'sm'].filter((n) => existsSync(path.join(packageDir, 'bin', `${n}.js`)));
  const bad: string[] = [];
  for (const n of names) {
    const link = path.join(binDir, n);
    const want = await fs.realpath(path.join(packageDir, 'bin', `${n}.js`));
    const got = await fs.realpath(link).catch(() => null);
    if (got === null) bad.push(`${link} is missing`);
    else if (got !== want) bad.push(`${link} runs ${got}, not ${want}`);
  }
  if (!bad.length) return check('links', 'ok', `${names.join(', ')} in ${binDir}`);
  return check('links', 'problem', bad.join('; '), `re-run ${setupCommand(builder)}${binDir.endsWith('/usr/local/bin') ? '' : ` --bin-dir ${binDir}`}`);
}

export async function checkFiles(repoRoot: string, now: number): Promise<DoctorCheck> {
  const r = await validateRepository({ repoRoot, files: [], staged: false, allowRemoval: false, cwd: repoRoot, now });
  const issues = r.files.flatMap((f) => f.issues);
  const errors = issues.filter((i) => i.severity === 'error');
  const detail = `${r.files.length} coordination file(s), ${errors.length} error(s), ${issues.length - errors.length} warning(s) in the working tree`;
  if (errors.length) return check('files', 'problem', detail, 'coord validate (lists each problem as file: /json/pointer: reason)');
  if (issues.length) return check('files', 'warning', detail, 'coord validate');
  return check('files', 'ok', detail);
}

export async function checkDisk(repoRoot: string): Promise<DoctorCheck> {
  const s = await fs.statfs(repoRoot);
  return judgeDisk(repoRoot, s.bavail * s.bsize, s.blocks * s.bsize);
}
